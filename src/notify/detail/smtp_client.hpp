// The notifier's SMTP client: delivers one Email to the relay the administrator configured,
// over Asio with OpenSSL (RFC 5321, STARTTLS RFC 3207, AUTH PLAIN/LOGIN RFC 4954/4616).
//
//   connect (resolve + TCP) → [TLS handshake when tls = kImplicit] → greeting 220 → EHLO (HELO
//   when EHLO is refused) → [STARTTLS 220, TLS handshake, EHLO again when tls = kStartTls] →
//   [AUTH when a username is set] → MAIL FROM → RCPT TO per recipient → DATA 354 → the
//   dot-stuffed message and "." → 250 → QUIT
//
// Every step is bounded by SmtpSettings::step_timeout. The certificate is always verified (the
// system trust store plus ca_file) and the relay's host name (or IP literal) is checked against
// it. Errors cross as core::Error, and every one carries details.transient (bool): whether the
// same send may succeed later (the notifier retries those and gives up on the others):
//
//   kInvalidInput     the settings or the email refused before any I/O; details.field names it
//   kTimeout          a step took longer than step_timeout; details.step names it ("greeting",
//                     "EHLO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "DATA", "message",
//                     also "connect", "TLS handshake"); transient
//   kServiceUnavailable  the name did not resolve, the connection was refused or closed
//                     mid-dialogue; transient
//   kProtocolError    the server answered against the protocol (a malformed reply, an
//                     unexpected code), offers no STARTTLS when it is required or no AUTH
//                     mechanism NetPulse speaks, or the TLS handshake or the certificate
//                     verification failed (the message names OpenSSL's reason; details.reason
//                     "certificate_verify_failed"); not transient
//   kRemoteRefused    the server answered 4xx or 5xx: the message and details.reply keep the
//                     server's reply text, details.smtp_code (int) its code, details.step the
//                     step; transient for 4xx, not for 5xx. When every recipient is refused,
//                     details.refused_recipients lists them and transient is true when any
//                     refusal was 4xx.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/result.hpp>

#include "mime.hpp"

namespace netpulse::notify::detail {

// How the connection to the relay is protected.
enum class SmtpTls {
  kNone,      // plain text throughout (credentials too, when a username is set: chosen explicitly)
  kStartTls,  // plain connect, then STARTTLS, required: a server that does not offer it fails
  kImplicit,  // TLS from the first byte ("SMTPS", usually port 465)
};

struct SmtpSettings {
  std::string host;  // a name or an IP literal
  std::uint16_t port = 587;
  SmtpTls tls = SmtpTls::kStartTls;
  std::string username;  // "" for no AUTH
  std::string password;
  // The envelope sender (MAIL FROM), an address or "Name <address>"; also the From header when
  // the email has none. "" to use the email's From for both.
  std::string from;
  std::string ca_file;    // PEM of CAs trusted beside the system's; "" for the system's only
  std::string helo_name;  // the EHLO argument; "" for the local address as a literal "[192.0.2.1]"
  std::chrono::milliseconds step_timeout{30'000};
};

struct SmtpResult {
  std::string reply;  // the server's final answer to the message, "250 2.0.0 Ok: queued as ..."
  std::vector<std::string> refused_recipients;  // addresses RCPT TO refused (the others got it)
};

// One SMTP reply: its code, the text of each line (without "XYZ-" / "XYZ "), and how many bytes
// of the buffer it took.
struct Reply {
  int code = 0;
  std::vector<std::string> lines;
  std::size_t consumed = 0;
};

// Bounds of parse_reply.
inline constexpr std::size_t kMaxReplyLineBytes = 1000;  // one line, CRLF included
inline constexpr std::size_t kMaxReplyLines = 100;

// The first complete reply at the front of `buffer`: nullopt while more bytes are needed,
// kProtocolError ("malformed SMTP reply: ...") when the bytes cannot start a valid reply: a line
// not "XYZ", "XYZ-text" or "XYZ text" ended by CRLF; a code whose first digit is not 2-5
// or whose second is not 0-5; lines of one reply with different codes; a character other than tab
// or printable ASCII in the text; a line over kMaxReplyLineBytes; more than kMaxReplyLines lines.
// Pure.
core::Result<std::optional<Reply>> parse_reply(std::string_view buffer);

// The reply as the server wrote it, lines joined by "\n": "550-first\n550 second".
std::string reply_text(const Reply& reply);

class SmtpClient {
 public:
  // The relay is server configuration set by the administrator, not a target a user chose, so
  // the client deliberately takes no core::OutboundPolicy: an administrator may point it at a
  // relay on loopback or on the private network, which the policy exists to keep users from
  // reaching. Webhooks and the like (user-chosen) go through core::HttpClient, which applies it.
  SmtpClient(boost::asio::any_io_executor executor, const core::Clock& clock);

  using Done = std::function<void(core::Result<SmtpResult>)>;
  // Delivers `email` through the relay of `settings`. `done` is called exactly once, on the
  // executor, never from inside send(). An email with date_ms 0 is dated by the clock. The
  // connection lives until `done` and a bounded QUIT after it; the client keeps no state
  // between sends and may be destroyed while sends run.
  void send(SmtpSettings settings, Email email, Done done);

 private:
  boost::asio::any_io_executor executor_;
  const core::Clock& clock_;
};

}  // namespace netpulse::notify::detail
