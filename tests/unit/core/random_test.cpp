// Encodings, hashes and ids: base64url round trip and rejection of bad input, SHA-256 and
// HMAC-SHA-256 against published vectors, uuid_v4 shape, hex, constant-time comparison.
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include <netpulse/core/random.hpp>

using namespace netpulse::core;

TEST_CASE("base64url: encodes without padding and round-trips every length", "[core][random]") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
  for (std::size_t n = 0; n < 70; ++n) {
    auto bytes = random_bytes(n);
    std::string back;
    REQUIRE(base64url_decode(base64url_encode(bytes), back));
    CHECK(back == bytes);
  }
}

TEST_CASE("base64url: invalid input is rejected", "[core][random]") {
  const char* bad[] = {
      "Zg==",   // padding is not allowed
      "Zm9v+",  // '+' belongs to standard base64
      "Zm9/",   // so does '/'
      "Z",      // a length no encoding produces
      "Zh",     // non-zero leftover bits (not canonical)
      "Zm 9v",  // whitespace
  };
  for (const char* text : bad) {
    INFO(text);
    std::string out;
    CHECK_FALSE(base64url_decode(text, out));
  }
}

TEST_CASE("sha256 and hmac_sha256 match the published test vectors", "[core][random]") {
  CHECK(to_hex(sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231, test case 2.
  CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("uuid_v4 has the version 4 shape and differs each time", "[core][random]") {
  const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = uuid_v4();
    INFO(id);
    CHECK(std::regex_match(id, shape));
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("random bytes, hex and constant-time comparison", "[core][random]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(32).size() == 32);
  CHECK(random_bytes(16) != random_bytes(16));
  auto hex = random_hex(8);
  CHECK(hex.size() == 16);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(to_hex(std::string("\x00\x7f\xff", 3)) == "007fff");
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK(constant_time_equal("", ""));
}
