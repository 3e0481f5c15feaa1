// Real peers for the service-check tests; see peers.hpp.
#include "support/peers.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include "support/snmpd.hpp"  // free_udp_port

namespace netpulse::test {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
const auto kLoopback = asio::ip::make_address("127.0.0.1");

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

bool wait_tcp(std::uint16_t port, ChildProcess& child) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (child.poll()) return false;
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(asio::ip::tcp::endpoint(kLoopback, port), ec);
    if (!ec) return true;
    std::this_thread::sleep_for(50ms);  // waiting for a child process to start: no event to wait on
  }
  return false;
}

std::uint16_t free_tcp_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(kLoopback, 0));
  return a.local_endpoint().port();
}

TestPki TestPki::make(const TempDir& dir) {
  require_installed("/usr/bin/openssl", "openssl");
  const std::string d = dir.path();
  std::ofstream(d + "/ext.cnf") << "subjectAltName=DNS:check.test,IP:127.0.0.1\n";
  const std::string quiet = " >>" + d + "/openssl.log 2>&1";
  const std::string ec = "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  // NOLINTNEXTLINE: test setup only, fixed arguments
  auto run = [](const std::string& command) { return std::system(command.c_str()) == 0; };
  const bool ok =
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d +
          "/ca.key -out " + d + "/ca.pem -days 365 -subj '/CN=NetPulse Test CA'" + quiet) &&
      run(ec + "-keyout " + d + "/leaf.key -out " + d +
          "/leaf.csr -subj '/CN=check.test/O=NetPulse'" + quiet) &&
      run("openssl x509 -req -in " + d + "/leaf.csr -CA " + d + "/ca.pem -CAkey " + d +
          "/ca.key -CAcreateserial -out " + d + "/leaf.pem -days 30 -extfile " + d + "/ext.cnf" +
          quiet);
  if (!ok) FAIL("openssl failed: " << read_file(d + "/openssl.log"));
  return TestPki{d + "/ca.pem", d + "/leaf.pem", d + "/leaf.key"};
}

Nginx::Nginx(const TempDir& dir, const TestPki& pki)
    : http_port_(free_tcp_port()), https_port_(free_tcp_port()) {
  require_installed("/usr/sbin/nginx", "nginx-light");
  const std::string d = dir.path();
  ::mkdir((d + "/tmp").c_str(), 0700);
  std::ofstream conf(d + "/nginx.conf");
  conf << "master_process off;\nworker_processes 1;\npid " << d << "/nginx.pid;\n"
       << "error_log " << d << "/error.log;\nevents { worker_connections 64; }\n"
       << "http {\n  access_log off;\n  client_body_temp_path " << d << "/tmp;\n"
       << "  proxy_temp_path " << d << "/tmp;\n  fastcgi_temp_path " << d << "/tmp;\n"
       << "  uwsgi_temp_path " << d << "/tmp;\n  scgi_temp_path " << d << "/tmp;\n"
       << "  server {\n    listen 127.0.0.1:" << http_port_ << ";\n"
       << "    location / { return 200 \"plain nginx keyword\\n\"; }\n"
       << "    location /down { return 503 \"down\\n\"; }\n"
       << "    location /to-metadata { return 302 http://169.254.169.254/latest/meta-data/; }\n"
       << "    location /to-other-loopback { return 302 http://127.0.0.2:" << http_port_ << "/; }\n"
       << "  }\n"
       << "  server {\n    listen 127.0.0.1:" << https_port_ << " ssl;\n"
       << "    server_name check.test;\n    ssl_certificate " << pki.leaf << ";\n"
       << "    ssl_certificate_key " << pki.key << ";\n"
       << "    location / { return 200 \"secure nginx keyword\\n\"; }\n"
       << "    location /to-plain { return 302 http://127.0.0.1:" << http_port_ << "/; }\n"
       << "  }\n}\n";
  conf.close();
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/sbin/nginx", "-p", d, "-e", d + "/error.log", "-c",
                               d + "/nginx.conf", "-g", "daemon off;"},
      ChildProcess::Env{}, d + "/nginx.out");
  if (!wait_tcp(http_port_, *process_) || !wait_tcp(https_port_, *process_)) {
    process_->kill();
    FAIL("nginx did not start: " << read_file(d + "/nginx.out") << read_file(d + "/error.log"));
  }
}

namespace {

// A port free for both UDP and TCP on 127.0.0.1 a moment ago: dnsmasq binds both.
std::uint16_t free_udp_and_tcp_port() {
  for (int i = 0; i < 50; ++i) {
    const auto port = free_udp_port();
    asio::io_context io;
    asio::ip::tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(asio::ip::tcp::v4(), ec);
    if (!ec) a.bind(asio::ip::tcp::endpoint(kLoopback, port), ec);
    if (!ec) return port;
  }
  return free_udp_port();
}

}  // namespace

Dnsmasq::Dnsmasq(const TempDir& dir) : port_(0) {
  require_installed("/usr/sbin/dnsmasq", "dnsmasq-base");
  const std::string d = dir.path();
  // A port taken between choosing it and dnsmasq's bind (another process's connection) makes it
  // exit at once: a few tries with another port.
  std::string out;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_udp_and_tcp_port();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                                 "--no-resolv", "--no-hosts", "--port=" + std::to_string(port_),
                                 "--listen-address=127.0.0.1", "--bind-interfaces",
                                 "--address=/check.test/192.0.2.10",
                                 "--address=/check.test/2001:db8::10", "--address=/nx.test/",
                                 "--pid-file=" + d + "/dnsmasq.pid", "--user=root",
                                 "--log-facility=" + d + "/dnsmasq.log"},
        ChildProcess::Env{}, d + "/dnsmasq.out");
    // Ready when its UDP port is bound: a bind to the same port then fails.
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline && !process_->poll()) {
      asio::io_context io;
      asio::ip::udp::socket s(io);
      s.open(asio::ip::udp::v4());
      boost::system::error_code ec;
      s.bind(asio::ip::udp::endpoint(kLoopback, port_), ec);
      if (ec) return;
      s.close();
      std::this_thread::sleep_for(50ms);  // waiting for a child process to start
    }
    process_->kill();
    out = read_file(d + "/dnsmasq.out");
    if (out.find("Address already in use") == std::string::npos) break;
  }
  FAIL("dnsmasq did not start: " << out);
}

}  // namespace netpulse::test
