// The auth module's value types: the verified caller (Principal), tenancy scopes, and the records
// it stores. Tenancy is enforced by type: data-layer calls on org-owned data take a
// core::OrgScope, which request code gets from a verified Principal (scope_of); cross-org listing
// takes a SystemScope, which only a system-organization admin can get.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <netpulse/auth/roles.hpp>
#include <netpulse/core/tenancy.hpp>

namespace netpulse::auth {

// The tenancy and paging vocabulary is core's; auth's code names it unqualified.
using core::OrgScope;
using core::Page;
using core::PageOf;

// Who is calling, as established from a verified access token or API key.
struct Principal {
  std::int64_t user_id = 0;     // 0 when the caller is an API key
  std::int64_t api_key_id = 0;  // 0 when the caller is a user
  std::int64_t org_id = 0;
  bool org_is_system = false;
  Role role = Role::kViewer;
  std::string actor;  // user email or "apikey:<name>", for logs and audit
  std::string jti;    // access token id (empty for API keys)
  std::int64_t token_expires_at = 0;

  bool is_system_admin() const noexcept { return org_is_system && role == Role::kAdmin; }
  // Whether this caller holds `p` (kOrgsAdmin and kSettingsAdmin also need a system-organization
  // admin).
  bool can(Permission p) const noexcept {
    if (p == Permission::kOrgsAdmin || p == Permission::kSettingsAdmin) return is_system_admin();
    return role_has(role, p);
  }
  // Per-user rate-limit key: "u<id>" or "k<id>".
  std::string rate_key() const {
    return user_id ? "u" + std::to_string(user_id) : "k" + std::to_string(api_key_id);
  }
};

// The caller's organization, as the scope of every org-owned call it makes.
inline core::OrgScope scope_of(const Principal& p) noexcept {
  return core::OrgScope::trusted(p.org_id);
}

// Permission to act across organizations: only a system-organization admin gets one.
class SystemScope {
 public:
  static std::optional<SystemScope> from(const Principal& p) noexcept {
    if (!p.is_system_admin()) return std::nullopt;
    return SystemScope();
  }
  // For start-up and CLI code.
  static SystemScope trusted() noexcept { return SystemScope(); }

 private:
  SystemScope() = default;
};

struct Organization {
  std::int64_t id = 0;
  std::string name;
  std::string slug;
  bool is_system = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct User {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string email;
  std::string name;
  Role role = Role::kViewer;
  bool active = true;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> last_login_at;
};

struct ApiKey {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string prefix;  // shown so people can tell keys apart; the secret never is
  Role role = Role::kApiUser;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> last_used_at;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> revoked_at;
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in = 0;  // seconds until the access token expires
};

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at = 0;  // Unix seconds
  std::optional<std::int64_t> org_id;
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> api_key_id;
  std::string actor;
  std::string action;  // "POST /api/v1/users"
  std::string target;  // "users/12"
  std::string source_ip;
  std::string request_id;
  int status = 0;
  bool success = false;
};

}  // namespace netpulse::auth
