// Acknowledgement-link tokens (src/notify/ack_link.cpp): they read back, expire, and refuse
// forgery, damage and signed nonsense.
#include "notify/detail/ack_link.hpp"

#include <catch2/catch.hpp>

#include <netpulse/core/random.hpp>

using namespace netpulse;
using notify::detail::AckClaims;
using notify::detail::sign_ack_token;
using notify::detail::verify_ack_token;

namespace {

const std::string kKey(32, 'k');
constexpr std::int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

AckClaims claims() {
  return AckClaims{7, 4242, 3, kNowMs / 1000 + 3600, "0123456789abcdef0123456789abcdef"};
}

}  // namespace

TEST_CASE("an acknowledgement token reads back its claims until it expires", "[notify][ack]") {
  const auto token = sign_ack_token(kKey, claims());
  auto back = verify_ack_token(kKey, token, kNowMs);
  REQUIRE(back);
  CHECK(*back == claims());
  // One second before the expiry it still holds; at the expiry it is refused as expired.
  CHECK(verify_ack_token(kKey, token, (claims().expires_s - 1) * 1000 + 999));
  auto late = verify_ack_token(kKey, token, claims().expires_s * 1000);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == core::Errc::kTokenExpired);
}

TEST_CASE("a forged or damaged acknowledgement token is refused", "[notify][ack]") {
  const auto token = sign_ack_token(kKey, claims());
  const auto dot = token.find('.');
  REQUIRE(dot != std::string::npos);

  SECTION("another key") {
    auto r = verify_ack_token(std::string(32, 'x'), token, kNowMs);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kTokenInvalid);
  }
  SECTION("claims changed, signature kept (another alert)") {
    auto forged_claims = claims();
    forged_claims.alert_id = 1;
    const auto other = sign_ack_token(kKey, forged_claims);
    const auto spliced = other.substr(0, other.find('.')) + token.substr(dot);
    auto r = verify_ack_token(kKey, spliced, kNowMs);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kTokenInvalid);
  }
  SECTION("a signed text that is not our claims") {
    const std::string text = "ack1:7:4242:3";
    const auto t =
        core::base64url_encode(text) + "." + core::base64url_encode(core::hmac_sha256(kKey, text));
    CHECK_FALSE(verify_ack_token(kKey, t, kNowMs));
  }
  SECTION("hostile shapes") {
    for (const std::string& bad :
         {std::string(), std::string("."), std::string("abc"), token + "x", "x" + token,
          token.substr(0, dot), token.substr(dot), std::string(600, 'a') + "." + "b",
          token.substr(0, dot) + "." + token.substr(0, dot), std::string("%%%.%%%")}) {
      auto r = verify_ack_token(kKey, bad, kNowMs);
      CHECK_FALSE(r);
      if (!r) CHECK(r.error().code == core::Errc::kTokenInvalid);
    }
  }
  SECTION("validly signed claims out of range are refused all the same") {
    for (const std::string_view text :
         {"ack1:0:4242:3:1767229200:0123456789abcdef0123456789abcdef",
          "ack1:7:-1:3:1767229200:0123456789abcdef0123456789abcdef",
          "ack1:7:4242:3:1767229200:0123456789ABCDEF0123456789abcdef",
          "ack1:7:4242:3:1767229200:0123",
          "ack2:7:4242:3:1767229200:0123456789abcdef0123456789abcdef",
          "ack1:07:4242:3:1767229200:0123456789abcdef0123456789abcdef",
          "ack1:7:4242:3:99999999999999999999:0123456789abcdef0123456789abcdef"}) {
      const auto t = core::base64url_encode(text) + "." +
                     core::base64url_encode(core::hmac_sha256(kKey, text));
      CHECK_FALSE(verify_ack_token(kKey, t, kNowMs));
    }
  }
}
