// The process lifecycle of the real binary: graceful shutdown lets an in-flight request finish,
// systemd notification (READY=1, WATCHDOG=1, STOPPING=1) over a real NOTIFY_SOCKET, and the CLI
// (check-config, user add/passwd/list, version, bad usage).
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

// A raw TCP connection to 127.0.0.1:port (blocking, with a receive timeout).
int connect_raw(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void send_all(int fd, const std::string& data) {
  REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

std::string recv_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("lifecycle: SIGTERM lets an in-flight request finish, closes idle ones, exits 0") {
  TempDir dir;
  ServerProcess server(dir.path());
  // An idle keep-alive connection (one request done) and one whose request is half received.
  int idle = connect_raw(server.port());
  send_all(idle, "GET /alive HTTP/1.1\r\nHost: x\r\n\r\n");
  char buf[1024];
  REQUIRE(::recv(idle, buf, sizeof(buf), 0) > 0);

  const std::string body = R"({"email":"admin@netpulse.local","password":"integration-admin-pw"})";
  int busy = connect_raw(server.port());
  send_all(busy,
           "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n");
  // Let the server read the headers, then ask it to stop while the body is still on its way.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(server.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  send_all(busy, body);
  auto answer = recv_all(busy);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("access_token") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  // The idle connection was closed by the server, without an answer.
  CHECK(recv_all(idle).empty());
  ::close(idle);
  ::close(busy);
  CHECK(server.terminate() == 0);
  auto out = server.output();
  CHECK(out.find("shutting down") != std::string::npos);
  CHECK(out.find("stopped") != std::string::npos);
  // New connections are refused once it has stopped accepting.
  HttpClient late("127.0.0.1", server.port(), false, std::chrono::seconds(2));
  CHECK_THROWS(late.get("/alive"));
}

TEST_CASE("lifecycle: systemd notification: READY=1, watchdog pings, STOPPING=1") {
  TempDir dir;
  auto sock_path = dir.file("notify.sock");
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  std::string received;
  auto drain = [&](std::chrono::milliseconds for_how_long) {
    auto until = std::chrono::steady_clock::now() + for_how_long;
    char buf[512];
    while (std::chrono::steady_clock::now() < until) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n)).push_back('\n');
    }
  };
  {
    // WATCHDOG_USEC = 200 ms: the server must ping about every 100 ms.
    ServerProcess server(dir.path(), {{"NOTIFY_SOCKET", sock_path}, {"WATCHDOG_USEC", "200000"}});
    drain(std::chrono::milliseconds(700));
    CHECK(received.find("READY=1") != std::string::npos);
    std::size_t pings = 0;
    for (auto at = received.find("WATCHDOG=1"); at != std::string::npos;
         at = received.find("WATCHDOG=1", at + 1)) {
      ++pings;
    }
    CHECK(pings >= 3);
    CHECK(server.terminate() == 0);
    drain(std::chrono::milliseconds(300));
    CHECK(received.find("STOPPING=1") != std::string::npos);
  }
  ::close(fd);
}

