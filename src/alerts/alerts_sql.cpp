// The alerts module's SQL (migrations/0012_alerts.sql). See detail/alerts_sql.hpp.
#include "detail/alerts_sql.hpp"

#include <boost/json.hpp>

#include <netpulse/alerts/maintenance.hpp>
#include <netpulse/alerts/rule_json.hpp>
#include <netpulse/alerts/silence.hpp>
#include <netpulse/core/json.hpp>

namespace netpulse::alerts::detail {

namespace {

std::string map_json(const std::map<std::string, std::string>& m) {
  boost::json::object o;
  for (auto& [k, v] : m) o[k] = v;
  return core::to_json_text(o);
}

std::map<std::string, std::string> json_map(const std::string& text) {
  std::map<std::string, std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (auto& [k, val] : v.as_object()) {
    if (val.is_string()) out.emplace(std::string(k), std::string(val.as_string()));
  }
  return out;
}

constexpr const char* kAlertColumns =
    "id, org_id, rule_id, rule_name, kind, subject, status, severity, device_id, device_name, "
    "labels, annotations, value, threshold, started_at, fired_at, acknowledged_by, "
    "acknowledged_by_name, acknowledged_at, ack_note, resolved_at, resolved_by, resolve_reason, "
    "incident_id, symptom_of, impact, silenced, flapping, updated_at";

std::optional<double> opt_double(const db::Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return st.get_double(col);
}

Alert alert_row(const db::Statement& st) {
  Alert a;
  a.id = st.get_int64(0);
  a.org_id = st.get_int64(1);
  a.rule_id = st.get_int64(2);
  a.rule_name = st.get_text(3);
  a.kind = parse_rule_kind(st.get_text(4)).value_or(RuleKind::kThreshold);
  a.subject = st.get_text(5);
  a.status = parse_alert_status(st.get_text(6)).value_or(AlertStatus::kFiring);
  a.severity = parse_severity(st.get_text(7)).value_or(Severity::kWarning);
  a.device_id = st.get_optional_int64(8);
  a.device_name = st.get_text(9);
  a.labels = json_map(st.get_text(10));
  a.annotations = json_map(st.get_text(11));
  a.value = st.get_double(12);
  a.threshold = opt_double(st, 13);
  a.started_at = st.get_int64(14);
  a.fired_at = st.get_optional_int64(15);
  a.acknowledged_by = st.get_optional_int64(16);
  a.acknowledged_by_name = st.get_text(17);
  a.acknowledged_at = st.get_optional_int64(18);
  a.ack_note = st.get_text(19);
  a.resolved_at = st.get_optional_int64(20);
  a.resolved_by = st.get_optional_int64(21);
  a.resolve_reason = st.get_text(22);
  a.incident_id = st.get_optional_int64(23);
  a.symptom_of = st.get_optional_int64(24);
  a.impact = st.get_int64(25);
  a.silenced = st.get_int64(26) != 0;
  a.flapping = st.get_int64(27) != 0;
  a.updated_at = st.get_int64(28);
  return a;
}

core::Result<std::vector<Alert>> alerts_where(db::Connection& c, const std::string& where,
                                              const std::function<void(db::Statement&)>& bind) {
  auto st = c.prepare(std::string("SELECT ") + kAlertColumns + " FROM alerts " + where);
  if (!st) return st.error();
  bind(*st);
  std::vector<Alert> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(alert_row(*st));
  }
  return out;
}

const char* incident_columns() {
  return "id, org_id, root_alert_id, root_device_id, title, status, symptom_count, impact, "
         "impacted, opened_at, resolved_at, updated_at, symptom_alerts";
}

Incident incident_row(const db::Statement& st) {
  Incident i;
  i.id = st.get_int64(0);
  i.org_id = st.get_int64(1);
  i.root_alert_id = st.get_int64(2);
  i.root_device_id = st.get_optional_int64(3);
  i.title = st.get_text(4);
  i.status = st.get_text(5) == "open" ? IncidentStatus::kOpen : IncidentStatus::kResolved;
  i.symptom_count = st.get_int64(6);
  i.impact = st.get_int64(7);
  boost::system::error_code ec;
  auto v = boost::json::parse(st.get_text(8), ec);
  if (!ec && v.is_array()) {
    for (auto& d : v.as_array()) {
      if (d.is_int64()) i.impacted_devices.push_back(d.as_int64());
    }
  }
  i.opened_at = st.get_int64(9);
  i.resolved_at = st.get_optional_int64(10);
  i.updated_at = st.get_int64(11);
  i.symptom_alerts = st.get_int64(12);
  return i;
}

// The WHERE of a resolved-alert query (?1 org; the filter's values from ?2).
std::string resolved_where(const AlertFilter& f, const std::vector<std::int64_t>& device_ids) {
  std::string w = " WHERE org_id = ?1 AND status = 'resolved'";
  if (!f.severities.empty()) {
    w += " AND severity IN (";
    for (std::size_t i = 0; i < f.severities.size(); ++i) {
      w += (i ? ", '" : "'") + std::string(severity_name(f.severities[i])) + "'";
    }
    w += ")";
  }
  if (f.device_id) w += " AND device_id = ?2";
  if (f.rule_id) w += " AND rule_id = ?3";
  if (f.incident_id) w += " AND incident_id = ?4";
  if (f.since) w += " AND started_at >= ?5";
  if (f.group_id || f.tag) {
    w += " AND device_id IN (";
    for (std::size_t i = 0; i < device_ids.size(); ++i) {
      w += (i ? ", " : "") + std::to_string(device_ids[i]);
    }
    w += ")";
  }
  return w;
}

void bind_resolved(db::Statement& st, std::int64_t org_id, const AlertFilter& f) {
  st.bind(1, org_id);
  if (f.device_id) st.bind(2, *f.device_id);
  if (f.rule_id) st.bind(3, *f.rule_id);
  if (f.incident_id) st.bind(4, *f.incident_id);
  if (f.since) st.bind(5, *f.since);
}

}  // namespace

