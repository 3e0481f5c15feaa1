// The dashboards' rows (detail/sql.hpp). Panels are stored as the JSON text parse_dashboard
// normalized, and read back with core::parse_json (numbers exact).
#include "detail/sql.hpp"

#include <netpulse/core/json.hpp>

namespace netpulse::dashboards::detail {

namespace {

constexpr const char* kColumns =
    "SELECT id, org_id, name, description, time_range, panels, is_default, version, "
    "created_by, updated_by, created_at, updated_at FROM dashboards ";

Dashboard read_row(const db::Statement& st) {
  Dashboard d;
  d.id = st.get_int64(0);
  d.org_id = st.get_int64(1);
  d.name = st.get_text(2);
  d.description = st.get_text(3);
  d.time_range = st.get_text(4);
  boost::system::error_code ec;
  auto panels = core::parse_json(st.get_text(5), ec);
  // Written by parse_dashboard, so an array; a row changed by hand that is not reads as empty.
  if (!ec && panels.is_array()) d.panels = std::move(panels.get_array());
  d.is_default = st.get_int64(6) != 0;
  d.version = st.get_int64(7);
  d.created_by = st.get_text(8);
  d.updated_by = st.get_text(9);
  d.created_at = st.get_int64(10);
  d.updated_at = st.get_int64(11);
  return d;
}

core::Error name_taken(const std::string& name) {
  return core::Error{core::Errc::kConflict, "a dashboard named \"" + name + "\" exists already",
                     boost::json::object{{"field", "name"}}};
}

}  // namespace

core::Result<std::vector<Dashboard>> select_dashboards(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare(std::string(kColumns) +
                      "WHERE org_id = ?1 ORDER BY is_default DESC, name COLLATE NOCASE, id");
  if (!st) return st.error();
  st->bind(1, org_id);
  std::vector<Dashboard> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(read_row(*st));
  }
  return out;
}

core::Result<std::optional<Dashboard>> select_dashboard(db::Connection& c, std::int64_t org_id,
                                                        std::int64_t id) {
  auto st = c.prepare(std::string(kColumns) + "WHERE org_id = ?1 AND id = ?2");
  if (!st) return st.error();
  st->bind(1, org_id).bind(2, id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Dashboard>();
  return std::optional<Dashboard>(read_row(*st));
}

core::Result<bool> org_seeded(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare("SELECT 1 FROM dashboard_orgs_seeded WHERE org_id = ?1");
  if (!st) return st.error();
  st->bind(1, org_id);
  return st->step();
}

core::Result<bool> mark_seeded(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare("INSERT OR IGNORE INTO dashboard_orgs_seeded (org_id) VALUES (?1)");
  if (!st) return st.error();
  st->bind(1, org_id);
  if (auto r = st->run(); !r) return r.error();
  return c.changes() > 0;
}

core::Result<std::int64_t> count_dashboards(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare("SELECT count(*) FROM dashboards WHERE org_id = ?1");
  if (!st) return st.error();
  st->bind(1, org_id);
  auto row = st->step();
  if (!row) return row.error();
  return st->get_int64(0);
}

core::Result<std::int64_t> insert_dashboard(db::Connection& c, const Dashboard& d) {
  auto st = c.prepare(
      "INSERT INTO dashboards (org_id, name, description, time_range, panels, is_default, "
      "version, created_by, updated_by, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!st) return st.error();
  st->bind(1, d.org_id)
      .bind(2, d.name)
      .bind(3, d.description)
      .bind(4, d.time_range)
      .bind(5, core::to_json_text(d.panels))
      .bind(6, d.is_default)
      .bind(7, d.version)
      .bind(8, d.created_by)
      .bind(9, d.updated_by)
      .bind(10, d.created_at)
      .bind(11, d.updated_at);
  if (auto r = st->run(); !r) {
    if (r.error().code == core::Errc::kConflict) return name_taken(d.name);
    return r.error();
  }
  return c.last_insert_rowid();
}

core::Result<void> update_dashboard(db::Connection& c, const Dashboard& d) {
  auto st = c.prepare(
      "UPDATE dashboards SET name = ?3, description = ?4, time_range = ?5, panels = ?6, "
      "is_default = ?7, version = ?8, updated_by = ?9, updated_at = ?10 "
      "WHERE org_id = ?1 AND id = ?2");
  if (!st) return st.error();
  st->bind(1, d.org_id)
      .bind(2, d.id)
      .bind(3, d.name)
      .bind(4, d.description)
      .bind(5, d.time_range)
      .bind(6, core::to_json_text(d.panels))
      .bind(7, d.is_default)
      .bind(8, d.version)
      .bind(9, d.updated_by)
      .bind(10, d.updated_at);
  if (auto r = st->run(); !r) {
    if (r.error().code == core::Errc::kConflict) return name_taken(d.name);
    return r.error();
  }
  return core::ok();
}

core::Result<void> clear_default(db::Connection& c, std::int64_t org_id, std::int64_t keep) {
  auto st = c.prepare(
      "UPDATE dashboards SET is_default = 0 WHERE org_id = ?1 AND id <> ?2 AND is_default = 1");
  if (!st) return st.error();
  st->bind(1, org_id).bind(2, keep);
  return st->run();
}

core::Result<bool> delete_dashboard(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM dashboards WHERE org_id = ?1 AND id = ?2");
  if (!st) return st.error();
  st->bind(1, org_id).bind(2, id);
  if (auto r = st->run(); !r) return r.error();
  return c.changes() > 0;
}

}  // namespace netpulse::dashboards::detail
