// The email renderer (detail/mime.hpp): validates an Email and writes it as an RFC 5322 / MIME
// message. The message is 7-bit clean: header text that is not plain ASCII becomes RFC 2047
// encoded-words, bodies are quoted-printable, attachments base64, attachment names RFC 2231
// parameters. A boundary is "=_np_" and random hex: "=_" never occurs in quoted-printable or
// base64 output, and the rendered parts are searched anyway before a boundary is used.
#include "detail/mime.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>
#include <netpulse/core/text.hpp>

namespace netpulse::notify::detail {

namespace {

using core::Errc;
using core::Error;

constexpr std::size_t kFoldAt = 78;            // RFC 5322 2.1.1: SHOULD
constexpr std::size_t kHardLineLimit = 998;    // RFC 5322 2.1.1: MUST (without CRLF)
constexpr std::size_t kEncodedWordMax = 75;    // RFC 2047 2
constexpr std::size_t kPhraseWordMax = 70;     // a display name's encoded-words: fit after "From: "
constexpr std::size_t kEncodedWordFrame = 12;  // "=?UTF-8?B?" + "?="
constexpr std::size_t kQpLineMax = 76;         // RFC 2045 6.7 (5)
constexpr std::size_t kMaxDisplayName = 200;
constexpr std::size_t kMaxFilename = 255;
constexpr std::size_t kMaxHeaderValue = 998;
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHex = "0123456789ABCDEF";

bool is_atext(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_ldh_domain(std::string_view domain) noexcept {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const std::size_t dot = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool ldh =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ldh) return false;
    }
    start = dot + 1;
  }
  return true;
}

bool has_line_break(std::string_view text) noexcept {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

bool is_printable_ascii(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// One line of UTF-8 text for a header: no CR/LF (injection), no other control character but
// tab, valid UTF-8, at most `max_bytes`.
core::Result<void> check_header_text(std::string_view text, std::string_view field,
                                     std::size_t max_bytes) {
  if (has_line_break(text)) {
    return core::invalid_field(field, "must not contain CR or LF (header injection)");
  }
  if (text.size() > max_bytes) {
    return core::invalid_field(field, fmt::format("longer than {} bytes", max_bytes));
  }
  if (!core::utf8_length(text)) return core::invalid_field(field, "not valid UTF-8");
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
  });
  if (control) return core::invalid_field(field, "contains a control character");
  return core::ok();
}

std::size_t utf8_sequence_length(unsigned char lead) noexcept {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  return 4;
}

// RFC 2047 5(3): the characters a Q-encoded word may carry as they are, in any position.
bool is_q_safe(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
         c == '*' || c == '+' || c == '-' || c == '/';
}

void append_hex_escape(std::string& out, char prefix, unsigned char byte) {
  out += prefix;
  out += kHex[byte >> 4];
  out += kHex[byte & 0x0f];
}

