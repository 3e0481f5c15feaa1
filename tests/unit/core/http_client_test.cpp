// core::HttpClient against peers on loopback only: a scripted HTTP server
// (support/scripted_http_server.hpp: it records every request and answers with the raw bytes the
// case gives, hostile ones included), a TLS server on 127.0.0.2, and nginx with the test PKI for
// HTTPS (support/peers.hpp). The outbound policy of every
// case that talks to 127.0.0.1 allows 127.0.0.0/8, which the default policy refuses to fetches;
// the cases about the policy use the default one.
#include <chrono>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/http_client.hpp>

#include "support/peers.hpp"
#include "support/run_until.hpp"
#include "support/scripted_http_server.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
using netpulse::core::Errc;
using netpulse::core::HttpClient;
using netpulse::core::HttpHeaders;
using netpulse::core::HttpOptions;
using netpulse::core::HttpRequest;
using netpulse::core::HttpResponse;
using netpulse::core::OutboundLists;
using netpulse::core::OutboundPolicy;
using netpulse::core::Result;
using netpulse::test::free_tcp_port;
using netpulse::test::run_until;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

using ScriptedServer = netpulse::test::ScriptedHttpServer;
using ServerRequest = ScriptedServer::Request;
using netpulse::test::http_reply;

OutboundPolicy loopback_allowed() {
  auto lists = OutboundLists::defaults();
  lists.allow = {"127.0.0.0/8"};
  auto policy = OutboundPolicy::make(lists);
  REQUIRE(policy);
  return *policy;
}

std::string redirect(int status, const std::string& location) {
  return http_reply(status, "", {"Location: " + location});
}

// A TLS server on 127.0.0.2 with the test PKI's leaf, which names 127.0.0.1 but not 127.0.0.2:
// each connection gets a handshake and, if the client goes on, a 200.
class TlsServer {
 public:
  explicit TlsServer(const netpulse::test::TestPki& pki)
      : context_(asio::ssl::context::tls_server),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.2"), 0)) {
    context_.use_certificate_chain_file(pki.leaf);
    context_.use_private_key_file(pki.key, asio::ssl::context::pem);
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return;
        asio::ssl::stream<tcp::socket&> tls(socket, context_);
        tls.handshake(asio::ssl::stream_base::server, ec);
        if (ec) continue;
        boost::beast::flat_buffer buffer;
        ServerRequest request;
        http::read(tls, buffer, request, ec);
        asio::write(tls, asio::buffer(http_reply(200, "unverifiable")), ec);
      }
    });
  }
  ~TlsServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const {
    return "https://127.0.0.2:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

 private:
  asio::io_context io_;
  asio::ssl::context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

struct Fixture {
  asio::io_context io;
  netpulse::core::SystemClock system_clock;
  std::optional<HttpClient> client;

  explicit Fixture(OutboundPolicy policy = loopback_allowed(),
                   const netpulse::core::Clock* clock = nullptr) {
    client.emplace(io.get_executor(), clock ? *clock : system_clock, std::move(policy));
  }

  // Sends one request and runs the loop until its answer; checks that `done` is called once,
  // never inline.
  Result<HttpResponse> send(HttpRequest request, HttpOptions options = {}) {
    std::optional<Result<HttpResponse>> out;
    int calls = 0;
    client->send(std::move(request), std::move(options), [&](Result<HttpResponse> r) {
      ++calls;
      out.emplace(std::move(r));
    });
    REQUIRE_FALSE(out);
    REQUIRE(run_until(io, [&] { return out.has_value(); }));
    io.restart();
    io.run_for(10ms);  // a second call would show up here
    REQUIRE(calls == 1);
    return std::move(*out);
  }
};

HttpRequest get_request(std::string url) {
  return {.method = "GET", .url = std::move(url)};
}

void check_refused(const netpulse::core::Error& e, const std::string& address,
                   const std::string& list) {
  INFO(e.message);
  CHECK(e.code == Errc::kOutboundDenied);
  CHECK(e.details.at("address").as_string() == address);
  CHECK(e.details.at("list").as_string() == list);
  CHECK_THAT(e.message, Catch::Contains("address " + address + " is refused by " + list));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Requests and responses

TEST_CASE("http client: a POST arrives with its body and headers; the client owns framing",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest&) { return http_reply(201, "created"); });
  Fixture f;
  const std::string body = std::string("{\"text\":\"hi\"}\0\xff", 15);
  auto r = f.send({.method = "POST",
                   .url = server.url("/hook?x=1"),
                   .headers = {{"Content-Type", "application/json"},
                               {"X-Token", "s3cret"},
                               {"X-Multi", "one"},
                               {"X-Multi", "two"},
                               {"Host", "evil.example"},
                               {"Content-Length", "1"},
                               {"Connection", "keep-alive"},
                               {"Transfer-Encoding", "chunked"}},
                   .body = body});
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == "created");
  CHECK_FALSE(r->body_truncated);
  CHECK(r->redirects == 0);
  CHECK(r->remote_address == "127.0.0.1:" + std::to_string(server.port()));

  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& got = requests[0];
  CHECK(got.method() == http::verb::post);
  CHECK(got.target() == "/hook?x=1");
  CHECK(got.body() == body);
  CHECK(got[http::field::host] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(got[http::field::content_length] == std::to_string(body.size()));
  CHECK(got[http::field::connection] == "close");
  CHECK(got.count(http::field::transfer_encoding) == 0);
  CHECK(got.count(http::field::host) == 1);
  CHECK(got[http::field::content_type] == "application/json");
  CHECK(got["X-Token"] == "s3cret");
  CHECK(got[http::field::user_agent] == "NetPulse");
  std::vector<std::string> multi;
  for (const auto& field : got) {
    if (field.name_string() == "X-Multi") multi.emplace_back(field.value());
  }
  CHECK(multi == std::vector<std::string>{"one", "two"});
}

