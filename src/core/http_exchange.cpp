// One HttpClient request in flight (src/core/detail/http_exchange.hpp), hop by hop: the URL's
// IP literal, or every address its name resolves to, judged by the outbound policy (kFetch)
// before any connection; a connection to exactly those endpoints, tried in order; for https a
// TLS handshake that verifies the chain and the URL's host (SNI sent for names); the request;
// the response header (64 KiB at most, 1xx interim answers skipped); a redirect followed on a
// fresh connection, or the body read up to max_response_bytes and then dropped up to
// kHttpDiscardLimit more.
//
// One timer bounds it all. When it fires it cancels the resolver and closes the socket; the
// handler then pending, or the next one to run, sees timed_out_ and reports kTimeout naming the
// phase. Every handler first asks over(): an exchange that finished or was abandoned does no
// more I/O. The response parser is Beast's; nothing here parses HTTP by hand.
#include "detail/http_exchange.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace netpulse::core::detail {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kBodyChunk = std::size_t{64} * 1024;

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

HttpExchange::HttpExchange(std::shared_ptr<HttpClientState> state, HttpUrl url, Request request,
                           HttpOptions options, HttpClient::Done done)
    : state_(std::move(state)),
      url_(std::move(url)),
      request_(std::move(request)),
      options_(std::move(options)),
      done_(std::move(done)),
      started_(state_->clock().steady_now()),
      resolver_(state_->executor()),
      deadline_(state_->executor()),
      conn_(std::make_unique<HttpConnection>(state_->executor())) {}

void HttpExchange::start() {
  if (state_->closed()) return;  // the client went before this started
  id_ = state_->attach(shared_from_this());
  deadline_.expires_after(options_.timeout);
  deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->finished_) return;
    self->timed_out_ = true;
    self->close_connection();
  });
  start_hop();
}

void HttpExchange::abandon() {
  finished_ = true;
  done_ = nullptr;
  deadline_.cancel();
  close_connection();
}

// --- one hop -----------------------------------------------------------------------------

void HttpExchange::start_hop() {
  phase_ = "resolve";
  conn_->tls.reset();  // no operation is pending on it between hops
  buffer_.clear();
  endpoints_.clear();
  next_endpoint_ = 0;
  connect_failures_.clear();
  interim_responses_ = 0;
  if (url_.host_address) {
    if (auto allowed = admit(*url_.host_address, false); !allowed) {
      return finish(std::move(allowed).error());
    }
    endpoints_.emplace_back(*url_.host_address, url_.port);
  }
  if (options_.keep_alive && redirects_ == 0 && !fresh_only_) {
    // A kept connection to this origin was judged when it was made, against the same policy.
    if (auto kept = state_->take(origin())) {
      conn_ = std::move(kept);
      reused_ = true;
      return do_write();
    }
  }
  reused_ = false;
  if (url_.https) {
    auto context = state_->tls_context(options_.ca_file);
    if (!context) return finish(std::move(context).error());
    tls_context_ = std::move(*context);
  }
  if (!endpoints_.empty()) return connect_next();
  resolver_.async_resolve(
      url_.host, std::to_string(url_.port),
      [self = shared_from_this()](const error_code& ec, const tcp::resolver::results_type& r) {
        self->on_resolve(ec, r);
      });
}

// The policy's verdict on connecting this hop to `address` (`resolved`: the URL's name resolved
// to it); a refusal says which hop and URL it was, beside the policy's address and rule.
Result<void> HttpExchange::admit(const asio::ip::address& address, bool resolved) const {
  auto verdict = state_->policy().check(address, OutboundPurpose::kFetch);
  if (verdict) return verdict;
  auto error = std::move(verdict).error();
  const auto hop =
      redirects_ == 0 ? std::string("request") : fmt::format("redirect {}", redirects_);
  const auto url = url_.str();
  error.message = fmt::format("{} to {}: {}{}", hop, url, error.message,
                              resolved ? fmt::format(" ({} resolves to it)", url_.host) : "");
  error.details["hop"] = hop;
  error.details["url"] = url;
  error.details["redirects"] = redirects_;
  return error;
}

