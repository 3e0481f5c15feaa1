// The service check engine (TCP, HTTP(S), DNS) against real peers on loopback only: listeners and
// a Beast HTTP server inside the test, nginx (HTTP and HTTPS with a CA and leaf certificate made
// by `openssl` in the test's temp dir), dnsmasq as the DNS server, and fake UDP/TCP servers that
// answer with garbage. The DNS codec has table-driven tests of its own (the URL parser's are
// tests/unit/core/url_test.cpp).
// The peers are hard requirements (scripts/bootstrap installs them); the IPv6 case is tagged
// [ipv6].
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/service_checks.hpp>

#include "pollers/detail/dns_message.hpp"
#include "support/peers.hpp"
#include "support/run_until.hpp"
#include "support/scripted_http_server.hpp"
#include "support/snmpd.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using netpulse::core::Errc;
using netpulse::core::Result;
using netpulse::pollers::DnsCheck;
using netpulse::pollers::DnsCheckResult;
using netpulse::pollers::DnsRecordType;
using netpulse::pollers::HttpCheck;
using netpulse::pollers::HttpCheckResult;
using netpulse::pollers::HttpMethod;
using netpulse::pollers::ServiceChecker;
using netpulse::pollers::ServiceCheckOptions;
using netpulse::pollers::TcpCheck;
using netpulse::pollers::TcpCheckResult;
namespace detail = netpulse::pollers::detail;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using netpulse::test::Dnsmasq;
using netpulse::test::free_tcp_port;
using netpulse::test::free_udp_port;
using netpulse::test::Nginx;
using netpulse::test::TestPki;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

const auto kLoopback = asio::ip::make_address("127.0.0.1");

// The peers of these tests listen on loopback, which the default outbound policy refuses to
// service checks: the policy of every fixture that does not test the policy allows it.
netpulse::core::OutboundPolicy loopback_allowed(std::vector<std::string> allow = {"127.0.0.0/8",
                                                                                  "::1/128"}) {
  auto lists = netpulse::core::OutboundLists::defaults();
  lists.allow = std::move(allow);
  auto policy = netpulse::core::OutboundPolicy::make(lists);
  REQUIRE(policy);
  return *policy;
}

ServiceCheckOptions with_loopback(ServiceCheckOptions options = {}) {
  options.outbound = loopback_allowed();
  return options;
}

using netpulse::test::run_until;

// Runs one check to completion and returns its result.
template <class R, class Start>
Result<R> run_check(asio::io_context& io, Start start) {
  std::optional<Result<R>> out;
  int calls = 0;
  start([&](Result<R> r) {
    ++calls;
    out.emplace(std::move(r));
  });
  REQUIRE(!out);  // never inline
  REQUIRE(run_until(io, [&] { return out.has_value(); }));
  io.restart();
  io.run_for(10ms);  // a second callback would show up here
  REQUIRE(calls == 1);
  return std::move(*out);
}

struct Fixture {
  asio::io_context io;
  netpulse::core::SystemClock clock;
  std::unique_ptr<ServiceChecker> checker;
  explicit Fixture(ServiceCheckOptions options = with_loopback()) {
    auto opened = ServiceChecker::open(options, io.get_executor(), clock);
    REQUIRE(opened);
    checker = std::move(*opened);
  }
  Result<TcpCheckResult> tcp(const TcpCheck& c) {
    return run_check<TcpCheckResult>(io, [&](auto done) { checker->tcp(c, done); });
  }
  Result<HttpCheckResult> http(const HttpCheck& c) {
    return run_check<HttpCheckResult>(io, [&](auto done) { checker->http(c, done); });
  }
  Result<DnsCheckResult> dns(const DnsCheck& c) {
    return run_check<DnsCheckResult>(io, [&](auto done) { checker->dns(c, done); });
  }
};

// The test's HTTP server (support/scripted_http_server.hpp) on 127.0.0.1:
//   /ok       200 "hello netpulse keyword"
//   /missing  404
//   /big      200 with 2 MiB of 'x'
//   /slow     never answers (the connection is held open until the server stops)
//   /redirect 302 Location: /ok
//   /loop     302 Location: /loop
//   /to-metadata        302 Location: http://169.254.169.254/latest/meta-data/
//   /to-other-loopback  302 Location: http://127.0.0.2:<this port>/ok
std::optional<std::string> answer_test_http(const netpulse::test::ScriptedHttpServer::Request& r) {
  using netpulse::test::http_reply;
  const auto target = std::string(r.target());
  const auto host = std::string(r[http::field::host]);
  if (target == "/slow") return std::nullopt;
  if (target == "/ok") return http_reply(200, "hello netpulse keyword");
  if (target == "/big") return http_reply(200, std::string(2u << 20, 'x'));
  if (target == "/redirect") return http_reply(302, "", {"Location: /ok"});
  if (target == "/loop") return http_reply(302, "", {"Location: /loop"});
  if (target == "/to-metadata") {
    return http_reply(302, "", {"Location: http://169.254.169.254/latest/meta-data/"});
  }
  if (target == "/to-other-loopback") {
    const auto port = host.substr(host.rfind(':') + 1);
    return http_reply(302, "", {"Location: http://127.0.0.2:" + port + "/ok"});
  }
  return http_reply(404, "not here");
}