TEST_CASE("cli: check-config reports every problem with key and line, and accepts good files") {
  TempDir dir;
  auto bad = dir.file("bad.toml");
  std::ofstream(bad) << "[http]\nlisten = \"127.0.0.1:99999\"\nmax_conections = 5\n"
                        "[database]\nsynchronous = 3\n[bogus]\nx = 1\n";
  auto r = run_netpulse({"check-config", bad}, {});
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("bad.toml:2: http.listen") != std::string::npos);
  CHECK(r.output.find("bad.toml:3: http.max_conections: unknown key") != std::string::npos);
  CHECK(r.output.find("bad.toml:5: database.synchronous: must be a string") != std::string::npos);
  CHECK(r.output.find("bad.toml:6: bogus: unknown section") != std::string::npos);
  CHECK(r.output.find("4 problem(s)") != std::string::npos);

  auto good = dir.file("good.toml");
  std::ofstream(good) << "[http]\nlisten = \"[::1]:9000\"\n[log]\nlevel = \"debug\"\n";
  auto ok = run_netpulse({"check-config", good}, {});
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("OK") != std::string::npos);

  // The shipped file is valid as it is.
  auto shipped = run_netpulse(
      {"check-config", std::string(NETPULSE_SOURCE_DIR) + "/config/netpulse.toml"}, {});
  CHECK(shipped.exit_code == 0);

  // serve refuses a bad file and says why.
  auto serve =
      run_netpulse({"serve", "--config", bad}, {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  CHECK(serve.exit_code == 2);
  CHECK(serve.output.find("http.max_conections") != std::string::npos);
  // And a bad environment override.
  auto env = run_netpulse({"serve"}, {{"NETPULSE_STORAGE_DATA_DIR", dir.path()},
                                      {"NETPULSE_HTTP_MAX_CONNECTIONS", "lots"}});
  CHECK(env.exit_code == 2);
  CHECK(env.output.find("NETPULSE_HTTP_MAX_CONNECTIONS") != std::string::npos);
  // Every start-up error names its stable code (app::report_startup_error).
  CHECK(env.output.find("[CONFIG_ERROR]") != std::string::npos);
  // A malformed SNMPv3 trap user stops start-up, naming the entry.
  auto trap_user = run_netpulse({"serve"}, {{"NETPULSE_STORAGE_DATA_DIR", dir.path()},
                                            {"NETPULSE_POLLERS_TRAPS_LISTEN", "127.0.0.1:0"},
                                            {"NETPULSE_POLLERS_ICMP_MODE", "off"},
                                            {"NETPULSE_ADMIN_PASSWORD", kAdminPassword},
                                            {"NETPULSE_POLLERS_TRAPS_V3_USERS",
                                             "0x80001f8880aa01 ok SHA authpass1, 0x8000 bad SHA"}});
  CHECK(trap_user.exit_code != 0);
  CHECK(trap_user.output.find("pollers.traps_v3_users[1]") != std::string::npos);
  CHECK(trap_user.output.find("netpulse: pollers: ") != std::string::npos);
  CHECK(trap_user.output.find("[CONFIG_ERROR]") != std::string::npos);
}

TEST_CASE("cli: user add, passwd and list work on the data directory, also while serving") {
  TempDir dir;
  std::map<std::string, std::string> env = {{"NETPULSE_STORAGE_DATA_DIR", dir.path()},
                                            {"NETPULSE_ADMIN_PASSWORD", kAdminPassword}};
  ServerProcess server(dir.path());
  auto add = run_netpulse({"user", "add", "--email", "ops@isp.example", "--role", "operator",
                           "--name", "Night Shift", "--password", "night-shift-pw"},
                          env);
  INFO(add.output);
  REQUIRE(add.exit_code == 0);
  auto c = server.client();
  login(c, "ops@isp.example", "night-shift-pw");

  auto gen = run_netpulse({"user", "passwd", "--email", "ops@isp.example"}, env);
  REQUIRE(gen.exit_code == 0);
  auto at = gen.output.find("password: ");
  REQUIRE(at != std::string::npos);
  auto generated = gen.output.substr(at + 10, gen.output.find('\n', at) - at - 10);
  login(c, "ops@isp.example", generated);

  auto list = run_netpulse({"user", "list"}, env);
  CHECK(list.exit_code == 0);
  CHECK(list.output.find("ops@isp.example") != std::string::npos);
  CHECK(list.output.find(kAdminEmail) != std::string::npos);

  auto dup = run_netpulse({"user", "add", "--email", "ops@isp.example", "--role", "viewer",
                           "--password", "another-pw-1"},
                          env);
  CHECK(dup.exit_code == 1);
  auto bad_role = run_netpulse({"user", "add", "--email", "x@y.z", "--role", "god"}, env);
  CHECK(bad_role.exit_code == 2);
  CHECK(bad_role.output.find("--role") != std::string::npos);
}

TEST_CASE("cli: version, help and bad usage") {
  auto v = run_netpulse({"--version"}, {});
  CHECK(v.exit_code == 0);
  CHECK(v.output.rfind("netpulse ", 0) == 0);
  CHECK(run_netpulse({"help"}, {}).exit_code == 0);
  auto unknown = run_netpulse({"frobnicate"}, {});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.output.find("unknown command") != std::string::npos);
  auto missing = run_netpulse({"serve", "--config"}, {});
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("--config needs a value") != std::string::npos);
}
