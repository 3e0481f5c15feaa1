// pollers.traps_v3_users lines into the trap receiver's USM users
// (src/pollers/detail/credentials.hpp).
#include "pollers/detail/credentials.hpp"

#include <catch2/catch.hpp>

using namespace netpulse;
namespace detail = pollers::detail;

TEST_CASE("credentials: trap v3 user lines", "[pollers][traps]") {
  auto u = detail::parse_trap_v3_user(
      "  0x80001f8880aabb trapper\tSHA-256 authpass1 AES privpass1 ", "pollers.traps_v3_users[0]");
  REQUIRE(u);
  CHECK(u->engine_id == "0x80001f8880aabb");
  CHECK(u->user == "trapper");
  CHECK(u->auth_protocol == pollers::AuthProtocol::kSHA256);
  CHECK(u->auth_password == "authpass1");
  CHECK(u->priv_protocol == pollers::PrivProtocol::kAES128);
  CHECK(u->priv_password == "privpass1");

  auto auth_only = detail::parse_trap_v3_user("8000aabbcc u MD5 authpass1", "f");
  REQUIRE(auth_only);
  CHECK(auth_only->priv_protocol == pollers::PrivProtocol::kNone);

  for (const char* bad : {"", "0x8000 user", "0x8000 user SHA", "0x8000 user SHA pw AES",
                          "0x8000 user none authpass1", "0x8000 user SHA-1 authpass1",
                          "0x8000 user SHA authpass1 none privpass1",
                          "0x8000 user SHA authpass1 AES privpass1 extra"}) {
    auto r = detail::parse_trap_v3_user(bad, "pollers.traps_v3_users[3]");
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kConfigError);
    CHECK(r.error().message.rfind("pollers.traps_v3_users[3]: ", 0) == 0);
  }
}
