// Checks of free text that people type (names, labels, descriptions): valid UTF-8, no control
// characters, a length in code points.
#include <netpulse/core/text.hpp>

namespace netpulse::core {

std::optional<std::size_t> utf8_length(std::string_view text) noexcept {
  std::size_t count = 0;
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    const unsigned char lead = byte(i);
    std::size_t extra = 0;
    char32_t cp = 0;
    if (lead == 0) return std::nullopt;
    if (lead < 0x80) {
      cp = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      cp = lead & 0x07;
    } else {
      return std::nullopt;  // continuation byte, overlong 2-byte lead, or past U+10FFFF
    }
    if (i + extra >= text.size() && extra > 0) return std::nullopt;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const unsigned char cont = byte(i + k);
      if ((cont & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cont & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

Result<void> check_text(std::string_view name, std::string_view field, bool required,
                        std::size_t max_length) {
  const auto length = utf8_length(name);
  if (!length || has_control(name)) {
    return invalid_field(field, "must be valid UTF-8 without control characters");
  }
  if (*length > max_length) {
    return invalid_field(field, "must be at most " + std::to_string(max_length) + " characters");
  }
  if (required && name.find_first_not_of(' ') == std::string_view::npos) {
    return invalid_field(field, "is required");
  }
  return ok();
}

bool has_control(std::string_view text) noexcept {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace netpulse::core

namespace netpulse::core {

namespace {

// The code point of the UTF-8 sequence at text[i] and its length; length 0 when the bytes there
// are not valid UTF-8 (the same rules as utf8_length, NUL aside: it is escaped like any C0).
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t extra = 0;
  char32_t cp = 0;
  if (lead < 0x80) return {lead, 1};
  if (lead >= 0xC2 && lead <= 0xDF) {
    extra = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    extra = 2;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    extra = 3;
    cp = lead & 0x07;
  } else {
    return {0, 0};
  }
  if (i + extra >= text.size()) return {0, 0};
  for (std::size_t k = 1; k <= extra; ++k) {
    const unsigned char cont = byte(i + k);
    if ((cont & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (cont & 0x3F);
  }
  if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {0, 0};
  }
  return {cp, extra + 1};
}

bool needs_escape(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

constexpr char kHex[] = "0123456789abcdef";

void append_hex_byte(std::string& out, unsigned char b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0xF];
}

}  // namespace

bool is_log_safe(std::string_view text) noexcept {
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

void append_log_safe(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto [cp, len] = decode_utf8(text, i);
    if (len == 0) {
      append_hex_byte(out, static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (!needs_escape(cp)) {
      out.append(text.substr(i, len));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x80) {
      append_hex_byte(out, static_cast<unsigned char>(cp));
    } else {
      out += "\\u{";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
      out += '}';
    }
    i += len;
  }
}

}  // namespace netpulse::core
