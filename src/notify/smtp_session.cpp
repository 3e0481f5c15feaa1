// The SMTP session's machinery (detail/smtp_session.hpp): connecting, TLS, commands and
// replies, the step timer, failures; the protocol's steps are in smtp_dialogue.cpp. Each step arms
// the one timer anew with step_timeout; when it fires it closes the socket and cancels the
// resolver, and the handler then pending reports kTimeout naming the step. Replies are read into
// one buffer and cut by parse_reply, so a reply split across reads or several in one read come out
// the same.
//
// TLS: OpenSSL through Asio's ssl::stream, TLS 1.2 at least. The chain is verified against the
// system trust store plus ca_file and the relay's name (or IP literal) is checked by OpenSSL
// itself (X509_VERIFY_PARAM_set1_host / set1_ip_asc); the verify callback records the first
// failure so the error can name OpenSSL's reason. STARTTLS upgrades the very TCP socket; bytes
// the server sent after its 220 and before the handshake are refused (RFC 3207 5: they could be
// an attacker's injected plain text).
#include "detail/smtp_session.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace netpulse::notify::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using core::Errc;
using core::Error;

SmtpSession::SmtpSession(asio::any_io_executor executor, SmtpSettings settings, std::string message,
                         std::string mail_from, std::vector<std::string> recipients,
                         SmtpClient::Done done)
    : settings_(std::move(settings)),
      message_(std::move(message)),
      mail_from_(std::move(mail_from)),
      recipients_(std::move(recipients)),
      done_(std::move(done)),
      peer_(fmt::format("{}:{}", settings_.host, settings_.port)),
      resolver_(executor),
      timer_(executor),
      plain_(std::in_place, executor) {}

void SmtpSession::start() {
  arm("connect");
  resolver_.async_resolve(
      settings_.host, std::to_string(settings_.port),
      [self = shared_from_this()](error_code ec, asio::ip::tcp::resolver::results_type r) {
        self->on_resolve(ec, r);
      });
}

void SmtpSession::on_resolve(error_code ec, const asio::ip::tcp::resolver::results_type& results) {
  if (ec) {
    if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
    return finish(
        Error(Errc::kServiceUnavailable,
              fmt::format("could not resolve SMTP server {}: {}", settings_.host, ec.message()),
              {{"step", "connect"}, {"transient", true}}));
  }
  asio::async_connect(*plain_, results,
                      [self = shared_from_this()](error_code ec, const asio::ip::tcp::endpoint&) {
                        self->on_connect(ec);
                      });
}

void SmtpSession::on_connect(error_code ec) {
  if (ec) {
    if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
    return finish(Error(Errc::kServiceUnavailable,
                        fmt::format("could not connect to SMTP server {}: {}", peer_, ec.message()),
                        {{"step", "connect"}, {"transient", true}}));
  }
  if (settings_.tls == SmtpTls::kImplicit) return do_handshake("TLS handshake");
  arm("greeting");
  expect(&SmtpSession::on_greeting);
}

void SmtpSession::do_handshake(std::string_view step) {
  arm(step);
  if (auto made = start_tls(); !made) return finish(std::move(made).error());
  tls_->async_handshake(ssl::stream_base::client,
                        [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

// Moves the TCP socket under a TLS stream set up to verify the relay.
core::Result<void> SmtpSession::start_tls() {
  try {
    tls_context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls_context_->native_handle(), TLS1_2_VERSION);
    tls_context_->set_default_verify_paths();
    if (!settings_.ca_file.empty()) tls_context_->load_verify_file(settings_.ca_file);
    tls_context_->set_verify_mode(ssl::verify_peer);
    tls_context_->set_verify_callback(
        [self = weak_from_this()](bool preverified, ssl::verify_context& context) {
          auto session = self.lock();
          if (!preverified && session && session->verify_error_.empty()) {
            const int err = X509_STORE_CTX_get_error(context.native_handle());
            session->verify_error_ = X509_verify_cert_error_string(err);
          }
          return preverified;
        });
  } catch (const boost::system::system_error& e) {
    Error error = core::invalid_field("ca_file", fmt::format("could not be loaded: {}", e.what()));
    error.details["transient"] = false;
    return error;
  }
  tls_.emplace(std::move(*plain_), *tls_context_);
  plain_.reset();
  SSL* handle = tls_->native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  error_code ec;
  asio::ip::make_address(settings_.host, ec);
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(param, settings_.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, settings_.host.c_str(), settings_.host.size());
    SSL_set_tlsext_host_name(handle, settings_.host.c_str());
  }
  return core::ok();
}

void SmtpSession::on_handshake(error_code ec) {
  if (!ec && SSL_get_verify_result(tls_->native_handle()) != X509_V_OK && verify_error_.empty()) {
    verify_error_ = X509_verify_cert_error_string(SSL_get_verify_result(tls_->native_handle()));
  }
  if (!verify_error_.empty() && !timed_out_) {
    return finish(
        Error(Errc::kProtocolError,
              fmt::format("TLS certificate of SMTP server {} failed verification: {}", peer_,
                          verify_error_),
              {{"step", step_}, {"reason", "certificate_verify_failed"}, {"transient", false}}));
  }
  if (ec) {
    if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
    return finish(
        Error(Errc::kProtocolError,
              fmt::format("TLS handshake with SMTP server {} failed: {}", peer_, ec.message()),
              {{"step", step_}, {"reason", "tls_handshake_failed"}, {"transient", false}}));
  }
  if (settings_.tls == SmtpTls::kImplicit) {
    arm("greeting");
    return expect(&SmtpSession::on_greeting);
  }
  do_ehlo();
}

// Writes `line` and CRLF as step `step`, then reads the reply for `next`.
void SmtpSession::command(std::string line, std::string_view step, Next next) {
  arm(step);
  out_ = std::move(line);
  out_ += "\r\n";
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(out_),
                      [self = shared_from_this(), next](error_code ec, std::size_t) {
                        if (ec) return self->fail_io(ec);
                        self->expect(next);
                      });
  });
}