// --- rules -------------------------------------------------------------------------------------

core::Result<std::vector<StoredRule>> load_rules(db::Connection& c) {
  auto st = c.prepare(
      "SELECT id, org_id, body, builtin, created_at, updated_at FROM alert_rules ORDER BY id");
  if (!st) return st.error();
  std::vector<StoredRule> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    boost::system::error_code ec;
    auto body = boost::json::parse(st->get_text(2), ec);
    if (ec) continue;  // not written by NetPulse: skipped (a rule is only saved valid)
    auto rule = rule_from_json(body);
    if (!rule) continue;
    StoredRule s;
    s.rule = std::move(*rule);
    s.rule.id = st->get_int64(0);
    s.rule.org_id = st->get_int64(1);
    s.builtin = st->get_text(3);
    s.created_at = st->get_int64(4);
    s.updated_at = st->get_int64(5);
    out.push_back(std::move(s));
  }
  return out;
}

core::Result<void> save_rule(db::Connection& c, StoredRule& rule) {
  auto body = rule_to_json(rule.rule);
  body.erase("id");
  const auto text = core::to_json_text(body);
  if (rule.rule.id == 0) {
    auto st = c.prepare(
        "INSERT INTO alert_rules (org_id, name, kind, enabled, body, builtin, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st) return st.error();
    st->bind(1, rule.rule.org_id)
        .bind(2, rule.rule.name)
        .bind(3, rule_kind_name(rule.rule.kind))
        .bind(4, rule.rule.enabled)
        .bind(5, text)
        .bind(6, rule.builtin)
        .bind(7, rule.created_at)
        .bind(8, rule.updated_at);
    if (auto r = st->run(); !r) return r;
    rule.rule.id = c.last_insert_rowid();
    return core::ok();
  }
  auto st = c.prepare(
      "UPDATE alert_rules SET name = ?3, kind = ?4, enabled = ?5, body = ?6, updated_at = ?7 "
      "WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  st->bind(1, rule.rule.id)
      .bind(2, rule.rule.org_id)
      .bind(3, rule.rule.name)
      .bind(4, rule_kind_name(rule.rule.kind))
      .bind(5, rule.rule.enabled)
      .bind(6, text)
      .bind(7, rule.updated_at);
  if (auto r = st->run(); !r) return r;
  if (c.changes() == 0) return core::Error{core::Errc::kNotFound, "no such alert rule"};
  return core::ok();
}

core::Result<void> delete_rule(db::Connection& c, std::int64_t org_id, std::int64_t rule_id) {
  auto st = c.prepare("DELETE FROM alert_rules WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  return st->bind(1, rule_id).bind(2, org_id).run();
}

core::Result<std::vector<std::int64_t>> orgs_without_default_rules(db::Connection& c) {
  auto st = c.prepare(
      "SELECT id FROM organizations WHERE id NOT IN (SELECT org_id FROM alert_rule_defaults) "
      "ORDER BY id");
  if (!st) return st.error();
  std::vector<std::int64_t> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(st->get_int64(0));
  }
  return out;
}

core::Result<void> mark_default_rules(db::Connection& c, std::int64_t org_id, std::int64_t at) {
  auto st =
      c.prepare("INSERT OR IGNORE INTO alert_rule_defaults (org_id, applied_at) VALUES (?1, ?2)");
  if (!st) return st.error();
  return st->bind(1, org_id).bind(2, at).run();
}

// --- alerts ------------------------------------------------------------------------------------

core::Result<std::vector<Alert>> load_open_alerts(db::Connection& c) {
  return alerts_where(c, "WHERE status <> 'resolved' ORDER BY id", [](db::Statement&) {});
}

core::Result<void> upsert_alert(db::Connection& c, const Alert& a) {
  auto st = c.prepare(std::string("INSERT INTO alerts (") + kAlertColumns +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                      "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29) "
                      "ON CONFLICT (id) DO UPDATE SET rule_id = ?3, rule_name = ?4, status = ?7, "
                      "severity = ?8, device_name = ?10, labels = ?11, annotations = ?12, "
                      "value = ?13, threshold = ?14, fired_at = ?16, acknowledged_by = ?17, "
                      "acknowledged_by_name = ?18, acknowledged_at = ?19, ack_note = ?20, "
                      "resolved_at = ?21, resolved_by = ?22, resolve_reason = ?23, "
                      "incident_id = ?24, symptom_of = ?25, impact = ?26, silenced = ?27, "
                      "flapping = ?28, updated_at = ?29");
  if (!st) return st.error();
  st->bind(1, a.id)
      .bind(2, a.org_id)
      .bind(3, a.rule_id)
      .bind(4, a.rule_name)
      .bind(5, rule_kind_name(a.kind))
      .bind(6, a.subject)
      .bind(7, alert_status_name(a.status))
      .bind(8, severity_name(a.severity))
      .bind(9, a.device_id)
      .bind(10, a.device_name)
      .bind(11, map_json(a.labels))
      .bind(12, map_json(a.annotations))
      .bind(13, a.value)
      .bind(14, a.threshold)
      .bind(15, a.started_at)
      .bind(16, a.fired_at)
      .bind(17, a.acknowledged_by)
      .bind(18, a.acknowledged_by_name)
      .bind(19, a.acknowledged_at)
      .bind(20, a.ack_note)
      .bind(21, a.resolved_at)
      .bind(22, a.resolved_by)
      .bind(23, a.resolve_reason)
      .bind(24, a.incident_id)
      .bind(25, a.symptom_of)
      .bind(26, a.impact)
      .bind(27, a.silenced)
      .bind(28, a.flapping)
      .bind(29, a.updated_at);
  return st->run();
}

core::Result<void> insert_history(db::Connection& c, std::int64_t alert_id,
                                  const AlertHistoryEntry& h) {
  auto st = c.prepare(
      "INSERT INTO alert_history (alert_id, at, from_status, to_status, actor_id, actor, note, "
      "value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st) return st.error();
  return st->bind(1, alert_id)
      .bind(2, h.at)
      .bind(3, h.from)
      .bind(4, h.to)
      .bind(5, h.actor_id)
      .bind(6, h.actor)
      .bind(7, h.note)
      .bind(8, h.value)
      .run();
}

core::Result<void> delete_alert(db::Connection& c, std::int64_t org_id, std::int64_t alert_id) {
  auto st = c.prepare("DELETE FROM alerts WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  return st->bind(1, alert_id).bind(2, org_id).run();
}

core::Result<void> insert_comment(db::Connection& c, const AlertComment& m) {
  auto st = c.prepare(
      "INSERT INTO alert_comments (id, alert_id, at, author_id, author, text) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st) return st.error();
  return st->bind(1, m.id)
      .bind(2, m.alert_id)
      .bind(3, m.at)
      .bind(4, m.author_id)
      .bind(5, m.author)
      .bind(6, m.text)
      .run();
}

core::Result<std::optional<Alert>> read_alert(db::Connection& c, std::int64_t org_id,
                                              std::int64_t id) {
  auto r = alerts_where(c, "WHERE id = ?1 AND org_id = ?2",
                        [&](db::Statement& st) { st.bind(1, id).bind(2, org_id); });
  if (!r) return r.error();
  if (r->empty()) return std::optional<Alert>{};
  return std::optional<Alert>(std::move(r->front()));
}

core::Result<std::vector<AlertHistoryEntry>> read_history(db::Connection& c, std::int64_t id) {
  auto st = c.prepare(
      "SELECT at, from_status, to_status, actor_id, actor, note, value FROM alert_history "
      "WHERE alert_id = ?1 ORDER BY id");
  if (!st) return st.error();
  st->bind(1, id);
  std::vector<AlertHistoryEntry> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->get_int64(0), st->get_text(1), st->get_text(2), st->get_optional_int64(3),
                   st->get_text(4), st->get_text(5), st->get_double(6)});
  }
  return out;
}

core::Result<std::vector<AlertComment>> read_comments(db::Connection& c, std::int64_t id) {
  auto st = c.prepare(
      "SELECT id, alert_id, at, author_id, author, text FROM alert_comments WHERE alert_id = ?1 "
      "ORDER BY id");
  if (!st) return st.error();
  st->bind(1, id);
  std::vector<AlertComment> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->get_int64(0), st->get_int64(1), st->get_int64(2), st->get_optional_int64(3),
                   st->get_text(4), st->get_text(5)});
  }
  return out;
}

