// Field checks for users and organizations. They run at the module's face so that the HTTP
// layer, the CLI and bootstrap all get the same rules and the same field-naming errors.
#include "detail/validation.hpp"

#include <charconv>

#include "detail/password.hpp"

namespace netpulse::auth::detail {

namespace {

bool has_control_or_space(std::string_view text, bool allow_space) noexcept {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
    if (c == ' ' && !allow_space) return true;
  }
  return false;
}

}  // namespace

core::Result<void> check_email(std::string_view email, std::string_view field) {
  if (email.empty()) return core::invalid_field(field, "is required");
  if (email.size() > kMaxEmailBytes) {
    return core::invalid_field(field, "must be at most 254 characters");
  }
  if (!utf8_length(email) || has_control_or_space(email, false)) {
    return core::invalid_field(field, "must not contain spaces or control characters");
  }
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos) {
    return core::invalid_field(field, "must look like local@domain");
  }
  return core::ok();
}

core::Result<void> check_name(std::string_view name, std::string_view field, bool required,
                              std::size_t max_length) {
  return core::check_text(name, field, required, max_length);
}

core::Result<void> check_slug(std::string_view slug, std::string_view field) {
  const auto lower_or_digit = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  bool ok = !slug.empty() && slug.size() <= 63 && lower_or_digit(slug.front());
  for (char c : slug) ok = ok && (lower_or_digit(c) || c == '-');
  if (!ok) {
    return core::invalid_field(
        field, "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'");
  }
  return core::ok();
}

bool parse_id(std::string_view text, std::int64_t& out) noexcept {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace netpulse::auth::detail
