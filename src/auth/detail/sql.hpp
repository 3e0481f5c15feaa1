// Small helpers for the auth module's SQL: binding a list of arguments in one call, reading the
// module's records from result rows, and turning a Page into LIMIT/OFFSET. Private to the module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <netpulse/auth/types.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/db/statement.hpp>

namespace netpulse::auth::detail {

// A parameter bound as a BLOB rather than TEXT (token and key hashes).
struct Blob {
  std::string_view bytes;
};

inline void bind_arg(db::Statement& st, int i, std::int64_t v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, int v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, bool v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, std::string_view v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, const std::string& v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, const char* v) {
  st.bind(i, v);
}
inline void bind_arg(db::Statement& st, int i, Blob v) {
  st.bind_blob(i, v.bytes);
}
inline void bind_arg(db::Statement& st, int i, std::nullopt_t) {
  st.bind(i, std::nullopt);
}
template <class T>
void bind_arg(db::Statement& st, int i, const std::optional<T>& v) {
  if (v) {
    bind_arg(st, i, *v);
  } else {
    st.bind(i, std::nullopt);
  }
}

// Prepares `sql` and binds `args` to ?1, ?2, ... in order.
template <class... Args>
core::Result<db::Statement> prepare(db::Connection& conn, std::string_view sql,
                                    const Args&... args) {
  auto st = conn.prepare(sql);
  if (!st) return st;
  int index = 0;
  (bind_arg(*st, ++index, args), ...);
  return st;
}

// Runs a statement that returns no rows.
template <class... Args>
core::Result<void> execute(db::Connection& conn, std::string_view sql, const Args&... args) {
  auto st = prepare(conn, sql, args...);
  if (!st) return st.error();
  return st->run();
}

// The first column of the first row as an integer (COUNT(*), EXISTS), or `fallback` when there
// is no row.
template <class... Args>
core::Result<std::int64_t> query_int(db::Connection& conn, std::int64_t fallback,
                                     std::string_view sql, const Args&... args) {
  auto st = prepare(conn, sql, args...);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row || st->is_null(0)) return fallback;
  return st->get_int64(0);
}

// Steps `st` to its end, calling `on_row(st)` for each row.
template <class OnRow>
core::Result<void> for_each_row(db::Statement& st, OnRow on_row) {
  while (true) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return core::ok();
    on_row(st);
  }
}

// Column lists matching the readers below.
inline constexpr std::string_view kUserColumns =
    "id, org_id, email, name, role, active, created_at, updated_at, last_login_at";
inline constexpr std::string_view kOrgColumns = "id, name, slug, is_system, created_at, updated_at";
inline constexpr std::string_view kApiKeyColumns =
    "id, org_id, name, prefix, role, created_by, created_at, last_used_at, expires_at, revoked_at";
inline constexpr std::string_view kAuditColumns =
    "id, at, org_id, user_id, api_key_id, actor, action, target, source_ip, request_id, status, "
    "outcome";

// Read a row selected with the matching column list, starting at column 0.
User read_user(const db::Statement& st);
Organization read_org(const db::Statement& st);
ApiKey read_api_key(const db::Statement& st);
AuditEntry read_audit(const db::Statement& st);

// A stored role name as a Role. The schema's CHECK constraint admits only known names; anything
// else is read as the least privileged role.
Role stored_role(std::string_view name) noexcept;

// LIMIT and OFFSET for a page: per_page clamped to 1..500, page to at least 1.
struct PageWindow {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};
PageWindow page_window(Page page) noexcept;

}  // namespace netpulse::auth::detail
