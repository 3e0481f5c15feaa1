// Which devices a trap reaches (detail::trap_reaches_device), as a table: a device's own
// community, a v3 user with the device's own name and keys, and the configuration's grants for
// the system organization's devices only. docs/traps.md, "Which devices a trap reaches".
#include "pollers/detail/trap_match.hpp"

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace netpulse;
using pollers::Trap;
using pollers::detail::trap_reaches_device;
using pollers::detail::TrapGrants;

namespace {

constexpr std::int64_t kSystem = 1;
constexpr std::int64_t kTenant = 2;

Trap v2c(std::string community, pollers::SnmpVersion version = pollers::SnmpVersion::kV2c) {
  Trap t;
  t.version = version;
  t.community = std::move(community);
  return t;
}

Trap v3(std::string user, std::string engine = "0x80001F8880AABBCCDD02") {
  Trap t;
  t.version = pollers::SnmpVersion::kV3;
  t.v3_user = std::move(user);
  t.v3_engine_id = std::move(engine);
  return t;
}

devices::SnmpCredentials community(std::string c,
                                   devices::SnmpVersion version = devices::SnmpVersion::kV2c) {
  devices::SnmpCredentials out;
  out.settings.version = version;
  out.secrets.community = std::move(c);
  return out;
}

devices::SnmpCredentials v3_creds(std::string user, std::string auth = "auth-pass-1",
                                  std::string priv = "priv-pass-1") {
  devices::SnmpCredentials out;
  out.settings.version = devices::SnmpVersion::kV3;
  out.settings.user = std::move(user);
  out.settings.auth = devices::SnmpAuth::kSha256;
  out.settings.priv = devices::SnmpPriv::kAes128;
  out.secrets.auth_password = std::move(auth);
  out.secrets.priv_password = std::move(priv);
  return out;
}

TrapGrants grants() {
  TrapGrants g;
  g.system_org_id = kSystem;
  g.system_communities = {"isp-traps"};
  pollers::TrapV3User u;
  u.engine_id = "80001f8880aabbccdd02";
  u.user = "bob";
  u.auth_protocol = pollers::AuthProtocol::kSHA256;
  u.auth_password = "auth-pass-1";
  u.priv_protocol = pollers::PrivProtocol::kAES128;
  u.priv_password = "priv-pass-1";
  g.v3_users.push_back(u);
  return g;
}

}  // namespace

TEST_CASE("trap match: a trap reaches a device whose own credentials it carries",
          "[pollers][traps]") {
  struct Row {
    const char* what;
    Trap trap;
    std::int64_t org;
    std::optional<devices::SnmpCredentials> creds;
    bool reaches;
  };
  const std::vector<Row> rows = {
      {"v2c, the device's community", v2c("comm-b"), kTenant, community("comm-b"), true},
      {"v2c, another community", v2c("comm-a"), kTenant, community("comm-b"), false},
      {"v1 trap, v2c device's community", v2c("comm-b", pollers::SnmpVersion::kV1), kTenant,
       community("comm-b"), true},
      {"v2c, v1 device's community", v2c("comm-b"), kTenant,
       community("comm-b", devices::SnmpVersion::kV1), true},
      {"case matters", v2c("Comm-B"), kTenant, community("comm-b"), false},
      {"a device without SNMP", v2c("comm-b"), kTenant, std::nullopt, false},
      {"a v3 device has no community", v2c("auth-pass-1"), kTenant, v3_creds("bob"), false},
      {"an empty community never matches", v2c(""), kTenant, community(""), false},
      {"the system's grant is not a tenant's", v2c("isp-traps"), kTenant, community("comm-b"),
       false},
      {"the system's grant for the system's devices", v2c("isp-traps"), kSystem,
       community("comm-a"), true},
      {"... even without SNMP credentials", v2c("isp-traps"), kSystem, std::nullopt, true},
      {"the system's devices: their own too", v2c("comm-a"), kSystem, community("comm-a"), true},
      {"the system's devices: nothing else", v2c("public"), kSystem, community("comm-a"), false},
      {"v3, the device's user and keys", v3("bob"), kTenant, v3_creds("bob"), true},
      {"v3, engine ID written otherwise", v3("bob", "80001f8880aabbccdd02"), kTenant,
       v3_creds("bob"), true},
      {"v3, another user", v3("bob"), kTenant, v3_creds("alice"), false},
      {"v3, the user's name with other keys", v3("bob"), kTenant, v3_creds("bob", "other-pass-1"),
       false},
      {"v3, other privacy password", v3("bob"), kTenant, v3_creds("bob", "auth-pass-1", "x-pass-1"),
       false},
      {"v3, from an engine not configured for it", v3("bob", "0x80001f8880aabbccdd03"), kTenant,
       v3_creds("bob"), false},
      {"v3 to a v2c device", v3("bob"), kTenant, community("bob"), false},
      {"v3, every configured sender for the system's devices", v3("bob"), kSystem,
       community("comm-a"), true},
  };
  const auto g = grants();
  for (const auto& row : rows) {
    INFO(row.what);
    CHECK(trap_reaches_device(row.trap, row.org, row.creds, g) == row.reaches);
  }
  // Without a known system organization, no grant applies to anyone.
  TrapGrants none = g;
  none.system_org_id = 0;
  CHECK_FALSE(trap_reaches_device(v2c("isp-traps"), 0, community("comm-a"), none));
  CHECK_FALSE(trap_reaches_device(v3("bob"), 0, std::nullopt, none));
}

TEST_CASE("trap match: engine IDs compare without 0x and case", "[pollers][traps]") {
  using pollers::detail::normalize_engine_id;
  CHECK(normalize_engine_id("0x80001F88") == "80001f88");
  CHECK(normalize_engine_id("0X80001f88") == "80001f88");
  CHECK(normalize_engine_id("80001f88") == "80001f88");
}