core::Result<core::PageOf<Alert>> query_resolved(db::Connection& c, std::int64_t org_id,
                                                 const AlertFilter& f,
                                                 const std::vector<std::int64_t>& device_ids,
                                                 std::int64_t offset, std::int64_t limit) {
  core::PageOf<Alert> out;
  auto total = count_resolved(c, org_id, f, device_ids);
  if (!total) return total.error();
  out.total = *total;
  if (limit <= 0) return out;
  auto rows = alerts_where(
      c, resolved_where(f, device_ids) + " ORDER BY started_at DESC, id DESC LIMIT ?6 OFFSET ?7",
      [&](db::Statement& st) {
        bind_resolved(st, org_id, f);
        st.bind(6, limit).bind(7, offset);
      });
  if (!rows) return rows.error();
  out.items = std::move(*rows);
  return out;
}

core::Result<std::int64_t> count_resolved(db::Connection& c, std::int64_t org_id,
                                          const AlertFilter& f,
                                          const std::vector<std::int64_t>& device_ids) {
  auto st = c.prepare("SELECT COUNT(*) FROM alerts" + resolved_where(f, device_ids));
  if (!st) return st.error();
  bind_resolved(*st, org_id, f);
  if (auto r = st->step(); !r) return r.error();
  return st->get_int64(0);
}