TEST_CASE("http client: a GET without a body sends no Content-Length; user agent and headers",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest&) {
    return http_reply(200, "pong", {"X-Custom-Thing: yes", "x-second: 2"});
  });
  Fixture f;
  auto r =
      f.send({.method = "GET", .url = server.url("/ping"), .headers = {{"user-agent", "Mine"}}},
             {.user_agent = "Other"});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "pong");
  CHECK(r->header("x-custom-thing") == "yes");
  CHECK(r->header("X-CUSTOM-THING") == "yes");
  CHECK(r->header("X-Second") == "2");
  CHECK(r->header("content-length") == "4");
  CHECK(r->header("absent").empty());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method() == http::verb::get);
  CHECK(requests[0].count(http::field::content_length) == 0);
  CHECK(requests[0].body().empty());
  CHECK(requests[0][http::field::user_agent] == "Mine");  // the request's header wins
  CHECK(requests[0].count(http::field::user_agent) == 1);
}

TEST_CASE("http client: a 500 is a response, not an error; elapsed is the Clock's",
          "[core][http_client]") {
  netpulse::core::ManualClock clock;
  ScriptedServer server([&](const ServerRequest&) {
    clock.advance(1500ms);
    return http_reply(500, "boom");
  });
  Fixture f(loopback_allowed(), &clock);
  auto r = f.send({.method = "DELETE", .url = server.url("/thing/1")});
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->body == "boom");
  CHECK(r->elapsed == 1500ms);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].method() == http::verb::delete_);
}