void HttpExchange::on_resolve(const error_code& ec, const tcp::resolver::results_type& results) {
  if (over()) return;
  if (ec) {
    return finish(Error(Errc::kServiceUnavailable,
                        fmt::format("resolve {}: {}", url_.host, ec.message()),
                        {{"reason", "resolve_failed"}, {"url", url_.str()}}));
  }
  // Every address is judged before any is tried: a name with one refused address is refused.
  for (const auto& entry : results) {
    if (auto allowed = admit(entry.endpoint().address(), true); !allowed) {
      return finish(std::move(allowed).error());
    }
    endpoints_.push_back(entry.endpoint());
  }
  connect_next();
}

void HttpExchange::connect_next() {
  phase_ = "connect";
  if (next_endpoint_ == endpoints_.size()) {
    if (connect_failures_.empty()) connect_failures_ = "resolve " + url_.host + ": no addresses";
    return finish(Error(Errc::kServiceUnavailable, connect_failures_,
                        {{"reason", "connect_failed"}, {"url", url_.str()}}));
  }
  conn_ = std::make_unique<HttpConnection>(state_->executor());  // a fresh socket per endpoint
  conn_->socket.async_connect(
      endpoints_[next_endpoint_++],
      [self = shared_from_this()](const error_code& ec) { self->on_connect(ec); });
}

void HttpExchange::on_connect(const error_code& ec) {
  if (over()) return;
  const auto& endpoint = endpoints_[next_endpoint_ - 1];
  if (ec) {
    if (!connect_failures_.empty()) connect_failures_ += "; ";
    connect_failures_ += fmt::format("connect to {}: {}", endpoint_text(endpoint), ec.message());
    return connect_next();
  }
  conn_->remote = endpoint;
  if (url_.https) return start_tls();
  do_write();
}

void HttpExchange::start_tls() {
  phase_ = "tls";
  conn_->tls_context = tls_context_;
  conn_->tls.emplace(conn_->socket, *conn_->tls_context);
  SSL* handle = conn_->tls->native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool named = false;
  if (url_.host_address) {
    named = X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str()) == 1;
  } else {
    named = X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), url_.host.size()) == 1 &&
            SSL_set_tlsext_host_name(handle, url_.host.c_str()) == 1;
  }
  if (!named) {
    return finish(Error(Errc::kProtocolError,
                        fmt::format("cannot check a TLS certificate against {}", url_.host)));
  }
  conn_->tls->async_handshake(
      ssl::stream_base::client,
      [self = shared_from_this()](const error_code& e) { self->on_handshake(e); });
}

void HttpExchange::on_handshake(const error_code& ec) {
  if (over()) return;
  if (ec) {
    const long verify = SSL_get_verify_result(conn_->tls->native_handle());
    if (verify != X509_V_OK) {
      const std::string reason = X509_verify_cert_error_string(verify);
      return finish(
          Error(Errc::kProtocolError,
                fmt::format("TLS certificate of {} failed verification: {}", peer(), reason),
                {{"reason", "certificate_verify_failed"},
                 {"verify_error", reason},
                 {"url", url_.str()}}));
    }
    return finish(Error(Errc::kProtocolError,
                        fmt::format("TLS handshake with {} failed: {}", peer(), ec.message()),
                        {{"reason", "tls_failed"}, {"url", url_.str()}}));
  }
  do_write();
}

void HttpExchange::do_write() {
  phase_ = "write";
  request_.target(url_.target);
  request_.set(http::field::host, url_.host_header());
  with_stream([this](auto& stream) {
    http::async_write(stream, request_,
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        if (self->over()) return;
                        if (ec && self->retry_fresh()) return;
                        if (ec) return self->finish(self->io_error(ec, "write to"));
                        self->do_read_header();
                      });
  });
}

