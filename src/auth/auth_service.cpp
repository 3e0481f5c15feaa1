// Opening the auth service and first start. open() checks the options, loads or creates the JWT
// signing key, hashes a throw-away password once (the dummy hash that logins for unknown emails
// are verified against, so they take as long as real ones) and loads the access tokens revoked
// before their expiry. ensure_bootstrap() creates the system organization and its first admin
// when the database has none; it runs once, before the loop, so it blocks and hashes inline.
#include <algorithm>

#include <netpulse/core/random.hpp>

#include "detail/auth_service_impl.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth {

namespace {

// Length of a generated bootstrap password (raised to the policy minimum when that is longer).
constexpr std::size_t kGeneratedPasswordLength = 20;

core::Result<void> check_options(const Options& o) {
  if (o.data_dir.empty()) return core::invalid_field("storage.data_dir", "is required");
  if (o.access_token_ttl_s <= 0) {
    return core::invalid_field("auth.access_token_ttl_s", "must be positive");
  }
  if (o.refresh_token_ttl_s <= 0) {
    return core::invalid_field("auth.refresh_token_ttl_s", "must be positive");
  }
  if (o.issuer.empty()) return core::invalid_field("auth.issuer", "is required");
  if (o.audience.empty()) return core::invalid_field("auth.audience", "is required");
  if (o.password_min_length < 1 || o.password_min_length > o.password_max_length) {
    return core::invalid_field("auth.password_min_length",
                               "must be at least 1 and at most password_max_length");
  }
  if (o.throttle_account_failures < 1) {
    return core::invalid_field("auth.throttle_account_failures", "must be at least 1");
  }
  if (o.throttle_ip_failures < 1) {
    return core::invalid_field("auth.throttle_ip_failures", "must be at least 1");
  }
  if (o.throttle_base_s < 1 || o.throttle_max_s < o.throttle_base_s) {
    return core::invalid_field("auth.throttle_base_s",
                               "must be at least 1 and at most throttle_max_s");
  }
  if (o.audit_retention_days < 0) {
    return core::invalid_field("auth.audit_retention_days", "must be 0 (keep) or more");
  }
  if (o.api_key_default_ttl_days < 0) {
    return core::invalid_field("auth.api_key_default_ttl_days", "must be 0 (never) or more");
  }
  return detail::PasswordHasher(o.argon2_memory_kib, o.argon2_passes).validate();
}

}  // namespace

core::Result<std::unique_ptr<AuthService>> AuthService::open(const Options& options,
                                                             const core::Env& env,
                                                             db::Database& db) {
  if (!detail::init_sodium()) {
    return core::Error(core::Errc::kInternalError, "libsodium could not be initialised");
  }
  if (auto r = check_options(options); !r) return std::move(r).error();
  auto key = detail::load_or_create_jwt_key(options.data_dir);
  if (!key) return std::move(key).error();
  auto impl = std::make_unique<detail::AuthServiceImpl>(
      options, env.clock, db, env.workers, env.loop, env.log, &env.metrics, std::move(*key));
  if (auto r = impl->start(); !r) return std::move(r).error();
  return std::unique_ptr<AuthService>(std::move(impl));
}