core::Result<void> delete_resolved_before(db::Connection& c, std::int64_t cutoff_ms) {
  auto st = c.prepare("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1");
  if (!st) return st.error();
  return st->bind(1, cutoff_ms).run();
}

// --- incidents ---------------------------------------------------------------------------------

core::Result<std::vector<Incident>> load_open_incidents(db::Connection& c) {
  auto st = c.prepare(std::string("SELECT ") + incident_columns() +
                      " FROM incidents WHERE status = 'open' ORDER BY id");
  if (!st) return st.error();
  std::vector<Incident> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(incident_row(*st));
  }
  return out;
}

core::Result<void> upsert_incident(db::Connection& c, const Incident& i) {
  boost::json::array impacted;
  for (auto d : i.impacted_devices) impacted.push_back(d);
  auto st = c.prepare(std::string("INSERT INTO incidents (") + incident_columns() +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
                      "ON CONFLICT (id) DO UPDATE SET root_alert_id = ?3, root_device_id = ?4, "
                      "title = ?5, status = ?6, symptom_count = ?7, impact = ?8, impacted = ?9, "
                      "resolved_at = ?11, updated_at = ?12, symptom_alerts = ?13");
  if (!st) return st.error();
  return st->bind(1, i.id)
      .bind(2, i.org_id)
      .bind(3, i.root_alert_id)
      .bind(4, i.root_device_id)
      .bind(5, i.title)
      .bind(6, incident_status_name(i.status))
      .bind(7, i.symptom_count)
      .bind(8, i.impact)
      .bind(9, core::to_json_text(impacted))
      .bind(10, i.opened_at)
      .bind(11, i.resolved_at)
      .bind(12, i.updated_at)
      .bind(13, i.symptom_alerts)
      .run();
}

