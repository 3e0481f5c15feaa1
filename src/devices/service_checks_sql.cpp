// Service checks in SQLite (migrations/0009_service_checks.sql); see detail/sql.hpp.
#include <netpulse/devices/types.hpp>

#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

constexpr std::string_view kColumns =
    "org_id, device_id, name, kind, enabled, interval_s, timeout_ms, retries, port, url, "
    "use_device_address, method, status_min, status_max, keyword, verify_tls, max_redirects, "
    "query, record_type, server, expected, created_at, updated_at";

// Binds every column but id, in kColumns' order, from ?1.
void bind_check(db::Statement& st, const ServiceCheck& c) {
  std::optional<std::int64_t> interval;
  if (c.interval_s) interval = *c.interval_s;
  st.bind(1, c.org_id)
      .bind(2, c.device_id)
      .bind(3, c.name)
      .bind(4, service_kind_name(c.kind))
      .bind(5, c.enabled)
      .bind(6, interval)
      .bind(7, c.timeout_ms)
      .bind(8, c.retries)
      .bind(9, c.port)
      .bind(10, c.url)
      .bind(11, c.use_device_address)
      .bind(12, c.method)
      .bind(13, c.status_min)
      .bind(14, c.status_max)
      .bind(15, c.keyword)
      .bind(16, c.verify_tls)
      .bind(17, c.max_redirects)
      .bind(18, c.query)
      .bind(19, c.record_type)
      .bind(20, c.server)
      .bind(21, c.expected)
      .bind(22, c.created_at)
      .bind(23, c.updated_at);
}

int as_int(const db::Statement& st, int col) {
  return static_cast<int>(st.get_int64(col));
}

}  // namespace

core::Result<std::vector<ServiceCheck>> load_service_checks(db::Connection& c) {
  auto st = c.prepare("SELECT id, " + std::string(kColumns) + " FROM service_checks ORDER BY id");
  if (!st) return st.error();
  std::vector<ServiceCheck> out;
  while (true) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    ServiceCheck k;
    k.id = st->get_int64(0);
    k.org_id = st->get_int64(1);
    k.device_id = st->get_int64(2);
    k.name = st->get_text(3);
    auto kind = parse_service_kind(st->get_text(4));
    if (!kind) continue;  // the table's CHECK keeps this from happening
    k.kind = *kind;
    k.enabled = st->get_int64(5) != 0;
    if (auto i = st->get_optional_int64(6)) k.interval_s = static_cast<int>(*i);
    k.timeout_ms = as_int(*st, 7);
    k.retries = as_int(*st, 8);
    k.port = as_int(*st, 9);
    k.url = st->get_text(10);
    k.use_device_address = st->get_int64(11) != 0;
    k.method = st->get_text(12);
    k.status_min = as_int(*st, 13);
    k.status_max = as_int(*st, 14);
    k.keyword = st->get_text(15);
    k.verify_tls = st->get_int64(16) != 0;
    k.max_redirects = as_int(*st, 17);
    k.query = st->get_text(18);
    k.record_type = st->get_text(19);
    k.server = st->get_text(20);
    k.expected = st->get_text(21);
    k.created_at = st->get_int64(22);
    k.updated_at = st->get_int64(23);
    out.push_back(std::move(k));
  }
  return out;
}

core::Result<void> check_service_check_rules(db::Connection& c, const ServiceCheck& check) {
  auto st = c.prepare(
      "SELECT (SELECT count(*) FROM service_checks WHERE device_id = ?1 AND id <> ?2), "
      "(SELECT count(*) FROM service_checks WHERE device_id = ?1 AND id <> ?2 AND name = ?3), "
      "(SELECT count(*) FROM devices WHERE id = ?1 AND org_id = ?4)");
  if (!st) return st.error();
  st->bind(1, check.device_id).bind(2, check.id).bind(3, check.name).bind(4, check.org_id);
  auto row = st->step();
  if (!row) return row.error();
  if (st->get_int64(2) == 0) {
    return core::Error(core::Errc::kDeviceNotFound, "no device " + std::to_string(check.device_id),
                       {{"device_id", check.device_id}});
  }
  if (st->get_int64(1) > 0) {
    return core::Error(core::Errc::kConflict,
                       "the device already has a check named \"" + check.name + "\"",
                       {{"field", "name"}});
  }
  if (check.id == 0 && static_cast<std::size_t>(st->get_int64(0)) >= kMaxServiceChecksPerDevice) {
    return core::Error(
        core::Errc::kConflict,
        "a device has at most " + std::to_string(kMaxServiceChecksPerDevice) + " service checks");
  }
  return core::ok();
}

core::Result<std::int64_t> insert_service_check(db::Connection& c, const ServiceCheck& check) {
  auto st = c.prepare("INSERT INTO service_checks (" + std::string(kColumns) +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                      "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)");
  if (!st) return st.error();
  bind_check(*st, check);
  if (auto r = st->run(); !r) return r.error();
  return c.last_insert_rowid();
}

core::Result<void> update_service_check(db::Connection& c, const ServiceCheck& check) {
  auto st = c.prepare(
      "UPDATE service_checks SET org_id = ?1, device_id = ?2, name = ?3, kind = ?4, enabled = ?5, "
      "interval_s = ?6, timeout_ms = ?7, retries = ?8, port = ?9, url = ?10, "
      "use_device_address = ?11, method = ?12, status_min = ?13, status_max = ?14, keyword = ?15, "
      "verify_tls = ?16, max_redirects = ?17, query = ?18, record_type = ?19, server = ?20, "
      "expected = ?21, created_at = ?22, updated_at = ?23 WHERE id = ?24");
  if (!st) return st.error();
  bind_check(*st, check);
  st->bind(24, check.id);
  return st->run();
}

core::Result<bool> delete_service_check(db::Connection& c, std::int64_t id,
                                        std::int64_t device_id) {
  auto st = c.prepare("DELETE FROM service_checks WHERE id = ?1 AND device_id = ?2");
  if (!st) return st.error();
  if (auto r = st->bind(1, id).bind(2, device_id).run(); !r) return r.error();
  return c.changes() != 0;
}

}  // namespace netpulse::devices::detail
