// Acknowledgement links: a message to a person carries a link that acknowledges its alert as
// that person without a login (a phone at 3 a.m.). The link's token is signed, expiring and
// single-use:
//
//   token   = base64url(claims) "." base64url(HMAC-SHA-256(key, claims))
//   claims  = "ack1:<org>:<alert>:<user>:<expires, Unix s>:<nonce, 32 hex>"
//
// The key is the notifier's own (32 random bytes in <data_dir>/ack_link.key, 0600). Signing
// and checking are pure; "single use" is the notifier's: a used token's nonce is recorded
// (table ack_link_uses) until it expires, and a second use is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

inline constexpr std::size_t kAckKeyBytes = 32;
inline constexpr std::size_t kMaxAckTokenBytes = 512;

struct AckClaims {
  std::int64_t org_id = 0;
  std::int64_t alert_id = 0;
  std::int64_t user_id = 0;
  std::int64_t expires_s = 0;  // Unix seconds
  std::string nonce;           // 32 lower-case hex digits

  friend bool operator==(const AckClaims&, const AckClaims&) = default;
};

// The token of `claims` (its nonce must be 32 hex digits: core::random_hex(16)).
std::string sign_ack_token(std::string_view key, const AckClaims& claims);

// The claims of a token this key signed. kTokenInvalid for anything else (malformed, over
// kMaxAckTokenBytes, a bad signature, an unknown version) with a message that does not say
// which; kTokenExpired once `now_ms` reaches the expiry.
core::Result<AckClaims> verify_ack_token(std::string_view key, std::string_view token,
                                         std::int64_t now_ms);

}  // namespace netpulse::notify::detail
