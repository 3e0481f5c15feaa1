// The HTTP(S) check: resolve (unless an address is given or the host is a literal), connect,
// TLS handshake for https, one request with "Connection: close", the response header, then the
// body up to max_body_bytes, after which reading stops. Redirects, when allowed, start the next
// hop on a fresh connection within the same overall deadline.
//
// The outbound address policy (kFetch) judges every address a hop would connect to before the
// connection: the given address, the URL's IP literal, or every address the URL's name resolved
// to (all of them: a name with one refused address is refused, and the connection goes to the
// very endpoints judged, so a second resolution cannot swap them). A refusal ends the check with
// kOutboundDenied; its message says which hop (redirect n) and, for a name, that it resolved
// there.
//
// Timing on the Clock's steady line from the start of the check: first_byte_ms when the first
// bytes of the response arrive (a raw read before the parser sees them), response_ms when the
// last byte read has been parsed. One timer bounds the whole check; when it fires it closes the
// socket and cancels the resolver, and the handler then pending reports kTimeout naming the phase.
//
// TLS: OpenSSL through Asio's ssl::stream. The chain is always verified (trust store plus
// ca_file) and the URL's host is checked by OpenSSL itself (X509_VERIFY_PARAM_set1_host, or
// set1_ip_asc for an IP literal), but the verify callback lets the handshake go on and records the
// first failure, so the certificate can be reported even when it does not verify; verify_tls then
// decides whether that failure fails the check.
#include <algorithm>
#include <ctime>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <netpulse/core/url.hpp>

#include "detail/service_checks_engine.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using core::Errc;
using core::Error;
using core::HttpUrl;

namespace {

constexpr std::size_t kHeaderLimit = std::size_t{64} * 1024;
constexpr std::size_t kBodyChunk = std::size_t{64} * 1024;
constexpr std::size_t kFirstRead = 4096;

std::string name_text(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(std::max(length, 0L)));
  BIO_free(bio);
  return out;
}

// The first verification failure seen by the callback, shared with it.
struct VerifyState {
  std::string first_error;
};