core::Result<std::optional<Incident>> read_incident(db::Connection& c, std::int64_t org_id,
                                                    std::int64_t id) {
  auto st = c.prepare(std::string("SELECT ") + incident_columns() +
                      " FROM incidents WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  st->bind(1, id).bind(2, org_id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Incident>{};
  return std::optional<Incident>(incident_row(*st));
}

core::Result<core::PageOf<Incident>> query_incidents(db::Connection& c, std::int64_t org_id,
                                                     core::Page page) {
  core::PageOf<Incident> out;
  auto count = c.prepare("SELECT COUNT(*) FROM incidents WHERE org_id = ?1");
  if (!count) return count.error();
  count->bind(1, org_id);
  if (auto r = count->step(); !r) return r.error();
  out.total = count->get_int64(0);
  auto st = c.prepare(std::string("SELECT ") + incident_columns() +
                      " FROM incidents WHERE org_id = ?1 ORDER BY opened_at DESC, id DESC "
                      "LIMIT ?2 OFFSET ?3");
  if (!st) return st.error();
  st->bind(1, org_id)
      .bind(2, page.per_page)
      .bind(3, static_cast<std::int64_t>(page.page - 1) * page.per_page);
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.items.push_back(incident_row(*st));
  }
  return out;
}

core::Result<std::vector<Alert>> read_incident_alerts(db::Connection& c, std::int64_t org_id,
                                                      std::int64_t incident_id) {
  return alerts_where(c, "WHERE org_id = ?1 AND incident_id = ?2 ORDER BY id",
                      [&](db::Statement& st) { st.bind(1, org_id).bind(2, incident_id); });
}

// --- silences and maintenance windows ---------------------------------------------------------

namespace {

core::Result<std::vector<StoredBody>> load_bodies(db::Connection& c, const char* sql) {
  auto st = c.prepare(sql);
  if (!st) return st.error();
  std::vector<StoredBody> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->get_int64(0), st->get_int64(1), st->get_text(2)});
  }
  return out;
}

}  // namespace

