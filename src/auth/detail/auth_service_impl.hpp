// The AuthService implementation, split by concern across src/auth/*.cpp: auth_service.cpp
// (opening, bootstrap, shared helpers), login.cpp (login, throttling, unlocks), sessions.cpp
// (authenticate, refresh, logout, passwords), users.cpp, users_cli.cpp (the CLI's blocking
// helpers), orgs.cpp, api_keys.cpp and audit.cpp (the log and the background deletions). Private
// to the auth module.
//
// Threading: as the face says, methods run on the event loop; the in-memory state below (throttle,
// revoked token ids, API-key last-use times, purge progress) is therefore touched from the loop
// only. Database
// writes run on the db writer thread and touch only their Connection and immutable members;
// password hashing runs on the worker pool and touches only copies. The object must outlive every
// callback it has queued (destroy it after the loop has stopped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/post.hpp>

#include <netpulse/auth/auth_service.hpp>

#include "jwt.hpp"
#include "password.hpp"
#include "throttle.hpp"

namespace netpulse::auth::detail {

// Accounts one email may name that a login without `org` checks the password against; every such
// login verifies exactly this many hashes (padding with a dummy), so its duration does not tell
// how many organizations know the email.
inline constexpr std::size_t kLoginCandidates = 3;
// A failed login that locks an account is audited at most once per this many seconds per email.
inline constexpr std::int64_t kLockAuditIntervalS = 900;
// The background deletions sweep at most this often when they have caught up.
inline constexpr std::int64_t kPurgeIntervalS = 3600;

class AuthServiceImpl final : public AuthService {
 public:
  AuthServiceImpl(const Options& options, const core::Clock& clock, db::Database& db,
                  core::WorkerPool& workers, boost::asio::any_io_executor loop, core::Logger& log,
                  core::MetricsRegistry* metrics, std::string jwt_key);

  // Second half of open(): computes the dummy hash and loads the revoked token ids. Blocking.
  core::Result<void> start();

  core::Result<BootstrapResult> ensure_bootstrap(
      const std::string& admin_email, const std::optional<std::string>& admin_password) override;

  core::Result<Principal> authenticate(std::string_view bearer_token) override;
  void login(LoginRequest request, Callback<TokenPair> done) override;
  void refresh(std::string refresh_token, Callback<TokenPair> done) override;
  void logout(const Principal& who, std::optional<std::string> refresh_token,
              Callback<void> done) override;
  void change_password(const Principal& who, std::string current_password, std::string new_password,
                       Callback<void> done) override;
  std::int64_t throttle_remaining_s(std::string_view email, std::string_view ip) const override;

  core::Result<User> get_user(OrgScope scope, std::int64_t user_id) override;
  core::Result<PageOf<User>> list_users(OrgScope scope, Page page) override;
  void create_user(OrgScope scope, NewUser user, Callback<User> done) override;
  void update_user(OrgScope scope, std::int64_t user_id, UserPatch patch,
                   Callback<User> done) override;
  void delete_user(OrgScope scope, std::int64_t user_id, Callback<void> done) override;
  void set_password(OrgScope scope, std::int64_t user_id, std::string new_password,
                    Callback<void> done) override;
  void unlock_user(OrgScope scope, std::int64_t user_id, Callback<void> done) override;

  core::Result<Organization> get_org(SystemScope scope, std::int64_t org_id) override;
  core::Result<Organization> get_own_org(OrgScope scope) override;
  core::Result<PageOf<Organization>> list_orgs(SystemScope scope, Page page) override;
  void create_org(SystemScope scope, std::string name, std::string slug,
                  Callback<Organization> done) override;
  void update_org(SystemScope scope, std::int64_t org_id, std::optional<std::string> name,
                  Callback<Organization> done) override;
  void delete_org(SystemScope scope, std::int64_t org_id, Callback<void> done) override;

  void create_api_key(OrgScope scope, const Principal& creator, NewApiKey key,
                      Callback<CreatedApiKey> done) override;
  core::Result<PageOf<ApiKey>> list_api_keys(OrgScope scope, Page page) override;
  void revoke_api_key(OrgScope scope, std::int64_t key_id, Callback<void> done) override;

  void record_audit(AuditEntry entry) override;
  core::Result<PageOf<AuditEntry>> list_audit(OrgScope scope, const AuditFilter& filter,
                                              Page page) override;
  core::Result<PageOf<AuditEntry>> list_audit_all(SystemScope scope, const AuditFilter& filter,
                                                  Page page) override;

  void tick() override;

  core::Result<User> create_user_sync(OrgScope scope, NewUser user) override;
  core::Result<void> set_password_sync(std::string_view email,
                                       const std::optional<std::string>& org_slug,
                                       std::string new_password) override;
  core::Result<void> unlock_user_sync(std::string_view email,
                                      const std::optional<std::string>& org_slug) override;
  core::Result<std::vector<User>> list_all_users_sync() override;
  core::Result<std::vector<ApiKey>> list_all_api_keys_sync() override;
  core::Result<void> revoke_api_key_sync(std::int64_t key_id) override;

 private:
  // What a login needs to know about an account the email may name.
  struct LoginAccount {
    std::int64_t id = 0;
    std::int64_t org_id = 0;
    std::string email;  // as stored
    Role role = Role::kViewer;
    bool active = false;
    std::string password_hash;
    std::int64_t tokens_valid_after = 0;
  };
  // What the password check found among the candidates.
  struct LoginVerdict {
    std::vector<LoginAccount> matched;  // active accounts whose hash the password matched
    bool matched_inactive = false;      // the password matched an inactive account
  };