TEST_CASE("http client: the body is kept up to max_response_bytes, the rest dropped",
          "[core][http_client]") {
  const std::string big(100'000, 'x');
  const std::string huge(8u << 20, 'y');  // past max + the 1 MiB discard bound: reading stops
  ScriptedServer server([&](const ServerRequest& request) -> std::optional<std::string> {
    if (request.target() == "/huge") return http_reply(200, huge);
    if (request.target() == "/chunked") {
      return std::string(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
          "world\r\n0\r\n\r\n");
    }
    if (request.target() == "/until-close") {
      return std::string("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end");
    }
    return http_reply(200, big);
  });
  Fixture f;
  auto cut = f.send(get_request(server.url("/big")), {.max_response_bytes = 1000});
  REQUIRE(cut);
  CHECK(cut->body == big.substr(0, 1000));
  CHECK(cut->body_truncated);

  auto exact = f.send(get_request(server.url("/big")), {.max_response_bytes = big.size()});
  REQUIRE(exact);
  CHECK(exact->body == big);
  CHECK_FALSE(exact->body_truncated);

  auto none = f.send(get_request(server.url("/big")), {.max_response_bytes = 0});
  REQUIRE(none);
  CHECK(none->body.empty());
  CHECK(none->body_truncated);

  auto stopped = f.send(get_request(server.url("/huge")), {.max_response_bytes = 10});
  REQUIRE(stopped);
  CHECK(stopped->status == 200);
  CHECK(stopped->body == "yyyyyyyyyy");
  CHECK(stopped->body_truncated);

  auto chunked = f.send(get_request(server.url("/chunked")));
  REQUIRE(chunked);
  CHECK(chunked->body == "hello world");
  auto until_close = f.send(get_request(server.url("/until-close")));
  REQUIRE(until_close);
  CHECK(until_close->body == "to the end");
}

TEST_CASE("http client: interim 1xx answers are skipped, but not endlessly",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest& request) -> std::optional<std::string> {
    if (request.target() == "/one")
      return "HTTP/1.1 100 Continue\r\n\r\n" + http_reply(200, "final");
    std::string many;
    for (int i = 0; i < 20; ++i) many += "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n";
    return many + http_reply(200, "never");
  });
  Fixture f;
  auto one = f.send(get_request(server.url("/one")));
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(one->body == "final");
  auto many = f.send(get_request(server.url("/many")));
  REQUIRE_FALSE(many);
  CHECK(many.error().code == Errc::kProtocolError);
  CHECK_THAT(many.error().message, Catch::Contains("interim responses"));
}

// ---------------------------------------------------------------------------------------------
// Bad input, refused before any I/O

