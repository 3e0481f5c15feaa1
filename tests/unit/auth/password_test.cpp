// Argon2id hashing and the password policy: code points, not bytes; valid UTF-8 only.
#include "auth/detail/password.hpp"

#include <catch2/catch.hpp>

using netpulse::auth::detail::check_password;
using netpulse::auth::detail::PasswordHasher;
using netpulse::auth::detail::PasswordPolicy;
using netpulse::auth::detail::utf8_length;

namespace {
// Cheap parameters for tests; production values come from the configuration.
PasswordHasher test_hasher() {
  return PasswordHasher(8192, 1);
}
}  // namespace

TEST_CASE("password: a hash verifies its password and no other", "[auth][password]") {
  auto hasher = test_hasher();
  REQUIRE(hasher.validate());
  auto hash = hasher.hash("correct horse battery staple");
  REQUIRE(hash);
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(hash->find("m=8192,t=1") != std::string::npos);
  CHECK(hasher.verify(*hash, "correct horse battery staple"));
  CHECK_FALSE(hasher.verify(*hash, "correct horse battery stapler"));
  CHECK_FALSE(hasher.verify(*hash, ""));
  CHECK_FALSE(hasher.verify("not a hash", "correct horse battery staple"));
  CHECK_FALSE(hasher.verify("", "x"));
  auto again = hasher.hash("correct horse battery staple");
  REQUIRE(again);
  CHECK(*again != *hash);  // salted
}

TEST_CASE("password: parameters outside libsodium's limits are refused", "[auth][password]") {
  CHECK_FALSE(PasswordHasher(0, 1).validate());
  CHECK_FALSE(PasswordHasher(8192, 0).validate());
}

TEST_CASE("password: policy bounds count code points", "[auth][password]") {
  const PasswordPolicy policy{8, 128};
  CHECK_FALSE(check_password("", policy));
  CHECK_FALSE(check_password("1234567", policy));
  CHECK(check_password("12345678", policy));
  CHECK(check_password(std::string(128, 'a'), policy));
  auto too_long = check_password(std::string(129, 'a'), policy);
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == netpulse::core::Errc::kInvalidInput);
  CHECK(too_long.error().details.at("field").as_string() == "password");
  // Eight two-byte characters are eight characters, not sixteen.
  std::string umlauts;
  for (int i = 0; i < 8; ++i) umlauts += "\xc3\xbc";
  CHECK(check_password(umlauts, PasswordPolicy{8, 8}));
  CHECK_FALSE(check_password(umlauts.substr(0, 14), PasswordPolicy{8, 8}));
}

TEST_CASE("password: invalid UTF-8 and NUL are refused", "[auth][password]") {
  const PasswordPolicy policy{1, 256};
  for (std::string_view bad : {std::string_view("abc\xff"
                                                "defgh"),
                               std::string_view("abc\xc3", 4),                // truncated
                               std::string_view("\xc0\xafpassword"),          // overlong '/'
                               std::string_view("\xed\xa0\x80password"),      // surrogate
                               std::string_view("\xf4\x90\x80\x80password"),  // past U+10FFFF
                               std::string_view("\x80password"),              // lone continuation
                               std::string_view("pass\0word", 9)}) {
    INFO(std::string(bad));
    CHECK_FALSE(check_password(bad, policy));
  }
  CHECK(utf8_length("\xf0\x9f\x94\x91 key") == 5);
  CHECK(utf8_length("\xe2\x82\xac") == 1);
}

TEST_CASE("password: generated passwords use the unambiguous alphabet", "[auth][password]") {
  const auto pw = netpulse::auth::detail::generate_password(20);
  CHECK(pw.size() == 20);
  CHECK(pw.find_first_of("0O1lI") == std::string::npos);
  CHECK(netpulse::auth::detail::generate_password(20) != pw);
}