void HttpExchange::do_read_header() {
  phase_ = "read";
  parser_.emplace();
  parser_->header_limit(kHttpHeaderLimit);
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // bounded by on_body
  with_stream([this](auto& stream) {
    http::async_read_header(
        stream, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
  });
}

void HttpExchange::on_header(const error_code& ec) {
  if (over()) return;
  if (ec && !parser_->got_some() && retry_fresh()) return;
  if (ec) return finish(read_error(ec));
  const auto& header = parser_->get();
  const int status = static_cast<int>(header.result_int());
  if (status == 101) {
    return finish(Error(Errc::kProtocolError,
                        fmt::format("{} switched protocols (101) unasked", peer()),
                        {{"reason", "malformed_response"}, {"url", url_.str()}}));
  }
  if (status < 200) {  // 100 Continue, 103 Early Hints: the final answer follows
    if (++interim_responses_ > kHttpMaxInterimResponses) {
      return finish(Error(
          Errc::kProtocolError,
          fmt::format("{} sent more than {} interim responses", peer(), kHttpMaxInterimResponses),
          {{"reason", "malformed_response"}, {"url", url_.str()}}));
    }
    return do_read_header();
  }
  response_ = HttpResponse{};
  body_seen_ = 0;
  response_.status = status;
  for (const auto& field : header) {
    response_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  const auto location = header[http::field::location];
  if (is_redirect(status) && options_.max_redirects > 0 && !location.empty()) {
    if (redirects_ >= options_.max_redirects) {
      return finish(
          Error(Errc::kProtocolError,
                fmt::format("too many redirects: {} answered {} after {} (max_redirects {})",
                            url_.str(), status, redirects_, options_.max_redirects),
                {{"reason", "too_many_redirects"}, {"url", url_.str()}}));
    }
    return follow_redirect(location);
  }
  if (parser_->is_done()) return deliver();
  chunk_.resize(kBodyChunk);
  do_read_body();
}

void HttpExchange::do_read_body() {
  auto& body = parser_->get().body();
  body.data = chunk_.data();
  body.size = chunk_.size();
  with_stream([this](auto& stream) {
    http::async_read(
        stream, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_body(ec); });
  });
}

void HttpExchange::on_body(error_code ec) {
  if (over()) return;
  const std::size_t got = chunk_.size() - parser_->get().body().size;
  body_seen_ += got;
  const std::size_t room = options_.max_response_bytes - response_.body.size();
  response_.body.append(chunk_.data(), std::min(got, room));
  if (got > room) response_.body_truncated = true;
  if (ec == http::error::need_buffer) ec = {};  // the chunk is full: read on
  if (ec == ssl::error::stream_truncated && parser_->need_eof()) {
    // The server closed TCP without a TLS close_notify: for a body that ends where the stream
    // does, that is its end (as browsers take it).
    error_code eof;
    parser_->put_eof(eof);
    ec = eof;
  }
  if (ec) return finish(read_error(ec));
  if (parser_->is_done()) return deliver();
  if (body_seen_ > options_.max_response_bytes + kHttpDiscardLimit) return deliver();
  do_read_body();
}

void HttpExchange::follow_redirect(std::string_view location) {
  auto next = resolve_location(url_, location);
  if (!next) return finish(std::move(next).error());
  if (url_.https && !next->https) {
    return finish(Error(Errc::kProtocolError,
                        fmt::format("redirect {} from {} to {} refused: https must not turn "
                                    "into plain http",
                                    redirects_ + 1, url_.str(), next->str()),
                        {{"reason", "https_downgrade"}, {"url", url_.str()}}));
  }
  const int status = response_.status;
  if (status == 303 ||
      ((status == 301 || status == 302) && request_.method() == http::verb::post)) {
    request_.method(http::verb::get);
    request_.body().clear();
    request_.erase(http::field::content_length);
    request_.erase(http::field::content_type);
    request_.erase(http::field::content_encoding);
  }
  if (!next->same_origin(url_)) {
    // Credentials meant for one origin are not handed to another (as curl does).
    request_.erase(http::field::authorization);
    request_.erase(http::field::proxy_authorization);
    request_.erase(http::field::cookie);
  }
  ++redirects_;
  close_connection();
  url_ = std::move(*next);
  start_hop();
}

void HttpExchange::deliver() {
  response_.remote_address = endpoint_text(conn_->remote);
  // Kept for the next request when asked, the response read to its end and the server keeping
  // the connection too (HTTP/1.1 without "Connection: close").
  // Nothing past the response may wait in the buffer: the next response starts clean.
  if (options_.keep_alive && redirects_ == 0 && parser_->is_done() && parser_->keep_alive() &&
      buffer_.size() == 0 && !state_->closed()) {
    conn_->idle_since = state_->clock().steady_now();
    state_->give(origin(),
                 std::exchange(conn_, std::make_unique<HttpConnection>(state_->executor())));
  }
  response_.redirects = redirects_;
  response_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      state_->clock().steady_now() - started_);
  finish(std::move(response_));
}