// `text` (valid UTF-8) as encoded-words, whole characters in each; the first word at most
// `first_max` characters, the others at most `word_max`.
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_max,
                                       std::size_t word_max) {
  std::size_t q_cost = 0;
  for (char c : text) q_cost += (is_q_safe(c) || c == ' ') ? 1 : 3;
  const bool use_q = q_cost <= (text.size() + 2) / 3 * 4;
  const std::string_view prefix = use_q ? "=?UTF-8?Q?" : "=?UTF-8?B?";

  std::vector<std::string> words;
  std::string pending;  // Q: encoded text; B: raw bytes
  auto payload_size = [&](std::size_t extra_raw, std::size_t extra_q) {
    return use_q ? pending.size() + extra_q : (pending.size() + extra_raw + 2) / 3 * 4;
  };
  auto flush = [&] {
    words.push_back(std::string(prefix) + (use_q ? pending : base64_encode(pending)) + "?=");
    pending.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n =
        std::min(utf8_sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    const std::string_view character = text.substr(i, n);
    std::string q;
    for (char c : character) {
      if (c == ' ') {
        q += '_';
      } else if (is_q_safe(c)) {
        q += c;
      } else {
        append_hex_escape(q, '=', static_cast<unsigned char>(c));
      }
    }
    const std::size_t limit = (words.empty() ? first_max : word_max) - kEncodedWordFrame;
    if (!pending.empty() && payload_size(n, q.size()) > limit) flush();
    pending += use_q ? q : std::string(character);
    i += n;
  }
  if (!pending.empty() || words.empty()) flush();
  return words;
}

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
      append_hex_escape(piece, '%', static_cast<unsigned char>(c));
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

bool is_valid_addr_spec(std::string_view address) noexcept {
  if (address.size() > 254) return false;
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view local = address.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  if (!std::all_of(local.begin(), local.end(), [](char c) { return is_atext(c) || c == '.'; })) {
    return false;
  }
  return is_ldh_domain(address.substr(at + 1));
}

core::Result<Mailbox> parse_mailbox(std::string_view text, std::string_view field) {
  if (has_line_break(text)) {
    return core::invalid_field(field, "must not contain CR or LF (header injection)");
  }
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  Mailbox mailbox;
  std::string_view address = text;
  if (!text.empty() && text.back() == '>') {
    const auto open = text.rfind('<');
    if (open == std::string_view::npos) return core::invalid_field(field, "unbalanced '<' '>'");
    address = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        mailbox.display_name += name[i];
      }
    } else {
      mailbox.display_name = std::string(name);
    }
    if (auto ok = check_header_text(mailbox.display_name, field, kMaxDisplayName); !ok) {
      return std::move(ok).error();
    }
  }
  if (!is_valid_addr_spec(address)) {
    return core::invalid_field(field,
                               fmt::format("\"{}\" is not an email address NetPulse sends to",
                                           is_printable_ascii(address) ? address : "?"));
  }
  mailbox.address = std::string(address);
  return mailbox;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_lines(std::string_view bytes) {
  constexpr std::size_t kLineBytes = 57;  // 76 characters of base64
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 + (bytes.size() / kLineBytes + 1) * 2);
  for (std::size_t i = 0; i < bytes.size(); i += kLineBytes) {
    out += base64_encode(bytes.substr(i, kLineBytes));
    out += kCrlf;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      const bool at_end = i + 1 == line.size();
      const bool inner_space = (c == ' ' || c == '\t') && !at_end;
      const bool literal = c > 0x20 && c < 0x7f && c != '=' && !(c == '.' && column == 0);
      std::string token;
      if (inner_space || literal) {
        token = c;
      } else {
        append_hex_escape(token, '=', static_cast<unsigned char>(c));
      }
      if (column + token.size() > kQpLineMax - 1) {
        out += "=\r\n";
        column = 0;
        if (token == ".") token = "=2E";  // a '.' now starting a line
      }
      out += token;
      column += token.size();
    }
    if (last) break;
    out += kCrlf;
    start = end + 1;
  }
  return out;
}

std::string encode_unstructured(std::string_view text, std::size_t used) {
  // Plain when printable ASCII without "=?" (which would read as an encoded-word), no space at
  // either end, no run of spaces (a fold must not leave a line of white space), and every
  // word fits on a folded line.
  const bool plain_candidate = is_printable_ascii(text) &&
                               text.find("=?") == std::string_view::npos &&
                               (text.empty() || (text.front() != ' ' && text.back() != ' ')) &&
                               text.find("  ") == std::string_view::npos;
  if (plain_candidate) {
    std::string out;
    std::size_t line = used;
    bool fits = true;
    std::size_t start = 0;
    while (start < text.size() && fits) {
      const std::size_t space = std::min(text.find(' ', start + 1), text.size());
      const std::string_view segment = text.substr(start, space - start);  // " word" or "word"
      if (start > 0 && line + segment.size() > kFoldAt) {
        out += kCrlf;
        line = 0;
      }
      out += segment;
      line += segment.size();
      fits = line <= kFoldAt;
      start = space;
    }
    if (fits) return out;
  }
  std::string out;
  std::size_t first_max = std::min(kEncodedWordMax, kFoldAt - std::min(used, kFoldAt));
  if (first_max < kEncodedWordFrame + 16) {
    out += "\r\n ";  // no room on the header's own line: start on the next
    first_max = kEncodedWordMax;
  }
  const auto words = encoded_words(text, first_max, kEncodedWordMax);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += "\r\n ";
    out += words[i];
  }
  return out;
}

std::string format_email_date(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> when{milliseconds(unix_ms)};
  const auto day = floor<days>(when);
  const year_month_day date(day);
  const hh_mm_ss time(floor<seconds>(when - day));
  static constexpr std::array<std::string_view, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[weekday(day).c_encoding()],
                     static_cast<unsigned>(date.day()),
                     kMonths[static_cast<unsigned>(date.month()) - 1],
                     static_cast<int>(date.year()), time.hours().count(), time.minutes().count(),
                     time.seconds().count());
}

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

std::vector<std::string> envelope_recipients(const Email& email) {
  std::vector<std::string> out;
  for (const auto* list : {&email.to, &email.cc}) {
    for (const auto& text : *list) {
      auto mailbox = parse_mailbox(text, "to");
      if (!mailbox) continue;
      if (std::find(out.begin(), out.end(), mailbox->address) == out.end()) {
        out.push_back(std::move(mailbox->address));
      }
    }
  }
  return out;
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 2);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
      out += kCrlf;
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!out.empty() && !line_start) out += kCrlf;
  return out;
}

}  // namespace netpulse::notify::detail
