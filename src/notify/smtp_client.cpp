// The SMTP dialogue (detail/smtp_client.hpp): one SmtpSession per send, a chain of do_x/on_x
// steps on the client's executor. Each step arms the one timer anew with step_timeout; when it
// fires it closes the socket and cancels the resolver, and the handler then pending reports
// kTimeout naming the step. Replies are read into one buffer and cut by parse_reply, so a reply
// split across reads or several in one read come out the same.
//
// TLS: OpenSSL through Asio's ssl::stream, TLS 1.2 at least. The chain is verified against the
// system trust store plus ca_file and the relay's name (or IP literal) is checked by OpenSSL
// itself (X509_VERIFY_PARAM_set1_host / set1_ip_asc); the verify callback records the first
// failure so the error can name OpenSSL's reason. STARTTLS upgrades the very TCP socket; bytes
// the server sent after its 220 and before the handshake are refused (RFC 3207 5: they could be
// an attacker's injected plain text).
//
// Credentials: AUTH runs only over TLS, unless the administrator chose tls = kNone explicitly —
// then the relay is trusted on a network they control and the credentials go in plain text (as
// the settings page says). With kStartTls a server that does not offer STARTTLS is refused
// rather than spoken to in plain text, so a stripped EHLO cannot downgrade the connection.
#include "detail/smtp_client.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace netpulse::notify::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using core::Errc;
using core::Error;

namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kMaxCredential = 255;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

core::Result<void> check_settings(const SmtpSettings& settings) {
  const auto& host = settings.host;
  if (host.empty() || host.size() > 253 || host.find_first_of(" \t\r\n/@") != std::string::npos) {
    return core::invalid_field("host", "must be a host name or an IP address");
  }
  if (settings.port == 0) return core::invalid_field("port", "must be 1..65535");
  if (settings.step_timeout <= std::chrono::milliseconds::zero()) {
    return core::invalid_field("step_timeout", "must be positive");
  }
  const auto& helo = settings.helo_name;
  const bool helo_ok =
      helo.empty() || (helo.size() <= 255 && std::all_of(helo.begin(), helo.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '[' ||
                                c == ']' || c == ':';
                       }));
  if (!helo_ok) return core::invalid_field("helo_name", "must be a domain or an address literal");
  for (auto [value, field] :
       {std::pair{&settings.username, "username"}, std::pair{&settings.password, "password"}}) {
    if (value->size() > kMaxCredential ||
        value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return core::invalid_field(field, "at most 255 bytes, without CR, LF or NUL");
    }
  }
  return core::ok();
}

// The peer's answer as an error: 4xx/5xx are refusals (transient or not), anything else is a
// reply the step does not expect.
Error reply_error(std::string_view peer, std::string_view step, const Reply& reply) {
  const std::string text = reply_text(reply);
  std::string one_line = text;
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  if (reply.code >= 400) {
    const bool transient = reply.code < 500;
    return Error(
        Errc::kRemoteRefused,
        fmt::format("SMTP server {} refused {} ({}): {}", peer, step,
                    transient ? "transient" : "permanent", one_line),
        {{"step", step}, {"smtp_code", reply.code}, {"reply", text}, {"transient", transient}});
  }
  return Error(Errc::kProtocolError,
               fmt::format("SMTP server {} answered {} unexpectedly: {}", peer, step, one_line),
               {{"step", step}, {"reply", text}, {"transient", false}});
}

class SmtpSession final : public std::enable_shared_from_this<SmtpSession> {
 public:
  SmtpSession(asio::any_io_executor executor, SmtpSettings settings, std::string message,
              std::string mail_from, std::vector<std::string> recipients, SmtpClient::Done done)
      : settings_(std::move(settings)),
        message_(std::move(message)),
        mail_from_(std::move(mail_from)),
        recipients_(std::move(recipients)),
        done_(std::move(done)),
        peer_(fmt::format("{}:{}", settings_.host, settings_.port)),
        resolver_(executor),
        timer_(executor),
        plain_(std::in_place, executor) {}

