// AlertEngine: the alerts module's one service. It keeps each organization's rules, evaluates
// them as data arrives — samples (tsdb's SamplesAppended), device status, interface status,
// service check and trap events — and runs the time-driven parts (for-durations, no-data,
// window ends, maintenance windows) off the clock on a tick. It keeps open alerts in memory and
// every transition in the database, correlates device failures over the topology into incidents
// (one root alert, its symptoms and impact), and publishes AlertChanged / IncidentChanged once
// a transition has committed.
//
// A sample is matched against the rules through an index (rules by metric name; a series'
// matching rules are cached by series id), so 1,000 rules do not mean 1,000 tests per sample.
//
// Threading: every method is called on the event loop thread of env.loop; callbacks are always
// posted to the loop, never called inline. Reads are answered from memory, except the history
// of resolved alerts (list_alerts with resolved ones, get_alert of a resolved alert), which is
// a short indexed read. docs/alerts.md has the rules, the lifecycle and the state per series.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <netpulse/alerts/maintenance.hpp>
#include <netpulse/alerts/rule.hpp>
#include <netpulse/alerts/silence.hpp>
#include <netpulse/alerts/types.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::alerts {

template <class T>
using Callback = std::function<void(core::Result<T>)>;

struct EngineOptions {
  std::int64_t tick_ms = 1'000;  // for-durations, no-data and windows move on this tick
  std::size_t max_rules_per_org = 5'000;
  std::size_t max_alert_states =
      1'000'000;  // per-series rule states (beyond: not tracked, counted)
  // Flapping: more than flap_changes state changes within flap_window_s.
  int flap_changes = 6;
  std::int64_t flap_window_s = 1'200;
  std::int64_t history_retention_days = 180;    // resolved alerts older than this are deleted
  std::int64_t baseline_save_interval_s = 600;  // anomaly baselines and trends saved this often
  std::size_t backtest_max_series = 10'000;
  std::int64_t backtest_max_range_s = std::int64_t{31} * 86'400;
  bool install_default_rules = true;  // give each organization the default rule set once
};

// Who acts on an alert (the API's caller).
struct Actor {
  std::optional<std::int64_t> user_id;
  std::string name;  // the user's email, or the API key's name
};

// One would-be transition a backtest found.
struct BacktestEvent {
  std::int64_t at = 0;     // Unix ms
  std::string transition;  // "pending", "firing", "resolved"
  std::string subject;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct BacktestResult {
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::size_t series = 0;
  std::size_t samples = 0;
  std::vector<BacktestEvent> events;  // in time order, at most 10,000 (truncated says more)
  bool truncated = false;
};

// Figures for /metrics and the benchmarks.
struct EngineStats {
  std::uint64_t samples_seen = 0;     // samples delivered by SamplesAppended
  std::uint64_t samples_matched = 0;  // (sample, rule) pairs evaluated
  std::uint64_t selector_tests = 0;   // rule selectors tested while binding series to rules
  std::uint64_t eval_ns = 0;          // time spent evaluating
  std::size_t rules = 0;
  std::size_t states = 0;            // per-series rule states held
  std::uint64_t states_refused = 0;  // bindings not made: max_alert_states reached
  std::size_t state_bytes = 0;
  std::size_t pending = 0, firing = 0, acknowledged = 0;
  std::size_t incidents_open = 0;
};

class AlertEngine {
 public:
  // Loads rules, open alerts, incidents, silences, maintenance windows and saved baselines; gives
  // every organization that never had them the default rules; subscribes to the bus and starts
  // the tick. Blocking: call at start-up, before the loop runs.
  static core::Result<std::unique_ptr<AlertEngine>> open(const EngineOptions& options,
                                                         const core::Env& env, db::Database& db,
                                                         devices::Inventory& inventory,
                                                         tsdb::Store& store);
  virtual ~AlertEngine() = default;

