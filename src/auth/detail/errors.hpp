// Errors the auth module's files share, so that each failure reads the same wherever it is
// raised. Private to the module.
#pragma once

#include <cstdint>

#include <fmt/format.h>

#include <netpulse/core/result.hpp>

namespace netpulse::auth::detail {

// The one answer for an unknown email, a wrong password and an inactive account.
inline core::Error invalid_credentials() {
  return core::Error(core::Errc::kInvalidCredentials, "invalid email or password");
}

inline core::Error throttled(std::int64_t wait_s) {
  boost::json::object details;
  details["retry_after_s"] = wait_s;
  return core::Error(core::Errc::kRateLimitExceeded,
                     fmt::format("too many failed attempts; try again in {} s", wait_s),
                     std::move(details));
}

inline core::Error user_not_found() {
  return core::Error(core::Errc::kUserNotFound, "user not found");
}

}  // namespace netpulse::auth::detail
