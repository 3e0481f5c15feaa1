// Checks of free text that people type: names, labels, descriptions.
#pragma once

#include <cstddef>
#include <optional>
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

}  // namespace netpulse::core
