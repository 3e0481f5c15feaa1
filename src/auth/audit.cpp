// The audit log: one row per mutating request, written fire and forget through the db writer
// (a failure is logged, never shown to the caller), and read newest first with optional filters
// on time, action prefix and user. Organization admins see their organization's rows; system
// admins may read across organizations.
#include <fmt/format.h>

#include "detail/auth_service_impl.hpp"
#include "detail/sql.hpp"

namespace netpulse::auth::detail {

void AuthServiceImpl::record_audit(AuditEntry entry) {
  if (entry.at == 0) entry.at = now_s();
  db_.write(
      [entry](db::Connection& conn) {
        return execute(conn,
                       "INSERT INTO audit_log (at, org_id, user_id, api_key_id, actor, action, "
                       "target, source_ip, request_id, status, outcome) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       entry.at, entry.org_id, entry.user_id, entry.api_key_id, entry.actor,
                       entry.action, entry.target, entry.source_ip, entry.request_id, entry.status,
                       std::string_view(entry.success ? "success" : "failure"));
      },
      loop_,
      [this, action = entry.action, actor = entry.actor](core::Result<void> r) {
        if (!r) {
          log_.error("auth", "audit record '{}' by {} was not stored: {}", action, actor,
                     r.error().message);
        }
      });
}

core::Result<PageOf<AuditEntry>> AuthServiceImpl::query_audit(std::optional<std::int64_t> org_id,
                                                              const AuditFilter& filter,
                                                              Page page) {
  // Each optional condition is disabled by binding NULL, so there are only two statement texts
  // (with and without the organization) to prepare and cache. Without it, ?1 is simply unused.
  const std::string where = fmt::format(
      "WHERE {} (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) "
      "AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4) AND (?5 IS NULL OR user_id = ?5)",
      org_id ? "org_id = ?1 AND" : "");
  const auto window = page_window(page);
  const auto count_sql = "SELECT COUNT(*) FROM audit_log " + where;
  const auto select_sql = fmt::format(
      "SELECT {} FROM audit_log {} ORDER BY at DESC, id DESC "
      "LIMIT ?6 OFFSET ?7",
      kAuditColumns, where);
  return db_.read([&](db::Connection& conn) -> core::Result<PageOf<AuditEntry>> {
    PageOf<AuditEntry> out;
    auto total = query_int(conn, 0, count_sql, org_id, filter.since, filter.until,
                           filter.action_prefix, filter.user_id);
    if (!total) return std::move(total).error();
    out.total = *total;
    auto st = prepare(conn, select_sql, org_id, filter.since, filter.until, filter.action_prefix,
                      filter.user_id, window.limit, window.offset);
    if (!st) return st.error();
    auto rows =
        for_each_row(*st, [&](const db::Statement& r) { out.items.push_back(read_audit(r)); });
    if (!rows) return std::move(rows).error();
    return out;
  });
}

core::Result<PageOf<AuditEntry>> AuthServiceImpl::list_audit(OrgScope scope,
                                                             const AuditFilter& filter, Page page) {
  return query_audit(scope.org_id(), filter, page);
}

core::Result<PageOf<AuditEntry>> AuthServiceImpl::list_audit_all(SystemScope,
                                                                 const AuditFilter& filter,
                                                                 Page page) {
  return query_audit(std::nullopt, filter, page);
}

}  // namespace netpulse::auth::detail