namespace detail {

AuthServiceImpl::AuthServiceImpl(const Options& options, const core::Clock& clock, db::Database& db,
                                 core::WorkerPool& workers, boost::asio::any_io_executor loop,
                                 core::Logger& log, core::MetricsRegistry* metrics,
                                 std::string jwt_key)
    : options_(options),
      clock_(clock),
      db_(db),
      workers_(workers),
      loop_(std::move(loop)),
      log_(log),
      jwt_(std::move(jwt_key), options.issuer, options.audience),
      hasher_(options.argon2_memory_kib, options.argon2_passes),
      policy_{options.password_min_length, options.password_max_length},
      throttle_(clock,
                ThrottleOptions{options.throttle_account_failures, options.throttle_ip_failures,
                                std::chrono::seconds(options.throttle_base_s),
                                std::chrono::seconds(options.throttle_max_s)}) {
  if (metrics) {
    const std::string logins = "netpulse_auth_logins_total";
    const std::string logins_help = "Login attempts by outcome.";
    logins_success_ = &metrics->counter(logins, logins_help, {{"outcome", "success"}});
    logins_failure_ = &metrics->counter(logins, logins_help, {{"outcome", "failure"}});
    logins_throttled_ = &metrics->counter(logins, logins_help, {{"outcome", "throttled"}});
    const std::string failures = "netpulse_auth_login_failures_total";
    const std::string failures_help =
        "Failed logins by reason (failures are not written to the audit log one by one).";
    auto failure = [&](const char* reason) {
      return &metrics->counter(failures, failures_help, {{"reason", reason}});
    };
    failed_unknown_ = failure("unknown_account");
    failed_password_ = failure("wrong_password");
    failed_inactive_ = failure("inactive_account");
    failed_ambiguous_ = failure("ambiguous_account");
    failed_throttled_account_ = failure("throttled_account");
    failed_throttled_source_ = failure("throttled_source");
    const std::string purged = "netpulse_auth_purged_rows_total";
    const std::string purged_help = "Rows deleted by the background retention, by table.";
    purged_audit_ = &metrics->counter(purged, purged_help, {{"table", "audit_log"}});
    purged_refresh_ = &metrics->counter(purged, purged_help, {{"table", "refresh_tokens"}});
    const std::string refresh = "netpulse_auth_token_refresh_total";
    const std::string refresh_help = "Refresh-token rotations by outcome.";
    refresh_success_ = &metrics->counter(refresh, refresh_help, {{"outcome", "success"}});
    refresh_invalid_ = &metrics->counter(refresh, refresh_help, {{"outcome", "invalid"}});
    refresh_reuse_ = &metrics->counter(refresh, refresh_help, {{"outcome", "reuse"}});
  }
}

core::Result<void> AuthServiceImpl::start() {
  auto dummy = hasher_.hash(core::random_hex(16));
  if (!dummy) return std::move(dummy).error();
  dummy_hash_ = std::move(*dummy);

  const auto now = now_s();
  auto loaded = db_.read([&](db::Connection& conn) -> core::Result<void> {
    auto st = prepare(
        conn, "SELECT jti, expires_at FROM revoked_access_tokens WHERE expires_at > ?", now);
    if (!st) return st.error();
    return for_each_row(
        *st, [&](const db::Statement& r) { revoked_jtis_.emplace(r.get_text(0), r.get_int64(1)); });
  });
  if (!loaded) return loaded;
  revoked_swept_at_ = now;
  log_.debug("auth", "loaded {} revoked access token ids", revoked_jtis_.size());
  return core::ok();
}

core::Result<BootstrapResult> AuthServiceImpl::ensure_bootstrap(
    const std::string& admin_email, const std::optional<std::string>& admin_password) {
  auto existing = db_.read([](db::Connection& conn) {
    return query_int(conn, 0, "SELECT COUNT(*) FROM organizations WHERE is_system = 1");
  });
  if (!existing) return std::move(existing).error();
  if (*existing > 0) return BootstrapResult{};

  if (auto r = check_email(admin_email, "admin_email"); !r) return std::move(r).error();
  BootstrapResult result;
  result.created = true;
  result.admin_email = admin_email;
  std::string password;
  if (admin_password) {
    if (auto r = check_password(*admin_password, policy_, "admin_password"); !r) {
      return std::move(r).error();
    }
    password = *admin_password;
  } else {
    password = generate_password(
        std::clamp(kGeneratedPasswordLength, policy_.min_length, policy_.max_length));
    result.generated_password = password;
  }
  auto hash = hasher_.hash(password);
  if (!hash) return std::move(hash).error();

  NewUser admin;
  admin.email = admin_email;
  admin.name = "Administrator";
  admin.role = Role::kAdmin;
  admin.password = password;

  const auto now = now_s();
  auto written = db_.write_sync<bool>([&](db::Connection& conn) -> core::Result<bool> {
    // Checked again inside the write: another process may have bootstrapped meanwhile.
    auto again = query_int(conn, 0, "SELECT COUNT(*) FROM organizations WHERE is_system = 1");
    if (!again) return std::move(again).error();
    if (*again > 0) return false;
    auto slug_taken = query_int(conn, 0, "SELECT COUNT(*) FROM organizations WHERE slug = ?",
                                std::string_view("system"));
    if (!slug_taken) return std::move(slug_taken).error();
    if (*slug_taken > 0) {
      return core::Error(core::Errc::kConflict,
                         "an organization with slug 'system' exists but is not the system "
                         "organization");
    }
    auto ins = execute(conn,
                       "INSERT INTO organizations (id, name, slug, is_system, created_at, "
                       "updated_at) VALUES ((SELECT value + 1 FROM id_watermarks WHERE name = "
                       "'organizations'), 'System', 'system', 1, ?, ?)",
                       now, now);
    if (!ins) return std::move(ins).error();
    auto user = insert_user(conn, conn.last_insert_rowid(), admin, *hash);
    if (!user) return std::move(user).error();
    return true;
  });
  if (!written) return std::move(written).error();
  if (!*written) return BootstrapResult{};
  log_.info("auth", "created the system organization and administrator {}", admin_email);
  return result;
}

}  // namespace detail

}  // namespace netpulse::auth
