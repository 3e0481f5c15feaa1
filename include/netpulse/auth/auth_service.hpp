// AuthService: organizations, users, passwords (Argon2id via libsodium, hashed on the worker pool),
// access tokens (JWT HS256), refresh tokens (opaque, stored hashed, rotated, replay revokes the
// family), API keys, login throttling and the audit log. The policies (who is audited, how logins
// are throttled, where emails are unique, what an API key may do) are in docs/security.md.
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
#include <netpulse/core/env.hpp>
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
  // Consecutive failures for one account from one source address before that pair is locked.
  int throttle_account_failures = 5;
  // Failures from one source address (any account) before the address is locked.
  int throttle_ip_failures = 20;
  std::int64_t throttle_base_s = 1;
  std::int64_t throttle_max_s = 900;
  // Audit rows older than this are deleted in the background by tick(); 0 keeps them forever.
  std::int64_t audit_retention_days = 365;
  // Lifetime of an API key created without an expiry; 0 = such keys never expire.
  std::int64_t api_key_default_ttl_days = 365;
  // The most rows one background deletion removes in one write (the writer stays responsive).
  std::size_t purge_batch_rows = 1000;
};

// One login attempt.
struct LoginRequest {
  std::string email;
  std::string password;
  // The organization's slug. Needed only when the email and password match accounts in several
  // organizations (emails are unique per organization, not across them).
  std::optional<std::string> org;
  std::string source_ip;   // the client address (throttling, audit)
  std::string request_id;  // for the audit record
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
  // Loads or creates the JWT key in data_dir, loads the revoked-token list. Callbacks are posted
  // to env.loop, never called inline; hashing runs on env.workers. Blocking (reads the db, hashes
  // one password): call at start-up, not on the loop. The service must outlive every callback it
  // queued: destroy it after the loop stops.
  static core::Result<std::unique_ptr<AuthService>> open(const Options& options,
                                                         const core::Env& env, db::Database& db);
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

  // Email + password (+ optional organization slug) → tokens. kInvalidCredentials for an unknown
  // user, a wrong password or an inactive account alike, and in the same time;
  // kRateLimitExceeded (details.retry_after_s) while this account is locked for this source
  // address, or the address itself is; kInvalidInput naming "org" when the password matches
  // accounts in several organizations. A success, and a failure that locks an account, are
  // audited.
  virtual void login(LoginRequest request, Callback<TokenPair> done) = 0;
  // Rotates a refresh token. A used or revoked one revokes its whole family: kTokenInvalid.
  virtual void refresh(std::string refresh_token, Callback<TokenPair> done) = 0;
  // Revokes the caller's access token and, when given, the refresh token's family.
  virtual void logout(const Principal& who, std::optional<std::string> refresh_token,
                      Callback<void> done) = 0;
  // Changes the caller's own password (needs the current one); revokes the caller's refresh
  // tokens and every access token issued before the change (the caller's own included: log in
  // again, which works at once).
  virtual void change_password(const Principal& who, std::string current_password,
                               std::string new_password, Callback<void> done) = 0;
  // Seconds a login for this account from this address must still wait (0 when none).
  virtual std::int64_t throttle_remaining_s(std::string_view email, std::string_view ip) const = 0;

  // --- users (org-scoped) -------------------------------------------------------------------
  virtual core::Result<User> get_user(OrgScope scope, std::int64_t user_id) = 0;
  virtual core::Result<PageOf<User>> list_users(OrgScope scope, Page page) = 0;
  virtual void create_user(OrgScope scope, NewUser user, Callback<User> done) = 0;
  virtual void update_user(OrgScope scope, std::int64_t user_id, UserPatch patch,
                           Callback<User> done) = 0;
  virtual void delete_user(OrgScope scope, std::int64_t user_id, Callback<void> done) = 0;
  // Sets a user's password (admin reset / CLI); revokes that user's refresh tokens and the
  // access tokens issued before. Deactivating a user (update_user) does the same.
  virtual void set_password(OrgScope scope, std::int64_t user_id, std::string new_password,
                            Callback<void> done) = 0;
  // Lifts the login lock-outs of this user's email from every source address (they are kept in
  // memory; the unlock time is stored, so the CLI can do it while the server runs).
  virtual void unlock_user(OrgScope scope, std::int64_t user_id, Callback<void> done) = 0;

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
  // A key belongs to the user who creates it (API keys cannot create keys): it stops working when
  // that user is deleted or deactivated, and acts with the lesser of its role and the user's
  // current role. Without expires_at it expires after Options::api_key_default_ttl_days.
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

  // --- background work -----------------------------------------------------------------------
  // Periodic upkeep, called on the loop (`serve` calls it every minute; tests call it with a
  // ManualClock). Deletes audit rows past audit_retention_days and refresh tokens long expired,
  // at most purge_batch_rows per write; while a batch comes back full the next is queued at once,
  // otherwise the next sweep is an hour later. Cheap when there is nothing to do.
  virtual void tick() = 0;

  // --- blocking helpers for the CLI (never on the loop) --------------------------------------
  // Users are named by email and, where the email is in several organizations, by the
  // organization's slug (kInvalidInput naming "org" otherwise). Each change is audited with the
  // actor "cli".
  virtual core::Result<User> create_user_sync(OrgScope scope, NewUser user) = 0;
  virtual core::Result<void> set_password_sync(std::string_view email,
                                               const std::optional<std::string>& org_slug,
                                               std::string new_password) = 0;
  virtual core::Result<void> unlock_user_sync(std::string_view email,
                                              const std::optional<std::string>& org_slug) = 0;
  virtual core::Result<std::vector<User>> list_all_users_sync() = 0;
  // Every organization's keys, by organization and id.
  virtual core::Result<std::vector<ApiKey>> list_all_api_keys_sync() = 0;
  // kApiKeyNotFound when there is no such key; revoking a revoked key is not an error.
  virtual core::Result<void> revoke_api_key_sync(std::int64_t key_id) = 0;
};

}  // namespace netpulse::auth
