// The encodings of the email renderer (detail/mime.hpp): base64, quoted-printable, RFC 2047
// encoded-words and the folding of unstructured header text, the RFC 5322 date, and the
// dot-stuffing of SMTP's DATA phase.
#include <array>
#include <chrono>

#include <fmt/format.h>

#include "detail/mime.hpp"
#include "detail/mime_text.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::size_t kEncodedWordFrame = 12;  // "=?UTF-8?B?" + "?="
constexpr std::size_t kQpLineMax = 76;         // RFC 2045 6.7 (5)
constexpr std::string_view kHex = "0123456789ABCDEF";

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

}  // namespace

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