struct TestHttpServer : netpulse::test::ScriptedHttpServer {
  TestHttpServer() : ScriptedHttpServer(answer_test_http) {}
};

// A TCP server that answers every connection with fixed bytes, then closes.
class RawTcpServer {
 public:
  explicit RawTcpServer(std::string reply)
      : reply_(std::move(reply)), acceptor_(io_, tcp::endpoint(kLoopback, 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return;
        std::array<char, 4096> request{};
        socket.read_some(asio::buffer(request), ec);
        asio::write(socket, asio::buffer(reply_), ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
      }
    });
  }
  ~RawTcpServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  std::string reply_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A fake DNS server on the test's loop: answers each query with make_reply(query), or not at all
// when make_reply returns nothing.
class FakeDnsServer {
 public:
  using MakeReply = std::function<std::optional<std::vector<std::uint8_t>>(
      const std::vector<std::uint8_t>& query)>;
  // With `answer_from_elsewhere`, replies leave from another socket (another port), as a
  // spoofer's would.
  FakeDnsServer(asio::io_context& io, MakeReply make_reply, bool answer_from_elsewhere = false)
      : socket_(io, udp::endpoint(kLoopback, 0)),
        elsewhere_(io, udp::endpoint(kLoopback, 0)),
        make_reply_(std::move(make_reply)),
        answer_from_elsewhere_(answer_from_elsewhere) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }

 private:
  void receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), peer_, [this](boost::system::error_code ec, std::size_t n) {
          if (ec) return;
          const std::vector<std::uint8_t> query(buffer_.begin(), buffer_.begin() + n);
          if (auto reply = make_reply_(query)) {
            auto& out = answer_from_elsewhere_ ? elsewhere_ : socket_;
            out.send_to(asio::buffer(*reply), peer_, 0, ec);
          }
          receive();
        });
  }
  udp::socket socket_;
  udp::socket elsewhere_;
  MakeReply make_reply_;
  bool answer_from_elsewhere_;
  std::array<std::uint8_t, 1500> buffer_{};
  udp::endpoint peer_;
};

