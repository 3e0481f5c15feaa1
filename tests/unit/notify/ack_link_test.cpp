// Acknowledgement-link tokens (src/notify/ack_link.cpp): they read back, expire, stay short
// enough for an SMS, and refuse forgery, damage, signed nonsense and claims they cannot carry.
#include "notify/detail/ack_link.hpp"

#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

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
  AckClaims c;
  c.org_id = 7;
  c.alert_ids = {4242};
  c.channel_id = 3;
  c.expires_s = kNowMs / 1000 + 3600;
  c.nonce = "0123456789abcdef";
  return c;
}

std::string sign(const AckClaims& c) {
  auto t = sign_ack_token(kKey, c);
  REQUIRE(t);
  return *t;
}

// A token over hand-made claims bytes, correctly signed.
std::string signed_bytes(const std::string& bytes) {
  return core::base64url_encode(bytes + core::hmac_sha256(kKey, bytes).substr(0, 16));
}

}  // namespace

TEST_CASE("an acknowledgement token reads back its claims until it expires", "[notify][ack]") {
  const auto token = sign(claims());
  auto back = verify_ack_token(kKey, token, kNowMs);
  REQUIRE(back);
  CHECK(*back == claims());
  // One second before the expiry it still holds; at the expiry it is refused as expired.
  CHECK(verify_ack_token(kKey, token, (claims().expires_s - 1) * 1000 + 999));
  auto late = verify_ack_token(kKey, token, claims().expires_s * 1000);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == core::Errc::kTokenExpired);
}

TEST_CASE("an acknowledgement token is the documented bytes", "[notify][ack]") {
  // Computed independently (Python's hmac over the bytes of docs/notify.md's layout); the same
  // token seeds the fuzz corpus (tests/fuzz/corpus/ack_token/v2_channel_one_alert).
  CHECK(sign(claims()) == "AgcHkI7XygYBI0VniavN7wGSIXLS2Sve1kMn7KwmqTVkxhw");
}

TEST_CASE("an acknowledgement token names a user or a channel and up to 20 alerts",
          "[notify][ack]") {
  auto user = claims();
  user.channel_id = 0;
  user.user_id = 3;
  auto back = verify_ack_token(kKey, sign(user), kNowMs);
  REQUIRE(back);
  CHECK(back->user_id == 3);
  CHECK(back->channel_id == 0);
  // The same ids as a channel's link is another token.
  CHECK(sign(user) != sign(claims()));

  auto many = claims();
  many.alert_ids.clear();
  for (std::int64_t i = 0; i < 20; ++i) many.alert_ids.push_back(1'000'000 + i * (i + 1));
  many.alert_ids.back() = std::numeric_limits<std::int64_t>::max();
  back = verify_ack_token(kKey, sign(many), kNowMs);
  REQUIRE(back);
  CHECK(*back == many);
}

TEST_CASE("an acknowledgement token fits in an SMS beside a short text", "[notify][ack]") {
  // One alert (ids of a busy server), a channel: 48 characters.
  auto one = claims();
  one.org_id = 12;
  one.alert_ids = {1'234'567};
  CHECK(sign(one).size() == 48);
  // A group of 20 alerts raised together (close ids): still under 80.
  auto group = one;
  group.alert_ids.clear();
  for (std::int64_t i = 0; i < 20; ++i) group.alert_ids.push_back(1'234'567 + i * 3);
  CHECK(sign(group).size() <= 80);
}

