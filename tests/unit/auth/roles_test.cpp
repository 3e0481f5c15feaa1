// The role → permission matrix, role and permission names, and Principal::can's extra condition
// for organization administration.
#include <set>

#include <catch2/catch.hpp>

#include <netpulse/auth/roles.hpp>
#include <netpulse/auth/types.hpp>

using netpulse::auth::Permission;
using netpulse::auth::Role;

namespace {

std::set<Permission> expected_permissions(Role role) {
  using P = Permission;
  switch (role) {
    case Role::kAdmin: {
      std::set<P> all;
      for (int i = 0; i < netpulse::auth::kPermissionCount; ++i) all.insert(static_cast<P>(i));
      return all;
    }
    case Role::kOperator:
      return {P::kSelf,
              P::kDevicesRead,
              P::kDevicesWrite,
              P::kMetricsRead,
              P::kMetricsWrite,
              P::kAlertsRead,
              P::kAlertsWrite,
              P::kReportsRead,
              P::kReportsWrite,
              P::kUsersRead,
              P::kApiKeysRead,
              P::kNotificationsRead,
              P::kNotificationsWrite,
              P::kDashboardsRead,
              P::kDashboardsWrite};
    case Role::kViewer:
      return {P::kSelf,        P::kDevicesRead,       P::kMetricsRead,   P::kAlertsRead,
              P::kReportsRead, P::kNotificationsRead, P::kDashboardsRead};
    case Role::kApiUser:
      return {P::kSelf,        P::kMetricsRead, P::kMetricsWrite,
              P::kDevicesRead, P::kAlertsRead,  P::kDashboardsRead};
  }
  return {};
}

}  // namespace

TEST_CASE("roles: every role holds exactly its permission set", "[auth][roles]") {
  for (Role role : {Role::kAdmin, Role::kOperator, Role::kViewer, Role::kApiUser}) {
    const auto expected = expected_permissions(role);
    for (int i = 0; i < netpulse::auth::kPermissionCount; ++i) {
      const auto p = static_cast<Permission>(i);
      INFO(netpulse::auth::role_name(role) << " / " << netpulse::auth::permission_name(p));
      CHECK(netpulse::auth::role_has(role, p) == (expected.count(p) == 1));
    }
  }
}

TEST_CASE("roles: operator may not write users, write API keys or read the audit log",
          "[auth][roles]") {
  CHECK_FALSE(netpulse::auth::role_has(Role::kOperator, Permission::kUsersWrite));
  CHECK_FALSE(netpulse::auth::role_has(Role::kOperator, Permission::kApiKeysWrite));
  CHECK_FALSE(netpulse::auth::role_has(Role::kOperator, Permission::kAuditRead));
  CHECK_FALSE(netpulse::auth::role_has(Role::kOperator, Permission::kOrgsAdmin));
}

TEST_CASE("roles: names round-trip and unknown names are refused", "[auth][roles]") {
  for (Role role : {Role::kAdmin, Role::kOperator, Role::kViewer, Role::kApiUser}) {
    auto parsed = netpulse::auth::parse_role(netpulse::auth::role_name(role));
    REQUIRE(parsed);
    CHECK(*parsed == role);
  }
  CHECK(netpulse::auth::role_name(Role::kApiUser) == "api_user");
  CHECK_FALSE(netpulse::auth::parse_role("Admin"));
  CHECK_FALSE(netpulse::auth::parse_role(""));
  CHECK_FALSE(netpulse::auth::parse_role("root"));
}

TEST_CASE("roles: permission names are resource:action and unique", "[auth][roles]") {
  CHECK(netpulse::auth::permission_name(Permission::kUsersRead) == "users:read");
  CHECK(netpulse::auth::permission_name(Permission::kApiKeysWrite) == "api_keys:write");
  CHECK(netpulse::auth::permission_name(Permission::kOrgsAdmin) == "orgs:admin");
  std::set<std::string_view> names;
  for (int i = 0; i < netpulse::auth::kPermissionCount; ++i) {
    names.insert(netpulse::auth::permission_name(static_cast<Permission>(i)));
  }
  CHECK(names.size() == static_cast<std::size_t>(netpulse::auth::kPermissionCount));
}

TEST_CASE(
    "roles: organization and settings administration need an admin of the system organization",
    "[auth][roles]") {
  netpulse::auth::Principal p;
  p.role = Role::kAdmin;
  p.org_is_system = false;
  CHECK_FALSE(p.can(Permission::kOrgsAdmin));
  CHECK_FALSE(p.can(Permission::kSettingsAdmin));
  CHECK(p.can(Permission::kUsersWrite));
  CHECK_FALSE(netpulse::auth::SystemScope::from(p));
  p.org_is_system = true;
  CHECK(p.can(Permission::kOrgsAdmin));
  CHECK(p.can(Permission::kSettingsAdmin));
  CHECK(netpulse::auth::SystemScope::from(p));
  p.role = Role::kOperator;
  CHECK_FALSE(p.can(Permission::kOrgsAdmin));
  CHECK_FALSE(p.can(Permission::kSettingsAdmin));
}
