// The alert engine's one class, declared once and implemented across files by concern:
//   engine.cpp            open, load, subscriptions, the tick, stats, close
//   engine_rules.cpp      rules: compile, index, CRUD, default rules
//   engine_samples.cpp    SamplesAppended: bind series to rules, evaluate the sample kinds
//   engine_devices.cpp    device status, interface, service check and trap events
//   engine_lifecycle.cpp  alert transitions: open, fire, resolve, acknowledge, comment; the
//                         writes that persist them and the AlertChanged they publish
//   engine_topology.cpp   device failures over the topology: roots, symptoms, incidents
//   engine_queries.cpp    the API's reads
//   alerts_sql.cpp        every SQL statement (detail/alerts_sql.hpp)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <re2/re2.h>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <netpulse/alerts/annotation_template.hpp>
#include <netpulse/alerts/engine.hpp>
#include <netpulse/alerts/flapping.hpp>
#include <netpulse/alerts/threshold_state.hpp>
#include <netpulse/alerts/topology.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/tsdb/selector.hpp>

#include "series_eval.hpp"

namespace netpulse::alerts::detail {

// A rule ready to evaluate: the stored rule, its parsed selector and templates.
struct CompiledRule {
  // What the per-sample path reads comes first, in the object's first two cache lines (which
  // the engine's look-ahead asks for).
  //
  // What the per-series state machine compares: the rule's condition; for an anomaly rule
  // |deviation| > sensitivity; for a forecast seconds-until-reached <= horizon; for a check
  // rule's certificate part days-to-expiry < tls_days.
  std::optional<Condition> condition;
  RuleKind kind = RuleKind::kThreshold;  // stored.rule.kind
  std::int64_t for_duration_ms = 0;      // stored.rule.for_s, in ms

  StoredRule stored;
  std::optional<tsdb::Selector> selector;  // the sample kinds
  std::map<std::string, AnnotationTemplate> templates;
  // kTrap: the varbind patterns, compiled (key: a varbind OID or object name).
  std::vector<std::pair<std::string, std::shared_ptr<const re2::RE2>>> trap_patterns;
  std::uint64_t version = 0;  // a new version resets the rule's per-series state

  const Rule& rule() const noexcept { return stored.rule; }
  std::int64_t for_ms() const noexcept { return for_duration_ms; }
};
using RulePtr = std::shared_ptr<const CompiledRule>;

// One rule's state for one series (the sample kinds). SeriesEval holds what the kind needs.
struct SeriesBinding {
  RulePtr rule;
  SeriesEval eval;
};

// A series as the engine knows it: the rules that select it (bound at `generation`; a rule or
// device change moves the engine's generation and the series is bound again at its next sample).
struct SeriesEntry {
  std::uint64_t generation = 0;  // 0: a free slot of the SeriesTable
  std::int64_t org_id = 0;
  std::vector<SeriesBinding> bindings;
};

// The engine's series by the store's id. The store numbers series densely from 1 and never
// reuses an id, so the table is flat: one 40-byte slot per id up to the highest seen (the store
// itself keeps 8 bytes per id). A slot is taken once its generation is not 0. One indexed load
// finds a series on the per-sample path, and ids that arrive together sit together.
class SeriesTable {
 public:
  SeriesEntry* find(tsdb::SeriesId id) noexcept {
    return id < slots_.size() && slots_[id].generation != 0 ? &slots_[id] : nullptr;
  }
  // The slot of `id`, free (generation 0) when the series is new to the engine.
  SeriesEntry& slot(tsdb::SeriesId id) {
    if (id >= slots_.size()) slots_.resize(std::max<std::size_t>(id + 1, slots_.size() * 2));
    return slots_[id];
  }
  // Asks the CPU for id's slot ahead of its use (the per-sample loop's look-ahead).
  void prefetch(tsdb::SeriesId id) const noexcept {
    if (id < slots_.size()) __builtin_prefetch(&slots_[id]);
  }
  // Each taken slot: f(id, entry).
  template <class F>
  void for_each(F&& f) {
    for (std::size_t id = 0; id < slots_.size(); ++id) {
      if (slots_[id].generation != 0) f(static_cast<tsdb::SeriesId>(id), slots_[id]);
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t id = 0; id < slots_.size(); ++id) {
      if (slots_[id].generation != 0) f(static_cast<tsdb::SeriesId>(id), slots_[id]);
    }
  }
  std::size_t bytes() const noexcept { return slots_.capacity() * sizeof(SeriesEntry); }

