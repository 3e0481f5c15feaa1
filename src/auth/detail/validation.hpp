// Checks on the fields the auth module stores: emails, names, organization slugs. Each returns
// kInvalidInput naming the field. Private to the module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::auth::detail {

inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMaxNameLength = 200;  // code points

// local@domain: exactly one '@' with text on both sides, at most kMaxEmailBytes bytes, valid
// UTF-8, no spaces or control characters.
core::Result<void> check_email(std::string_view email, std::string_view field = "email");

// At most `max_length` code points of valid UTF-8 without control characters; at least one
// non-space character when `required`.
core::Result<void> check_name(std::string_view name, std::string_view field, bool required,
                              std::size_t max_length = kMaxNameLength);

// ^[a-z0-9][a-z0-9-]{0,62}$
core::Result<void> check_slug(std::string_view slug, std::string_view field = "slug");

// Whether `text` is a whole number without sign, spaces or leading '+'; sets `out`.
bool parse_id(std::string_view text, std::int64_t& out) noexcept;

}  // namespace netpulse::auth::detail