// A well-formed reply to `query` (which asks one question) with one A record 192.0.2.1.
std::vector<std::uint8_t> good_reply(const std::vector<std::uint8_t>& query) {
  auto r = query;
  r[2] = 0x81;  // QR, RD
  r[3] = 0x80;  // RA, NOERROR
  r[7] = 1;     // ANCOUNT
  const std::vector<std::uint8_t> answer = {0xC0, 0x0C, 0, 1, 0,   1, 0, 0,
                                            0,    60,   0, 4, 192, 0, 2, 1};
  r.insert(r.end(), answer.begin(), answer.end());
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// DNS codec

TEST_CASE("service checks: DNS query encoding", "[pollers][checks]") {
  const auto q = detail::encode_dns_query(0xBEEF, "check.test.", DnsRecordType::kAAAA);
  const std::vector<std::uint8_t> expected = {0xBE, 0xEF, 0x01, 0x00, 0,   1,   0,   0,   0, 0,
                                              0,    0,    5,    'c',  'h', 'e', 'c', 'k', 4, 't',
                                              'e',  's',  't',  0,    0,   28,  0,   1};
  CHECK(q == expected);
  CHECK_FALSE(detail::validate_dns_name(""));
  CHECK_FALSE(detail::validate_dns_name("a..b"));
  CHECK_FALSE(detail::validate_dns_name(std::string(64, 'a') + ".test"));
  CHECK_FALSE(detail::validate_dns_name("bad name.test"));
  CHECK(detail::validate_dns_name("_sip._udp.example.org."));
}

TEST_CASE("service checks: DNS reply decoding follows CNAMEs and refuses hostile replies",
          "[pollers][checks]") {
  const auto query = detail::encode_dns_query(7, "check.test", DnsRecordType::kA);
  auto good = good_reply(query);
  auto decoded = detail::decode_dns_reply(good, "check.test", DnsRecordType::kA);
  REQUIRE(decoded);
  CHECK(decoded->id == 7);
  REQUIRE(decoded->answers.size() == 1);
  CHECK(decoded->answers[0] == asio::ip::make_address("192.0.2.1"));

  // check.test CNAME x.check.test (compressed), x.check.test A 192.0.2.7, other.test A (ignored).
  auto cname = query;
  cname[2] = 0x81;
  cname[3] = 0x80;
  cname[7] = 2;
  const std::vector<std::uint8_t> records = {
      0xC0, 0x0C,        0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1,   'x', 0xC0, 0x0C,  // CNAME at 28
      0xC0, 28 + 10 + 2, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0,   2,    7};  // owner: x.check.test
  cname.insert(cname.end(), records.begin(), records.end());
  auto followed = detail::decode_dns_reply(cname, "check.test", DnsRecordType::kA);
  REQUIRE(followed);
  REQUIRE(followed->answers.size() == 1);
  CHECK(followed->answers[0] == asio::ip::make_address("192.0.2.7"));

  struct Case {
    const char* what;
    std::function<void(std::vector<std::uint8_t>&)> mutate;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"shorter than a header", [](auto& m) { m.resize(11); }, "shorter than a header"},
      {"cut inside the question", [](auto& m) { m.resize(16); }, "answer count too large"},
      {"cut inside the question, no answers",
       [](auto& m) {
         m[7] = 0;
         m.resize(16);
       },
       "past the end"},
      {"cut inside the answer's data", [](auto& m) { m.resize(m.size() - 3); }, "past the end"},
      {"pointer to itself",
       [](auto& m) {
         m[28] = 0xC0;
         m[29] = 28;
       },
       "backwards"},
      {"pointer forward",
       [](auto& m) {
         m[28] = 0xC0;
         m[29] = 40;
       },
       "backwards"},
      {"pointer loop between two names",
       [](auto& m) {
         m[12] = 0xC0;  // question name -> answer name (forward: refused)
         m[13] = 28;
       },
       "backwards"},
      {"reserved label type", [](auto& m) { m[28] = 0x80; }, "reserved label type"},
      {"A record of 5 bytes",
       [](auto& m) {
         m[m.size() - 5] = 5;
         m.push_back(9);
       },
       "not 4 bytes"},
      {"answer count beyond the message", [](auto& m) { m[6] = 0xFF; }, "answer count too large"},
      {"not a reply", [](auto& m) { m[2] = 0x01; }, "QR bit clear"},
      {"two questions", [](auto& m) { m[5] = 2; }, "more than one question"},
      {"another question",
       [](auto& m) {
         m[13] = 'C';
         m[14] = 'z';
       },
       "another question"},
      {"label longer than the message", [](auto& m) { m[12] = 60; }, "past the end"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto m = good;
    c.mutate(m);
    auto r = detail::decode_dns_reply(m, "check.test", DnsRecordType::kA);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kProtocolError);
    CHECK_THAT(r.error().message, Catch::Contains(c.message_part));
  }

  // 40 backward pointers, each to the one before (hidden in the data of a record of another
  // type), then a record whose owner is the last of them: refused by the jump limit. The rcode
  // is SERVFAIL so that no question is needed.
  std::vector<std::uint8_t> chain = {0, 7, 0x81, 0x82, 0, 0, 0, 2, 0, 0, 0, 0};
  chain.insert(chain.end(), {0, 0, 99, 0, 1, 0, 0, 0, 0, 0, 81});  // owner ".", type 99, rdlen 81
  chain.push_back(0);                                              // at 23: the root
  for (int k = 0; k < 40; ++k) {
    chain.push_back(0xC0);
    chain.push_back(static_cast<std::uint8_t>(k == 0 ? 23 : 24 + 2 * (k - 1)));
  }
  chain.insert(chain.end(), {0xC0, 24 + 2 * 39, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1});
  auto deep = detail::decode_dns_reply(chain, "check.test", DnsRecordType::kA);
  REQUIRE_FALSE(deep);
  CHECK_THAT(deep.error().message, Catch::Contains("too many compression pointers"));
}

// ---------------------------------------------------------------------------------------------
// TCP

TEST_CASE("service checks: TCP connect over IPv6 loopback", "[pollers][checks][ipv6]") {
  Fixture f;
  tcp::acceptor v6_port(f.io, tcp::endpoint(asio::ip::make_address("::1"), 0));
  auto v6 = f.tcp({asio::ip::make_address("::1"), v6_port.local_endpoint().port(), 2s});
  CHECK(v6);
}

