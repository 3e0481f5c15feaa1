// Connection slots against hoarding, on the real binary: one client address holds at most
// http.max_connections_per_ip; a connection that sends nothing, or dribbles its headers, is
// closed after http.header_timeout_ms; when every slot is taken, the keep-alive connection idle
// the longest makes room for a new client. And /metrics behind an optional bearer token.
#include <arpa/inet.h>
#include <chrono>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace std::chrono_literals;

namespace {

// A raw TCP connection from a chosen loopback source address, closed on destruction.
class RawConn {
 public:
  RawConn(std::uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &src.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      throw std::runtime_error("bind source");
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
      throw std::runtime_error("connect");
    }
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  void send(const std::string& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("send");
    }
  }
  // Reads what arrives within `timeout`, until the peer closes (closed() then true) or a full
  // response with a Content-Length body is in.
  std::string read_for(std::chrono::milliseconds timeout) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) break;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
      if (complete(got)) break;
    }
    return got;
  }
  bool closed() const noexcept { return closed_; }

 private:
  static bool complete(const std::string& got) {
    const auto head_end = got.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::smatch m;
    const auto head = got.substr(0, head_end);
    if (!std::regex_search(head, m, std::regex("[Cc]ontent-[Ll]ength: *([0-9]+)"))) return true;
    return got.size() >= head_end + 4 + std::stoul(m[1]);
  }
  int fd_ = -1;
  bool closed_ = false;
};

const std::string kAlive = "GET /alive HTTP/1.1\r\nHost: t\r\n\r\n";

double metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(
          text, m,
          std::regex(std::regex_replace(name, std::regex(R"([{}\[\]().*+?^$|\\])"), R"(\$&)") +
                     " ([0-9.e+]+)"))) {
    return -1;
  }
  return std::stod(m[1]);
}

}  // namespace

TEST_CASE("http limits: one address cannot take every connection; silent ones are closed") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_MAX_CONNECTIONS", "6"},
                                    {"NETPULSE_HTTP_MAX_CONNECTIONS_PER_IP", "5"},
                                    {"NETPULSE_HTTP_HEADER_TIMEOUT_MS", "1500"}});
  // An attacker at 127.0.0.1 opens connections and sends nothing.
  std::vector<std::unique_ptr<RawConn>> hoard;
  for (int i = 0; i < 5; ++i) hoard.push_back(std::make_unique<RawConn>(server.port()));
  // The sixth from the same address is refused at once, naming the limit...
  RawConn sixth(server.port());
  const auto refused = sixth.read_for(5s);
  CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.find("too many connections from your address (limit 5)") != std::string::npos);
  CHECK(refused.find("Retry-After: 1") != std::string::npos);
  // ...while a client at another address still gets in.
  RawConn other(server.port(), "127.0.0.2");
  other.send(kAlive);
  CHECK(other.read_for(5s).rfind("HTTP/1.1 200", 0) == 0);

  // The silent connections are closed once the head deadline passes.
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& c : hoard) {
    CHECK(c->read_for(10s).empty());
    CHECK(c->closed());
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 8s);

  // A client that dribbles a byte every 200 ms is closed too: progress does not extend it.
  RawConn slow(server.port());
  const std::string head = "GET /alive HTTP/1.1\r\nHost: t\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaa";
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  bool cut = false;
  while (sent < head.size() && std::chrono::steady_clock::now() - start < 10s) {
    try {
      slow.send(head.substr(sent, 1));
    } catch (const std::runtime_error&) {
      cut = true;
      break;
    }
    ++sent;
    slow.read_for(200ms);
    if (slow.closed()) {
      cut = true;
      break;
    }
  }
  CHECK(cut);
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  auto metrics = server.client().get("/metrics").body;
  CHECK(metric(metrics, R"(netpulse_http_rejected_connections_total{reason="per_ip"})") == 1);
  CHECK(metric(metrics, "netpulse_http_header_timeouts_total") >= 6);
}

TEST_CASE("http limits: when every slot is taken, the longest-idle keep-alive makes room") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_MAX_CONNECTIONS", "3"},
                                    {"NETPULSE_HTTP_MAX_CONNECTIONS_PER_IP", "0"}});
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConn>(server.port()));
    idle.back()->send(kAlive);
    REQUIRE(idle.back()->read_for(5s).rfind("HTTP/1.1 200", 0) == 0);
  }
  // All three are idle keep-alives now; a fourth client is served, not refused...
  RawConn fourth(server.port());
  fourth.send(kAlive);
  CHECK(fourth.read_for(5s).rfind("HTTP/1.1 200", 0) == 0);
  // ...because the first (idle the longest) was closed; the others still work.
  CHECK(idle[0]->read_for(5s).empty());
  CHECK(idle[0]->closed());
  idle[2]->send(kAlive);
  CHECK(idle[2]->read_for(5s).rfind("HTTP/1.1 200", 0) == 0);

  auto metrics = server.client().get("/metrics").body;
  CHECK(metric(metrics, "netpulse_http_idle_connections_closed_total") >= 1);
}

TEST_CASE("http limits: /metrics can require a bearer token") {
  TempDir dir;
  const std::string token = "scrape-token-0123456789";
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_METRICS_TOKEN", token}});
  auto c = server.client();
  auto none = c.get("/metrics");
  CHECK(none.status == 401);
  CHECK(none.error_code() == "AUTHENTICATION_REQUIRED");
  CHECK(none.body.find("netpulse_http_requests_total") == std::string::npos);
  CHECK(c.get("/metrics", "scrape-token-0123456788").status == 401);
  CHECK(c.get("/metrics", token + "x").status == 401);
  auto good = c.get("/metrics", token);
  CHECK(good.status == 200);
  CHECK(good.body.find("netpulse_http_requests_total") != std::string::npos);
  // The health endpoints stay open.
  CHECK(c.get("/health").status == 200);

  // A weak token is a configuration error.
  const auto empty = dir.file("empty.toml");
  std::ofstream(empty).flush();
  auto bad = run_netpulse({"check-config", empty}, {{"NETPULSE_HTTP_METRICS_TOKEN", "short"}});
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("http.metrics_token") != std::string::npos);
}
