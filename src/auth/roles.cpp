// Roles and what each may do. The permission sets are a small table: admin holds everything (the
// organizations and settings permissions additionally need the system organization, which
// Principal::can checks); operator runs the network (devices, metrics, alerts, reports) and may
// look at users and API keys but not change them or read the audit log; viewer reads devices,
// metrics, alerts and reports; api_user ingests and reads metrics and reads devices and alerts.
// Operators make dashboards; everyone reads them. Every role holds kSelf.
#include <netpulse/auth/roles.hpp>

namespace netpulse::auth {

namespace {

constexpr unsigned bit(Permission p) noexcept {
  return 1u << static_cast<unsigned>(p);
}

constexpr unsigned kAllPermissions = (1u << kPermissionCount) - 1;

constexpr unsigned kOperatorPermissions =
    bit(Permission::kSelf) | bit(Permission::kDevicesRead) | bit(Permission::kDevicesWrite) |
    bit(Permission::kMetricsRead) | bit(Permission::kMetricsWrite) | bit(Permission::kAlertsRead) |
    bit(Permission::kAlertsWrite) | bit(Permission::kReportsRead) | bit(Permission::kReportsWrite) |
    bit(Permission::kUsersRead) | bit(Permission::kApiKeysRead) |
    bit(Permission::kNotificationsRead) | bit(Permission::kNotificationsWrite) |
    bit(Permission::kDashboardsRead) | bit(Permission::kDashboardsWrite);

constexpr unsigned kViewerPermissions =
    bit(Permission::kSelf) | bit(Permission::kDevicesRead) | bit(Permission::kMetricsRead) |
    bit(Permission::kAlertsRead) | bit(Permission::kReportsRead) |
    bit(Permission::kNotificationsRead) | bit(Permission::kDashboardsRead);

constexpr unsigned kApiUserPermissions =
    bit(Permission::kSelf) | bit(Permission::kMetricsRead) | bit(Permission::kMetricsWrite) |
    bit(Permission::kDevicesRead) | bit(Permission::kAlertsRead) | bit(Permission::kDashboardsRead);

constexpr unsigned permissions_of(Role role) noexcept {
  switch (role) {
    case Role::kAdmin:
      return kAllPermissions;
    case Role::kOperator:
      return kOperatorPermissions;
    case Role::kViewer:
      return kViewerPermissions;
    case Role::kApiUser:
      return kApiUserPermissions;
  }
  return 0;
}

}  // namespace

std::string_view role_name(Role role) noexcept {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kOperator:
      return "operator";
    case Role::kViewer:
      return "viewer";
    case Role::kApiUser:
      return "api_user";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  for (Role r : {Role::kAdmin, Role::kOperator, Role::kViewer, Role::kApiUser}) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view permission_name(Permission p) noexcept {
  switch (p) {
    case Permission::kSelf:
      return "self";
    case Permission::kUsersRead:
      return "users:read";
    case Permission::kUsersWrite:
      return "users:write";
    case Permission::kApiKeysRead:
      return "api_keys:read";
    case Permission::kApiKeysWrite:
      return "api_keys:write";
    case Permission::kAuditRead:
      return "audit:read";
    case Permission::kOrgsAdmin:
      return "orgs:admin";
    case Permission::kSettingsAdmin:
      return "settings:admin";
    case Permission::kDevicesRead:
      return "devices:read";
    case Permission::kDevicesWrite:
      return "devices:write";
    case Permission::kMetricsRead:
      return "metrics:read";
    case Permission::kMetricsWrite:
      return "metrics:write";
    case Permission::kAlertsRead:
      return "alerts:read";
    case Permission::kAlertsWrite:
      return "alerts:write";
    case Permission::kReportsRead:
      return "reports:read";
    case Permission::kReportsWrite:
      return "reports:write";
    case Permission::kNotificationsRead:
      return "notifications:read";
    case Permission::kNotificationsWrite:
      return "notifications:write";
    case Permission::kDashboardsRead:
      return "dashboards:read";
    case Permission::kDashboardsWrite:
      return "dashboards:write";
  }
  return "unknown";
}

bool role_has(Role role, Permission p) noexcept {
  const auto index = static_cast<int>(p);
  if (index < 0 || index >= kPermissionCount) return false;
  return (permissions_of(role) & bit(p)) != 0;
}

}  // namespace netpulse::auth
