// Signed acknowledgement-link tokens (detail/ack_link.hpp).
#include "detail/ack_link.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>

namespace netpulse::notify::detail {

namespace {

constexpr std::string_view kVersion = "ack1";
constexpr std::size_t kNonceHex = 32;

core::Error invalid() {
  return core::Error(core::Errc::kTokenInvalid, "the acknowledgement link is not valid");
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t from = 0;
  for (;;) {
    const auto at = s.find(sep, from);
    out.push_back(
        s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

bool positive(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19 || text.front() == '0') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string sign_ack_token(std::string_view key, const AckClaims& c) {
  const std::string claims = fmt::format("{}:{}:{}:{}:{}:{}", kVersion, c.org_id, c.alert_id,
                                         c.user_id, c.expires_s, c.nonce);
  return core::base64url_encode(claims) + "." +
         core::base64url_encode(core::hmac_sha256(key, claims));
}

core::Result<AckClaims> verify_ack_token(std::string_view key, std::string_view token,
                                         std::int64_t now_ms) {
  if (token.empty() || token.size() > kMaxAckTokenBytes) return invalid();
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return invalid();
  std::string claims, mac;
  if (!core::base64url_decode(token.substr(0, dot), claims) ||
      !core::base64url_decode(token.substr(dot + 1), mac)) {
    return invalid();
  }
  // The signature first: nothing of an unsigned token is read.
  if (!core::constant_time_equal(mac, core::hmac_sha256(key, claims))) return invalid();
  const auto parts = split(claims, ':');
  AckClaims out;
  if (parts.size() != 6 || parts[0] != kVersion || !positive(parts[1], out.org_id) ||
      !positive(parts[2], out.alert_id) || !positive(parts[3], out.user_id) ||
      !positive(parts[4], out.expires_s) || parts[5].size() != kNonceHex || !lower_hex(parts[5])) {
    return invalid();
  }
  out.nonce = std::string(parts[5]);
  if (now_ms / 1000 >= out.expires_s) {
    return core::Error(core::Errc::kTokenExpired, "the acknowledgement link has expired");
  }
  return out;
}

}  // namespace netpulse::notify::detail
