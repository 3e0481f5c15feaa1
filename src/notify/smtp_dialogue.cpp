// The SMTP dialogue's steps (detail/smtp_session.hpp), from the greeting to the message's 250:
// EHLO (HELO when refused), STARTTLS when required, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO per
// recipient (refusals collected; all refused fails), DATA and the message. A 4xx/5xx reply
// becomes kRemoteRefused keeping the server's text; any other unexpected code kProtocolError.
//
// Credentials: AUTH runs only over TLS, unless the administrator chose tls = kNone explicitly —
// then the relay is trusted on a network they control and the credentials go in plain text (as
// docs/notify.md says). With kStartTls a server that does not offer STARTTLS is refused rather
// than spoken to in plain text, so a stripped EHLO cannot downgrade the connection.
#include <algorithm>

#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <fmt/format.h>

#include "detail/smtp_session.hpp"

namespace netpulse::notify::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using core::Errc;
using core::Error;

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
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

}  // namespace

void SmtpSession::on_greeting(Reply reply) {
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

void SmtpSession::do_ehlo() {
  command("EHLO " + helo_, "EHLO", &SmtpSession::on_ehlo);
}

void SmtpSession::on_ehlo(Reply reply) {
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

void SmtpSession::on_helo(Reply reply) {
  if (reply.code != 250) return finish(reply_error(peer_, "EHLO", reply));
  extensions_.clear();
  after_hello();
}

void SmtpSession::after_hello() {
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

void SmtpSession::on_starttls(Reply reply) {
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

void SmtpSession::do_auth() {
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

void SmtpSession::on_auth_login_user(Reply reply) {
  if (reply.code != 334) return finish(reply_error(peer_, "AUTH", reply));
  command(base64_encode(settings_.username), "AUTH", &SmtpSession::on_auth_login_password);
}

void SmtpSession::on_auth_login_password(Reply reply) {
  if (reply.code != 334) return finish(reply_error(peer_, "AUTH", reply));
  command(base64_encode(settings_.password), "AUTH", &SmtpSession::on_auth);
}

void SmtpSession::on_auth(Reply reply) {
  if (reply.code != 235) return finish(reply_error(peer_, "AUTH", reply));
  do_mail_from();
}

void SmtpSession::do_mail_from() {
  std::string line = "MAIL FROM:<" + mail_from_ + ">";
  if (extension("SIZE")) line += fmt::format(" SIZE={}", message_.size());
  command(std::move(line), "MAIL FROM", &SmtpSession::on_mail_from);
}

void SmtpSession::on_mail_from(Reply reply) {
  if (reply.code != 250) return finish(reply_error(peer_, "MAIL FROM", reply));
  do_rcpt();
}

void SmtpSession::do_rcpt() {
  command("RCPT TO:<" + recipients_[rcpt_index_] + ">", "RCPT TO", &SmtpSession::on_rcpt);
}

void SmtpSession::on_rcpt(Reply reply) {
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

void SmtpSession::on_data(Reply reply) {
  if (reply.code != 354) return finish(reply_error(peer_, "DATA", reply));
  arm("message");
  static constexpr std::string_view kEndOfData = ".\r\n";
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(message_), asio::buffer(kEndOfData)};
  with_stream([&](auto& stream) {
    asio::async_write(stream, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail_io(ec);
      self->expect(&SmtpSession::on_message);
    });
  });
}

void SmtpSession::on_message(Reply reply) {
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

std::optional<std::string> SmtpSession::extension(std::string_view keyword) const {
  for (const auto& line : extensions_) {
    const std::string word = upper(line.substr(0, line.find_first_of(" =")));
    if (word == keyword) {
      return line.size() > word.size() ? line.substr(word.size() + 1) : std::string();
    }
  }
  return std::nullopt;
}

}  // namespace netpulse::notify::detail
