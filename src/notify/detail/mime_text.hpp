// Small pieces the email renderer's files share (mime.cpp, mime_address.cpp,
// mime_encoding.cpp): line limits, checks of header text, and the RFC 2047 word encoder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

inline constexpr std::size_t kFoldAt = 78;          // RFC 5322 2.1.1: SHOULD
inline constexpr std::size_t kEncodedWordMax = 75;  // RFC 2047 2
inline constexpr std::string_view kCrlf = "\r\n";

inline bool has_line_break(std::string_view text) noexcept {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

inline bool is_printable_ascii(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// RFC 5322 atext: what an atom (a dot-atom local part, a display name word) is made of.
inline bool is_atext(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// A domain of LDH labels (1..63 characters, no leading or trailing '-'), at most 253 in all.
bool is_ldh_domain(std::string_view domain) noexcept;

// One line of UTF-8 text for a header: no CR/LF (injection), no other control character but
// tab, valid UTF-8, at most `max_bytes`; kInvalidInput naming `field` otherwise.
core::Result<void> check_header_text(std::string_view text, std::string_view field,
                                     std::size_t max_bytes);

// `text` (valid UTF-8) as RFC 2047 UTF-8 encoded-words (Q when mostly ASCII, else B), whole
// characters in each; the first word at most `first_max` characters, the others `word_max`.
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_max,
                                       std::size_t word_max);

}  // namespace netpulse::notify::detail
