// Signed acknowledgement-link tokens (detail/ack_link.hpp): the compact binary claims, their
// truncated HMAC, and the strict reader that gives back exactly what was signed.
#include "detail/ack_link.hpp"

#include <algorithm>
#include <limits>

#include <netpulse/core/random.hpp>

namespace netpulse::notify::detail {

namespace {

constexpr unsigned char kVersion = 0x02;
constexpr std::size_t kMaxVarintBytes = 9;  // 63 bits: every positive int64

core::Error invalid() {
  return core::Error(core::Errc::kTokenInvalid, "the acknowledgement link is not valid");
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads the claims' bytes front to back; any misstep leaves ok() false.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  // A canonical varint in 1..INT64_MAX.
  std::int64_t positive() {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
      if (rest_.empty()) return fail();
      const auto byte = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        // A last group of zero after others is a second spelling of a shorter number.
        if (i > 0 && byte == 0) return fail();
        if (v == 0) return fail();
        return static_cast<std::int64_t>(v);
      }
    }
    return fail();  // a tenth byte would pass 63 bits
  }

  std::string bytes(std::size_t n) {
    if (rest_.size() < n) {
      fail();
      return {};
    }
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }

  unsigned char byte() {
    if (rest_.empty()) return static_cast<unsigned char>(fail());
    const auto b = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  bool done() const { return ok_ && rest_.empty(); }
  bool ok() const { return ok_; }

 private:
  std::int64_t fail() {
    ok_ = false;
    rest_ = {};
    return 0;
  }
  std::string_view rest_;
  bool ok_ = true;
};

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

std::string mac_of(std::string_view key, std::string_view claims) {
  return core::hmac_sha256(key, claims).substr(0, kAckMacBytes);
}

}  // namespace

std::string new_ack_nonce() {
  return core::random_hex(kAckNonceBytes);
}

core::Result<std::string> sign_ack_token(std::string_view key, const AckClaims& c) {
  auto bad = [](std::string_view why) { return core::invalid_field("ack_claims", why); };
  if (c.org_id <= 0 || c.expires_s <= 0) return bad("org and expiry must be positive");
  if ((c.user_id > 0) == (c.channel_id > 0) || c.user_id < 0 || c.channel_id < 0 ||
      std::max(c.user_id, c.channel_id) > std::numeric_limits<std::int64_t>::max() / 2) {
    return bad("exactly one recipient: a user or a channel");
  }
  if (c.alert_ids.empty() || c.alert_ids.size() > kMaxAckAlerts || c.alert_ids.front() <= 0 ||
      std::adjacent_find(c.alert_ids.begin(), c.alert_ids.end(),
                         [](auto a, auto b) { return b <= a; }) != c.alert_ids.end()) {
    return bad("1 to 20 ascending, distinct, positive alert ids");
  }
  if (c.nonce.size() != kAckNonceBytes * 2 || !lower_hex(c.nonce)) return bad("malformed nonce");
  std::string claims(1, static_cast<char>(kVersion));
  put_varint(claims, static_cast<std::uint64_t>(c.org_id));
  const bool channel = c.channel_id > 0;
  put_varint(claims, static_cast<std::uint64_t>(channel ? c.channel_id : c.user_id) << 1 |
                         (channel ? 1 : 0));
  put_varint(claims, static_cast<std::uint64_t>(c.expires_s));
  claims += unhex(c.nonce);
  put_varint(claims, c.alert_ids.size());
  std::int64_t previous = 0;
  for (auto id : c.alert_ids) {
    put_varint(claims, static_cast<std::uint64_t>(id - previous));
    previous = id;
  }
  return core::base64url_encode(claims + mac_of(key, claims));
}

core::Result<AckClaims> verify_ack_token(std::string_view key, std::string_view token,
                                         std::int64_t now_ms) {
  if (token.empty() || token.size() > kMaxAckTokenBytes) return invalid();
  std::string raw;
  if (!core::base64url_decode(token, raw) || raw.size() <= kAckMacBytes) return invalid();
  const std::string_view claims = std::string_view(raw).substr(0, raw.size() - kAckMacBytes);
  const std::string_view mac = std::string_view(raw).substr(raw.size() - kAckMacBytes);
  // The signature first: nothing of an unsigned token is read.
  if (!core::constant_time_equal(mac, mac_of(key, claims))) return invalid();
  Reader r(claims);
  AckClaims out;
  if (r.byte() != kVersion) return invalid();
  out.org_id = r.positive();
  const auto recipient = r.positive();
  if (recipient >= 2) (recipient & 1 ? out.channel_id : out.user_id) = recipient >> 1;
  out.expires_s = r.positive();
  out.nonce = core::to_hex(r.bytes(kAckNonceBytes));
  const auto n = r.positive();
  if (!r.ok() || recipient < 2 || n > static_cast<std::int64_t>(kMaxAckAlerts)) return invalid();
  std::int64_t id = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto step = r.positive();
    if (!r.ok() || step > std::numeric_limits<std::int64_t>::max() - id) return invalid();
    id += step;
    out.alert_ids.push_back(id);
  }
  if (!r.done()) return invalid();
  if (now_ms / 1000 >= out.expires_s) {
    return core::Error(core::Errc::kTokenExpired, "the acknowledgement link has expired");
  }
  return out;
}

}  // namespace netpulse::notify::detail
