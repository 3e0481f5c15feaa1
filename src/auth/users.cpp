// Users, always inside one organization: every statement carries `org_id = ?` from the OrgScope,
// so a user of another organization reads as "not found", never as "forbidden". Emails are unique
// within an organization only: whether another organization has an email is never checked, so a
// create or a rename answers the same whatever other tenants hold (login tells the accounts apart,
// login.cpp). The last active admin of an organization can be neither deleted, demoted nor
// deactivated, or nobody could administer it. Deactivating a user ends its sessions; deleting one
// also revokes the API keys it created. Password hashing runs on the worker pool; the CLI's
// blocking helpers are in users_cli.cpp.
#include <fmt/format.h>

#include "detail/auth_service_impl.hpp"
#include "detail/errors.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::auth::detail {

namespace {

core::Error user_exists() {
  return core::Error(core::Errc::kUserAlreadyExists,
                     "a user with this email already exists in this organization");
}

const std::string& select_user_in_org_sql() {
  static const std::string sql =
      fmt::format("SELECT {} FROM users WHERE id = ? AND org_id = ?", kUserColumns);
  return sql;
}

core::Result<std::optional<User>> find_user(db::Connection& conn, std::int64_t org_id,
                                            std::int64_t user_id) {
  auto st = prepare(conn, select_user_in_org_sql(), user_id, org_id);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>{};
  return std::optional<User>(read_user(*st));
}

// Whether another user of `org_id` has this email (case-insensitively: the column's collation).
core::Result<bool> email_taken(db::Connection& conn, std::int64_t org_id, std::string_view email,
                               std::int64_t except_user_id) {
  auto n =
      query_int(conn, 0, "SELECT COUNT(*) FROM users WHERE org_id = ? AND email = ? AND id <> ?",
                org_id, email, except_user_id);
  if (!n) return std::move(n).error();
  return *n > 0;
}

// Whether `user` is the last active admin of its organization (which would leave nobody able to
// manage its users and keys).
core::Result<bool> is_last_org_admin(db::Connection& conn, const User& user) {
  if (user.role != Role::kAdmin || !user.active) return false;
  auto others = query_int(conn, 0,
                          "SELECT COUNT(*) FROM users WHERE org_id = ? AND role = 'admin' AND "
                          "active = 1 AND id <> ?",
                          user.org_id, user.id);
  if (!others) return std::move(others).error();
  return *others == 0;
}

core::Error last_admin_conflict() {
  return core::Error(core::Errc::kConflict,
                     "the last active admin of an organization cannot be deleted, demoted or "
                     "deactivated; make another user an admin first");
}

core::Result<void> check_patch(const UserPatch& patch) {
  if (patch.email) {
    if (auto r = check_email(*patch.email); !r) return r;
  }
  if (patch.name) return check_name(*patch.name, "name", false);
  return core::ok();
}

}  // namespace

core::Result<void> AuthServiceImpl::check_new_user(const NewUser& user) const {
  if (auto r = check_email(user.email); !r) return r;
  if (auto r = check_name(user.name, "name", false); !r) return r;
  return check_password(user.password, policy_);
}

core::Result<User> AuthServiceImpl::insert_user(db::Connection& conn, std::int64_t org_id,
                                                const NewUser& user,
                                                const std::string& password_hash) const {
  auto org = query_int(conn, 0, "SELECT COUNT(*) FROM organizations WHERE id = ?", org_id);
  if (!org) return std::move(org).error();
  if (*org == 0) return core::Error(core::Errc::kOrganizationNotFound, "organization not found");
  auto taken = email_taken(conn, org_id, user.email, 0);
  if (!taken) return std::move(taken).error();
  if (*taken) return user_exists();

  const auto now = now_s();
  auto inserted = execute(conn,
                          "INSERT INTO users (org_id, email, name, role, active, password_hash, "
                          "password_changed_at, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          org_id, user.email, user.name, role_name(user.role), user.active,
                          password_hash, now, now, now);
  if (!inserted) return std::move(inserted).error();
  User out;
  out.id = conn.last_insert_rowid();
  out.org_id = org_id;
  out.email = user.email;
  out.name = user.name;
  out.role = user.role;
  out.active = user.active;
  out.created_at = now;
  out.updated_at = now;
  return out;
}