class HttpSession final : public CheckSession, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<CheckEngine> engine, std::uint64_t id, const HttpCheck& check,
              HttpUrl url, ServiceChecker::HttpDone done)
      : engine_(std::move(engine)),
        id_(id),
        check_(check),
        url_(std::move(url)),
        original_host_(url_.host),
        done_(std::move(done)),
        resolver_(engine_->loop()),
        timer_(engine_->loop()) {}

  void start() {
    started_ = engine_->clock().steady_now();
    timer_.expires_after(check_.timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      self->stop_io();
    });
    start_hop();
  }

  void cancel() override {
    stop_io();
    timer_.cancel();
  }

 private:
  // --- one hop: one URL, one connection --------------------------------------------------

  void start_hop() {
    buffer_.clear();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (check_.method == HttpMethod::kHead) parser_->skip(true);
    tls_.reset();
    plain_.reset();
    tls_context_.reset();
    tls_info_.reset();  // a redirect from https to http reports no certificate
    verify_ = std::make_shared<VerifyState>();
    if (url_.https) {
      auto made = make_tls_context();
      if (!made) return finish(std::move(made).error());
      tls_.emplace(engine_->loop(), *tls_context_);
    } else {
      plain_.emplace(engine_->loop());
    }

    std::optional<asio::ip::address> address = url_.host_address;
    if (check_.address && url_.host == original_host_) address = check_.address;
    if (address) {
      if (auto allowed = admit(*address, false); !allowed)
        return finish(std::move(allowed).error());
      const std::array endpoints{asio::ip::tcp::endpoint(*address, url_.port)};
      return do_connect(endpoints);
    }
    phase_ = "resolving the host";
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](error_code ec, asio::ip::tcp::resolver::results_type r) {
          self->on_resolve(ec, r);
        });
  }

  core::Result<void> make_tls_context() {
    try {
      tls_context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
      tls_context_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                ssl::context::no_sslv3);
      tls_context_->set_default_verify_paths();
      if (!check_.ca_file.empty()) tls_context_->load_verify_file(check_.ca_file);
      tls_context_->set_verify_mode(ssl::verify_peer);
      tls_context_->set_verify_callback(
          [state = verify_](bool preverified, ssl::verify_context& context) {
            if (!preverified && state->first_error.empty()) {
              const int err = X509_STORE_CTX_get_error(context.native_handle());
              state->first_error = X509_verify_cert_error_string(err);
            }
            return true;  // go on: verify_tls decides after the handshake
          });
    } catch (const boost::system::system_error& e) {
      return core::invalid_field("ca_file", fmt::format("could not be loaded: {}", e.what()));
    }
    return core::ok();
  }

  void on_resolve(error_code ec, const asio::ip::tcp::resolver::results_type& results) {
    if (ec) {
      if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
      return finish(Error(Errc::kServiceUnavailable,
                          fmt::format("could not resolve {}: {}", url_.host, ec.message()),
                          {{"reason", "resolve_failed"}}));
    }
    std::vector<asio::ip::tcp::endpoint> endpoints;
    for (const auto& entry : results) {
      if (auto allowed = admit(entry.endpoint().address(), true); !allowed) {
        return finish(std::move(allowed).error());
      }
      endpoints.push_back(entry.endpoint());
    }
    do_connect(endpoints);
  }

  // The outbound policy's verdict on connecting this hop to `address` (`resolved`: the URL's
  // name resolved to it), the refusal saying which hop it was.
  core::Result<void> admit(const asio::ip::address& address, bool resolved) const {
    auto verdict = engine_->options().outbound.check(address, core::OutboundPurpose::kFetch);
    if (verdict) return verdict;
    auto error = std::move(verdict).error();
    const auto url = url_.str();
    if (redirects_ > 0) {
      error.message += fmt::format(" (redirect {} to {}{})", redirects_, url,
                                   resolved ? ", whose host resolves to it" : "");
    } else if (resolved) {
      error.message += fmt::format(" ({} resolves to it)", url);
    }
    error.details["url"] = url;
    error.details["redirects"] = redirects_;
    return error;
  }

  template <class Endpoints>
  void do_connect(const Endpoints& endpoints) {
    phase_ = "connecting";
    asio::async_connect(
        lowest_layer(), endpoints,
        [self = shared_from_this()](error_code ec, const asio::ip::tcp::endpoint& e) {
          self->on_connect(ec, e);
        });
  }

  void on_connect(error_code ec, const asio::ip::tcp::endpoint& endpoint) {
    if (ec) {
      if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
      return finish(connect_error(ec, url_.host_header()));
    }
    peer_ = fmt::format("{} ({})", url_.host_header(), endpoint.address().to_string());
    if (!tls_) return do_write();
    phase_ = "in the TLS handshake";
    SSL* ssl_handle = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (url_.host_address) {
      X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), url_.host.size());
      SSL_set_tlsext_host_name(ssl_handle, url_.host.c_str());
    }
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(error_code ec) {
    if (ec) {
      if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
      return finish(Error(Errc::kProtocolError,
                          fmt::format("TLS handshake with {} failed: {}", peer_, ec.message())));
    }
    SSL* ssl_handle = tls_->native_handle();
    X509* leaf = SSL_get1_peer_certificate(ssl_handle);
    if (leaf == nullptr) {
      return finish(
          Error(Errc::kProtocolError, fmt::format("{} presented no TLS certificate", peer_)));
    }
    TlsCertificateInfo info;
    info.subject = name_text(X509_get_subject_name(leaf));
    info.issuer = name_text(X509_get_issuer_name(leaf));
    std::tm not_after{};
    const bool have_time = ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &not_after) == 1;
    X509_free(leaf);
    if (!have_time) {
      return finish(Error(Errc::kProtocolError,
                          fmt::format("{}'s certificate has an unreadable notAfter", peer_)));
    }
    info.not_after = core::SystemTime(std::chrono::seconds(::timegm(&not_after)));
    info.days_to_expiry =
        std::chrono::floor<std::chrono::days>(info.not_after - engine_->clock().system_now())
            .count();
    const long verify_result = SSL_get_verify_result(ssl_handle);
    info.verified = verify_->first_error.empty() && verify_result == X509_V_OK;
    if (!info.verified) {
      info.verify_error = verify_->first_error.empty()
                              ? X509_verify_cert_error_string(verify_result)
                              : verify_->first_error;
    }
    if (!info.verified && check_.verify_tls) {
      return finish(Error(
          Errc::kProtocolError,
          fmt::format("TLS certificate of {} failed verification: {}", peer_, info.verify_error),
          {{"reason", "certificate_verify_failed"},
           {"days_to_expiry", info.days_to_expiry},
           {"subject", info.subject}}));
    }
    tls_info_ = std::move(info);
    do_write();
  }

  void do_write() {
    phase_ = "sending the request";
    request_.emplace(check_.method == HttpMethod::kHead ? http::verb::head : http::verb::get,
                     url_.target, 11);
    request_->set(http::field::host, url_.host_header());
    request_->set(http::field::user_agent, "NetPulse-check");
    request_->set(http::field::accept, "*/*");
    request_->set(http::field::connection, "close");
    with_stream([this](auto& stream) {
      http::async_write(stream, *request_, [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec) return self->fail_io(ec);
        self->do_first_read();
      });
    });
  }

  // A raw read of the first bytes, so that the time to first byte is when they came.
  void do_first_read() {
    phase_ = "waiting for the response";
    with_stream([this](auto& stream) {
      stream.async_read_some(buffer_.prepare(kFirstRead),
                             [self = shared_from_this()](error_code ec, std::size_t n) {
                               self->on_first_read(ec, n);
                             });
    });
  }

  void on_first_read(error_code ec, std::size_t n) {
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return finish(Error(Errc::kProtocolError,
                          fmt::format("{} closed the connection without a response", peer_)));
    }
    if (ec) return fail_io(ec);
    buffer_.commit(n);
    first_byte_ms_ = engine_->elapsed_ms(started_);
    phase_ = "reading the response header";
    with_stream([this](auto& stream) {
      http::async_read_header(
          stream, buffer_, *parser_,
          [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
    });
  }

  void on_header(error_code ec) {
    if (ec) return fail_read(ec);
    const auto& header = parser_->get();
    status_ = static_cast<int>(header.result_int());
    if (status_ >= 300 && status_ < 400 && redirects_ < check_.max_redirects) {
      return follow_redirect(header[http::field::location]);
    }
    if (parser_->is_done()) return succeed();
    phase_ = "reading the body";
    do_read_body();
  }

  void do_read_body() {
    const std::size_t want = std::min(kBodyChunk, check_.max_body_bytes - body_.size() + 1);
    chunk_.resize(want);
    parser_->get().body().data = chunk_.data();
    parser_->get().body().size = chunk_.size();
    with_stream([this](auto& stream) {
      http::async_read(
          stream, buffer_, *parser_,
          [self = shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
    });
  }

  void on_body(error_code ec) {
    const std::size_t got = chunk_.size() - parser_->get().body().size;
    const std::size_t room = check_.max_body_bytes - body_.size();
    body_.append(chunk_.data(), std::min(got, room));
    if (got > room) {
      body_truncated_ = true;
      return succeed();
    }
    if (ec == http::error::need_buffer) ec = {};
    if (ec == ssl::error::stream_truncated && parser_->need_eof()) {
      // The server closed the TCP connection without TLS close_notify: for a body that ends at
      // the end of the stream this is its end (as browsers take it).
      error_code eof;
      parser_->put_eof(eof);
      ec = eof;
    }
    if (ec) return fail_read(ec);
    if (parser_->is_done()) return succeed();
    do_read_body();
  }

  void follow_redirect(std::string_view location) {
    if (location.empty()) {
      return finish(Error(Errc::kProtocolError,
                          fmt::format("{} answered {} without a Location", peer_, status_)));
    }
    auto next = core::resolve_location(url_, location);
    if (!next) return finish(std::move(next).error());
    ++redirects_;
    stop_io();
    url_ = std::move(*next);
    start_hop();
  }

  void succeed() {
    HttpCheckResult result;
    result.status = status_;
    result.response_ms = engine_->elapsed_ms(started_);
    result.first_byte_ms = first_byte_ms_;
    result.body_bytes = body_.size();
    result.body_truncated = body_truncated_;
    result.status_matched =
        status_ >= check_.expected_status.min && status_ <= check_.expected_status.max;
    if (check_.keyword) result.keyword_found = body_.find(*check_.keyword) != std::string::npos;
    result.tls = std::move(tls_info_);
    result.final_url = url_.str();
    result.redirects = redirects_;
    finish(std::move(result));
  }

  // --- failures ------------------------------------------------------------------------

  void fail_read(error_code ec) {
    if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
    if (ec.category() == http::make_error_code(http::error::bad_version).category() ||
        ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      const bool cut = ec == http::error::partial_message || ec == http::error::end_of_stream ||
                       ec == asio::error::eof || ec == ssl::error::stream_truncated;
      return finish(Error(
          Errc::kProtocolError,
          fmt::format("malformed HTTP response from {} while {}: {}", peer_, phase_,
                      cut ? "the connection closed before the message was complete" : ec.message()),
          {{"reason", cut ? "incomplete_response" : "malformed_response"}}));
    }
    fail_io(ec);
  }

  void fail_io(error_code ec) {
    if (timed_out_) {
      return finish(
          Error(Errc::kTimeout, fmt::format("HTTP check of {} timed out after {} ms while {}",
                                            url_.str(), check_.timeout.count(), phase_)));
    }
    finish(
        Error(Errc::kServiceUnavailable,
              fmt::format("HTTP check of {} failed while {}: {}", url_.str(), phase_, ec.message()),
              {{"reason", "connection_failed"}}));
  }

  void finish(core::Result<HttpCheckResult> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    stop_io();
    engine_->complete<HttpCheckResult>(id_, std::move(done_), std::move(result));
  }

  // --- the stream ----------------------------------------------------------------------

  asio::ip::tcp::socket& lowest_layer() { return tls_ ? tls_->next_layer() : *plain_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void stop_io() {
    resolver_.cancel();
    if (tls_ || plain_) {
      error_code ignored;
      lowest_layer().close(ignored);
    }
  }

  std::shared_ptr<CheckEngine> engine_;
  std::uint64_t id_;
  HttpCheck check_;
  HttpUrl url_;
  std::string original_host_;
  ServiceChecker::HttpDone done_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::unique_ptr<ssl::context> tls_context_;
  std::shared_ptr<VerifyState> verify_;
  std::optional<ssl::stream<asio::ip::tcp::socket>> tls_;
  std::optional<asio::ip::tcp::socket> plain_;
  beast::flat_buffer buffer_{kHeaderLimit + kFirstRead};
  std::optional<http::request<http::empty_body>> request_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::vector<char> chunk_;
  std::string body_;
  std::optional<TlsCertificateInfo> tls_info_;
  std::string peer_;
  std::string phase_ = "starting";
  core::SteadyTime started_{};
  double first_byte_ms_ = 0;
  int status_ = 0;
  int redirects_ = 0;
  bool body_truncated_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void start_http_check(const std::shared_ptr<CheckEngine>& engine, std::uint64_t id,
                      const HttpCheck& check, ServiceChecker::HttpDone done) {
  auto url = core::parse_http_url(check.url);  // validated by the caller: cannot fail here
  auto session = std::make_shared<HttpSession>(engine, id, check, std::move(*url), std::move(done));
  engine->attach(id, session);
  session->start();
}

}  // namespace netpulse::pollers::detail
