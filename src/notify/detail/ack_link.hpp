// Acknowledgement links: a message carries a link that acknowledges its alerts as its recipient
// without a login (a phone at 3 a.m.). The link's token is signed, expiring and single-use, and
// short enough for an SMS (docs/notify.md, "Acknowledgement links"):
//
//   token   = base64url(claims || the first 16 bytes of HMAC-SHA-256(key, claims))
//   claims  = 0x02                                     the version
//             varint org
//             varint recipient << 1 | is_channel       a user id, or a channel id
//             varint expires (Unix s)
//             8 bytes nonce                            random; the single-use record's key
//             varint n (1..kMaxAckAlerts)
//             varint first alert id, then n-1 varint differences (ascending, each ≥ 1)
//
// Varints are unsigned LEB128, at most 9 bytes (63 bits), canonical (no trailing zero group),
// so every claims has exactly one encoding and every token exactly one meaning.
//
// The key is the notifier's own (32 random bytes in <data_dir>/ack_link.key, 0600). Signing
// and checking are pure; "single use" is the notifier's: a used token's nonce is recorded
// (table ack_link_uses) until it expires, and a second use is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

inline constexpr std::size_t kAckKeyBytes = 32;
inline constexpr std::size_t kMaxAckTokenBytes = 512;
// The alerts one link acknowledges at most (a message lists fewer than that).
inline constexpr std::size_t kMaxAckAlerts = 20;
inline constexpr std::size_t kAckNonceBytes = 8;
inline constexpr std::size_t kAckMacBytes = 16;

struct AckClaims {
  std::int64_t org_id = 0;
  std::vector<std::int64_t> alert_ids;  // ascending, distinct, 1..kMaxAckAlerts of them
  // The recipient: exactly one of the two is set (> 0).
  std::int64_t user_id = 0;
  std::int64_t channel_id = 0;
  std::int64_t expires_s = 0;  // Unix seconds
  std::string nonce;           // kAckNonceBytes * 2 lower-case hex digits

  friend bool operator==(const AckClaims&, const AckClaims&) = default;
};

// A new nonce for AckClaims::nonce.
std::string new_ack_nonce();

// The token of `claims`; kInvalidInput when they break the rules above (no alert or too many,
// not ascending, no or two recipients, a non-positive id or expiry, a malformed nonce).
core::Result<std::string> sign_ack_token(std::string_view key, const AckClaims& claims);

// The claims of a token this key signed. kTokenInvalid for anything else (malformed, over
// kMaxAckTokenBytes, a bad signature, an unknown version) with a message that does not say
// which; kTokenExpired once `now_ms` reaches the expiry.
core::Result<AckClaims> verify_ack_token(std::string_view key, std::string_view token,
                                         std::int64_t now_ms);

}  // namespace netpulse::notify::detail
