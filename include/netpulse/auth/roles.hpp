// Roles and permissions (the house plan): admin — everything in its organization; operator —
// devices, checks, alerts, rules, plus reading; viewer — reading; api_user — ingest and read
// metrics. Administration of organizations needs an admin of the system organization.
#pragma once

#include <optional>
#include <string_view>

namespace netpulse::auth {

enum class Role { kAdmin, kOperator, kViewer, kApiUser };

std::string_view role_name(Role role) noexcept;  // "admin", "operator", "viewer", "api_user"
std::optional<Role> parse_role(std::string_view name) noexcept;

enum class Permission {
  kSelf,  // any authenticated caller: own profile, own password, logout
  kUsersRead,
  kUsersWrite,
  kApiKeysRead,
  kApiKeysWrite,
  kAuditRead,
  kOrgsAdmin,  // organizations CRUD: system-organization admins only
  kDevicesRead,
  kDevicesWrite,
  kMetricsRead,
  kMetricsWrite,
  kAlertsRead,
  kAlertsWrite,
  kReportsRead,
  kReportsWrite,
  kNotificationsRead,   // the delivery log, channels and policies (secrets never shown)
  kNotificationsWrite,  // channels, policies, send test, re-send a dead letter
  kDashboardsRead,      // the organization's dashboards (their panels' data needs metrics:read)
  kDashboardsWrite,     // create, edit and delete dashboards
  kSettingsAdmin,  // the server's settings (Admin → Settings): system-organization admins only
};
inline constexpr int kPermissionCount = static_cast<int>(Permission::kSettingsAdmin) + 1;

std::string_view permission_name(Permission p) noexcept;  // "users:read", ...

// Whether `role` holds `p` (ignoring the system-organization condition of kOrgsAdmin and
// kSettingsAdmin).
bool role_has(Role role, Permission p) noexcept;

}  // namespace netpulse::auth
