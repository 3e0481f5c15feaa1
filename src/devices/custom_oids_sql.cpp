// Custom SNMP objects in SQLite (migrations/0008_custom_oids.sql); see detail/sql.hpp.
#include <netpulse/devices/types.hpp>

#include "detail/sql.hpp"

namespace netpulse::devices::detail {

core::Result<std::vector<CustomOid>> load_custom_oids(db::Connection& c) {
  auto st = c.prepare(
      "SELECT id, org_id, device_id, device_type, oid, metric, kind, scale, unit, created_at "
      "FROM custom_oids ORDER BY id");
  if (!st) return st.error();
  std::vector<CustomOid> out;
  while (true) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    CustomOid o;
    o.id = st->get_int64(0);
    o.org_id = st->get_int64(1);
    o.device_id = st->get_optional_int64(2);
    if (auto t = st->get_optional_text(3)) o.device_type = parse_device_type(*t);
    o.oid = st->get_text(4);
    o.metric = st->get_text(5);
    o.counter = st->get_text(6) == "counter";
    o.scale = st->get_double(7);
    o.unit = st->get_text(8);
    o.created_at = st->get_int64(9);
    out.push_back(std::move(o));
  }
  return out;
}

core::Result<std::int64_t> insert_custom_oid(db::Connection& c, const CustomOid& o) {
  auto st = c.prepare(
      "INSERT INTO custom_oids (org_id, device_id, device_type, oid, metric, kind, scale, "
      "unit, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!st) return st.error();
  std::optional<std::string> type;
  if (o.device_type) type = std::string(device_type_name(*o.device_type));
  if (auto r = st->bind(1, o.org_id)
                   .bind(2, o.device_id)
                   .bind(3, type)
                   .bind(4, o.oid)
                   .bind(5, o.metric)
                   .bind(6, o.counter ? "counter" : "gauge")
                   .bind(7, o.scale)
                   .bind(8, o.unit)
                   .bind(9, o.created_at)
                   .run();
      !r) {
    return r.error();
  }
  return c.last_insert_rowid();
}

core::Result<void> delete_custom_oid(db::Connection& c, std::int64_t id, std::int64_t org_id) {
  auto st = c.prepare("DELETE FROM custom_oids WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  return st->bind(1, id).bind(2, org_id).run();
}

}  // namespace netpulse::devices::detail