TEST_CASE("service checks: TCP connect to an open port, a closed port, and a full backlog",
          "[pollers][checks]") {
  Fixture f;
  tcp::acceptor open_port(f.io, tcp::endpoint(kLoopback, 0));
  auto ok = f.tcp({kLoopback, open_port.local_endpoint().port(), 2s});
  REQUIRE(ok);
  CHECK(ok->connect_ms >= 0);

  auto refused = f.tcp({kLoopback, free_tcp_port(), 2s});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kServiceUnavailable);
  CHECK(refused.error().details.at("reason").as_string() == "connection_refused");
  CHECK_THAT(refused.error().message, Catch::Contains("refused"));

  // A listener with backlog 0 that never accepts: once its queue is full the kernel drops SYNs.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 0) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  f.io.restart();
  f.io.run_for(100ms);
  auto timed_out = f.tcp({kLoopback, ntohs(addr.sin_port), 300ms});
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  REQUIRE_FALSE(timed_out);
  CHECK(timed_out.error().code == Errc::kTimeout);
}

TEST_CASE("service checks: bad input, the in-flight bound, and destruction dropping callbacks",
          "[pollers][checks]") {
  auto options = with_loopback();
  options.max_in_flight = 1;
  Fixture f(options);
  auto bad_port = f.tcp({kLoopback, 0, 1s});
  REQUIRE_FALSE(bad_port);
  CHECK(bad_port.error().details.at("field").as_string() == "port");
  HttpCheck bad_status{.url = "http://127.0.0.1:1/", .expected_status = {300, 200}};
  auto bad = f.http(bad_status);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().details.at("field").as_string() == "expected_status");
  auto bad_name = f.dns({.name = "a..b", .server = kLoopback});
  REQUIRE_FALSE(bad_name);
  CHECK(bad_name.error().details.at("field").as_string() == "name");

  TestHttpServer server;
  int first_calls = 0;
  f.checker->http({.url = server.url("/slow"), .timeout = 10s},
                  [&](Result<HttpCheckResult>) { ++first_calls; });
  auto refused = f.http({.url = server.url("/ok")});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kServiceUnavailable);
  CHECK(refused.error().details.at("reason").as_string() == "overloaded");
  CHECK(f.checker->stats().refused == 1);
  f.checker.reset();
  f.io.restart();
  f.io.run_for(200ms);
  CHECK(first_calls == 0);
}

// ---------------------------------------------------------------------------------------------
// HTTP against the test's own Beast server and raw TCP servers

TEST_CASE("service checks: HTTP status, timings, keyword, body bound, redirects",
          "[pollers][checks]") {
  Fixture f;
  TestHttpServer server;

  auto ok = f.http({.url = server.url("/ok"), .keyword = "netpulse"});
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->status_matched);
  CHECK(ok->keyword_found == true);
  CHECK(ok->passed());
  CHECK(ok->body_bytes == 22);
  CHECK_FALSE(ok->body_truncated);
  CHECK(ok->first_byte_ms <= ok->response_ms);
  CHECK_FALSE(ok->tls);

  auto no_keyword = f.http({.url = server.url("/ok"), .keyword = "absent"});
  REQUIRE(no_keyword);
  CHECK(no_keyword->keyword_found == false);
  CHECK_FALSE(no_keyword->passed());

  auto missing = f.http({.url = server.url("/missing")});
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK_FALSE(missing->status_matched);
  CHECK_FALSE(missing->passed());

  auto exact = f.http({.url = server.url("/ok"), .expected_status = {201, 201}});
  REQUIRE(exact);
  CHECK_FALSE(exact->status_matched);

  auto head = f.http({.url = server.url("/ok"), .method = HttpMethod::kHead});
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body_bytes == 0);

  auto big = f.http({.url = server.url("/big"), .keyword = "y"});
  REQUIRE(big);
  CHECK(big->body_bytes == (1u << 20));
  CHECK(big->body_truncated);
  CHECK(big->keyword_found == false);

  auto small_bound = f.http({.url = server.url("/ok"), .max_body_bytes = 5});
  REQUIRE(small_bound);
  CHECK(small_bound->body_bytes == 5);
  CHECK(small_bound->body_truncated);

  auto redirect_reported = f.http({.url = server.url("/redirect")});
  REQUIRE(redirect_reported);
  CHECK(redirect_reported->status == 302);
  CHECK(redirect_reported->redirects == 0);

  auto redirect_followed = f.http({.url = server.url("/redirect"), .max_redirects = 2});
  REQUIRE(redirect_followed);
  CHECK(redirect_followed->status == 200);
  CHECK(redirect_followed->redirects == 1);
  CHECK(redirect_followed->final_url == server.url("/ok"));

  // A loop stops at the bound and reports the last 3xx.
  auto loop = f.http({.url = server.url("/loop"), .max_redirects = 3});
  REQUIRE(loop);
  CHECK(loop->status == 302);
  CHECK(loop->redirects == 3);

  // The address override: the URL names a host that does not resolve; the connection goes to
  // the given address and Host carries the URL's name.
  auto overridden =
      f.http({.url = "http://no-such-host.invalid:" + std::to_string(server.port()) + "/ok",
              .address = kLoopback});
  REQUIRE(overridden);
  CHECK(overridden->status == 200);

  auto slow = f.http({.url = server.url("/slow"), .timeout = 300ms});
  REQUIRE_FALSE(slow);
  CHECK(slow.error().code == Errc::kTimeout);
  CHECK_THAT(slow.error().message, Catch::Contains("waiting for the response"));

  auto refused = f.http({.url = "http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/"});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().details.at("reason").as_string() == "connection_refused");
}

