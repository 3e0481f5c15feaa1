// Every SQL statement of the alerts module (migrations/0012_alerts.sql), each a function over a
// connection: the engine runs the writes on the db writer and the reads on a reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/alerts/types.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/statement.hpp>

namespace netpulse::alerts::detail {

// --- rules ---
core::Result<std::vector<StoredRule>> load_rules(db::Connection& c);
// Inserts (rule.id == 0: a new id is taken and written back) or replaces a rule.
core::Result<void> save_rule(db::Connection& c, StoredRule& rule);
core::Result<void> delete_rule(db::Connection& c, std::int64_t org_id, std::int64_t rule_id);
core::Result<std::vector<std::int64_t>> orgs_without_default_rules(db::Connection& c);
core::Result<void> mark_default_rules(db::Connection& c, std::int64_t org_id, std::int64_t at);

// --- alerts ---
core::Result<std::vector<Alert>> load_open_alerts(db::Connection& c);
core::Result<void> upsert_alert(db::Connection& c, const Alert& a);
core::Result<void> insert_history(db::Connection& c, std::int64_t alert_id,
                                  const AlertHistoryEntry& h);
core::Result<void> delete_alert(db::Connection& c, std::int64_t org_id, std::int64_t alert_id);
core::Result<void> insert_comment(db::Connection& c, const AlertComment& comment);
core::Result<std::optional<Alert>> read_alert(db::Connection& c, std::int64_t org_id,
                                              std::int64_t id);
core::Result<std::vector<AlertHistoryEntry>> read_history(db::Connection& c, std::int64_t id);
core::Result<std::vector<AlertComment>> read_comments(db::Connection& c, std::int64_t id);
// Resolved alerts of the org matching `f` (the open ones are in memory), newest first.
core::Result<core::PageOf<Alert>> query_resolved(db::Connection& c, std::int64_t org_id,
                                                 const AlertFilter& f,
                                                 const std::vector<std::int64_t>& device_ids,
                                                 std::int64_t offset, std::int64_t limit);
core::Result<std::int64_t> count_resolved(db::Connection& c, std::int64_t org_id,
                                          const AlertFilter& f,
                                          const std::vector<std::int64_t>& device_ids);
core::Result<void> delete_resolved_before(db::Connection& c, std::int64_t cutoff_ms);

// --- incidents ---
core::Result<std::vector<Incident>> load_open_incidents(db::Connection& c);
core::Result<void> upsert_incident(db::Connection& c, const Incident& i);
core::Result<std::optional<Incident>> read_incident(db::Connection& c, std::int64_t org_id,
                                                    std::int64_t id);
core::Result<core::PageOf<Incident>> query_incidents(db::Connection& c, std::int64_t org_id,
                                                     core::Page page);
core::Result<std::vector<Alert>> read_incident_alerts(db::Connection& c, std::int64_t org_id,
                                                      std::int64_t incident_id);

// --- silences and maintenance windows (kept as their JSON bodies) ---
struct StoredBody {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string body;
};
core::Result<std::vector<StoredBody>> load_silences(db::Connection& c);
// Inserts (s.id == 0: the new id is written back into `s`).
core::Result<void> insert_silence(db::Connection& c, Silence& s);
core::Result<void> delete_silence(db::Connection& c, std::int64_t org_id, std::int64_t id);
core::Result<std::vector<StoredBody>> load_maintenance(db::Connection& c);
core::Result<void> save_maintenance(db::Connection& c, MaintenanceWindow& w, std::int64_t now_s);
core::Result<void> delete_maintenance(db::Connection& c, std::int64_t org_id, std::int64_t id);

// --- ids ---
// The next id of an AUTOINCREMENT table (the engine hands out alert, incident and comment ids
// itself, so a transition can be written before the insert that made its alert commits).
core::Result<std::int64_t> next_id(db::Connection& c, const std::string& table);

// --- per-series state ---
struct SavedState {
  std::int64_t rule_id = 0;
  std::string subject;
  std::string blob;
};
core::Result<std::vector<SavedState>> load_series_state(db::Connection& c);
core::Result<void> save_series_state(db::Connection& c, const std::vector<SavedState>& states,
                                     std::int64_t at);

}  // namespace netpulse::alerts::detail
