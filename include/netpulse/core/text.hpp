// Checks of free text that people type (names, labels, descriptions), and the escaping of text
// from outside before it goes into a log line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

// The number of code points of `text`, or nullopt when it is not valid UTF-8 (overlong forms,
// surrogates, past U+10FFFF, truncated sequences and NUL are all invalid).
std::optional<std::size_t> utf8_length(std::string_view text) noexcept;

// Whether `text` holds a C0 control character or DEL.
bool has_control(std::string_view text) noexcept;

// At most `max_length` code points of valid UTF-8 without control characters; at least one
// non-space character when `required`. kInvalidInput naming `field` otherwise.
Result<void> check_text(std::string_view text, std::string_view field, bool required,
                        std::size_t max_length);

// `text` made safe for one log line: C0 and C1 control characters, DEL, the Unicode line and
// paragraph separators and the bidirectional overrides (which can make a line read as another)
// become visible escapes (\n, \r, \t, \xNN, \u{NNNN}), and every byte that is not part of valid
// UTF-8 becomes \xNN. Everything else, including backslashes, is kept. Appends to `out`.
void append_log_safe(std::string& out, std::string_view text);
// Whether `text` is already log-safe as it stands (the common case: no copy needed).
bool is_log_safe(std::string_view text) noexcept;

}  // namespace netpulse::core