TEST_CASE("service checks: malformed HTTP responses are clear errors", "[pollers][checks]") {
  Fixture f;
  struct Case {
    const char* what;
    std::string reply;
  };
  const std::vector<Case> cases = {
      {"garbage", "THIS IS NOT HTTP\r\n\r\n"},
      {"nothing", ""},
      {"header cut short", "HTTP/1.1 200 OK\r\nContent-Le"},
      {"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"},
      {"bad status", "HTTP/1.1 2000 OK\r\n\r\n"},
      {"bad chunking", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
      {"huge header", "HTTP/1.1 200 OK\r\nX: " + std::string(100'000, 'a') + "\r\n\r\n"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    RawTcpServer server(c.reply);
    auto r = f.http({.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kProtocolError);
    INFO(r.error().message);
    CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
  }
}

TEST_CASE("service checks: a TLS peer that never answers times out, one that sends garbage fails",
          "[pollers][checks]") {
  Fixture f;
  // The kernel completes the connect; nobody ever reads the ClientHello.
  tcp::acceptor never_accepts(f.io, tcp::endpoint(kLoopback, 0));
  auto silent = f.http(
      {.url = "https://127.0.0.1:" + std::to_string(never_accepts.local_endpoint().port()) + "/",
       .timeout = 300ms});
  REQUIRE_FALSE(silent);
  CHECK(silent.error().code == Errc::kTimeout);
  CHECK_THAT(silent.error().message, Catch::Contains("TLS handshake"));

  RawTcpServer garbage("HTTP/1.1 200 OK\r\n\r\nthis is not TLS");
  auto not_tls = f.http({.url = "https://127.0.0.1:" + std::to_string(garbage.port()) + "/"});
  REQUIRE_FALSE(not_tls);
  CHECK(not_tls.error().code == Errc::kProtocolError);
  CHECK_THAT(not_tls.error().message, Catch::Contains("TLS handshake"));
}

// ---------------------------------------------------------------------------------------------
// HTTP and HTTPS against nginx

TEST_CASE("service checks: HTTPS certificate expiry, verification and host names via nginx",
          "[pollers][checks]") {
  netpulse::test::TempDir dir;
  const auto pki = TestPki::make(dir);
  Nginx nginx(dir, pki);
  Fixture f;
  const auto https_url = [&](const std::string& host) {
    return "https://" + host + ":" + std::to_string(nginx.https_port()) + "/";
  };

  auto plain = f.http({.url = "http://127.0.0.1:" + std::to_string(nginx.http_port()) + "/",
                       .keyword = "plain nginx"});
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK(plain->keyword_found == true);
  auto down = f.http({.url = "http://127.0.0.1:" + std::to_string(nginx.http_port()) + "/down"});
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK_FALSE(down->passed());

  auto verified = f.http({.url = https_url("check.test"),
                          .address = kLoopback,
                          .keyword = "secure",
                          .ca_file = pki.ca});
  REQUIRE(verified);
  CHECK(verified->status == 200);
  CHECK(verified->keyword_found == true);
  REQUIRE(verified->tls);
  CHECK(verified->tls->verified);
  CHECK(verified->tls->verify_error.empty());
  CHECK((verified->tls->days_to_expiry == 29 || verified->tls->days_to_expiry == 30));
  CHECK_THAT(verified->tls->subject, Catch::Contains("CN=check.test"));
  CHECK_THAT(verified->tls->issuer, Catch::Contains("CN=NetPulse Test CA"));

  auto to_plain = f.http({.url = https_url("check.test") + "to-plain",
                          .address = kLoopback,
                          .keyword = "plain nginx",
                          .ca_file = pki.ca,
                          .max_redirects = 1});
  REQUIRE(to_plain);
  CHECK(to_plain->status == 200);
  CHECK(to_plain->redirects == 1);
  CHECK(to_plain->keyword_found == true);
  CHECK_FALSE(to_plain->tls);

  auto by_ip = f.http({.url = https_url("127.0.0.1"), .ca_file = pki.ca});
  REQUIRE(by_ip);
  CHECK(by_ip->tls->verified);

  auto untrusted = f.http({.url = https_url("check.test"), .address = kLoopback});
  REQUIRE_FALSE(untrusted);
  CHECK(untrusted.error().code == Errc::kProtocolError);
  CHECK(untrusted.error().details.at("reason").as_string() == "certificate_verify_failed");
  CHECK_THAT(untrusted.error().message, Catch::Contains("issuer certificate"));

  auto unverified =
      f.http({.url = https_url("check.test"), .address = kLoopback, .verify_tls = false});
  REQUIRE(unverified);
  REQUIRE(unverified->tls);
  CHECK_FALSE(unverified->tls->verified);
  CHECK_FALSE(unverified->tls->verify_error.empty());
  CHECK((unverified->tls->days_to_expiry == 29 || unverified->tls->days_to_expiry == 30));

  auto mismatch = f.http({.url = https_url("other.test"), .address = kLoopback, .ca_file = pki.ca});
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().code == Errc::kProtocolError);
  CHECK_THAT(mismatch.error().message, Catch::Contains("mismatch"));

  auto no_ca_file = f.http(
      {.url = https_url("check.test"), .address = kLoopback, .ca_file = dir.file("absent.pem")});
  REQUIRE_FALSE(no_ca_file);
  CHECK(no_ca_file.error().details.at("field").as_string() == "ca_file");

  // Days to expiry come from the Clock's system time, not the host's.
  netpulse::core::ManualClock manual(verified->tls->not_after - std::chrono::days(10) -
                                     std::chrono::hours(1));
  auto opened = ServiceChecker::open(with_loopback(), f.io.get_executor(), manual);
  REQUIRE(opened);
  auto manual_checker = std::move(*opened);
  auto later = run_check<HttpCheckResult>(f.io, [&](auto done) {
    manual_checker->http({.url = https_url("check.test"), .address = kLoopback, .ca_file = pki.ca},
                         done);
  });
  REQUIRE(later);
  CHECK(later->tls->days_to_expiry == 10);
}

// ---------------------------------------------------------------------------------------------
// DNS against dnsmasq and fake servers

TEST_CASE("service checks: DNS against dnsmasq", "[pollers][checks]") {
  netpulse::test::TempDir dir;
  Dnsmasq dnsmasq(dir);
  Fixture f;
  DnsCheck check{.name = "check.test",
                 .server = kLoopback,
                 .port = dnsmasq.port(),
                 .expected = asio::ip::make_address("192.0.2.10"),
                 .timeout = 3s};
  auto a = f.dns(check);
  REQUIRE(a);
  REQUIRE(a->answers.size() == 1);
  CHECK(a->answers[0] == asio::ip::make_address("192.0.2.10"));
  CHECK(a->expected_found == true);
  CHECK(a->passed());

  check.expected = asio::ip::make_address("192.0.2.99");
  auto mismatch = f.dns(check);
  REQUIRE(mismatch);
  CHECK(mismatch->expected_found == false);
  CHECK_FALSE(mismatch->passed());

  auto aaaa = f.dns({.name = "check.test",
                     .type = DnsRecordType::kAAAA,
                     .server = kLoopback,
                     .port = dnsmasq.port(),
                     .expected = asio::ip::make_address("2001:db8::10")});
  REQUIRE(aaaa);
  CHECK(aaaa->expected_found == true);

  auto nx = f.dns({.name = "nx.test", .server = kLoopback, .port = dnsmasq.port()});
  REQUIRE_FALSE(nx);
  CHECK(nx.error().code == Errc::kNotFound);
  CHECK(nx.error().details.at("rcode").as_string() == "NXDOMAIN");

  auto refused = f.dns({.name = "elsewhere.test", .server = kLoopback, .port = dnsmasq.port()});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kProtocolError);
  CHECK(refused.error().details.at("rcode").as_string() == "REFUSED");
}

TEST_CASE("service checks: DNS against silent and hostile servers", "[pollers][checks]") {
  Fixture f;
  using Reply = std::optional<std::vector<std::uint8_t>>;
  const auto ask = [&](FakeDnsServer& server) {
    return f.dns(
        {.name = "check.test", .server = kLoopback, .port = server.port(), .timeout = 300ms});
  };

  FakeDnsServer good(f.io, [](const auto& q) -> Reply { return good_reply(q); });
  auto answered = ask(good);
  REQUIRE(answered);
  CHECK(answered->answers.size() == 1);

  FakeDnsServer silent(f.io, [](const auto&) -> Reply { return std::nullopt; });
  auto timeout = ask(silent);
  REQUIRE_FALSE(timeout);
  CHECK(timeout.error().code == Errc::kTimeout);

  FakeDnsServer wrong_id(f.io, [](const auto& q) -> Reply {
    auto r = good_reply(q);
    r[1] ^= 1;
    return r;
  });
  auto ignored = ask(wrong_id);
  REQUIRE_FALSE(ignored);
  CHECK(ignored.error().code == Errc::kTimeout);
  CHECK_THAT(ignored.error().message, Catch::Contains("1 stray"));

  FakeDnsServer spoofer(
      f.io, [](const auto& q) -> Reply { return good_reply(q); }, true);
  auto spoofed = ask(spoofer);
  REQUIRE_FALSE(spoofed);
  CHECK(spoofed.error().code == Errc::kTimeout);

  struct Case {
    const char* what;
    std::function<void(std::vector<std::uint8_t>&)> mutate;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"truncated datagram", [](auto& r) { r.resize(20); }, "malformed"},
      {"pointer loop",
       [](auto& r) {
         r[28] = 0xC0;
         r[29] = 28;
       },
       "backwards"},
      {"TC bit", [](auto& r) { r[2] |= 0x02; }, "truncated (TC)"},
      {"SERVFAIL", [](auto& r) { r[3] = 0x82; }, "SERVFAIL"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    FakeDnsServer hostile(f.io, [&](const auto& q) -> Reply {
      auto r = good_reply(q);
      c.mutate(r);
      return r;
    });
    auto r = ask(hostile);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kProtocolError);
    CHECK_THAT(r.error().message, Catch::Contains(c.message_part));
  }

  // A closed UDP port: the kernel's ICMP port unreachable ends the check at once.
  auto closed =
      f.dns({.name = "check.test", .server = kLoopback, .port = free_udp_port(), .timeout = 2s});
  REQUIRE_FALSE(closed);
  CHECK(closed.error().code == Errc::kServiceUnavailable);
}

// ---------------------------------------------------------------------------------------------
// The outbound address policy (core/outbound.hpp): every address a check connects to

namespace {

// No connection reached `acceptor` (a non-blocking accept finds none waiting).
bool nothing_connected(tcp::acceptor& acceptor) {
  acceptor.non_blocking(true);
  tcp::socket peer(acceptor.get_executor());
  boost::system::error_code ec;
  acceptor.accept(peer, ec);
  return ec == asio::error::would_block;
}

// `shown`: the address as the message writes it, when not `address` (an IPv4-mapped one).
void check_refused(const netpulse::core::Error& e, const std::string& address,
                   const std::string& list, const std::string& rule,
                   const std::string& shown = "") {
  INFO(e.message);
  CHECK(e.code == Errc::kOutboundDenied);
  CHECK_THAT(e.message, Catch::Contains("address " + (shown.empty() ? address : shown) +
                                        " is refused by " + list + " rule " + rule));
  CHECK(e.details.at("address").as_string() == address);
  CHECK(e.details.at("rule").as_string() == rule);
  CHECK(e.details.at("list").as_string() == list);
}

}  // namespace

TEST_CASE("service checks: the default policy refuses loopback, metadata and link-local targets",
          "[pollers][checks][outbound]") {
  Fixture f(ServiceCheckOptions{});  // the built-in policy
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(kLoopback, 0));
  const auto port = listener.local_endpoint().port();

  auto tcp_loopback = f.tcp({kLoopback, port, 2s});
  REQUIRE_FALSE(tcp_loopback);
  check_refused(tcp_loopback.error(), "127.0.0.1", "network.fetch_deny", "127.0.0.0/8");
  CHECK(nothing_connected(listener));

  auto tcp_metadata = f.tcp({asio::ip::make_address("169.254.169.254"), 80, 2s});
  REQUIRE_FALSE(tcp_metadata);
  check_refused(tcp_metadata.error(), "169.254.169.254", "network.outbound_deny",
                "169.254.169.254/32");
  auto tcp_mapped = f.tcp({asio::ip::make_address("::ffff:169.254.169.254"), 80, 2s});
  REQUIRE_FALSE(tcp_mapped);
  check_refused(tcp_mapped.error(), "169.254.169.254", "network.outbound_deny",
                "169.254.169.254/32", "::ffff:169.254.169.254 (169.254.169.254)");
  auto tcp_v6_metadata = f.tcp({asio::ip::make_address("fd00:ec2::254"), 80, 2s});
  REQUIRE_FALSE(tcp_v6_metadata);
  check_refused(tcp_v6_metadata.error(), "fd00:ec2::254", "network.outbound_deny",
                "fd00:ec2::254/128");
  auto tcp_link_local = f.tcp({asio::ip::make_address("169.254.7.7"), 80, 2s});
  REQUIRE_FALSE(tcp_link_local);
  check_refused(tcp_link_local.error(), "169.254.7.7", "network.outbound_deny", "169.254.0.0/16");

  TestHttpServer server;
  auto http_loopback = f.http({.url = server.url("/ok"), .timeout = 2s});
  REQUIRE_FALSE(http_loopback);
  check_refused(http_loopback.error(), "127.0.0.1", "network.fetch_deny", "127.0.0.0/8");
  auto http_override = f.http({.url = "http://portal.example.net:" + std::to_string(port) + "/",
                               .address = kLoopback,
                               .timeout = 2s});
  REQUIRE_FALSE(http_override);
  check_refused(http_override.error(), "127.0.0.1", "network.fetch_deny", "127.0.0.0/8");
  CHECK(nothing_connected(listener));
  auto http_metadata = f.http({.url = "http://169.254.169.254/latest/meta-data/", .timeout = 2s});
  REQUIRE_FALSE(http_metadata);
  check_refused(http_metadata.error(), "169.254.169.254", "network.outbound_deny",
                "169.254.169.254/32");
  auto http_v6_loopback = f.http({.url = "http://[::1]:" + std::to_string(port) + "/"});
  REQUIRE_FALSE(http_v6_loopback);
  check_refused(http_v6_loopback.error(), "::1", "network.fetch_deny", "::1/128");

  auto dns_loopback = f.dns({.name = "check.test", .server = kLoopback, .timeout = 1s});
  REQUIRE_FALSE(dns_loopback);
  check_refused(dns_loopback.error(), "127.0.0.1", "network.fetch_deny", "127.0.0.0/8");
  auto dns_metadata =
      f.dns({.name = "check.test", .server = asio::ip::make_address("169.254.169.254")});
  REQUIRE_FALSE(dns_metadata);
  check_refused(dns_metadata.error(), "169.254.169.254", "network.outbound_deny",
                "169.254.169.254/32");
}

