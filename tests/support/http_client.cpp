// Blocking Beast client for integration tests. Every socket operation runs on a private
// io_context with a deadline, so a silent server fails the test instead of hanging it.
#include "support/http_client.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <netpulse/core/json.hpp>

namespace netpulse::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

boost::json::value HttpResponse::json() const {
  boost::system::error_code ec;
  // Exact doubles: the tests compare sample values bit for bit.
  auto v = netpulse::core::parse_json(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpResponse::error_code() const {
  auto v = json();
  if (!v.is_object()) return {};
  auto* err = v.as_object().if_contains("error");
  if (!err || !err->is_object()) return {};
  auto* code = err->as_object().if_contains("code");
  return code && code->is_string() ? std::string(code->as_string()) : std::string();
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  bool tls;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the io_context until `done` or the deadline.
  void run_until(bool& done) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done) {
      if (ioc.run_one_until(deadline) == 0 && !done) {
        close();
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(100));
        throw std::runtime_error("HTTP client: timed out");
      }
    }
  }

  void connect() {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, std::to_string(port));
    if (tls) {
      secure.emplace(ioc, tls_ctx);
    } else {
      plain.emplace(ioc);
    }
    bool done = false;
    beast::error_code err;
    lowest().expires_after(timeout);
    lowest().async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      err = ec;
      done = true;
    });
    run_until(done);
    if (err) throw std::runtime_error("HTTP client: connect: " + err.message());
    lowest().socket().set_option(tcp::no_delay(true));
    if (tls) {
      done = false;
      secure->async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
        err = ec;
        done = true;
      });
      run_until(done);
      if (err) throw std::runtime_error("HTTP client: TLS handshake: " + err.message());
    }
  }

  bool connected() { return tls ? secure.has_value() : plain.has_value(); }

  void close() {
    beast::error_code ec;
    if (plain) {
      plain->socket().close(ec);
      plain.reset();
    }
    if (secure) {
      beast::get_lowest_layer(*secure).socket().close(ec);
      secure.reset();
    }
    buffer.clear();
  }

  template <class Stream>
  HttpResponse exchange(Stream& stream, http::request<http::string_body>& req,
                        beast::error_code& err) {
    bool done = false;
    lowest().expires_after(timeout);
    http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
    run_until(done);
    if (err) return {};
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (req.method() == http::verb::head) parser.skip(true);
    done = false;
    http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
    run_until(done);
    if (err) return {};
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return out;
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port, bool tls,
                       std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->tls = tls;
  impl_->timeout = timeout;
  impl_->tls_ctx.set_verify_mode(ssl::verify_none);
}

HttpClient::~HttpClient() {
  impl_->close();
}

void HttpClient::close() {
  impl_->close();
}

HttpResponse HttpClient::send(const HttpRequest& r) {
  http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
  req.set(http::field::host, impl_->host + ":" + std::to_string(impl_->port));
  for (auto& [k, v] : r.headers) req.set(k, v);
  req.body() = r.body;
  req.prepare_payload();
  // One retry: a kept-alive connection the server has since closed fails on first use.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = !impl_->connected();
    if (fresh) impl_->connect();
    beast::error_code err;
    HttpResponse res = impl_->tls ? impl_->exchange(*impl_->secure, req, err)
                                  : impl_->exchange(*impl_->plain, req, err);
    if (!err) return res;
    impl_->close();
    if (fresh) throw std::runtime_error("HTTP client: " + err.message());
  }
  throw std::runtime_error("HTTP client: request failed twice");
}

namespace {
HttpRequest make(std::string method, const std::string& target, const std::string& bearer) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  if (!bearer.empty()) r.headers.emplace_back("Authorization", "Bearer " + bearer);
  return r;
}
HttpRequest make_json(std::string method, const std::string& target, const std::string& body,
                      const std::string& bearer) {
  auto r = make(std::move(method), target, bearer);
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body;
  return r;
}
}  // namespace

HttpResponse HttpClient::get(const std::string& t, const std::string& b) {
  return send(make("GET", t, b));
}
HttpResponse HttpClient::del(const std::string& t, const std::string& b) {
  return send(make("DELETE", t, b));
}
HttpResponse HttpClient::post_json(const std::string& t, const std::string& body,
                                   const std::string& b) {
  return send(make_json("POST", t, body, b));
}
HttpResponse HttpClient::put_json(const std::string& t, const std::string& body,
                                  const std::string& b) {
  return send(make_json("PUT", t, body, b));
}
HttpResponse HttpClient::patch_json(const std::string& t, const std::string& body,
                                    const std::string& b) {
  return send(make_json("PATCH", t, body, b));
}

std::string HttpClient::raw_exchange(const std::string& bytes) {
  impl_->close();
  impl_->connect();
  std::string out;
  bool done = false;
  beast::error_code err;
  auto& sock = impl_->lowest();
  sock.expires_after(impl_->timeout);
  auto write_done = [&](beast::error_code ec, std::size_t) {
    err = ec;
    done = true;
  };
  if (impl_->tls) {
    net::async_write(*impl_->secure, net::buffer(bytes), write_done);
  } else {
    net::async_write(*impl_->plain, net::buffer(bytes), write_done);
  }
  impl_->run_until(done);
  // Read until EOF/reset/timeout; a write error (the server closed early) still lets us read.
  std::array<char, 8192> buf;
  for (;;) {
    done = false;
    std::size_t n = 0;
    auto on_read = [&](beast::error_code ec, std::size_t k) {
      err = ec;
      n = k;
      done = true;
    };
    if (impl_->tls) {
      impl_->secure->async_read_some(net::buffer(buf), on_read);
    } else {
      impl_->plain->async_read_some(net::buffer(buf), on_read);
    }
    try {
      impl_->run_until(done);
    } catch (const std::runtime_error&) {
      break;
    }
    out.append(buf.data(), n);
    if (err) break;
  }
  impl_->close();
  return out;
}

}  // namespace netpulse::test