TEST_CASE("http client: bad method, URL, headers and options are refused naming the field",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest&) { return http_reply(200, "ok"); });
  Fixture f;
  struct Case {
    const char* what;
    HttpRequest request;
    HttpOptions options;
    const char* field;
  };
  const auto url = server.url("/");
  const std::vector<Case> cases = {
      {"lower-case method", {.method = "post", .url = url}, {}, "method"},
      {"TRACE", {.method = "TRACE", .url = url}, {}, "method"},
      {"empty method", {.method = "", .url = url}, {}, "method"},
      {"ftp", {.url = "ftp://127.0.0.1/"}, {}, "url"},
      {"user info", {.url = "http://user:pw@127.0.0.1/"}, {}, "url"},
      {"empty host", {.url = "http:///x"}, {}, "url"},
      {"bad port", {.url = "http://127.0.0.1:70000/"}, {}, "url"},
      {"no scheme", {.url = "127.0.0.1/"}, {}, "url"},
      {"CR LF in a value", {.url = url, .headers = {{"X-A", "b\r\nX-Injected: 1"}}}, {}, "headers"},
      {"LF in a value", {.url = url, .headers = {{"X-A", "b\nc"}}}, {}, "headers"},
      {"NUL in a value", {.url = url, .headers = {{"X-A", std::string("b\0c", 3)}}}, {}, "headers"},
      {"CR LF in a name", {.url = url, .headers = {{"X-A\r\nX-B", "c"}}}, {}, "headers"},
      {"colon in a name", {.url = url, .headers = {{"X-A:", "c"}}}, {}, "headers"},
      {"empty name", {.url = url, .headers = {{"", "c"}}}, {}, "headers"},
      {"huge headers", {.url = url, .headers = {{"X-A", std::string(70'000, 'a')}}}, {}, "headers"},
      {"zero timeout", {.url = url}, {.timeout = 0ms}, "timeout"},
      {"negative redirects", {.url = url}, {.max_redirects = -1}, "max_redirects"},
      {"CR LF in the user agent", {.url = url}, {.user_agent = "a\r\nb"}, "user_agent"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = f.send(c.request, c.options);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == c.field);
  }
  CHECK(server.connections() == 0);
}

// ---------------------------------------------------------------------------------------------
// Failures on the wire

TEST_CASE("http client: a refused connection names the address; a silent server times out",
          "[core][http_client]") {
  Fixture f;
  const auto port = std::to_string(free_tcp_port());
  auto refused = f.send(get_request("http://127.0.0.1:" + port + "/"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kServiceUnavailable);
  CHECK(refused.error().message == "connect to 127.0.0.1:" + port + ": Connection refused");

  ScriptedServer silent([](const ServerRequest&) { return std::nullopt; });
  const auto before = std::chrono::steady_clock::now();
  auto slow = f.send(get_request(silent.url("/slow")), {.timeout = 300ms});
  REQUIRE_FALSE(slow);
  CHECK(slow.error().code == Errc::kTimeout);
  CHECK_THAT(slow.error().message, Catch::Contains("phase: read"));
  CHECK(slow.error().details.at("phase").as_string() == "read");
  CHECK(std::chrono::steady_clock::now() - before < 5s);

  // The kernel completes the connect; nobody ever answers the ClientHello.
  tcp::acceptor never_accepts(f.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto tls = f.send(get_request("https://127.0.0.1:" +
                                std::to_string(never_accepts.local_endpoint().port()) + "/"),
                    {.timeout = 300ms});
  REQUIRE_FALSE(tls);
  CHECK(tls.error().code == Errc::kTimeout);
  CHECK(tls.error().details.at("phase").as_string() == "tls");
}

TEST_CASE("http client: malformed and hostile responses are clean protocol errors",
          "[core][http_client]") {
  struct Case {
    const char* what;
    std::string reply;
    const char* reason;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"garbage status line", "THIS IS NOT HTTP\r\n\r\n", "malformed_response", "bad version"},
      {"nothing", "", "no_response", "without a response"},
      {"header cut short", "HTTP/1.1 200 OK\r\nContent-Le", "incomplete_response", "complete"},
      {"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
       "incomplete_response", "complete"},
      {"status out of range", "HTTP/1.1 2000 OK\r\n\r\n", "malformed_response", "status"},
      {"chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       "malformed_response", "chunk"},
      {"chunk size overflowing",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffff\r\nx",
       "malformed_response", "chunk"},
      {"chunk cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
       "incomplete_response", "complete"},
      {"two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       "malformed_response", "Content-Length"},
      {"header over 64 KiB", "HTTP/1.1 200 OK\r\nX: " + std::string(100'000, 'a') + "\r\n\r\n",
       "malformed_response", "header limit"},
      {"NUL in a header", "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s, "malformed_response", "bad"},
      {"unasked 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
       "malformed_response", "101"},
  };
  Fixture f;
  for (const auto& c : cases) {
    INFO(c.what);
    ScriptedServer server([&](const ServerRequest&) { return c.reply; });
    auto r = f.send(get_request(server.url("/")));
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().code == Errc::kProtocolError);
    CHECK(r.error().details.at("reason").as_string() == c.reason);
    CHECK_THAT(r.error().message, Catch::Contains("127.0.0.1") && Catch::Contains(c.says));
  }
}

// ---------------------------------------------------------------------------------------------
// Redirects

TEST_CASE("http client: keep_alive sends requests to one origin over one kept connection",
          "[core][http_client]") {
  using netpulse::test::http_reply_kept;
  ScriptedServer server([](const ServerRequest& request) -> std::optional<std::string> {
    if (request.target() == "/bye") return http_reply(200, "closing");  // Connection: close
    return http_reply_kept(200, "kept");
  });
  Fixture f;
  const HttpOptions kept{.keep_alive = true};
  for (int i = 0; i < 3; ++i) {
    auto r = f.send({.method = "POST", .url = server.url("/hook"), .body = "x"}, kept);
    REQUIRE(r);
    CHECK(r->body == "kept");
  }
  CHECK(server.connections() == 1);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) CHECK(request.keep_alive());  // no "Connection: close"
  // The server's "Connection: close" is honoured: the next request connects afresh.
  REQUIRE(f.send({.method = "GET", .url = server.url("/bye")}, kept));
  REQUIRE(f.send({.method = "GET", .url = server.url("/again")}, kept));
  CHECK(server.connections() == 2);
  // (This fake serves one connection at a time: the kept one is closed before the next.)
  REQUIRE(f.send({.method = "GET", .url = server.url("/bye")}, kept));
  // Without keep_alive every request has its own connection and says so.
  REQUIRE(f.send(get_request(server.url("/plain"))));
  CHECK(server.connections() == 3);
  CHECK_FALSE(server.requests().back().keep_alive());
}

TEST_CASE(
    "http client: a kept connection the server dropped is replaced, the request sent once "
    "more only when nothing came back",
    "[core][http_client]") {
  using netpulse::test::http_reply_kept;
  int n = 0;
  // The second request is read and its connection closed unanswered (a server whose idle
  // timeout struck as the request arrived); everything else is answered on kept connections.
  ScriptedServer server([&](const ServerRequest&) -> std::optional<std::string> {
    return ++n == 2 ? std::string() : http_reply_kept(200, std::to_string(n));
  });
  Fixture f;
  const HttpOptions kept{.keep_alive = true};
  REQUIRE(f.send({.method = "POST", .url = server.url("/hook"), .body = "a"}, kept));
  auto second = f.send({.method = "POST", .url = server.url("/hook"), .body = "b"}, kept);
  REQUIRE(second);
  CHECK(second->body == "3");  // sent again on a fresh connection
  CHECK(server.connections() == 2);
  REQUIRE(server.requests().size() == 3);
  CHECK(server.requests()[1].body() == "b");
  CHECK(server.requests()[2].body() == "b");

  // On a fresh connection the same silence is an error, not a retry.
  ScriptedServer silent([](const ServerRequest&) { return std::string(); });
  auto lost = f.send({.method = "POST", .url = silent.url("/hook"), .body = "c"}, kept);
  REQUIRE_FALSE(lost);
  CHECK_THAT(lost.error().message, Catch::Contains("without a response"));
  CHECK(silent.requests().size() == 1);
}

TEST_CASE("http client: a kept connection unused for kHttpIdleTimeout is not reused",
          "[core][http_client]") {
  using netpulse::test::http_reply_kept;
  netpulse::core::ManualClock clock;
  ScriptedServer server([](const ServerRequest&) { return http_reply_kept(200, "ok"); });
  Fixture f(loopback_allowed(), &clock);
  const HttpOptions kept{.keep_alive = true};
  REQUIRE(f.send(get_request(server.url("/1")), kept));
  clock.advance(netpulse::core::kHttpIdleTimeout - 1s);
  REQUIRE(f.send(get_request(server.url("/2")), kept));
  CHECK(server.connections() == 1);
  clock.advance(netpulse::core::kHttpIdleTimeout);
  REQUIRE(f.send(get_request(server.url("/3")), kept));
  CHECK(server.connections() == 2);
}

TEST_CASE("http client: redirects are followed on fresh connections, relative ones too",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest& request) -> std::optional<std::string> {
    const auto target = std::string(request.target());
    if (target == "/a/start") return redirect(302, "/a/b/next");      // absolute path
    if (target == "/a/b/next") return redirect(301, "../final?k=v");  // relative
    if (target == "/a/final?k=v") return http_reply(200, "arrived");
    if (target == "/loop") return redirect(307, "/loop");
    if (target == "/no-location") return http_reply(302, "stay");
    return http_reply(404, "lost");
  });
  Fixture f;
  auto chain = f.send(get_request(server.url("/a/start")), {.max_redirects = 5});
  REQUIRE(chain);
  CHECK(chain->status == 200);
  CHECK(chain->body == "arrived");
  CHECK(chain->redirects == 2);
  CHECK(server.connections() == 3);

  // max_redirects 0: the 3xx is the answer.
  auto reported = f.send(get_request(server.url("/a/start")));
  REQUIRE(reported);
  CHECK(reported->status == 302);
  CHECK(reported->header("location") == "/a/b/next");
  CHECK(reported->redirects == 0);

  auto loop = f.send(get_request(server.url("/loop")), {.max_redirects = 3});
  REQUIRE_FALSE(loop);
  CHECK(loop.error().code == Errc::kProtocolError);
  CHECK_THAT(loop.error().message, Catch::Contains("too many redirects"));

  // A 3xx without a Location is not a redirect: an answer.
  auto stay = f.send(get_request(server.url("/no-location")), {.max_redirects = 3});
  REQUIRE(stay);
  CHECK(stay->status == 302);
  CHECK(stay->body == "stay");
}

TEST_CASE("http client: 303 and a POST's 301/302 turn into GET, 307/308 keep method and body",
          "[core][http_client]") {
  ScriptedServer server([](const ServerRequest& request) -> std::optional<std::string> {
    const auto target = std::string(request.target());
    if (target.starts_with("/landing")) return http_reply(200, "landed");
    if (target == "/303") return redirect(303, "/landing");
    if (target == "/302") return redirect(302, "/landing");
    if (target == "/301") return redirect(301, "/landing");
    if (target == "/307") return redirect(307, "/landing");
    if (target == "/308") return redirect(308, "/landing");
    return http_reply(404, "");
  });
  struct Case {
    const char* method;
    const char* path;
    http::verb second;
    bool keeps_body;
  };
  const Case cases[] = {
      {"POST", "/303", http::verb::get, false},   {"PUT", "/303", http::verb::get, false},
      {"POST", "/302", http::verb::get, false},   {"POST", "/301", http::verb::get, false},
      {"PUT", "/302", http::verb::put, true},     {"POST", "/307", http::verb::post, true},
      {"PATCH", "/308", http::verb::patch, true},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.path);
    Fixture f;
    const auto before = server.requests().size();
    auto r = f.send({.method = c.method,
                     .url = server.url(c.path),
                     .headers = {{"Content-Type", "text/plain"}},
                     .body = "payload"},
                    {.max_redirects = 1});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->redirects == 1);
    const auto requests = server.requests();
    REQUIRE(requests.size() == before + 2);
    const auto& second = requests.back();
    CHECK(second.method() == c.second);
    CHECK(second.body() == (c.keeps_body ? "payload" : ""));
    CHECK(second.count(http::field::content_type) == (c.keeps_body ? 1u : 0u));
    CHECK(second.count(http::field::content_length) == (c.keeps_body ? 1u : 0u));
  }
}

TEST_CASE("http client: credentials are not handed to another origin on a redirect",
          "[core][http_client]") {
  ScriptedServer other([](const ServerRequest&) { return http_reply(200, "other"); });
  ScriptedServer server([&](const ServerRequest& request) -> std::optional<std::string> {
    if (request.target() == "/same") return redirect(302, "/there");
    if (request.target() == "/away") return redirect(302, other.url("/x"));
    return http_reply(200, "here");
  });
  Fixture f;
  const HttpHeaders secrets = {{"Authorization", "Bearer t"}, {"Cookie", "c=1"}, {"X-Keep", "k"}};
  auto same = f.send({.method = "GET", .url = server.url("/same"), .headers = secrets},
                     {.max_redirects = 1});
  REQUIRE(same);
  const auto here = server.requests().back();
  CHECK(here.target() == "/there");
  CHECK(here[http::field::authorization] == "Bearer t");

  auto away = f.send({.method = "GET", .url = server.url("/away"), .headers = secrets},
                     {.max_redirects = 1});
  REQUIRE(away);
  CHECK(away->body == "other");
  REQUIRE(other.requests().size() == 1);
  const auto there = other.requests()[0];
  CHECK(there.count(http::field::authorization) == 0);
  CHECK(there.count(http::field::cookie) == 0);
  CHECK(there["X-Keep"] == "k");
  CHECK(there[http::field::host] == "127.0.0.1:" + std::to_string(other.port()));
}

// ---------------------------------------------------------------------------------------------
// The outbound policy

TEST_CASE("http client: the outbound policy judges literals, resolved names and every hop",
          "[core][http_client][outbound]") {
  ScriptedServer server([](const ServerRequest& request) -> std::optional<std::string> {
    if (request.target() == "/to-metadata") {
      return redirect(302, "http://169.254.169.254/latest/meta-data/");
    }
    return http_reply(200, "ok");
  });

  SECTION("a refused literal is refused before any I/O") {
    Fixture f(OutboundPolicy{});  // the defaults: loopback refused to fetches
    auto r = f.send(get_request(server.url("/")));
    REQUIRE_FALSE(r);
    check_refused(r.error(), "127.0.0.1", "network.fetch_deny");
    CHECK_THAT(r.error().message, Catch::Contains("request to " + server.url("/")));
    std::this_thread::sleep_for(50ms);
    CHECK(server.connections() == 0);
  }

  SECTION("a name is judged by the addresses it resolves to") {
    Fixture f(OutboundPolicy{});
    const auto url = "http://localhost:" + std::to_string(server.port()) + "/";
    auto r = f.send(get_request(url));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kOutboundDenied);
    CHECK_THAT(r.error().message, Catch::Contains("(localhost resolves to it)") &&
                                      Catch::Contains("is refused by network.fetch_deny"));
    CHECK(r.error().details.at("hop").as_string() == "request");
    std::this_thread::sleep_for(50ms);
    CHECK(server.connections() == 0);
  }

  SECTION("a redirect hop is judged before it connects") {
    Fixture f;
    auto r = f.send(get_request(server.url("/to-metadata")), {.max_redirects = 3});
    REQUIRE_FALSE(r);
    check_refused(r.error(), "169.254.169.254", "network.outbound_deny");
    CHECK_THAT(r.error().message,
               Catch::Contains("redirect 1 to http://169.254.169.254/latest/meta-data/"));
    CHECK(r.error().details.at("hop").as_string() == "redirect 1");
    CHECK(r.error().details.at("rule").as_string() == "169.254.169.254/32");

    // Not followed, the same redirect is only an answer.
    auto reported = f.send(get_request(server.url("/to-metadata")));
    REQUIRE(reported);
    CHECK(reported->status == 302);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTPS against nginx and the test PKI

TEST_CASE("http client: HTTPS verifies the chain and the host; https never turns into http",
          "[core][http_client]") {
  netpulse::test::TempDir dir;
  const auto pki = netpulse::test::TestPki::make(dir);
  netpulse::test::Nginx nginx(dir, pki);
  const auto https = "https://127.0.0.1:" + std::to_string(nginx.https_port());
  Fixture f;

  auto trusted = f.send(get_request(https + "/"), {.ca_file = pki.ca});
  REQUIRE(trusted);
  CHECK(trusted->status == 200);
  CHECK(trusted->body == "secure nginx keyword\n");
  CHECK(trusted->remote_address == "127.0.0.1:" + std::to_string(nginx.https_port()));
  // The cached context serves a second request.
  auto again = f.send(get_request(https + "/"), {.ca_file = pki.ca});
  REQUIRE(again);
  CHECK(again->status == 200);

  auto untrusted = f.send(get_request(https + "/"));
  REQUIRE_FALSE(untrusted);
  CHECK(untrusted.error().code == Errc::kProtocolError);
  CHECK(untrusted.error().details.at("reason").as_string() == "certificate_verify_failed");
  CHECK_THAT(untrusted.error().message, Catch::Contains("unable to get local issuer certificate"));

  // The leaf names check.test and 127.0.0.1, not 127.0.0.2.
  TlsServer elsewhere(pki);
  auto wrong_ip = f.send(get_request(elsewhere.url()), {.ca_file = pki.ca});
  REQUIRE_FALSE(wrong_ip);
  CHECK(wrong_ip.error().code == Errc::kProtocolError);
  CHECK(wrong_ip.error().details.at("reason").as_string() == "certificate_verify_failed");
  CHECK_THAT(wrong_ip.error().message, Catch::Contains("IP address mismatch"));

  auto missing_ca = f.send(get_request(https + "/"), {.ca_file = dir.file("absent.pem")});
  REQUIRE_FALSE(missing_ca);
  CHECK(missing_ca.error().details.at("field").as_string() == "ca_file");

  auto downgrade =
      f.send(get_request(https + "/to-plain"), {.max_redirects = 2, .ca_file = pki.ca});
  REQUIRE_FALSE(downgrade);
  CHECK(downgrade.error().code == Errc::kProtocolError);
  CHECK(downgrade.error().details.at("reason").as_string() == "https_downgrade");
}

// ---------------------------------------------------------------------------------------------
// Lifetime

TEST_CASE("http client: destroyed with requests in flight, it drops them without calling back",
          "[core][http_client]") {
  ScriptedServer silent([](const ServerRequest&) { return std::nullopt; });
  Fixture f;
  int calls = 0;
  f.client->send(get_request(silent.url("/held")), {.timeout = 5s}, [&](auto) { ++calls; });
  REQUIRE(run_until(f.io, [&] { return silent.requests().size() == 1; }));
  // One queued but not started, one answered (its completion not yet run): dropped as well.
  f.client->send(get_request(silent.url("/queued")), {}, [&](auto) { ++calls; });
  f.client->send({.method = "BAD", .url = silent.url("/")}, {}, [&](auto) { ++calls; });
  f.client.reset();
  f.io.restart();
  f.io.run_for(200ms);
  CHECK(calls == 0);
  CHECK(silent.requests().size() == 1);

  // Many at once on a live client: each is answered once.
  ScriptedServer server([](const ServerRequest&) { return http_reply(200, "ok"); });
  Fixture g;
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    g.client->send(get_request(server.url("/")), {}, [&](Result<HttpResponse> r) {
      CHECK(r);
      ++answered;
    });
  }
  REQUIRE(run_until(g.io, [&] { return answered == 5; }));
  g.io.restart();
  g.io.run_for(20ms);
  CHECK(answered == 5);
}