TEST_CASE("service checks: a host name is judged by the addresses it resolves to",
          "[pollers][checks][outbound]") {
  // No DNS needed: the system resolver reads "2852039166" and "0xa9fea9fe" as IPv4 numbers
  // (inet_aton), both 169.254.169.254, and "localhost" from /etc/hosts; to the URL parser all
  // three are host names.
  Fixture f(ServiceCheckOptions{});
  for (const char* name : {"2852039166", "0xa9fea9fe"}) {
    INFO(name);
    auto r = f.http({.url = std::string("http://") + name + "/latest/meta-data/", .timeout = 2s});
    REQUIRE_FALSE(r);
    check_refused(r.error(), "169.254.169.254", "network.outbound_deny", "169.254.169.254/32");
    CHECK_THAT(r.error().message, Catch::Contains(std::string("http://") + name + "/"));
  }
  TestHttpServer server;
  const auto by_name = "http://localhost:" + std::to_string(server.port()) + "/ok";
  auto refused = f.http({.url = by_name, .timeout = 2s});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kOutboundDenied);
  CHECK_THAT(refused.error().message, Catch::Contains("is refused by network.fetch_deny rule"));

  // The same name with loopback allowed: the policy judged the address, not the name.
  Fixture allowed;
  auto fetched = allowed.http({.url = by_name, .keyword = "netpulse"});
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
}