 private:
  std::vector<SeriesEntry> slots_;
};

// An open alert and what the engine needs beside it.
struct OpenAlert {
  Alert alert;
  std::int64_t for_ms = 0;               // pending → firing after this
  std::optional<tsdb::SeriesId> series;  // the sample kinds
};

// An organization's rules, indexed for the samples and events that reach them.
struct OrgRules {
  std::map<std::int64_t, RulePtr> by_id;
  // The sample kinds, by what their selector pins: the metric and one `label="value"` (key
  // label_key()), the metric alone, or neither. A series is tested only against the rules of its
  // metric with no label pinned, those of its metric and one of its own labels, and the rules
  // without a metric — so 1,000 rules on one metric split by a label cost a few tests, not 1,000.
  std::unordered_map<std::string, std::vector<RulePtr>> by_label;
  std::unordered_map<std::string, std::vector<RulePtr>> by_metric;
  std::vector<RulePtr> any_metric;
  bool has_sample_rules() const noexcept {
    return !by_label.empty() || !by_metric.empty() || !any_metric.empty();
  }
  std::array<std::vector<RulePtr>, 8> by_kind;  // enabled rules by kind
};

// The device facts a rule's scope is tested against.
struct DeviceFacts {
  std::int64_t id = 0;
  std::string name;
  std::string type;
  std::vector<std::string> groups;  // names, as the inventory keeps them
  std::vector<std::string> tags;
  devices::DeviceStatus status = devices::DeviceStatus::kUnknown;
  bool maintenance = false;
};

class EngineImpl final : public AlertEngine {
 public:
  EngineImpl(const EngineOptions& options, const core::Env& env, db::Database& db,
             devices::Inventory& inventory, tsdb::Store& store);
  ~EngineImpl() override;

  core::Result<void> load();
  void start();

