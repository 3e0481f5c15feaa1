// JWT HS256: a signed token verifies; every way of breaking one — algorithm, signature, key,
// issuer, audience, expiry, missing or mistyped claims, garbage, size — is refused.
#include "auth/detail/jwt.hpp"

#include <fstream>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <netpulse/core/random.hpp>

#include "support/temp_dir.hpp"

using netpulse::auth::detail::JwtClaims;
using netpulse::auth::detail::JwtCodec;
using netpulse::core::Errc;

namespace {

constexpr std::int64_t kNow = 1767225600;

const std::string& test_key() {
  static const std::string key = netpulse::core::random_bytes(32);
  return key;
}

JwtCodec codec(std::string issuer = "netpulse", std::string audience = "netpulse-api") {
  return JwtCodec(test_key(), std::move(issuer), std::move(audience));
}

JwtClaims claims() {
  JwtClaims c;
  c.sub = "42";
  c.org = 7;
  c.role = "operator";
  c.jti = "2b8f6c7e-0000-4000-8000-000000000001";
  c.iat = kNow;
  c.exp = kNow + 900;
  c.iss = "netpulse";
  c.aud = "netpulse-api";
  return c;
}

constexpr const char* kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::string payload_without(std::string_view claim) {
  std::string out = "{";
  auto add = [&](std::string_view name, std::string_view json) {
    if (name == claim) return;
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    out += json;
  };
  add("sub", "\"42\"");
  add("org", "7");
  add("role", "\"operator\"");
  add("jti", "\"j-1\"");
  add("iat", std::to_string(kNow));
  add("exp", std::to_string(kNow + 900));
  add("iss", "\"netpulse\"");
  add("aud", "\"netpulse-api\"");
  return out + "}";
}

Errc error_of(const std::string& token) {
  auto r = codec().verify(token, kNow);
  REQUIRE_FALSE(r);
  return r.error().code;
}

}  // namespace

TEST_CASE("jwt: a signed token verifies and yields its claims", "[auth][jwt]") {
  auto token = codec().sign(claims());
  auto r = codec().verify(token, kNow + 10);
  REQUIRE(r);
  CHECK(r->sub == "42");
  CHECK(r->org == 7);
  CHECK(r->role == "operator");
  CHECK(r->jti == claims().jti);
  CHECK(r->iat == kNow);
  CHECK(r->exp == kNow + 900);
}

TEST_CASE("jwt: algorithms other than HS256 are refused, including none", "[auth][jwt]") {
  const auto payload = payload_without("");
  for (const char* header :
       {R"({"alg":"none","typ":"JWT"})", R"({"alg":"HS512","typ":"JWT"})",
        R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"HS256"})",
        R"({"alg":"HS256","typ":"JWT","kid":"x"})", R"({"alg":"HS256","typ":"JWS"})",
        R"({"alg":["HS256"],"typ":"JWT"})", "[]", "null"}) {
    INFO(header);
    CHECK(error_of(codec().sign_raw(header, payload)) == Errc::kTokenInvalid);
  }
  // The classic "none" token: header and payload with an empty signature.
  const auto unsigned_token = netpulse::core::base64url_encode(R"({"alg":"none","typ":"JWT"})") +
                              "." + netpulse::core::base64url_encode(payload) + ".";
  CHECK(error_of(unsigned_token) == Errc::kTokenInvalid);
}

TEST_CASE("jwt: a tampered payload, a bad signature or another key is refused", "[auth][jwt]") {
  auto token = codec().sign(claims());
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');

  auto forged = claims();
  forged.role = "admin";
  const auto forged_token = codec().sign(forged);
  const auto f1 = forged_token.find('.');
  const auto f2 = forged_token.rfind('.');
  // The original header and signature around a payload that claims admin.
  const auto swapped =
      token.substr(0, dot1 + 1) + forged_token.substr(f1 + 1, f2 - f1 - 1) + token.substr(dot2);
  CHECK(error_of(swapped) == Errc::kTokenInvalid);

  auto flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK(error_of(flipped) == Errc::kTokenInvalid);

  CHECK(error_of(token.substr(0, dot2 + 1)) == Errc::kTokenInvalid);

  JwtCodec other(netpulse::core::random_bytes(32), "netpulse", "netpulse-api");
  CHECK(error_of(other.sign(claims())) == Errc::kTokenInvalid);
}

TEST_CASE("jwt: the wrong issuer or audience is refused", "[auth][jwt]") {
  auto wrong_iss = claims();
  wrong_iss.iss = "someone-else";
  CHECK(error_of(codec().sign(wrong_iss)) == Errc::kTokenInvalid);
  auto wrong_aud = claims();
  wrong_aud.aud = "another-api";
  CHECK(error_of(codec().sign(wrong_aud)) == Errc::kTokenInvalid);
  // The same token is fine for a codec configured with that issuer.
  CHECK(codec("someone-else").verify(codec().sign(wrong_iss), kNow));
}