  void start() {
    arm("connect");
    resolver_.async_resolve(
        settings_.host, std::to_string(settings_.port),
        [self = shared_from_this()](error_code ec, asio::ip::tcp::resolver::results_type r) {
          self->on_resolve(ec, r);
        });
  }

 private:
  using Next = void (SmtpSession::*)(Reply);

  // --- connecting ------------------------------------------------------------------------

  void on_resolve(error_code ec, const asio::ip::tcp::resolver::results_type& results) {
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

  void on_connect(error_code ec) {
    if (ec) {
      if (timed_out_ || ec == asio::error::operation_aborted) return fail_io(ec);
      return finish(
          Error(Errc::kServiceUnavailable,
                fmt::format("could not connect to SMTP server {}: {}", peer_, ec.message()),
                {{"step", "connect"}, {"transient", true}}));
    }
    if (settings_.tls == SmtpTls::kImplicit) return do_handshake("TLS handshake");
    arm("greeting");
    expect(&SmtpSession::on_greeting);
  }

  void do_handshake(std::string_view step) {
    arm(step);
    if (auto made = start_tls(); !made) return finish(std::move(made).error());
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  // Moves the TCP socket under a TLS stream set up to verify the relay.
  core::Result<void> start_tls() {
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
      Error error =
          core::invalid_field("ca_file", fmt::format("could not be loaded: {}", e.what()));
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

  void on_handshake(error_code ec) {
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

  // --- the dialogue --------------------------------------------------------------------

  void on_greeting(Reply reply) {
    if (reply.code != 220) return finish(reply_error(peer_, "greeting", reply));
    if (settings_.helo_name.empty()) {
      error_code ec;
      const auto local = lowest_layer().local_endpoint(ec).address();
      helo_ = ec              ? "[127.0.0.1]"
              : local.is_v6() ? fmt::format("[IPv6:{}]", local.to_string())
                              : fmt::format("[{}]", local.to_string());
    } else {
      helo_ = settings_.helo_name;
    }
    do_ehlo();
  }

  void do_ehlo() { command("EHLO " + helo_, "EHLO", &SmtpSession::on_ehlo); }

  void on_ehlo(Reply reply) {
    if (reply.code == 250) {
      extensions_.assign(reply.lines.begin() + 1, reply.lines.end());
      return after_hello();
    }
    // A server without ESMTP says 500/502 (unknown command); HELO then, except after STARTTLS,
    // where the server has already shown it speaks ESMTP.
    if (reply.code >= 500 && !(settings_.tls == SmtpTls::kStartTls && tls_)) {
      return command("HELO " + helo_, "EHLO", &SmtpSession::on_helo);
    }
    finish(reply_error(peer_, "EHLO", reply));
  }

  void on_helo(Reply reply) {
    if (reply.code != 250) return finish(reply_error(peer_, "EHLO", reply));
    extensions_.clear();
    after_hello();
  }

  void after_hello() {
    if (settings_.tls == SmtpTls::kStartTls && !tls_) {
      if (!extension("STARTTLS")) {
        return finish(Error(Errc::kProtocolError,
                            fmt::format("SMTP server {} does not offer STARTTLS, which the "
                                        "settings require (tls = starttls)",
                                        peer_),
                            {{"step", "STARTTLS"}, {"transient", false}}));
      }
      return command("STARTTLS", "STARTTLS", &SmtpSession::on_starttls);
    }
    if (!settings_.username.empty()) return do_auth();
    do_mail_from();
  }

  void on_starttls(Reply reply) {
    if (reply.code != 220) return finish(reply_error(peer_, "STARTTLS", reply));
    if (!in_.empty()) {
      return finish(Error(Errc::kProtocolError,
                          fmt::format("SMTP server {} sent data after its STARTTLS answer, before "
                                      "the TLS handshake (refused: it could be injected)",
                                      peer_),
                          {{"step", "STARTTLS"}, {"transient", false}}));
    }
    do_handshake("STARTTLS");
  }

  void do_auth() {
    if (!tls_ && settings_.tls != SmtpTls::kNone) {  // cannot happen: kept as the rule's guard
      return finish(Error(Errc::kInternalError, "refusing to send credentials in plain text",
                          {{"step", "AUTH"}, {"transient", false}}));
    }
    const auto offered = extension("AUTH");
    std::vector<std::string> mechanisms;
    if (offered) {
      std::string_view rest = *offered;
      while (!rest.empty()) {
        const auto space = rest.find(' ');
        const auto word = rest.substr(0, space);
        if (!word.empty()) mechanisms.push_back(upper(word));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      }
    }
    auto has = [&](std::string_view m) {
      return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end();
    };
    if (has("PLAIN")) {
      std::string credentials;
      credentials += '\0';
      credentials += settings_.username;
      credentials += '\0';
      credentials += settings_.password;
      return command("AUTH PLAIN " + base64_encode(credentials), "AUTH", &SmtpSession::on_auth);
    }
    if (has("LOGIN")) return command("AUTH LOGIN", "AUTH", &SmtpSession::on_auth_login_user);
    finish(Error(Errc::kProtocolError,
                 fmt::format("SMTP server {} offers no AUTH mechanism NetPulse speaks (PLAIN, "
                             "LOGIN); it offers: {}",
                             peer_, offered ? *offered : std::string("none")),
                 {{"step", "AUTH"}, {"transient", false}}));
  }

  void on_auth_login_user(Reply reply) {
    if (reply.code != 334) return finish(reply_error(peer_, "AUTH", reply));
    command(base64_encode(settings_.username), "AUTH", &SmtpSession::on_auth_login_password);
  }

  void on_auth_login_password(Reply reply) {
    if (reply.code != 334) return finish(reply_error(peer_, "AUTH", reply));
    command(base64_encode(settings_.password), "AUTH", &SmtpSession::on_auth);
  }

  void on_auth(Reply reply) {
    if (reply.code != 235) return finish(reply_error(peer_, "AUTH", reply));
    do_mail_from();
  }

  void do_mail_from() {
    std::string line = "MAIL FROM:<" + mail_from_ + ">";
    if (extension("SIZE")) line += fmt::format(" SIZE={}", message_.size());
    command(std::move(line), "MAIL FROM", &SmtpSession::on_mail_from);
  }

  void on_mail_from(Reply reply) {
    if (reply.code != 250) return finish(reply_error(peer_, "MAIL FROM", reply));
    do_rcpt();
  }

  void do_rcpt() {
    command("RCPT TO:<" + recipients_[rcpt_index_] + ">", "RCPT TO", &SmtpSession::on_rcpt);
  }

  void on_rcpt(Reply reply) {
    if (reply.code == 250 || reply.code == 251) {
      ++accepted_;
    } else if (reply.code >= 400) {
      refused_.push_back(recipients_[rcpt_index_]);
      any_transient_refusal_ = any_transient_refusal_ || reply.code < 500;
      last_refusal_ = std::move(reply);
    } else {
      return finish(reply_error(peer_, "RCPT TO", reply));
    }
    if (++rcpt_index_ < recipients_.size()) return do_rcpt();
    if (accepted_ == 0) {
      Error error = reply_error(peer_, "RCPT TO", last_refusal_);
      error.message =
          fmt::format("SMTP server {} refused every recipient; the last: {}", peer_, error.message);
      boost::json::array refused;
      for (const auto& r : refused_) refused.emplace_back(r);
      error.details["refused_recipients"] = std::move(refused);
      error.details["transient"] = any_transient_refusal_;
      quit_after_finish_ = true;
      return finish(std::move(error));
    }
    command("DATA", "DATA", &SmtpSession::on_data);
  }

  void on_data(Reply reply) {
    if (reply.code != 354) return finish(reply_error(peer_, "DATA", reply));
    arm("message");
    static constexpr std::string_view kEndOfData = ".\r\n";
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(message_),
                                                    asio::buffer(kEndOfData)};
    with_stream([&](auto& stream) {
      asio::async_write(stream, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec) return self->fail_io(ec);
        self->expect(&SmtpSession::on_message);
      });
    });
  }

  void on_message(Reply reply) {
    if (reply.code != 250) {
      quit_after_finish_ = reply.code >= 400;
      return finish(reply_error(peer_, "message", reply));
    }
    SmtpResult result;
    result.reply = fmt::format("{} {}", reply.code, reply.lines.back());
    result.refused_recipients = std::move(refused_);
    quit_after_finish_ = true;
    finish(std::move(result));
  }

  // --- commands and replies --------------------------------------------------------------

  // Writes `line` and CRLF as step `step`, then reads the reply for `next`.
  void command(std::string line, std::string_view step, Next next) {
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
  void expect(Next next) {
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

  std::optional<std::string> extension(std::string_view keyword) const {
    for (const auto& line : extensions_) {
      const std::string word = upper(line.substr(0, line.find_first_of(" =")));
      if (word == keyword) {
        return line.size() > word.size() ? line.substr(word.size() + 1) : std::string();
      }
    }
    return std::nullopt;
  }

  // Starts the step's timer anew.
  void arm(std::string_view step) {
    step_ = std::string(step);
    ++timer_generation_;
    timer_.expires_after(settings_.step_timeout);
    timer_.async_wait([self = shared_from_this(), generation = timer_generation_](error_code ec) {
      if (ec || self->finished_ || generation != self->timer_generation_) return;
      self->timed_out_ = true;
      self->stop_io();
    });
  }

  // --- failures ----------------------------------------------------------------------------

  void fail_read(error_code ec) {
    if (!timed_out_ && (ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                        ec == asio::error::connection_reset)) {
      return finish(
          Error(Errc::kServiceUnavailable,
                fmt::format("SMTP server {} closed the connection during {}", peer_, step_),
                {{"step", step_}, {"reason", "connection_closed"}, {"transient", true}}));
    }
    fail_io(ec);
  }

  void fail_io(error_code ec) {
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

  void finish(core::Result<SmtpResult> result) {
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
  void do_quit() {
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

  void close() {
    timer_.cancel();
    stop_io();
  }

  // --- the stream --------------------------------------------------------------------------

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
    error_code ignored;
    lowest_layer().close(ignored);
  }

  SmtpSettings settings_;
  std::string message_;  // dot-stuffed
  std::string mail_from_;
  std::vector<std::string> recipients_;
  SmtpClient::Done done_;
  std::string peer_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::unique_ptr<ssl::context> tls_context_;
  std::optional<asio::ip::tcp::socket> plain_;
  std::optional<ssl::stream<asio::ip::tcp::socket>> tls_;
  std::string verify_error_;
  std::array<char, kReadChunk> chunk_{};
  std::string in_;
  std::string out_;
  std::string step_;
  std::string helo_;
  std::vector<std::string> extensions_;  // the EHLO reply's lines after the first
  std::size_t rcpt_index_ = 0;
  std::size_t accepted_ = 0;
  std::vector<std::string> refused_;
  Reply last_refusal_;
  bool any_transient_refusal_ = false;
  unsigned timer_generation_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
  bool quit_after_finish_ = false;
};

}  // namespace

SmtpClient::SmtpClient(asio::any_io_executor executor, const core::Clock& clock)
    : executor_(std::move(executor)), clock_(clock) {}

void SmtpClient::send(SmtpSettings settings, Email email, Done done) {
  auto fail_later = [&](Error error) {
    error.details["transient"] = false;
    asio::post(executor_, [done = std::move(done), error = std::move(error)]() mutable {
      done(std::move(error));
    });
  };
  if (auto ok = check_settings(settings); !ok) return fail_later(std::move(ok).error());
  std::string mail_from;
  if (!settings.from.empty()) {
    auto sender = parse_mailbox(settings.from, "from");
    if (!sender) return fail_later(std::move(sender).error());
    mail_from = sender->address;
    if (email.from.empty()) email.from = settings.from;
  }
  if (email.date_ms == 0) email.date_ms = clock_.unix_millis();
  auto message = build_message(email);
  if (!message) return fail_later(std::move(message).error());
  if (mail_from.empty()) mail_from = parse_mailbox(email.from, "from")->address;
  auto session = std::make_shared<SmtpSession>(executor_, std::move(settings), dot_stuff(*message),
                                               std::move(mail_from), envelope_recipients(email),
                                               std::move(done));
  asio::post(executor_, [session] { session->start(); });
}

}  // namespace netpulse::notify::detail