// --- endings -----------------------------------------------------------------------------

bool HttpExchange::over() {
  if (finished_) return true;
  if (!timed_out_) return false;
  finish(Error(
      Errc::kTimeout,
      fmt::format("{} {} timed out after {} ms (phase: {})", std::string(request_.method_string()),
                  url_.str(), options_.timeout.count(), phase_),
      {{"phase", phase_}, {"url", url_.str()}}));
  return true;
}

std::string HttpExchange::peer() const {
  if (url_.host_address) return endpoint_text(conn_->remote);
  return fmt::format("{} ({})", url_.host_header(), endpoint_text(conn_->remote));
}

std::string HttpExchange::origin() const {
  return fmt::format("{}://{}:{}|{}", url_.https ? "https" : "http", url_.host, url_.port,
                     options_.ca_file);
}

bool HttpExchange::retry_fresh() {
  if (!reused_) return false;
  // The server closed the kept connection (its idle timeout) before it read the request, or
  // while: nothing came back, so the request goes once more on a fresh connection.
  fresh_only_ = true;
  reused_ = false;
  close_connection();
  start_hop();
  return true;
}

Error HttpExchange::io_error(const error_code& ec, std::string_view what) const {
  return Error(Errc::kServiceUnavailable, fmt::format("{} {}: {}", what, peer(), ec.message()),
               {{"reason", "connection_failed"}, {"phase", phase_}, {"url", url_.str()}});
}

Error HttpExchange::read_error(const error_code& ec) const {
  const bool cut = ec == http::error::partial_message || ec == asio::error::eof ||
                   ec == ssl::error::stream_truncated;
  if (ec == http::error::end_of_stream || (cut && !parser_->got_some())) {
    return Error(Errc::kProtocolError,
                 fmt::format("{} closed the connection without a response", peer()),
                 {{"reason", "no_response"}, {"url", url_.str()}});
  }
  if (cut) {
    return Error(Errc::kProtocolError,
                 fmt::format("{} closed the connection before the response was complete", peer()),
                 {{"reason", "incomplete_response"}, {"url", url_.str()}});
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return Error(Errc::kProtocolError,
                 fmt::format("malformed HTTP response from {}: {}", peer(), ec.message()),
                 {{"reason", "malformed_response"}, {"url", url_.str()}});
  }
  return io_error(ec, "read from");
}

void HttpExchange::finish(Result<HttpResponse> result) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  close_connection();
  state_->detach(id_);
  asio::post(state_->executor(),
             [state = state_, done = std::move(done_), result = std::move(result)]() mutable {
               if (!state->closed()) done(std::move(result));  // a client gone since drops it
             });
}

void HttpExchange::close_connection() {
  resolver_.cancel();
  error_code ignored;
  conn_->socket.close(ignored);  // completes a pending operation with operation_aborted
}

}  // namespace netpulse::core::detail
