// The AuthService implementation, split by concern across src/auth/*.cpp: auth_service.cpp
// (opening, bootstrap, shared helpers), sessions.cpp (authenticate, login, refresh, logout,
// passwords), users.cpp, orgs.cpp, api_keys.cpp and audit.cpp. Private to the auth module.
//
// Threading: as the face says, methods run on the event loop; the in-memory state below (throttle,
// revoked token ids, API-key last-use times) is therefore touched from the loop only. Database
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

#include <boost/asio/post.hpp>

#include <netpulse/auth/auth_service.hpp>

#include "jwt.hpp"
#include "password.hpp"
#include "throttle.hpp"

namespace netpulse::auth::detail {

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
  void login(std::string email, std::string password, std::string source_ip,
             Callback<TokenPair> done) override;
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

  core::Result<User> create_user_sync(OrgScope scope, NewUser user) override;
  core::Result<void> set_password_sync(std::string_view email, std::string new_password) override;
  core::Result<std::vector<User>> list_all_users_sync() override;

 private:
  // What a login needs to know about the account behind an email.
  struct LoginAccount {
    std::int64_t id = 0;
    std::int64_t org_id = 0;
    Role role = Role::kViewer;
    bool active = false;
    std::string password_hash;
  };

  // Posts `done(result)` to the loop: asynchronous methods never call back inline.
  template <class T>
  void reply(Callback<T> done, std::type_identity_t<core::Result<T>> result) {
    boost::asio::post(loop_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  // --- sessions.cpp ---
  core::Result<Principal> authenticate_jwt(std::string_view token);
  core::Result<std::optional<LoginAccount>> find_login_account(const std::string& email);
  void finish_login(const std::string& email, const std::string& source_ip,
                    const std::optional<LoginAccount>& account, bool password_ok,
                    Callback<TokenPair> done);
  // A signed access token for the user, issued now.
  std::string issue_access_token(std::int64_t user_id, std::int64_t org_id, Role role) const;
  // Inserts a new refresh token in `family_id` (inside a write); returns its plaintext.
  core::Result<std::string> insert_refresh_token(db::Connection& conn, std::int64_t user_id,
                                                 std::int64_t org_id,
                                                 const std::string& family_id) const;
  void remember_revoked_jti(const std::string& jti, std::int64_t expires_at);
  // Stores a new password hash for `user_id` in `org_id` (any org when nullopt) and revokes the
  // user's refresh tokens; kUserNotFound when no such user. Runs inside a write.
  core::Result<void> store_password(db::Connection& conn, std::int64_t user_id,
                                    std::optional<std::int64_t> org_id,
                                    const std::string& password_hash) const;

  // --- users.cpp ---
  core::Result<void> check_new_user(const NewUser& user) const;
  core::Result<User> insert_user(db::Connection& conn, std::int64_t org_id, const NewUser& user,
                                 const std::string& password_hash) const;

  // --- api_keys.cpp ---
  core::Result<Principal> authenticate_api_key(std::string_view key);

  // --- audit.cpp ---
  core::Result<PageOf<AuditEntry>> query_audit(std::optional<std::int64_t> org_id,
                                               const AuditFilter& filter, Page page);

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

  core::Counter* logins_success_ = nullptr;
  core::Counter* logins_failure_ = nullptr;
  core::Counter* logins_throttled_ = nullptr;
  core::Counter* refresh_success_ = nullptr;
  core::Counter* refresh_invalid_ = nullptr;
  core::Counter* refresh_reuse_ = nullptr;
};

}  // namespace netpulse::auth::detail
