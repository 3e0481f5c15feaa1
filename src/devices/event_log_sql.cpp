// The event log's SQL (migrations/0007_device_events.sql): inserting a batch of events, deleting
// those past their retention, and the filtered, paged read the API lists. See detail/sql.hpp.
#include <netpulse/devices/types.hpp>

#include "detail/sql.hpp"

namespace netpulse::devices::detail {

core::Result<void> insert_events(db::Connection& c, const std::vector<DeviceEvent>& events,
                                 std::size_t& orphaned) {
  auto st = c.prepare(
      "INSERT INTO device_events (org_id, device_id, at, kind, severity, message, details) "
      "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM organizations WHERE "
      "id = ?1)");
  if (!st) return st.error();
  auto exists = c.prepare("SELECT 1 FROM devices WHERE id = ?1 AND org_id = ?2");
  if (!exists) return exists.error();
  for (auto& e : events) {
    // A device deleted meanwhile: keep the event without it rather than fail the batch.
    bool device_exists = false;
    if (e.device_id) {
      exists->reset();
      exists->bind(1, *e.device_id).bind(2, e.org_id);
      auto row = exists->step();
      if (!row) return row.error();
      device_exists = *row;
    }
    st->reset();
    st->bind(1, e.org_id);
    // (Not through a copied std::optional: GCC 12 at -O3 calls it maybe-uninitialized.)
    if (device_exists) {
      st->bind(2, *e.device_id);
    } else {
      st->bind(2, std::nullopt);
    }
    auto r = st->bind(3, e.at)
                 .bind(4, e.kind)
                 .bind(5, event_severity_name(e.severity))
                 .bind(6, e.message)
                 .bind(7, e.details_json)
                 .run();
    // The organization's foreign key failing (kConflict) or the WHERE EXISTS finding none: the
    // organization went while the event waited.
    if (!r && r.error().code != core::Errc::kConflict) return r;
    if (!r || c.changes() == 0) ++orphaned;
  }
  return core::ok();
}

core::Result<void> delete_events_before(db::Connection& c, std::int64_t cutoff) {
  auto st = c.prepare("DELETE FROM device_events WHERE at < ?1");
  if (!st) return st.error();
  return st->bind(1, cutoff).run();
}

core::Result<core::PageOf<DeviceEvent>> query_events(db::Connection& c, std::int64_t org_id,
                                                     const EventFilter& f, core::Page page) {
  std::string where = " WHERE org_id = ?1";
  if (f.device_id) where += " AND device_id = ?2";
  if (f.kind) where += " AND kind = ?3";
  if (f.severity) where += " AND severity = ?4";
  if (f.since) where += " AND at >= ?5";
  if (f.until) where += " AND at < ?6";
  auto bind = [&](db::Statement& st) {
    st.bind(1, org_id);
    if (f.device_id) st.bind(2, *f.device_id);
    if (f.kind) st.bind(3, *f.kind);
    if (f.severity) st.bind(4, event_severity_name(*f.severity));
    if (f.since) st.bind(5, *f.since);
    if (f.until) st.bind(6, *f.until);
  };
  core::PageOf<DeviceEvent> out;
  auto count = c.prepare("SELECT COUNT(*) FROM device_events" + where);
  if (!count) return count.error();
  bind(*count);
  if (auto r = count->step(); !r) return r.error();
  out.total = count->get_int64(0);
  auto st = c.prepare(
      "SELECT id, org_id, device_id, at, kind, severity, message, details FROM device_events" +
      where + " ORDER BY at DESC, id DESC LIMIT ?7 OFFSET ?8");
  if (!st) return st.error();
  bind(*st);
  st->bind(7, page.per_page);
  st->bind(8, static_cast<std::int64_t>(page.page - 1) * page.per_page);
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    DeviceEvent e;
    e.id = st->get_int64(0);
    e.org_id = st->get_int64(1);
    e.device_id = st->get_optional_int64(2);
    e.at = st->get_int64(3);
    e.kind = st->get_text(4);
    e.severity = parse_event_severity(st->get_text(5)).value_or(EventSeverity::kInfo);
    e.message = st->get_text(6);
    e.details_json = st->get_text(7);
    out.items.push_back(std::move(e));
  }
  return out;
}

}  // namespace netpulse::devices::detail
