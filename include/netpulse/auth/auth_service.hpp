// AuthService: organizations, users, passwords (Argon2id via libsodium, hashed on the worker pool),
// access tokens (JWT HS256), refresh tokens (opaque, stored hashed, rotated, replay revokes the
// family), API keys, login throttling and the audit log.
//
// Threading: every method is called on the event loop thread. Asynchronous methods finish by
// calling `done` on the loop executor given to open(); synchronous ones are quick (an HMAC, a map
// lookup, an indexed read). Org-owned data is reached only through an OrgScope or SystemScope.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/auth/types.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::auth {

template <class T>
using Callback = std::function<void(core::Result<T>)>;

struct Options {
  std::string data_dir;  // the JWT signing key lives in <data_dir>/jwt.key (0600)
  std::int64_t access_token_ttl_s = 900;
  std::int64_t refresh_token_ttl_s = 2592000;
  std::string issuer = "netpulse";
  std::string audience = "netpulse-api";
  std::size_t argon2_memory_kib = 19456;
  std::size_t argon2_passes = 2;
  std::size_t password_min_length = 8;
  std::size_t password_max_length = 256;
  int throttle_account_failures = 5;
  int throttle_ip_failures = 20;
  std::int64_t throttle_base_s = 1;
  std::int64_t throttle_max_s = 900;
};

// What first start created.
struct BootstrapResult {
  bool created = false;  // false: the system organization already existed
  std::string admin_email;
  std::optional<std::string> generated_password;  // set only when we generated it
};

struct NewUser {
  std::string email;
  std::string name;
  Role role = Role::kViewer;
  std::string password;
  bool active = true;
};

struct UserPatch {
  std::optional<std::string> name;
  std::optional<Role> role;
  std::optional<bool> active;
  std::optional<std::string> email;
};

struct NewApiKey {
  std::string name;
  Role role = Role::kApiUser;
  std::optional<std::int64_t> expires_at;
};

struct CreatedApiKey {
  ApiKey key;
  std::string secret;  // the whole key, "np_<prefix>_<secret>": returned once, never stored
};

struct AuditFilter {
  std::optional<std::int64_t> since;  // Unix seconds, inclusive
  std::optional<std::int64_t> until;  // exclusive
  std::optional<std::string> action_prefix;
  std::optional<std::int64_t> user_id;
};

class AuthService {
 public:
  // Loads or creates the JWT key in data_dir, loads the revoked-token list. `loop` is where
  // callbacks run. Blocking (reads the db, hashes one password): call at start-up, not on the
  // loop. The service must outlive every callback it queued: destroy it after the loop stops.
  static core::Result<std::unique_ptr<AuthService>> open(
      const Options& options, const core::Clock& clock, db::Database& db, core::WorkerPool& workers,
      boost::asio::any_io_executor loop, core::Logger& log, core::MetricsRegistry* metrics);
  virtual ~AuthService() = default;

  // First start (blocking; before the loop runs): when no system organization exists, creates it
  // ("System", slug "system") and an admin with `admin_email` and `admin_password` (or a generated
  // one, returned once).
  virtual core::Result<BootstrapResult> ensure_bootstrap(
      const std::string& admin_email, const std::optional<std::string>& admin_password) = 0;

  // --- authentication -----------------------------------------------------------------------
  // Verifies `Authorization: Bearer <token>` material: a JWT access token or an API key.
  // kTokenExpired / kTokenInvalid / kAuthenticationRequired on failure.
  virtual core::Result<Principal> authenticate(std::string_view bearer_token) = 0;

  // Email + password → tokens. kInvalidCredentials for an unknown user, a wrong password or an
  // inactive account alike; kRateLimitExceeded (details.retry_after_s) while throttled.
  virtual void login(std::string email, std::string password, std::string source_ip,
                     Callback<TokenPair> done) = 0;
  // Rotates a refresh token. A used or revoked one revokes its whole family: kTokenInvalid.
  virtual void refresh(std::string refresh_token, Callback<TokenPair> done) = 0;
  // Revokes the caller's access token and, when given, the refresh token's family.
  virtual void logout(const Principal& who, std::optional<std::string> refresh_token,
                      Callback<void> done) = 0;
  // Changes the caller's own password (needs the current one); revokes the caller's refresh
  // tokens.
  virtual void change_password(const Principal& who, std::string current_password,
                               std::string new_password, Callback<void> done) = 0;
  // Seconds a login from this account or IP must still wait (0 when none); for Retry-After.
  virtual std::int64_t throttle_remaining_s(std::string_view email, std::string_view ip) const = 0;

  // --- users (org-scoped) -------------------------------------------------------------------
  virtual core::Result<User> get_user(OrgScope scope, std::int64_t user_id) = 0;
  virtual core::Result<PageOf<User>> list_users(OrgScope scope, Page page) = 0;
  virtual void create_user(OrgScope scope, NewUser user, Callback<User> done) = 0;
  virtual void update_user(OrgScope scope, std::int64_t user_id, UserPatch patch,
                           Callback<User> done) = 0;
  virtual void delete_user(OrgScope scope, std::int64_t user_id, Callback<void> done) = 0;
  // Sets a user's password (admin reset / CLI); revokes that user's refresh tokens.
  virtual void set_password(OrgScope scope, std::int64_t user_id, std::string new_password,
                            Callback<void> done) = 0;

  // --- organizations (system admins) --------------------------------------------------------
  virtual core::Result<Organization> get_org(SystemScope scope, std::int64_t org_id) = 0;
  virtual core::Result<Organization> get_own_org(OrgScope scope) = 0;
  virtual core::Result<PageOf<Organization>> list_orgs(SystemScope scope, Page page) = 0;
  virtual void create_org(SystemScope scope, std::string name, std::string slug,
                          Callback<Organization> done) = 0;
  virtual void update_org(SystemScope scope, std::int64_t org_id, std::optional<std::string> name,
                          Callback<Organization> done) = 0;
  // The system organization cannot be deleted.
  virtual void delete_org(SystemScope scope, std::int64_t org_id, Callback<void> done) = 0;

  // --- API keys (org-scoped) ----------------------------------------------------------------
  virtual void create_api_key(OrgScope scope, const Principal& creator, NewApiKey key,
                              Callback<CreatedApiKey> done) = 0;
  virtual core::Result<PageOf<ApiKey>> list_api_keys(OrgScope scope, Page page) = 0;
  virtual void revoke_api_key(OrgScope scope, std::int64_t key_id, Callback<void> done) = 0;

  // --- audit ---------------------------------------------------------------------------------
  // Queues an audit record (fire and forget; failures are logged).
  virtual void record_audit(AuditEntry entry) = 0;
  virtual core::Result<PageOf<AuditEntry>> list_audit(OrgScope scope, const AuditFilter& filter,
                                                      Page page) = 0;
  virtual core::Result<PageOf<AuditEntry>> list_audit_all(SystemScope scope,
                                                          const AuditFilter& filter, Page page) = 0;

  // --- blocking helpers for the CLI (never on the loop) --------------------------------------
  virtual core::Result<User> create_user_sync(OrgScope scope, NewUser user) = 0;
  virtual core::Result<void> set_password_sync(std::string_view email,
                                               std::string new_password) = 0;
  virtual core::Result<std::vector<User>> list_all_users_sync() = 0;
};

}  // namespace netpulse::auth