  // Posts `done(result)` to the loop: asynchronous methods never call back inline.
  template <class T>
  void reply(Callback<T> done, std::type_identity_t<core::Result<T>> result) {
    boost::asio::post(loop_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  // --- login.cpp ---
  // The accounts a login may be for: the one in the named organization, or up to
  // kLoginCandidates with this email.
  core::Result<std::vector<LoginAccount>> find_login_accounts(const LoginRequest& request);
  // When the pair is locked, lifts the lock if an administrator unlocked the email since.
  void apply_stored_unlock(const std::string& email, const std::string& source_ip);
  void finish_login(const LoginRequest& request, std::vector<LoginAccount> candidates,
                    LoginVerdict verdict, Callback<TokenPair> done);
  void login_failed(const LoginRequest& request, const std::vector<LoginAccount>& candidates,
                    core::Counter* reason, Callback<TokenPair> done);
  void issue_login_tokens(const LoginRequest& request, const LoginAccount& account,
                          Callback<TokenPair> done);

  // --- sessions.cpp ---
  core::Result<Principal> authenticate_jwt(std::string_view token);
  // A signed access token for the user, issued now but stamped no earlier than
  // `not_before` (the user's tokens_valid_after), so a token issued in the same second as a
  // password change is not mistaken for one from before it.
  std::string issue_access_token(std::int64_t user_id, std::int64_t org_id, Role role,
                                 std::int64_t not_before) const;
  // Inserts a new refresh token in `family_id` (inside a write); returns its plaintext.
  core::Result<std::string> insert_refresh_token(db::Connection& conn, std::int64_t user_id,
                                                 std::int64_t org_id,
                                                 const std::string& family_id) const;
  void remember_revoked_jti(const std::string& jti, std::int64_t expires_at);
  // Stores a new password hash for `user_id` in `org_id` (any org when nullopt), revokes the
  // user's refresh tokens and the access tokens issued so far; kUserNotFound when no such user.
  // Runs inside a write.
  core::Result<void> store_password(db::Connection& conn, std::int64_t user_id,
                                    std::optional<std::int64_t> org_id,
                                    const std::string& password_hash) const;
  // Ends every session of the user: refresh tokens revoked, tokens_valid_after moved past now and
  // past every token issued so far. Runs inside a write.
  core::Result<void> end_sessions(db::Connection& conn, std::int64_t user_id) const;

  // --- users.cpp ---
  core::Result<void> check_new_user(const NewUser& user) const;
  core::Result<User> insert_user(db::Connection& conn, std::int64_t org_id, const NewUser& user,
                                 const std::string& password_hash) const;

  // --- users_cli.cpp ---
  // The id of the one user with this email (in the organization with this slug when given).
  // kUserNotFound, or kInvalidInput naming "org" when the email is in several organizations.
  core::Result<std::int64_t> find_user_for_cli(db::Connection& conn, std::string_view email,
                                               const std::optional<std::string>& org_slug) const;

  // --- api_keys.cpp ---
  core::Result<Principal> authenticate_api_key(std::string_view key);

  // --- audit.cpp ---
  core::Result<PageOf<AuditEntry>> query_audit(std::optional<std::int64_t> org_id,
                                               const AuditFilter& filter, Page page);
  // Inserts one audit row (inside a write).
  static core::Result<void> insert_audit(db::Connection& conn, const AuditEntry& entry);
  // Runs `delete_sql` (?1 the cutoff, ?2 the batch size) once, adds the rows it deleted to
  // `counter`, and queues the next batch while they come back full.
  void purge_batch(std::string what, std::string delete_sql, std::int64_t cutoff,
                   core::Counter* counter);

  void count(core::Counter* counter) noexcept {
    if (counter) counter->inc();
  }
  std::int64_t now_s() const noexcept { return clock_.unix_seconds(); }

  Options options_;
  const core::Clock& clock_;
  db::Database& db_;
  core::WorkerPool& workers_;
  boost::asio::any_io_executor loop_;
  core::Logger& log_;

  JwtCodec jwt_;
  PasswordHasher hasher_;
  PasswordPolicy policy_;
  LoginThrottle throttle_;
  // Verified against when a login names no account, so that both cases cost the same.
  std::string dummy_hash_;

  // Access-token ids revoked before expiry → their expiry; swept of expired ids once a minute.
  std::unordered_map<std::string, std::int64_t> revoked_jtis_;
  std::int64_t revoked_swept_at_ = 0;
  // API key id → when we last wrote its last_used_at (Unix seconds).
  std::unordered_map<std::int64_t, std::int64_t> api_key_used_written_;
  // Lower-cased email → when a failed login last locked it (audited at most once per
  // kLockAuditIntervalS per account).
  std::unordered_map<std::string, std::int64_t> lock_audited_at_;
  // Background deletions: when the last sweep finished, and how many batches are in flight.
  std::int64_t purged_at_ = 0;
  int purges_running_ = 0;

  core::Counter* logins_success_ = nullptr;
  core::Counter* logins_failure_ = nullptr;
  core::Counter* logins_throttled_ = nullptr;
  // Failed logins by reason (netpulse_auth_login_failures_total).
  core::Counter* failed_unknown_ = nullptr;
  core::Counter* failed_password_ = nullptr;
  core::Counter* failed_inactive_ = nullptr;
  core::Counter* failed_ambiguous_ = nullptr;
  core::Counter* failed_throttled_account_ = nullptr;
  core::Counter* failed_throttled_source_ = nullptr;
  core::Counter* purged_audit_ = nullptr;
  core::Counter* purged_refresh_ = nullptr;
  core::Counter* refresh_success_ = nullptr;
  core::Counter* refresh_invalid_ = nullptr;
  core::Counter* refresh_reuse_ = nullptr;
};

}  // namespace netpulse::auth::detail
