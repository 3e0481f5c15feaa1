// The SQL of on-call schedules (oncall_schedules: body = to_json), users' contact methods
// (user_contacts) and the in-app inbox (inapp_notifications), migrations/0013_notify.sql.
#include <set>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

core::Result<std::vector<StoredSchedule>> load_schedules(db::Connection& c) {
  auto st = c.prepare(
      "SELECT id, org_id, name, body, created_at, updated_at FROM oncall_schedules ORDER BY id");
  if (!st) return st.error();
  std::vector<StoredSchedule> out;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) return out;
    boost::system::error_code ec;
    auto body = core::parse_json(st->get_text(3), ec);
    auto s = ec ? core::Result<OncallSchedule>(core::Error(core::Errc::kDatabaseError, "not JSON"))
                : oncall_from_json(body);
    if (!s) {
      return core::Error(core::Errc::kDatabaseError,
                         fmt::format("stored on-call schedule {} does not read back: {}",
                                     st->get_int64(0), s.error().message));
    }
    StoredSchedule row{std::move(*s), st->get_int64(4), st->get_int64(5)};
    row.schedule.id = st->get_int64(0);
    row.schedule.org_id = st->get_int64(1);
    out.push_back(std::move(row));
  }
}

core::Result<std::int64_t> insert_schedule(db::Connection& c, const StoredSchedule& s) {
  auto st = c.prepare(
      "INSERT INTO oncall_schedules (org_id, name, body, created_at, updated_at) VALUES (?, ?, "
      "?, ?, ?)");
  if (!st) return st.error();
  auto body = to_json(s.schedule);
  body.erase("id");
  st->bind(1, s.schedule.org_id)
      .bind(2, s.schedule.name)
      .bind(3, core::to_json_text(body))
      .bind(4, s.created_at)
      .bind(5, s.updated_at);
  if (auto ok = run_named(*st, "schedule", s.schedule.name); !ok) return ok.error();
  return c.last_insert_rowid();
}

core::Result<void> update_schedule_row(db::Connection& c, const StoredSchedule& s) {
  auto st = c.prepare(
      "UPDATE oncall_schedules SET name = ?, body = ?, updated_at = ? WHERE id = ? AND org_id = "
      "?");
  if (!st) return st.error();
  auto body = to_json(s.schedule);
  body.erase("id");
  st->bind(1, s.schedule.name)
      .bind(2, core::to_json_text(body))
      .bind(3, s.updated_at)
      .bind(4, s.schedule.id)
      .bind(5, s.schedule.org_id);
  return run_named(*st, "schedule", s.schedule.name);
}

core::Result<void> delete_schedule_row(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM oncall_schedules WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, id).bind(2, org_id);
  return st->run();
}

core::Result<std::vector<ContactsRow>> load_contacts(db::Connection& c) {
  auto st = c.prepare("SELECT user_id, org_id, body FROM user_contacts ORDER BY user_id");
  if (!st) return st.error();
  std::vector<ContactsRow> out;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) return out;
    out.push_back({st->get_int64(0), st->get_int64(1), st->get_text(2)});
  }
}

core::Result<void> save_contacts(db::Connection& c, std::int64_t org_id, std::int64_t user_id,
                                 const std::string& body, std::int64_t now_s) {
  auto st = c.prepare(
      "INSERT INTO user_contacts (user_id, org_id, body, updated_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, body = excluded.body, "
      "updated_at = excluded.updated_at");
  if (!st) return st.error();
  st->bind(1, user_id).bind(2, org_id).bind(3, body).bind(4, now_s);
  return st->run();
}

core::Result<void> insert_inapp(db::Connection& c, const std::vector<NewInapp>& rows,
                                std::int64_t now_ms, std::size_t keep) {
  auto st = c.prepare(
      "INSERT INTO inapp_notifications (org_id, user_id, kind, severity, title, text, alert_id, "
      "created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ? "
      "AND org_id = ?)");
  if (!st) return st.error();
  std::set<std::int64_t> users;
  for (const auto& r : rows) {
    st->reset();
    st->bind(1, r.org_id)
        .bind(2, r.user_id)
        .bind(3, r.kind)
        .bind(4, r.severity)
        .bind(5, r.title)
        .bind(6, r.text)
        .bind(7, r.alert_id)
        .bind(8, now_ms)
        .bind(9, r.user_id)
        .bind(10, r.org_id);
    if (auto ok = st->run(); !ok) return ok;
    users.insert(r.user_id);
  }
  // The bound: each user keeps the newest `keep` rows.
  auto trim = c.prepare(
      "DELETE FROM inapp_notifications WHERE user_id = ? AND id <= (SELECT id FROM "
      "inapp_notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)");
  if (!trim) return trim.error();
  for (auto user : users) {
    trim->reset();
    trim->bind(1, user).bind(2, user).bind(3, static_cast<std::int64_t>(keep));
    if (auto ok = trim->run(); !ok) return ok;
  }
  return core::ok();
}

core::Result<core::PageOf<InappNotification>> query_inapp(db::Connection& c, std::int64_t org_id,
                                                          std::int64_t user_id, bool all,
                                                          core::Page page) {
  const std::string where =
      std::string(" WHERE org_id = ? AND user_id = ?") + (all ? "" : " AND read_at IS NULL");
  core::PageOf<InappNotification> out;
  auto count = c.prepare("SELECT COUNT(*) FROM inapp_notifications" + where);
  if (!count) return count.error();
  count->bind(1, org_id).bind(2, user_id);
  if (auto more = count->step(); !more) return more.error();
  out.total = count->get_int64(0);
  auto st = c.prepare(
      "SELECT id, org_id, user_id, kind, severity, title, text, alert_id, created_at, read_at "
      "FROM inapp_notifications" +
      where + " ORDER BY id DESC LIMIT ? OFFSET ?");
  if (!st) return st.error();
  st->bind(1, org_id)
      .bind(2, user_id)
      .bind(3, page.per_page)
      .bind(4, static_cast<std::int64_t>(page.page - 1) * page.per_page);
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) return out;
    InappNotification n;
    n.id = st->get_int64(0);
    n.org_id = st->get_int64(1);
    n.user_id = st->get_int64(2);
    n.kind = st->get_text(3);
    n.severity = st->get_text(4);
    n.title = st->get_text(5);
    n.text = st->get_text(6);
    n.alert_id = st->get_optional_int64(7);
    n.created_at = st->get_int64(8);
    n.read_at = st->get_optional_int64(9);
    out.items.push_back(std::move(n));
  }
}

core::Result<std::int64_t> mark_inapp(db::Connection& c, std::int64_t org_id, std::int64_t user_id,
                                      std::optional<std::int64_t> id, std::int64_t now_ms) {
  // One row: matched whether read already or not (marking twice is fine); all: the unread.
  auto st = c.prepare(
      id ? "UPDATE inapp_notifications SET read_at = COALESCE(read_at, ?) WHERE org_id = ? AND "
           "user_id = ? AND id = ?"
         : "UPDATE inapp_notifications SET read_at = ? WHERE org_id = ? AND user_id = ? AND "
           "read_at IS NULL");
  if (!st) return st.error();
  st->bind(1, now_ms).bind(2, org_id).bind(3, user_id);
  if (id) st->bind(4, *id);
  if (auto ok = st->run(); !ok) return ok.error();
  return static_cast<std::int64_t>(c.changes());
}

}  // namespace netpulse::notify::detail