TEST_CASE("jwt: expiry is exact and reported as expired", "[auth][jwt]") {
  auto token = codec().sign(claims());
  CHECK(codec().verify(token, kNow + 899));
  auto at_exp = codec().verify(token, kNow + 900);
  REQUIRE_FALSE(at_exp);
  CHECK(at_exp.error().code == Errc::kTokenExpired);
  auto later = codec().verify(token, kNow + 86400);
  REQUIRE_FALSE(later);
  CHECK(later.error().code == Errc::kTokenExpired);
}

TEST_CASE("jwt: an expired token with a bad signature is invalid, not expired", "[auth][jwt]") {
  JwtCodec other(netpulse::core::random_bytes(32), "netpulse", "netpulse-api");
  auto r = codec().verify(other.sign(claims()), kNow + 86400);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kTokenInvalid);
}

TEST_CASE("jwt: iat more than 60 s in the future is refused", "[auth][jwt]") {
  auto c = claims();
  c.iat = kNow + 60;
  CHECK(codec().verify(codec().sign(c), kNow));
  c.iat = kNow + 61;
  CHECK(error_of(codec().sign(c)) == Errc::kTokenInvalid);
}

TEST_CASE("jwt: every claim is required with its type", "[auth][jwt]") {
  CHECK(codec().verify(codec().sign_raw(kHeader, payload_without("")), kNow));
  for (const char* claim : {"sub", "org", "role", "jti", "iat", "exp", "iss", "aud"}) {
    INFO(claim);
    CHECK(error_of(codec().sign_raw(kHeader, payload_without(claim))) == Errc::kTokenInvalid);
  }
  const std::string base = payload_without("sub");
  const auto with = [&](std::string_view json) {
    return "{" + std::string(json) + "," + base.substr(1);
  };
  CHECK(error_of(codec().sign_raw(kHeader, with(R"("sub":42)"))) == Errc::kTokenInvalid);
  CHECK(error_of(codec().sign_raw(kHeader, with(R"("sub":"")"))) == Errc::kTokenInvalid);
  const std::string no_org = payload_without("org");
  CHECK(error_of(codec().sign_raw(kHeader, "{\"org\":\"7\"," + no_org.substr(1))) ==
        Errc::kTokenInvalid);
  CHECK(error_of(codec().sign_raw(kHeader, "{\"org\":7.5," + no_org.substr(1))) ==
        Errc::kTokenInvalid);
  const std::string no_exp = payload_without("exp");
  CHECK(error_of(codec().sign_raw(kHeader, "{\"exp\":\"soon\"," + no_exp.substr(1))) ==
        Errc::kTokenInvalid);
}

TEST_CASE("jwt: garbage, wrong segment counts and oversized tokens are refused", "[auth][jwt]") {
  const auto good = codec().sign(claims());
  for (const std::string& token :
       {std::string(""), std::string("."), std::string(".."), std::string("abc"),
        std::string("a.b"), std::string("a.b.c"), std::string("a.b.c.d"), good + ".", "." + good,
        good + ".x", std::string("!!!.???.***"), codec().sign_raw(kHeader, "not json"),
        codec().sign_raw(kHeader, "[1,2]"), codec().sign_raw("not json", payload_without("")),
        codec().sign_raw(kHeader, std::string("{\"sub\":\"\xff\"}"))}) {
    INFO(token);
    CHECK(error_of(token) == Errc::kTokenInvalid);
  }
  std::string big_payload = payload_without("");
  big_payload.insert(1, "\"pad\":\"" + std::string(4000, 'x') + "\",");
  const auto big = codec().sign_raw(kHeader, big_payload);
  REQUIRE(big.size() > 4096);
  CHECK(error_of(big) == Errc::kTokenInvalid);
}

TEST_CASE("jwt key: created once with mode 0600, then loaded unchanged", "[auth][jwt]") {
  netpulse::test::TempDir dir;
  auto first = netpulse::auth::detail::load_or_create_jwt_key(dir.path());
  REQUIRE(first);
  CHECK(first->size() == 32);
  struct stat st {};
  REQUIRE(::stat(dir.file("jwt.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto second = netpulse::auth::detail::load_or_create_jwt_key(dir.path());
  REQUIRE(second);
  CHECK(*second == *first);
}

TEST_CASE("jwt key: a key file of the wrong size is an error", "[auth][jwt]") {
  netpulse::test::TempDir dir;
  std::ofstream(dir.file("jwt.key")) << "too short";
  REQUIRE(::chmod(dir.file("jwt.key").c_str(), 0600) == 0);  // private, so the size is the fault
  auto r = netpulse::auth::detail::load_or_create_jwt_key(dir.path());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kConfigError);
  auto missing_dir = netpulse::auth::detail::load_or_create_jwt_key(dir.file("absent"));
  CHECK_FALSE(missing_dir);
}
