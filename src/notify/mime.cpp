// The email renderer (detail/mime.hpp): validates an Email and writes it as an RFC 5322 / MIME
// message. The message is 7-bit clean: header text that is not plain ASCII becomes RFC 2047
// encoded-words, bodies are quoted-printable, attachments base64, attachment names RFC 2231
// parameters. A boundary is "=_np_" and random hex: "=_" never occurs in quoted-printable or
// base64 output, and the rendered parts are searched anyway before a boundary is used.
// Addresses: mime_address.cpp; the encodings: mime_encoding.cpp.
#include "detail/mime.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>
#include <netpulse/core/text.hpp>

#include "detail/mime_text.hpp"

namespace netpulse::notify::detail {

namespace {

using core::Errc;
using core::Error;

constexpr std::size_t kHardLineLimit = 998;  // RFC 5322 2.1.1: MUST (without CRLF)
constexpr std::size_t kPhraseWordMax = 70;   // a display name's encoded-words: fit after "From: "
constexpr std::size_t kMaxFilename = 255;
constexpr std::size_t kMaxHeaderValue = 998;

// The mailbox as it goes into an address header, as pieces between which a fold may go.
std::vector<std::string> mailbox_pieces(const Mailbox& mailbox) {
  std::vector<std::string> pieces;
  const std::string_view name = mailbox.display_name;
  if (!name.empty()) {
    const bool atoms =
        std::all_of(name.begin(), name.end(), [](char c) { return is_atext(c) || c == ' '; }) &&
        name.front() != ' ' && name.back() != ' ' && name.find("  ") == std::string_view::npos;
    if (atoms && name.size() <= kPhraseWordMax) {
      pieces.emplace_back(name);
    } else if (is_printable_ascii(name) && name.find("=?") == std::string_view::npos &&
               name.size() <= kPhraseWordMax) {
      std::string quoted = "\"";
      for (char c : name) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      pieces.push_back(quoted + "\"");
    } else {
      pieces = encoded_words(name, kPhraseWordMax, kPhraseWordMax);
    }
    pieces.push_back("<" + mailbox.address + ">");
  } else {
    pieces.push_back(mailbox.address);
  }
  return pieces;
}

// "Name: p1 p2,\r\n p3 ..." — pieces joined by spaces, folded before a piece that would take
// the line past 78 characters.
std::string fold_pieces(std::string_view name, const std::vector<std::string>& pieces) {
  std::string out = std::string(name) + ":";
  std::size_t line = out.size();
  for (const auto& piece : pieces) {
    if (line > name.size() + 1 && line + 1 + piece.size() > kFoldAt) {
      out += kCrlf;
      line = 0;
    }
    out += ' ';
    out += piece;
    line += 1 + piece.size();
  }
  out += kCrlf;
  return out;
}

std::string address_header(std::string_view name, const std::vector<Mailbox>& mailboxes) {
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < mailboxes.size(); ++i) {
    auto more = mailbox_pieces(mailboxes[i]);
    if (i + 1 < mailboxes.size()) more.back() += ',';
    pieces.insert(pieces.end(), more.begin(), more.end());
  }
  return fold_pieces(name, pieces);
}

std::string unstructured_header(std::string_view name, std::string_view value) {
  const std::string head = std::string(name) + ": ";
  return head + encode_unstructured(value, head.size()) + std::string(kCrlf);
}

// RFC 2045 token characters (for a media type's parts).
bool is_token(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c > 0x20 && c < 0x7f &&
           std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
  });
}

// RFC 2231 attribute characters, kept as they are in an extended value.
bool is_attr_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
}

// ";\r\n name=value" for a MIME parameter, each on its own folded line: a quoted-string when the
// value is short printable ASCII, else RFC 2231 (UTF-8, percent-encoded, in continuations of at
// most 60 characters).
std::string mime_parameter(std::string_view name, std::string_view value) {
  constexpr std::size_t kSegment = 60;
  if (is_printable_ascii(value) && value.size() <= kSegment &&
      value.find_first_of("\"\\") == std::string_view::npos) {
    return fmt::format(";\r\n {}=\"{}\"", name, value);
  }
  std::vector<std::string> segments{"utf-8''"};
  for (char c : value) {
    std::string piece;
    if (is_attr_char(c)) {
      piece = c;
    } else {
      piece = fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
    if (segments.back().size() + piece.size() > kSegment) segments.emplace_back();
    segments.back() += piece;
  }
  if (segments.size() == 1) return fmt::format(";\r\n {}*={}", name, segments.front());
  std::string out;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    out += fmt::format(";\r\n {}*{}*={}", name, i, segments[i]);
  }
  return out;
}