TEST_CASE("claims a token cannot carry are refused when signing", "[notify][ack]") {
  const std::vector<std::pair<std::string, std::function<void(AckClaims&)>>> cases = {
      {"no alert", [](AckClaims& c) { c.alert_ids.clear(); }},
      {"21 alerts",
       [](AckClaims& c) {
         c.alert_ids.clear();
         for (std::int64_t i = 1; i <= 21; ++i) c.alert_ids.push_back(i);
       }},
      {"not ascending",
       [](AckClaims& c) {
         c.alert_ids = {5, 3};
       }},
      {"a repeated alert",
       [](AckClaims& c) {
         c.alert_ids = {5, 5};
       }},
      {"alert 0",
       [](AckClaims& c) {
         c.alert_ids = {0, 5};
       }},
      {"a user and a channel", [](AckClaims& c) { c.user_id = 2; }},
      {"no recipient", [](AckClaims& c) { c.channel_id = 0; }},
      {"no organization", [](AckClaims& c) { c.org_id = 0; }},
      {"a nonce of the old length",
       [](AckClaims& c) { c.nonce = "0123456789abcdef0123456789abcdef"; }},
      {"an upper-case nonce", [](AckClaims& c) { c.nonce = "0123456789ABCDEF"; }},
  };
  REQUIRE(sign_ack_token(kKey, claims()));  // the base claims are fine
  for (const auto& [name, spoil] : cases) {
    INFO(name);
    auto c = claims();
    spoil(c);
    auto r = sign_ack_token(kKey, c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
  }
}

TEST_CASE("a forged or damaged acknowledgement token is refused", "[notify][ack]") {
  const auto token = sign(claims());

  SECTION("another key") {
    auto r = verify_ack_token(std::string(32, 'x'), token, kNowMs);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kTokenInvalid);
  }
  SECTION("claims changed, signature kept (another alert)") {
    std::string raw;
    REQUIRE(core::base64url_decode(token, raw));
    auto forged = claims();
    forged.alert_ids = {1};
    std::string other;
    REQUIRE(core::base64url_decode(sign(forged), other));
    const auto spliced =
        core::base64url_encode(other.substr(0, other.size() - 16) + raw.substr(raw.size() - 16));
    auto r = verify_ack_token(kKey, spliced, kNowMs);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kTokenInvalid);
  }
  SECTION("every single bit flipped") {
    std::string raw;
    REQUIRE(core::base64url_decode(token, raw));
    for (std::size_t i = 0; i < raw.size() * 8; ++i) {
      auto damaged = raw;
      damaged[i / 8] = static_cast<char>(damaged[i / 8] ^ (1 << (i % 8)));
      CHECK_FALSE(verify_ack_token(kKey, core::base64url_encode(damaged), kNowMs));
    }
  }
  SECTION("the old text format, even correctly signed") {
    const std::string text = "ack1:7:4242:3:1767229200:0123456789abcdef0123456789abcdef";
    const auto t =
        core::base64url_encode(text) + "." + core::base64url_encode(core::hmac_sha256(kKey, text));
    CHECK_FALSE(verify_ack_token(kKey, t, kNowMs));
  }
  SECTION("hostile shapes") {
    for (const std::string& bad : {std::string(), std::string("."), std::string("abc"), token + "x",
                                   "x" + token, token.substr(0, 10), std::string(600, 'a'),
                                   token + "." + token, std::string("%%%.%%%")}) {
      auto r = verify_ack_token(kKey, bad, kNowMs);
      CHECK_FALSE(r);
      if (!r) CHECK(r.error().code == core::Errc::kTokenInvalid);
    }
  }
  SECTION("validly signed claims out of range or not canonical are refused all the same") {
    const std::string nonce = "\x01\x23\x45\x67\x89\xab\xcd\xef";
    // version, org 7, channel 3 (7), expiry 1767229200 as a varint, the nonce, 1 alert: 42.
    const std::string expiry = "\x90\x8e\xd7\xca\x06";
    const std::string good = std::string("\x02\x07\x07") + expiry + nonce + "\x01\x2a";
    REQUIRE(verify_ack_token(kKey, signed_bytes(good), kNowMs));
    for (const std::string& bytes : {
             std::string("\x01\x07\x07") + expiry + nonce + "\x01\x2a",         // version 1
             std::string("\x02\x00\x07", 3) + expiry + nonce + "\x01\x2a",      // org 0
             std::string("\x02\x87\x00\x07", 4) + expiry + nonce + "\x01\x2a",  // org 7, spelt long
             std::string("\x02\x07\x01") + expiry + nonce + "\x01\x2a",         // channel 0
             std::string("\x02\x07\x07") + expiry + nonce +
                 std::string("\x00\x2a", 2),  // no alert, one id
             std::string("\x02\x07\x07") + expiry + nonce + "\x15" + std::string(21, '\x01'),
             std::string("\x02\x07\x07") + expiry + nonce +
                 std::string("\x02\x2a\x00", 3),                         // twice
             std::string("\x02\x07\x07") + expiry + nonce + "\x01",      // the id missing
             good + std::string(1, 0),                                   // a byte after
             std::string("\x02\x07\x07") + expiry + nonce.substr(0, 7),  // short
             std::string("\x02\x07\x07") + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" + nonce +
                 "\x01\x2a",  // an expiry over 63 bits
         }) {
      CHECK_FALSE(verify_ack_token(kKey, signed_bytes(bytes), kNowMs));
    }
  }
}
