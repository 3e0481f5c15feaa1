// Device groups in SQLite (migrations/0006_devices.sql): loading them with their member counts,
// names to ids, and the writes; see detail/sql.hpp.
#include <algorithm>

#include <netpulse/devices/types.hpp>

#include "detail/sql.hpp"

namespace netpulse::devices::detail {

core::Result<std::vector<Group>> load_groups(db::Connection& c,
                                             std::optional<std::int64_t> only_id) {
  std::string sql =
      "SELECT g.id, g.org_id, g.name, g.description, g.created_at, g.updated_at, "
      "(SELECT COUNT(*) FROM device_group_members m WHERE m.group_id = g.id) "
      "FROM device_groups g";
  sql += only_id ? " WHERE g.id = ?1" : " ORDER BY g.id";
  auto st = c.prepare(sql);
  if (!st) return st.error();
  if (only_id) st->bind(1, *only_id);
  std::vector<Group> out;
  while (true) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    Group g;
    g.id = st->get_int64(0);
    g.org_id = st->get_int64(1);
    g.name = st->get_text(2);
    g.description = st->get_text(3);
    g.created_at = st->get_int64(4);
    g.updated_at = st->get_int64(5);
    g.device_count = st->get_int64(6);
    out.push_back(std::move(g));
  }
  return out;
}

core::Result<std::vector<std::int64_t>> group_ids_by_name(db::Connection& c, std::int64_t org_id,
                                                          const std::vector<std::string>& names,
                                                          std::string_view field) {
  auto st = c.prepare(kSelectGroupIdByName);
  if (!st) return st.error();
  std::vector<std::int64_t> ids;
  for (auto& name : names) {
    st->bind(1, org_id).bind(2, name);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) {
      return core::invalid_field(field, "there is no group named \"" + name + "\"");
    }
    ids.push_back(st->get_int64(0));
    st->reset();
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

core::Result<std::vector<std::string>> group_names_by_id(db::Connection& c,
                                                         const std::vector<std::int64_t>& ids) {
  auto st = c.prepare("SELECT name FROM device_groups WHERE id = ?1");
  if (!st) return st.error();
  std::vector<std::string> names;
  for (auto id : ids) {
    st->bind(1, id);
    auto row = st->step();
    if (!row) return row.error();
    if (*row) names.push_back(st->get_text(0));
    st->reset();
  }
  return names;
}

core::Result<void> check_group_name_free(db::Connection& c, std::int64_t org_id,
                                         const std::string& name, std::int64_t except_id) {
  auto st = c.prepare("SELECT id FROM device_groups WHERE org_id = ?1 AND name = ?2 AND id <> ?3");
  if (!st) return st.error();
  st->bind(1, org_id).bind(2, name).bind(3, except_id);
  auto row = st->step();
  if (!row) return row.error();
  if (*row) {
    return core::Error(core::Errc::kConflict, "a group named \"" + name + "\" already exists",
                       {{"field", "name"}, {"group_id", st->get_int64(0)}});
  }
  return core::ok();
}

core::Result<std::int64_t> count_groups(db::Connection& c, std::int64_t org_id) {
  auto st = c.prepare("SELECT COUNT(*) FROM device_groups WHERE org_id = ?1");
  if (!st) return st.error();
  st->bind(1, org_id);
  if (auto row = st->step(); !row) return row.error();
  return st->get_int64(0);
}

core::Result<std::int64_t> insert_group(db::Connection& c, const Group& g) {
  auto st = c.prepare(
      "INSERT INTO device_groups (org_id, name, description, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?4)");
  if (!st) return st.error();
  if (auto r =
          st->bind(1, g.org_id).bind(2, g.name).bind(3, g.description).bind(4, g.created_at).run();
      !r) {
    return r.error();
  }
  return c.last_insert_rowid();
}

core::Result<bool> update_group(db::Connection& c, const Group& g) {
  auto st = c.prepare(
      "UPDATE device_groups SET name = ?2, description = ?3, updated_at = ?4 "
      "WHERE id = ?1 AND org_id = ?5");
  if (!st) return st.error();
  if (auto r = st->bind(1, g.id)
                   .bind(2, g.name)
                   .bind(3, g.description)
                   .bind(4, g.updated_at)
                   .bind(5, g.org_id)
                   .run();
      !r) {
    return r.error();
  }
  return c.changes() != 0;
}

core::Result<bool> delete_group(db::Connection& c, std::int64_t id, std::int64_t org_id) {
  auto st = c.prepare("DELETE FROM device_groups WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  if (auto r = st->bind(1, id).bind(2, org_id).run(); !r) return r.error();
  return c.changes() != 0;
}

}  // namespace netpulse::devices::detail