  // --- rules ---------------------------------------------------------------------------------
  virtual core::Result<core::PageOf<StoredRule>> list_rules(core::OrgScope scope,
                                                            core::Page page) const = 0;
  virtual core::Result<StoredRule> get_rule(core::OrgScope scope, std::int64_t id) const = 0;
  // What a rule is doing now (one walk over the engine's state), and every rule's at once (the
  // same one walk: for a list).
  virtual RuleStatus rule_status(core::OrgScope scope, std::int64_t id) const = 0;
  virtual std::map<std::int64_t, RuleStatus> rule_statuses(core::OrgScope scope) const = 0;
  // kInvalidInput naming the field (validate_rule, device ids of another org: "scope.device_ids");
  // kConflict for a name the org already uses.
  virtual void create_rule(core::OrgScope scope, Rule rule, Callback<StoredRule> done) = 0;
  virtual void replace_rule(core::OrgScope scope, std::int64_t id, Rule rule,
                            Callback<StoredRule> done) = 0;
  // Deleting a rule resolves its open alerts (reason "rule deleted").
  virtual void remove_rule(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  // Replays [start, end] of the stored samples through `rule` (off the loop); nothing is changed.
  virtual void backtest(core::OrgScope scope, Rule rule, std::int64_t start_ms, std::int64_t end_ms,
                        Callback<BacktestResult> done) = 0;

  // --- alerts --------------------------------------------------------------------------------
  virtual core::Result<core::PageOf<Alert>> list_alerts(core::OrgScope scope,
                                                        const AlertFilter& filter,
                                                        core::Page page) const = 0;
  virtual core::Result<AlertDetail> get_alert(core::OrgScope scope, std::int64_t id) const = 0;
  // Every organization's open alerts (pending, firing, acknowledged), by id: what a notifier
  // started after the engine picks up again (app wires it; not for the API).
  virtual std::vector<Alert> open_alerts() const = 0;
  // kConflict when the alert is resolved (or already acknowledged, for acknowledge).
  virtual void acknowledge(core::OrgScope scope, std::int64_t id, Actor actor, std::string note,
                           Callback<Alert> done) = 0;
  virtual void resolve(core::OrgScope scope, std::int64_t id, Actor actor, std::string reason,
                       Callback<Alert> done) = 0;
  virtual void comment(core::OrgScope scope, std::int64_t id, Actor actor, std::string text,
                       Callback<AlertComment> done) = 0;

  // --- incidents -----------------------------------------------------------------------------
  virtual core::Result<core::PageOf<Incident>> list_incidents(core::OrgScope scope, bool open_only,
                                                              core::Page page) const = 0;
  virtual core::Result<IncidentDetail> get_incident(core::OrgScope scope,
                                                    std::int64_t id) const = 0;

  // --- silences and maintenance windows ------------------------------------------------------
  // Alerts a silence or an active maintenance window covers are recorded and shown, marked
  // silenced, and not notified (the notifier reads Alert::silenced).
  virtual std::vector<Silence> list_silences(core::OrgScope scope, bool include_expired) const = 0;
  // kInvalidInput naming the field (validate_silence; device, group or rule ids of another
  // organization).
  virtual void create_silence(core::OrgScope scope, Silence silence, Callback<Silence> done) = 0;
  virtual void remove_silence(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  virtual std::vector<MaintenanceWindow> list_maintenance(core::OrgScope scope) const = 0;
  virtual core::Result<MaintenanceWindow> get_maintenance(core::OrgScope scope,
                                                          std::int64_t id) const = 0;
  virtual void create_maintenance(core::OrgScope scope, MaintenanceWindow window,
                                  Callback<MaintenanceWindow> done) = 0;
  virtual void replace_maintenance(core::OrgScope scope, std::int64_t id, MaintenanceWindow window,
                                   Callback<MaintenanceWindow> done) = 0;
  virtual void remove_maintenance(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  // Whether the device is in maintenance at `unix_s`: its own flag now, or a window covering it
  // (availability reports do not count such time as down).
  virtual bool in_maintenance(core::OrgScope scope, std::int64_t device_id,
                              std::int64_t unix_s) const = 0;

  // --- operations ----------------------------------------------------------------------------
  // Runs the tick now (tests with a ManualClock).
  virtual void tick() = 0;
  // Saves baselines and trends now (shutdown, tests).
  virtual void save_state(Callback<void> done) = 0;
  virtual EngineStats stats() const = 0;
  // Stops the tick and drops the subscriptions (shutdown); idempotent.
  virtual void close() = 0;
};

}  // namespace netpulse::alerts