// Reads one reply (the buffer may already hold it) and hands it to `next`.
void SmtpSession::expect(Next next) {
  auto parsed = parse_reply(in_);
  if (!parsed) {
    Error error = std::move(parsed).error();
    error.message = fmt::format("SMTP server {} during {}: {}", peer_, step_, error.message);
    error.details["step"] = step_;
    return finish(std::move(error));
  }
  if (*parsed) {
    Reply reply = std::move(**parsed);
    in_.erase(0, reply.consumed);
    return (this->*next)(std::move(reply));
  }
  with_stream([&](auto& stream) {
    stream.async_read_some(asio::buffer(chunk_),
                           [self = shared_from_this(), next](error_code ec, std::size_t n) {
                             if (ec) return self->fail_read(ec);
                             self->in_.append(self->chunk_.data(), n);
                             self->expect(next);
                           });
  });
}

// Starts the step's timer anew.
void SmtpSession::arm(std::string_view step) {
  step_ = std::string(step);
  ++timer_generation_;
  timer_.expires_after(settings_.step_timeout);
  timer_.async_wait([self = shared_from_this(), generation = timer_generation_](error_code ec) {
    if (ec || self->finished_ || generation != self->timer_generation_) return;
    self->timed_out_ = true;
    self->stop_io();
  });
}

void SmtpSession::fail_read(error_code ec) {
  if (!timed_out_ && (ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                      ec == asio::error::connection_reset)) {
    return finish(Error(Errc::kServiceUnavailable,
                        fmt::format("SMTP server {} closed the connection during {}", peer_, step_),
                        {{"step", step_}, {"reason", "connection_closed"}, {"transient", true}}));
  }
  fail_io(ec);
}

void SmtpSession::fail_io(error_code ec) {
  if (timed_out_) {
    return finish(Error(Errc::kTimeout,
                        fmt::format("SMTP server {} did not answer within {} ms during {}", peer_,
                                    settings_.step_timeout.count(), step_),
                        {{"step", step_}, {"transient", true}}));
  }
  finish(Error(Errc::kServiceUnavailable,
               fmt::format("SMTP with {} failed during {}: {}", peer_, step_, ec.message()),
               {{"step", step_}, {"reason", "connection_failed"}, {"transient", true}}));
}

void SmtpSession::finish(core::Result<SmtpResult> result) {
  if (finished_) return;
  finished_ = true;
  auto done = std::move(done_);
  done(std::move(result));
  if (quit_after_finish_ && !timed_out_) return do_quit();
  timer_.cancel();
  stop_io();
}

// A courtesy QUIT after the outcome is known, bounded by the step timeout, its answer unread
// beyond what it takes to see it arrive.
void SmtpSession::do_quit() {
  ++timer_generation_;
  timer_.expires_after(settings_.step_timeout);
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->stop_io();
  });
  out_ = "QUIT\r\n";
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(out_),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->with_stream([&](auto& s) {
                          s.async_read_some(asio::buffer(self->chunk_),
                                            [self](error_code, std::size_t) { self->close(); });
                        });
                      });
  });
}

void SmtpSession::close() {
  timer_.cancel();
  stop_io();
}

void SmtpSession::stop_io() {
  resolver_.cancel();
  error_code ignored;
  lowest_layer().close(ignored);
}

}  // namespace netpulse::notify::detail
