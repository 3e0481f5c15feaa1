// SmtpClient (detail/smtp_client.hpp): checks the settings and renders the email before any
// I/O, then starts one SmtpSession (detail/smtp_session.hpp) for the send.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/smtp_session.hpp"

namespace netpulse::notify::detail {

namespace asio = boost::asio;
using core::Error;

namespace {

constexpr std::size_t kMaxCredential = 255;

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
