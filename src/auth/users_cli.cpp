// The blocking helpers `netpulse user ...` and `netpulse api-key ...` use: they run in their own
// process, before and without an event loop, while a server may be running on the same database
// (SQLite serialises the writers). They hash on the calling thread and write with write_sync.
// Users are named by email, and by the organization's slug where the email is in several
// organizations. Every change is audited with the actor "cli", in the organization it touched.
#include <fmt/format.h>

#include "detail/auth_service_impl.hpp"
#include "detail/errors.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

// An audit row for a change made from the shell.
AuditEntry cli_audit(std::int64_t at, std::int64_t org_id, std::string action, std::string target) {
  AuditEntry e;
  e.at = at;
  e.org_id = org_id;
  e.actor = "cli";
  e.action = std::move(action);
  e.target = std::move(target);
  e.status = 200;
  e.success = true;
  return e;
}

}  // namespace

core::Result<std::int64_t> AuthServiceImpl::find_user_for_cli(
    db::Connection& conn, std::string_view email,
    const std::optional<std::string>& org_slug) const {
  auto st = org_slug ? prepare(conn,
                               "SELECT u.id FROM users u JOIN organizations o ON o.id = u.org_id "
                               "WHERE u.email = ? AND o.slug = ?",
                               email, *org_slug)
                     : prepare(conn, "SELECT id FROM users WHERE email = ? LIMIT 2", email);
  if (!st) return st.error();
  std::vector<std::int64_t> ids;
  auto rows = for_each_row(*st, [&](const db::Statement& r) { ids.push_back(r.get_int64(0)); });
  if (!rows) return std::move(rows).error();
  if (ids.empty()) return user_not_found();
  if (ids.size() > 1) {
    return core::invalid_field("org", "this email is in several organizations: give --org SLUG");
  }
  return ids.front();
}

core::Result<User> AuthServiceImpl::create_user_sync(OrgScope scope, NewUser user) {
  if (auto r = check_new_user(user); !r) return std::move(r).error();
  auto hash = hasher_.hash(user.password);
  if (!hash) return std::move(hash).error();
  return db_.write_sync<User>([&](db::Connection& conn) -> core::Result<User> {
    auto created = insert_user(conn, scope.org_id(), user, *hash);
    if (!created) return created;
    auto audited = insert_audit(conn, cli_audit(now_s(), scope.org_id(), "cli user add",
                                                fmt::format("users/{}", created->id)));
    if (!audited) return std::move(audited).error();
    return created;
  });
}

core::Result<void> AuthServiceImpl::set_password_sync(std::string_view email,
                                                      const std::optional<std::string>& org_slug,
                                                      std::string new_password) {
  if (auto r = check_password(new_password, policy_); !r) return r;
  auto hash = hasher_.hash(new_password);
  if (!hash) return std::move(hash).error();
  return db_.write_sync([&](db::Connection& conn) -> core::Result<void> {
    auto id = find_user_for_cli(conn, email, org_slug);
    if (!id) return std::move(id).error();
    if (auto r = store_password(conn, *id, std::nullopt, *hash); !r) return r;
    auto org = query_int(conn, 0, "SELECT org_id FROM users WHERE id = ?", *id);
    if (!org) return std::move(org).error();
    return insert_audit(conn,
                        cli_audit(now_s(), *org, "cli user passwd", fmt::format("users/{}", *id)));
  });
}

core::Result<void> AuthServiceImpl::unlock_user_sync(std::string_view email,
                                                     const std::optional<std::string>& org_slug) {
  return db_.write_sync([&](db::Connection& conn) -> core::Result<void> {
    auto id = find_user_for_cli(conn, email, org_slug);
    if (!id) return std::move(id).error();
    auto r = execute(conn, "UPDATE users SET login_unlocked_at = ? WHERE id = ?",
                     clock_.unix_millis(), *id);
    if (!r) return r;
    auto org = query_int(conn, 0, "SELECT org_id FROM users WHERE id = ?", *id);
    if (!org) return std::move(org).error();
    return insert_audit(conn,
                        cli_audit(now_s(), *org, "cli user unlock", fmt::format("users/{}", *id)));
  });
}

core::Result<std::vector<User>> AuthServiceImpl::list_all_users_sync() {
  return db_.read([](db::Connection& conn) -> core::Result<std::vector<User>> {
    static const std::string sql =
        fmt::format("SELECT {} FROM users ORDER BY org_id, id", kUserColumns);
    auto st = prepare(conn, sql);
    if (!st) return st.error();
    std::vector<User> out;
    auto rows = for_each_row(*st, [&](const db::Statement& r) { out.push_back(read_user(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

core::Result<std::vector<ApiKey>> AuthServiceImpl::list_all_api_keys_sync() {
  return db_.read([](db::Connection& conn) -> core::Result<std::vector<ApiKey>> {
    static const std::string sql =
        fmt::format("SELECT {} FROM api_keys ORDER BY org_id, id", kApiKeyColumns);
    auto st = prepare(conn, sql);
    if (!st) return st.error();
    std::vector<ApiKey> out;
    auto rows = for_each_row(*st, [&](const db::Statement& r) { out.push_back(read_api_key(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

core::Result<void> AuthServiceImpl::revoke_api_key_sync(std::int64_t key_id) {
  return db_.write_sync([&](db::Connection& conn) -> core::Result<void> {
    auto org = query_int(conn, 0, "SELECT org_id FROM api_keys WHERE id = ?", key_id);
    if (!org) return std::move(org).error();
    if (*org == 0) return core::Error(core::Errc::kApiKeyNotFound, "API key not found");
    auto r = execute(conn, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                     now_s(), key_id);
    if (!r) return r;
    if (conn.changes() == 0) return core::ok();  // already revoked
    return insert_audit(
        conn, cli_audit(now_s(), *org, "cli api-key revoke", fmt::format("api-keys/{}", key_id)));
  });
}

}  // namespace netpulse::auth::detail