core::Result<User> AuthServiceImpl::get_user(OrgScope scope, std::int64_t user_id) {
  auto user =
      db_.read([&](db::Connection& conn) { return find_user(conn, scope.org_id(), user_id); });
  if (!user) return std::move(user).error();
  if (!*user) return user_not_found();
  return std::move(**user);
}

core::Result<PageOf<User>> AuthServiceImpl::list_users(OrgScope scope, Page page) {
  const auto window = page_window(page);
  return db_.read([&](db::Connection& conn) -> core::Result<PageOf<User>> {
    PageOf<User> out;
    auto total = query_int(conn, 0, "SELECT COUNT(*) FROM users WHERE org_id = ?", scope.org_id());
    if (!total) return std::move(total).error();
    out.total = *total;
    static const std::string sql = fmt::format(
        "SELECT {} FROM users WHERE org_id = ? ORDER BY id LIMIT ? OFFSET ?", kUserColumns);
    auto st = prepare(conn, sql, scope.org_id(), window.limit, window.offset);
    if (!st) return st.error();
    auto rows =
        for_each_row(*st, [&](const db::Statement& r) { out.items.push_back(read_user(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

void AuthServiceImpl::create_user(OrgScope scope, NewUser user, Callback<User> done) {
  if (auto r = check_new_user(user); !r) return reply(std::move(done), std::move(r).error());
  // Answered before hashing so that a duplicate does not cost an Argon2 run; checked again in
  // the write, which is what makes it reliable.
  const auto org_id = scope.org_id();
  auto taken =
      db_.read([&](db::Connection& conn) { return email_taken(conn, org_id, user.email, 0); });
  if (!taken) return reply(std::move(done), std::move(taken).error());
  if (*taken) return reply(std::move(done), user_exists());

  auto password = std::move(user.password);
  user.password.clear();
  auto queued = workers_.run<core::Result<std::string>>(
      [hasher = hasher_, password = std::move(password)] { return hasher.hash(password); }, loop_,
      [this, org_id, user, done](core::Result<std::string> hash) {
        if (!hash) return done(std::move(hash).error());
        db_.write<User>([this, org_id, user, hash = std::move(*hash)](
                            db::Connection& conn) { return insert_user(conn, org_id, user, hash); },
                        loop_, done);
      });
  if (!queued) reply(std::move(done), std::move(queued).error());
}

void AuthServiceImpl::update_user(OrgScope scope, std::int64_t user_id, UserPatch patch,
                                  Callback<User> done) {
  if (auto r = check_patch(patch); !r) return reply(std::move(done), std::move(r).error());
  const auto org_id = scope.org_id();
  db_.write<User>(
      [this, org_id, user_id,
       patch = std::move(patch)](db::Connection& conn) -> core::Result<User> {
        auto found = find_user(conn, org_id, user_id);
        if (!found) return std::move(found).error();
        if (!*found) return user_not_found();
        const User before = **found;
        User after = before;
        if (patch.email) after.email = *patch.email;
        if (patch.name) after.name = *patch.name;
        if (patch.role) after.role = *patch.role;
        if (patch.active) after.active = *patch.active;

        if (after.email != before.email) {
          auto taken = email_taken(conn, org_id, after.email, user_id);
          if (!taken) return std::move(taken).error();
          if (*taken) return user_exists();
        }
        const bool loses_admin = before.role == Role::kAdmin && before.active &&
                                 (after.role != Role::kAdmin || !after.active);
        if (loses_admin) {
          auto last = is_last_org_admin(conn, before);
          if (!last) return std::move(last).error();
          if (*last) return last_admin_conflict();
        }

        after.updated_at = now_s();
        auto updated = execute(conn,
                               "UPDATE users SET email = ?, name = ?, role = ?, active = ?, "
                               "updated_at = ? WHERE id = ? AND org_id = ?",
                               after.email, after.name, role_name(after.role), after.active,
                               after.updated_at, user_id, org_id);
        if (!updated) return std::move(updated).error();
        if (before.active && !after.active) {
          // Its tokens do not come back with a reactivation. Its API keys stop while it is
          // inactive (api_keys.cpp) and work again after.
          if (auto ended = end_sessions(conn, user_id); !ended) return std::move(ended).error();
        }
        return after;
      },
      loop_, std::move(done));
}

void AuthServiceImpl::delete_user(OrgScope scope, std::int64_t user_id, Callback<void> done) {
  const auto org_id = scope.org_id();
  db_.write(
      [this, org_id, user_id](db::Connection& conn) -> core::Result<void> {
        auto found = find_user(conn, org_id, user_id);
        if (!found) return std::move(found).error();
        if (!*found) return user_not_found();
        auto last = is_last_org_admin(conn, **found);
        if (!last) return std::move(last).error();
        if (*last) return last_admin_conflict();
        // The schema cascades these too; doing it here does not depend on foreign_keys = ON.
        auto r = execute(conn, "DELETE FROM refresh_tokens WHERE user_id = ? AND org_id = ?",
                         user_id, org_id);
        if (!r) return r;
        // Its keys die with it, and the list says so.
        r = execute(conn,
                    "UPDATE api_keys SET revoked_at = ? WHERE created_by = ? AND org_id = ? AND "
                    "revoked_at IS NULL",
                    now_s(), user_id, org_id);
        if (!r) return r;
        r = execute(conn,
                    "UPDATE api_keys SET created_by = NULL WHERE created_by = ? AND org_id = ?",
                    user_id, org_id);
        if (!r) return r;
        return execute(conn, "DELETE FROM users WHERE id = ? AND org_id = ?", user_id, org_id);
      },
      loop_, std::move(done));
}

void AuthServiceImpl::set_password(OrgScope scope, std::int64_t user_id, std::string new_password,
                                   Callback<void> done) {
  if (auto r = check_password(new_password, policy_); !r) {
    return reply(std::move(done), std::move(r).error());
  }
  const auto org_id = scope.org_id();
  auto exists = db_.read([&](db::Connection& conn) { return find_user(conn, org_id, user_id); });
  if (!exists) return reply(std::move(done), std::move(exists).error());
  if (!*exists) return reply(std::move(done), user_not_found());

  auto queued = workers_.run<core::Result<std::string>>(
      [hasher = hasher_, password = std::move(new_password)] { return hasher.hash(password); },
      loop_,
      [this, org_id, user_id, done](core::Result<std::string> hash) {
        if (!hash) return done(std::move(hash).error());
        db_.write([this, org_id, user_id, hash = std::move(*hash)](
                      db::Connection& conn) { return store_password(conn, user_id, org_id, hash); },
                  loop_, done);
      });
  if (!queued) reply(std::move(done), std::move(queued).error());
}

void AuthServiceImpl::unlock_user(OrgScope scope, std::int64_t user_id, Callback<void> done) {
  const auto org_id = scope.org_id();
  db_.write(
      [this, org_id, user_id](db::Connection& conn) -> core::Result<void> {
        auto r = execute(conn, "UPDATE users SET login_unlocked_at = ? WHERE id = ? AND org_id = ?",
                         clock_.unix_millis(), user_id, org_id);
        if (!r) return r;
        if (conn.changes() == 0) return user_not_found();
        return core::ok();
      },
      loop_, std::move(done));
}

}  // namespace netpulse::auth::detail