// A MIME entity: its header lines (each ending in CRLF) and its body. The CRLF written before
// a boundary belongs to the boundary, so a body ends in CRLF only when its content does.
struct Entity {
  std::string headers;
  std::string body;
};

Entity text_entity(std::string_view subtype, std::string_view text) {
  std::string body = quoted_printable(text);  // its own last line break stays part of the text
  return {fmt::format("Content-Type: text/{}; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n",
                      subtype),
          std::move(body)};
}

Entity attachment_entity(const Attachment& attachment) {
  const std::string_view type = attachment.content_type.empty()
                                    ? std::string_view("application/octet-stream")
                                    : std::string_view(attachment.content_type);
  std::string body = base64_lines(attachment.bytes);
  if (body.ends_with(kCrlf)) body.resize(body.size() - 2);
  return {fmt::format("Content-Type: {}{}\r\nContent-Transfer-Encoding: base64\r\n"
                      "Content-Disposition: attachment{}\r\n",
                      type, mime_parameter("name", attachment.filename),
                      mime_parameter("filename", attachment.filename)),
          std::move(body)};
}

// A multipart entity of `parts`, with a boundary found in none of them.
Entity multipart_entity(std::string_view subtype, const std::vector<Entity>& parts) {
  std::string boundary;
  for (;;) {
    boundary = "=_np_" + core::random_hex(12);
    const bool clash = std::any_of(parts.begin(), parts.end(), [&](const Entity& part) {
      return part.headers.find(boundary) != std::string::npos ||
             part.body.find(boundary) != std::string::npos;
    });
    if (!clash) break;
  }
  Entity out;
  out.headers =
      fmt::format("Content-Type: multipart/{};\r\n boundary=\"{}\"\r\n", subtype, boundary);
  for (const auto& part : parts) {
    out.body += fmt::format("--{}\r\n", boundary);
    out.body += part.headers;
    out.body += kCrlf;
    out.body += part.body;
    out.body += kCrlf;
  }
  out.body += fmt::format("--{}--", boundary);
  return out;
}

bool is_reserved_header(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  static constexpr std::array kReserved{"date",         "from",       "sender",  "to",
                                        "cc",           "bcc",        "subject", "message-id",
                                        "mime-version", "return-path"};
  return lower.starts_with("content-") ||
         std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end();
}

core::Result<void> check_extra_header(const std::pair<std::string, std::string>& header,
                                      const std::string& field) {
  const auto& [name, value] = header;
  const bool name_ok = !name.empty() && name.size() <= 64 &&
                       std::all_of(name.begin(), name.end(),
                                   [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
  if (!name_ok) {
    return core::invalid_field(field, "the name must be 1..64 printable ASCII characters, no ':'");
  }
  if (is_reserved_header(name)) {
    return core::invalid_field(field, fmt::format("{} is written by the sender itself", name));
  }
  return check_header_text(value, field, kMaxHeaderValue);
}

core::Result<void> check_attachment(const Attachment& attachment, const std::string& field) {
  if (attachment.filename.empty()) return core::invalid_field(field + ".filename", "empty");
  if (auto ok = check_header_text(attachment.filename, field + ".filename", kMaxFilename); !ok) {
    return ok;
  }
  if (attachment.filename.find('\t') != std::string::npos) {
    return core::invalid_field(field + ".filename", "contains a control character");
  }
  const std::string_view type = attachment.content_type;
  if (!type.empty()) {
    const auto slash = type.find('/');
    const bool shape = slash != std::string_view::npos && type.size() <= 127 &&
                       is_token(type.substr(0, slash)) && is_token(type.substr(slash + 1));
    if (!shape) {
      return core::invalid_field(field + ".content_type", "must be \"type/subtype\"");
    }
    if (type.starts_with("multipart/") || type.starts_with("message/")) {
      return core::invalid_field(field + ".content_type",
                                 "multipart and message types cannot be attached as base64");
    }
  }
  return core::ok();
}

// Every line of `message` (CRLF-separated) at most 998 octets, and no bare CR or LF.
bool lines_within_limit(std::string_view message) noexcept {
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' || message[i] == '\n') {
      if (message[i] == '\n' || i + 1 >= message.size() || message[i + 1] != '\n') return false;
      if (i - line_start > kHardLineLimit) return false;
      ++i;
      line_start = i + 1;
    }
  }
  return message.size() - line_start <= kHardLineLimit;
}

}  // namespace