  // --- AlertEngine ---
  core::Result<core::PageOf<StoredRule>> list_rules(core::OrgScope scope,
                                                    core::Page page) const override;
  core::Result<StoredRule> get_rule(core::OrgScope scope, std::int64_t id) const override;
  RuleStatus rule_status(core::OrgScope scope, std::int64_t id) const override;
  std::map<std::int64_t, RuleStatus> rule_statuses(core::OrgScope scope) const override;
  void create_rule(core::OrgScope scope, Rule rule, Callback<StoredRule> done) override;
  void replace_rule(core::OrgScope scope, std::int64_t id, Rule rule,
                    Callback<StoredRule> done) override;
  void remove_rule(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  void backtest(core::OrgScope scope, Rule rule, std::int64_t start_ms, std::int64_t end_ms,
                Callback<BacktestResult> done) override;
  core::Result<core::PageOf<Alert>> list_alerts(core::OrgScope scope, const AlertFilter& filter,
                                                core::Page page) const override;
  core::Result<AlertDetail> get_alert(core::OrgScope scope, std::int64_t id) const override;
  std::vector<Alert> open_alerts() const override;
  void acknowledge(core::OrgScope scope, std::int64_t id, Actor actor, std::string note,
                   Callback<Alert> done) override;
  void resolve(core::OrgScope scope, std::int64_t id, Actor actor, std::string reason,
               Callback<Alert> done) override;
  void comment(core::OrgScope scope, std::int64_t id, Actor actor, std::string text,
               Callback<AlertComment> done) override;
  core::Result<core::PageOf<Incident>> list_incidents(core::OrgScope scope, bool open_only,
                                                      core::Page page) const override;
  core::Result<IncidentDetail> get_incident(core::OrgScope scope, std::int64_t id) const override;
  std::vector<Silence> list_silences(core::OrgScope scope, bool include_expired) const override;
  void create_silence(core::OrgScope scope, Silence silence, Callback<Silence> done) override;
  void remove_silence(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  std::vector<MaintenanceWindow> list_maintenance(core::OrgScope scope) const override;
  core::Result<MaintenanceWindow> get_maintenance(core::OrgScope scope,
                                                  std::int64_t id) const override;
  void create_maintenance(core::OrgScope scope, MaintenanceWindow window,
                          Callback<MaintenanceWindow> done) override;
  void replace_maintenance(core::OrgScope scope, std::int64_t id, MaintenanceWindow window,
                           Callback<MaintenanceWindow> done) override;
  void remove_maintenance(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  bool in_maintenance(core::OrgScope scope, std::int64_t device_id,
                      std::int64_t unix_s) const override;
  void tick() override;
  void save_state(Callback<void> done) override;
  EngineStats stats() const override;
  void close() override;

 private:
  // A change to an alert waiting for the next flush: its transition name and history entry.
  struct Change {
    std::string transition;
    std::optional<AlertHistoryEntry> history;  // none: a change the history does not keep
  };

  // engine.cpp
  void subscribe();
  void arm_tick();
  void forget_org(std::int64_t org_id);
  void update_gauges();
  std::size_t state_bytes() const;
  EngineStats counts() const;  // stats() without the memory walk
  // A callback that may run after the engine is gone (a write queued before close, the tick's
  // timer cancelled by the destructor) is dropped then.
  template <class F>
  auto guarded(F f) const {
    return [alive = std::weak_ptr<const int>(life_), f = std::move(f)](auto&&... args) mutable {
      if (alive.expired()) return;
      f(std::forward<decltype(args)>(args)...);
    };
  }
  // db_.write with the reply on the loop, guarded.
  template <class Fn, class Cb>
  void write(Fn fn, Cb cb) {
    db_.write(db::WriteFn(std::move(fn)), loop_,
              std::function<void(core::Result<void>)>(guarded(std::move(cb))));
  }
  template <class T, class Fn, class Cb>
  void write_value(Fn fn, Cb cb) {
    db_.write<T>(std::function<core::Result<T>(db::Connection&)>(std::move(fn)), loop_,
                 std::function<void(core::Result<T>)>(guarded(std::move(cb))));
  }
  template <class T>
  void post(Callback<T> done, core::Result<T> r) const {
    boost::asio::post(loop_,
                      [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  // engine_rules.cpp
  core::Result<std::shared_ptr<CompiledRule>> compile(StoredRule stored);
  void save_and_install(StoredRule s, Callback<StoredRule> done);
  core::Result<void> check_rule_for_org(core::OrgScope scope, const Rule& rule) const;
  void install(RulePtr rule);
  void uninstall(std::int64_t org_id, std::int64_t rule_id);
  void reindex(std::int64_t org_id);
  void install_default_rules();
  void close_rule_alerts(std::int64_t org_id, std::int64_t rule_id, const std::string& reason);
  bool in_scope(const Rule& rule, const DeviceFacts* device) const;

  // engine_samples.cpp
  void on_samples(const tsdb::SamplesAppended& e);
  void bind(tsdb::SeriesId id, SeriesEntry& entry);
  void evaluate(tsdb::SeriesId id, SeriesBinding& b, const tsdb::Sample& s);
  // `sample_value`: the sample that made the transition (an anomaly or forecast alert shows it).
  void threshold_transition(tsdb::SeriesId id, SeriesBinding& b, const ThresholdTransition& t,
                            double sample_value);
  void seed_no_data(const CompiledRule& rule);
  void restore_saved(const tsdb::SeriesKey& key, SeriesBinding& b);
  void tick_no_data(std::int64_t now_ms);
  std::map<std::string, std::string> series_labels(const tsdb::SeriesKey& key,
                                                   const CompiledRule& rule) const;

  // engine_devices.cpp
  void on_device_status(const devices::DeviceStatusChanged& e);
  void on_device_changed(const devices::DeviceChanged& e);
  void on_interface(const devices::InterfaceStatusChanged& e);
  void on_check(const devices::ServiceCheckChanged& e);
  void on_event(const devices::DeviceEventRecorded& e);
  // Raises or clears `rule`'s alert on `subject` of a device as its condition holds or not.
  void device_condition(const CompiledRule& rule, const DeviceFacts& device, bool failing,
                        double value, std::int64_t at_ms, std::map<std::string, std::string> labels,
                        const std::string& subject, const std::string& clear_reason);
  // The event kinds' current state for a new rule, from the inventory's enabled `devices`.
  void sync_rule(const CompiledRule& rule, const std::vector<devices::Device>& devices);
  std::optional<DeviceFacts> device_facts(std::int64_t org_id, std::int64_t device_id) const;

  // engine_lifecycle.cpp
  OpenAlert* find_open(std::int64_t rule_id, const std::string& subject);
  OpenAlert* find_open_in(core::OrgScope scope, std::int64_t id);
  // The condition holds: a pending alert (firing at once when the rule has no for-duration).
  OpenAlert& raise(const CompiledRule& rule, const std::string& subject,
                   std::optional<std::int64_t> device_id, std::map<std::string, std::string> labels,
                   double value, std::int64_t at_ms, std::optional<tsdb::SeriesId> series);
  void fire(OpenAlert& a, double value, std::int64_t at_ms);
  // The condition cleared, or the engine resolves the alert for `reason`.
  void clear(std::int64_t alert_id, double value, std::int64_t at_ms, const std::string& reason);
  void change(std::int64_t alert_id, std::string transition, std::string from, std::string note,
              std::optional<std::int64_t> actor_id = {}, std::string actor = "engine");
  void render_annotations(Alert& a) const;
  void update_silenced(OpenAlert& a);
  void tick_alerts(std::int64_t now_ms);
  // Writes every changed alert and incident in one transaction; publishes AlertChanged and
  // IncidentChanged once it has committed, then calls `then`.
  void flush(std::function<void(core::Result<void>)> then = {});

  // engine_silences.cpp
  core::Result<void> load_silences_and_windows(db::Connection& c);
  std::vector<std::int64_t> group_ids_of(std::int64_t org_id,
                                         const std::vector<std::string>& names) const;
  bool covered_by_silence(const Alert& a, const DeviceFacts* device) const;
  void reapply_silences(std::int64_t org_id);
  void tick_silences(std::int64_t now_ms);
  void forget_org_silences(std::int64_t org_id);
  // `field_prefix` is where the lists sit in the body: "" for a silence, "scope." for a window.
  core::Result<void> check_ids(core::OrgScope scope, const std::vector<std::int64_t>& devices,
                               const std::vector<std::int64_t>& groups,
                               const std::vector<std::int64_t>& rules,
                               std::string_view field_prefix = "") const;
  void save_window(core::OrgScope scope, MaintenanceWindow window,
                   Callback<MaintenanceWindow> done);

  // engine_topology.cpp
  void correlate(std::int64_t org_id, std::int64_t at_ms);
  Topology& topology(std::int64_t org_id);

  // --- state ---
  EngineOptions o_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::EventBus& bus_;
  boost::asio::any_io_executor loop_;
  core::WorkerPool& workers_;
  db::Database& db_;
  devices::Inventory& inventory_;
  tsdb::Store& store_;

  std::unordered_map<std::int64_t, OrgRules> orgs_;
  SeriesTable series_;
  std::unordered_set<tsdb::SeriesId> no_data_series_;  // series with a no_data binding
  std::uint64_t generation_ = 1;
  std::uint64_t next_rule_version_ = 1;

  std::unordered_map<std::int64_t, OpenAlert> open_;           // by alert id
  std::unordered_map<std::string, std::int64_t> open_by_key_;  // open_key() → id
  std::map<std::int64_t, Incident> incidents_;                 // open, by id
  std::unordered_map<std::string, FlapDetector> flaps_;        // open_key() → changes
  std::int64_t next_alert_id_ = 1;
  std::int64_t next_incident_id_ = 1;
  std::int64_t next_comment_id_ = 1;
  std::unordered_set<std::int64_t> topology_dirty_;  // orgs whose device failures changed
  std::unordered_map<std::int64_t, Topology> topologies_;
  std::unordered_set<std::int64_t> topology_stale_;    // orgs whose devices changed
  std::map<std::int64_t, CompiledSilence> silences_;   // by id
  std::map<std::int64_t, MaintenanceWindow> windows_;  // by id
  std::int64_t next_silence_change_s_ = 0;             // the next instant one starts or ends

  // Waiting for flush(): alert ids in order of first change, their changes, and the last state
  // of those that closed meanwhile.
  std::vector<std::int64_t> dirty_order_;
  std::unordered_map<std::int64_t, std::vector<Change>> dirty_;
  std::unordered_map<std::int64_t, Alert> closed_;
  std::vector<std::int64_t> dirty_incidents_;
  std::unordered_map<std::int64_t, Incident> closed_incidents_;
  std::vector<AlertComment> new_comments_;

  boost::asio::steady_timer tick_timer_;
  std::vector<core::EventBus::Subscription> subs_;
  std::int64_t last_state_save_ms_ = 0;
  // Baselines and trends saved before the restart, by open_key(), until their series binds.
  std::unordered_map<std::string, std::string> saved_states_;
  std::int64_t last_retention_ms_ = 0;
  bool shut_ = false;                                                 // close() was called
  std::shared_ptr<const int> life_ = std::make_shared<const int>(0);  // see guarded()

  // figures
  EngineStats stats_;
  core::Counter* m_samples_ = nullptr;
  core::Counter* m_matched_ = nullptr;
  core::Counter* m_transitions_ = nullptr;
  core::Counter* m_eval_seconds_ = nullptr;
  std::atomic<std::size_t> g_rules_{0}, g_states_{0}, g_pending_{0}, g_firing_{0},
      g_acknowledged_{0}, g_incidents_{0};
};

std::string open_key(std::int64_t rule_id, std::string_view subject);
// The by_label key of a metric and one label.
std::string label_key(std::string_view metric, std::string_view name, std::string_view value);
std::string series_subject(const tsdb::SeriesKey& key);

}  // namespace netpulse::alerts::detail
