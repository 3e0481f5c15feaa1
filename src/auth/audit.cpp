// The audit log: one row per authenticated mutating request (the api pipeline decides which; see
// docs/security.md), per login and per account lock-out (login.cpp), and per change made from
// the CLI. Written fire and forget through the db writer (a failure is logged, never shown to the
// caller), read newest first with optional filters on time, action prefix and user. Organization
// admins see their organization's rows; system admins may read across organizations.
//
// Also the background deletions tick() drives: audit rows past the retention, and refresh tokens
// long expired (kept one refresh lifetime past their expiry, so a replayed old token is still
// recognised). Each write deletes at most purge_batch_rows rows, so the writer never holds one
// long transaction; a full batch queues the next at once, and once caught up the sweep waits an
// hour.
#include <algorithm>

#include <fmt/format.h>

#include "detail/auth_service_impl.hpp"
#include "detail/sql.hpp"

namespace netpulse::auth::detail {

core::Result<void> AuthServiceImpl::insert_audit(db::Connection& conn, const AuditEntry& entry) {
  return execute(conn,
                 "INSERT INTO audit_log (at, org_id, user_id, api_key_id, actor, action, "
                 "target, source_ip, request_id, status, outcome) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 entry.at, entry.org_id, entry.user_id, entry.api_key_id, entry.actor, entry.action,
                 entry.target, entry.source_ip, entry.request_id, entry.status,
                 std::string_view(entry.success ? "success" : "failure"));
}

void AuthServiceImpl::record_audit(AuditEntry entry) {
  if (entry.at == 0) entry.at = now_s();
  db_.write([entry](db::Connection& conn) { return insert_audit(conn, entry); }, loop_,
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

void AuthServiceImpl::tick() {
  const auto now = now_s();
  if (purges_running_ > 0) return;
  if (purged_at_ != 0 && now - purged_at_ < kPurgeIntervalS) return;
  purged_at_ = now;
  if (options_.audit_retention_days > 0) {
    purge_batch("audit rows",
                "DELETE FROM audit_log WHERE id IN "
                "(SELECT id FROM audit_log WHERE at < ?1 ORDER BY at LIMIT ?2)",
                now - options_.audit_retention_days * 86'400, purged_audit_);
  }
  purge_batch("refresh tokens",
              "DELETE FROM refresh_tokens WHERE id IN "
              "(SELECT id FROM refresh_tokens WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)",
              now - options_.refresh_token_ttl_s, purged_refresh_);
}

void AuthServiceImpl::purge_batch(std::string what, std::string delete_sql, std::int64_t cutoff,
                                  core::Counter* counter) {
  ++purges_running_;
  const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(options_.purge_batch_rows, 1));
  db_.write<std::int64_t>(
      [delete_sql, cutoff, limit](db::Connection& conn) -> core::Result<std::int64_t> {
        auto r = execute(conn, delete_sql, cutoff, limit);
        if (!r) return std::move(r).error();
        return static_cast<std::int64_t>(conn.changes());
      },
      loop_,
      [this, what, delete_sql, cutoff, limit, counter](core::Result<std::int64_t> deleted) {
        --purges_running_;
        if (!deleted) {
          log_.warn("auth", "deleting old {}: {}", what, deleted.error().message);
          return;
        }
        if (counter) counter->inc(static_cast<double>(*deleted));
        if (*deleted > 0) log_.debug("auth", "deleted {} old {}", *deleted, what);
        // A full batch: there is more, go on at once (each batch its own short write).
        if (*deleted >= limit) purge_batch(what, delete_sql, cutoff, counter);
      });
}

}  // namespace netpulse::auth::detail