core::Result<std::string> build_message(const Email& email) {
  auto from = parse_mailbox(email.from, "from");
  if (!from) return std::move(from).error();

  std::vector<Mailbox> to, cc;
  auto parse_list = [](const std::vector<std::string>& list, std::string_view name,
                       std::vector<Mailbox>& out) -> core::Result<void> {
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto mailbox = parse_mailbox(list[i], fmt::format("{}[{}]", name, i));
      if (!mailbox) return std::move(mailbox).error();
      out.push_back(std::move(*mailbox));
    }
    return core::ok();
  };
  if (auto ok = parse_list(email.to, "to", to); !ok) return std::move(ok).error();
  if (auto ok = parse_list(email.cc, "cc", cc); !ok) return std::move(ok).error();
  if (to.empty() && cc.empty()) return core::invalid_field("to", "no recipient");
  if (to.size() + cc.size() > kMaxRecipients) {
    return core::invalid_field("to", fmt::format("more than {} recipients", kMaxRecipients));
  }
  if (auto ok = check_header_text(email.subject, "subject", kMaxSubjectBytes); !ok) {
    return std::move(ok).error();
  }

  std::string domain = email.message_id_domain;
  if (domain.empty()) domain = from->address.substr(from->address.rfind('@') + 1);
  if (!is_ldh_domain(domain)) {
    return core::invalid_field("message_id_domain", "not a domain name");
  }

  std::size_t content = 0;
  auto account = [&](std::size_t bytes, const std::string& field) -> core::Result<void> {
    content += bytes;
    if (content > kMaxEmailContentBytes) {
      return core::invalid_field(
          field, fmt::format("the email's content is over {} bytes", kMaxEmailContentBytes));
    }
    return core::ok();
  };
  const std::array<std::pair<const std::string*, std::string>, 2> bodies{
      {{&email.text, "text"}, {&email.html, "html"}}};
  for (const auto& [body, field] : bodies) {
    if (auto ok = account(body->size(), field); !ok) return std::move(ok).error();
    if (!core::utf8_length(*body)) return core::invalid_field(field, "not valid UTF-8");
  }
  if (email.attachments.size() > kMaxAttachments) {
    return core::invalid_field("attachments",
                               fmt::format("more than {} attachments", kMaxAttachments));
  }
  for (std::size_t i = 0; i < email.attachments.size(); ++i) {
    const std::string field = fmt::format("attachments[{}]", i);
    if (auto ok = check_attachment(email.attachments[i], field); !ok) return std::move(ok).error();
    if (auto ok = account(email.attachments[i].bytes.size(), field); !ok) {
      return std::move(ok).error();
    }
  }
  if (email.extra_headers.size() > kMaxExtraHeaders) {
    return core::invalid_field("extra_headers",
                               fmt::format("more than {} headers", kMaxExtraHeaders));
  }
  for (std::size_t i = 0; i < email.extra_headers.size(); ++i) {
    if (auto ok = check_extra_header(email.extra_headers[i], fmt::format("extra_headers[{}]", i));
        !ok) {
      return std::move(ok).error();
    }
  }

  Entity body;
  if (!email.html.empty() && !email.text.empty()) {
    body = multipart_entity("alternative",
                            {text_entity("plain", email.text), text_entity("html", email.html)});
  } else if (!email.html.empty()) {
    body = text_entity("html", email.html);
  } else {
    body = text_entity("plain", email.text);
  }
  if (!email.attachments.empty()) {
    std::vector<Entity> parts{std::move(body)};
    for (const auto& attachment : email.attachments) {
      parts.push_back(attachment_entity(attachment));
    }
    body = multipart_entity("mixed", parts);
  }

  std::string message;
  message.reserve(body.body.size() + 2048);
  message += fmt::format("Date: {}\r\n", format_email_date(email.date_ms));
  message += address_header("From", {*from});
  if (!to.empty()) message += address_header("To", to);
  if (!cc.empty()) message += address_header("Cc", cc);
  message += unstructured_header("Subject", email.subject);
  message += fmt::format("Message-ID: <{}@{}>\r\n", core::random_hex(16), domain);
  message += "MIME-Version: 1.0\r\n";
  for (const auto& [name, value] : email.extra_headers) {
    message += unstructured_header(name, value);
  }
  message += body.headers;
  message += kCrlf;
  message += body.body;
  if (!message.ends_with(kCrlf)) message += kCrlf;
  if (!lines_within_limit(message)) {
    return Error(Errc::kInternalError, "the rendered email has a line over 998 octets");
  }
  return message;
}

}  // namespace netpulse::notify::detail