core::Result<std::vector<StoredBody>> load_silences(db::Connection& c) {
  return load_bodies(c, "SELECT id, org_id, body FROM silences ORDER BY id");
}

core::Result<void> insert_silence(db::Connection& c, Silence& s) {
  auto body = silence_to_json(s);
  body.erase("id");
  auto st = c.prepare(
      "INSERT INTO silences (org_id, body, starts_at, ends_at, created_by, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st) return st.error();
  st->bind(1, s.org_id)
      .bind(2, core::to_json_text(body))
      .bind(3, s.starts_at)
      .bind(4, s.ends_at)
      .bind(5, s.created_by)
      .bind(6, s.created_at);
  if (auto r = st->run(); !r) return r;
  s.id = c.last_insert_rowid();
  return core::ok();
}

core::Result<void> delete_silence(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM silences WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  return st->bind(1, id).bind(2, org_id).run();
}

core::Result<std::vector<StoredBody>> load_maintenance(db::Connection& c) {
  return load_bodies(c, "SELECT id, org_id, body FROM maintenance_windows ORDER BY id");
}

core::Result<void> save_maintenance(db::Connection& c, MaintenanceWindow& w, std::int64_t now_s) {
  auto body = maintenance_to_json(w);
  body.erase("id");
  const auto text = core::to_json_text(body);
  if (w.id == 0) {
    auto st = c.prepare(
        "INSERT INTO maintenance_windows (org_id, name, body, created_by, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
    if (!st) return st.error();
    st->bind(1, w.org_id).bind(2, w.name).bind(3, text).bind(4, w.created_by).bind(5, now_s);
    if (auto r = st->run(); !r) return r;
    w.id = c.last_insert_rowid();
    return core::ok();
  }
  auto st = c.prepare(
      "UPDATE maintenance_windows SET name = ?3, body = ?4, updated_at = ?5 "
      "WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  st->bind(1, w.id).bind(2, w.org_id).bind(3, w.name).bind(4, text).bind(5, now_s);
  if (auto r = st->run(); !r) return r;
  if (c.changes() == 0) {
    return core::Error{core::Errc::kNotFound, "no such maintenance window"};
  }
  return core::ok();
}

core::Result<void> delete_maintenance(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM maintenance_windows WHERE id = ?1 AND org_id = ?2");
  if (!st) return st.error();
  return st->bind(1, id).bind(2, org_id).run();
}

// --- ids ---------------------------------------------------------------------------------------

core::Result<std::int64_t> next_id(db::Connection& c, const std::string& table) {
  auto st = c.prepare(
      "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), "
      "COALESCE((SELECT MAX(id) FROM " +
      table + "), 0)) + 1");
  if (!st) return st.error();
  st->bind(1, table);
  if (auto r = st->step(); !r) return r.error();
  return st->get_int64(0);
}

// --- per-series state --------------------------------------------------------------------------

core::Result<std::vector<SavedState>> load_series_state(db::Connection& c) {
  auto st = c.prepare("SELECT rule_id, subject, state FROM alert_series_state");
  if (!st) return st.error();
  std::vector<SavedState> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->get_int64(0), st->get_text(1), st->get_blob(2)});
  }
  return out;
}

core::Result<void> save_series_state(db::Connection& c, const std::vector<SavedState>& states,
                                     std::int64_t at) {
  auto st = c.prepare(
      "INSERT INTO alert_series_state (rule_id, subject, state, saved_at) "
      "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = ?1) "
      "ON CONFLICT (rule_id, subject) DO UPDATE SET state = ?3, saved_at = ?4");
  if (!st) return st.error();
  for (auto& s : states) {
    st->reset();
    st->bind(1, s.rule_id).bind(2, s.subject).bind_blob(3, s.blob).bind(4, at);
    if (auto r = st->run(); !r) return r;
  }
  return core::ok();
}

}  // namespace netpulse::alerts::detail
