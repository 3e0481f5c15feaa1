// The email the SMTP sender delivers, and its rendering as an RFC 5322 / MIME message: headers
// (Date, From, To, Cc, Subject as RFC 2047 encoded-words when needed, Message-ID,
// MIME-Version), a text/plain and text/html body (quoted-printable UTF-8; multipart/alternative
// when both are given) wrapped in multipart/mixed with base64 attachments. Lines end in CRLF and
// are never longer than 998 octets; every header line the renderer folds stays within 78.
// Everything here is pure: no I/O, no clock (the caller gives the Date), randomness only for the
// Message-ID and the boundaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <netpulse/core/random.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

struct Attachment {
  std::string filename;      // UTF-8, no control characters, 1..255 bytes
  std::string content_type;  // "type/subtype"; "" is application/octet-stream
  std::string bytes;         // the raw content
};

// One email. Addresses (from, to, cc) are an addr-spec ("ops@isp.example") or a display name
// and an addr-spec ("NOC on call <ops@isp.example>", the name possibly "quoted" and UTF-8).
// Addresses are ASCII only (no SMTPUTF8).
struct Email {
  std::string from;
  std::vector<std::string> to, cc;
  std::string subject;  // UTF-8, one line
  std::string text;     // the plain-text body, UTF-8; "\n" or "\r\n" end its lines
  std::string html;     // the HTML body, UTF-8; "" for none
  std::vector<Attachment> attachments;
  // Further headers ("X-NetPulse-Notification", "Auto-Submitted", ...): the name printable
  // ASCII without ':', never one the renderer writes itself (Date, From, To, Cc, Bcc, Subject,
  // Message-ID, MIME-Version, Content-*); the value one line of UTF-8.
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::int64_t date_ms = 0;       // the Date header, Unix milliseconds (shown in UTC)
  std::string message_id_domain;  // right of the '@' in the Message-ID; "" for the From's domain
};

// Bounds of build_message: the content (text + html + attachment bytes) at most 25 MiB.
inline constexpr std::size_t kMaxEmailContentBytes = std::size_t{25} * 1024 * 1024;
inline constexpr std::size_t kMaxRecipients = 100;  // to + cc
inline constexpr std::size_t kMaxAttachments = 100;
inline constexpr std::size_t kMaxExtraHeaders = 50;
inline constexpr std::size_t kMaxSubjectBytes = 1000;

// An address split into its parts.
struct Mailbox {
  std::string display_name;  // "" when there was none
  std::string address;       // the addr-spec, "ops@isp.example"
};

// Whether `address` is an addr-spec this sender accepts: a dot-atom local part (at most 64
// characters of letters, digits and !#$%&'*+-/=?^_`{|}~, dots only between them), '@', a domain
// of LDH labels (1..63 characters, no leading or trailing '-'), at most 254 characters in all.
// Quoted local parts, domain literals, comments and non-ASCII are refused (conservative).
bool is_valid_addr_spec(std::string_view address) noexcept;

// Splits "addr", "<addr>", "Name <addr>" or "\"Name\" <addr>" into a Mailbox. kInvalidInput
// naming `field` when the address is not a valid addr-spec, the text holds CR, LF or another
// control character (header injection), or the name is not UTF-8 or longer than 200 bytes.
core::Result<Mailbox> parse_mailbox(std::string_view text, std::string_view field);

// The whole message for the DATA phase, before dot-stuffing: headers, a blank line, the body,
// every line ending in CRLF. kInvalidInput naming the field ("from", "to[1]", "subject",
// "attachments[0].filename", "extra_headers[2]", ...) when the email is refused: an address or
// header value that is invalid or holds CR/LF, no recipient at all, text that is not UTF-8, or
// a bound above exceeded.
core::Result<std::string> build_message(const Email& email);

// The recipients' addr-specs (to, then cc) for RCPT TO, in order, duplicates removed. Assumes
// an email build_message accepted.
std::vector<std::string> envelope_recipients(const Email& email);

// `message` made ready for SMTP's DATA phase (RFC 5321 4.5.2): every bare LF or bare CR becomes
// CRLF, a line that starts with '.' gets a second '.', and the result ends in CRLF (added when
// missing). The sender then writes ".\r\n" to end the data.
std::string dot_stuff(std::string_view message);

// --- encodings, exposed for the tests and the SMTP client ----------------------------------

// Standard base64 (RFC 4648 §4, with padding) on one line: core's.
using core::base64_encode;
// Standard base64 in lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view bytes);
// Quoted-printable (RFC 2045 6.7) of UTF-8 text whose lines end in "\n" or "\r\n": hard line
// breaks become CRLF, lines are soft-broken to at most 76 characters, '=', non-ASCII bytes,
// control characters, trailing white space and a '.' starting a line are encoded.
std::string quoted_printable(std::string_view text);
// An unstructured header's value (Subject, extra headers) folded for a line that already holds
// `used` characters ("Subject: " is 9): the text as it is, folded at its spaces, when it is
// printable ASCII that fits; otherwise a run of RFC 2047 UTF-8 encoded-words (Q when mostly
// ASCII, else B) of at most 75 characters, each holding whole characters, separated by CRLF SP.
// `text` must be valid UTF-8 without CR or LF. Every line of the result, the first one counted
// from `used`, is at most 78 characters.
std::string encode_unstructured(std::string_view text, std::size_t used);
// RFC 5322 date-time in UTC: "Thu, 15 Jan 2026 10:30:00 +0000".
std::string format_email_date(std::int64_t unix_ms);

}  // namespace netpulse::notify::detail