TEST_CASE("service checks: every redirect hop is judged before it connects",
          "[pollers][checks][outbound]") {
  // Only 127.0.0.1 is allowed: 127.0.0.2 stays refused by fetch_deny's 127.0.0.0/8.
  ServiceCheckOptions options;
  options.outbound = loopback_allowed({"127.0.0.1/32"});
  Fixture f(options);
  TestHttpServer server;

  auto to_metadata = f.http({.url = server.url("/to-metadata"), .max_redirects = 3});
  REQUIRE_FALSE(to_metadata);
  check_refused(to_metadata.error(), "169.254.169.254", "network.outbound_deny",
                "169.254.169.254/32");
  CHECK_THAT(to_metadata.error().message,
             Catch::Contains("redirect 1 to http://169.254.169.254/latest/meta-data/"));

  auto to_other = f.http({.url = server.url("/to-other-loopback"), .max_redirects = 3});
  REQUIRE_FALSE(to_other);
  check_refused(to_other.error(), "127.0.0.2", "network.fetch_deny", "127.0.0.0/8");

  // Not followed, a redirect to a refused address is only an answer.
  auto reported = f.http({.url = server.url("/to-metadata")});
  REQUIRE(reported);
  CHECK(reported->status == 302);
  // The allowed address itself still works, redirects and all.
  auto followed = f.http({.url = server.url("/redirect"), .max_redirects = 1});
  REQUIRE(followed);
  CHECK(followed->status == 200);
}
