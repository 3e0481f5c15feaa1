// The engine's life: open (load rules, open alerts, incidents and saved per-series state; give
// new organizations the default rules), the bus subscriptions, the tick, /metrics, close.
#include <boost/asio/post.hpp>

#include <netpulse/alerts/engine.hpp>

#include "detail/alerts_sql.hpp"
#include "detail/engine_impl.hpp"

namespace netpulse::alerts {

core::Result<std::unique_ptr<AlertEngine>> AlertEngine::open(const EngineOptions& options,
                                                             const core::Env& env, db::Database& db,
                                                             devices::Inventory& inventory,
                                                             tsdb::Store& store) {
  auto e = std::make_unique<detail::EngineImpl>(options, env, db, inventory, store);
  if (auto r = e->load(); !r) return r.error();
  e->start();
  return std::unique_ptr<AlertEngine>(std::move(e));
}

}  // namespace netpulse::alerts

namespace netpulse::alerts::detail {

EngineImpl::EngineImpl(const EngineOptions& options, const core::Env& env, db::Database& db,
                       devices::Inventory& inventory, tsdb::Store& store)
    : o_(options),
      clock_(env.clock),
      log_(env.log),
      bus_(env.bus),
      loop_(env.loop),
      workers_(env.workers),
      db_(db),
      inventory_(inventory),
      store_(store),
      tick_timer_(env.loop) {
  auto& m = env.metrics;
  m_samples_ = &m.counter("netpulse_alerts_samples_total",
                          "Samples the alert engine received (SamplesAppended).");
  m_matched_ = &m.counter("netpulse_alerts_samples_matched_total",
                          "Sample × rule evaluations (a sample selected by two rules counts two).");
  m_transitions_ = &m.counter("netpulse_alerts_transitions_total", "Alert transitions recorded.");
  m_eval_seconds_ = &m.counter("netpulse_alerts_evaluation_seconds_total",
                               "Time spent evaluating samples against rules.");
  m.gauge_fn("netpulse_alerts_rules", "Alert rules, enabled or not.",
             [this] { return static_cast<double>(g_rules_.load()); });
  m.gauge_fn("netpulse_alerts_series_states", "Per-series rule states held in memory.",
             [this] { return static_cast<double>(g_states_.load()); });
  m.gauge_fn("netpulse_alerts", "Open alerts by status.",
             [this] { return static_cast<double>(g_pending_.load()); }, {{"status", "pending"}});
  m.gauge_fn("netpulse_alerts", "Open alerts by status.",
             [this] { return static_cast<double>(g_firing_.load()); }, {{"status", "firing"}});
  m.gauge_fn("netpulse_alerts", "Open alerts by status.",
             [this] { return static_cast<double>(g_acknowledged_.load()); },
             {{"status", "acknowledged"}});
  m.gauge_fn("netpulse_incidents_open", "Open incidents.",
             [this] { return static_cast<double>(g_incidents_.load()); });
}

EngineImpl::~EngineImpl() {
  close();
}

core::Result<void> EngineImpl::load() {
  auto loaded = db_.read([&](db::Connection& c) -> core::Result<void> {
    auto rules = load_rules(c);
    if (!rules) return rules.error();
    for (auto& s : *rules) {
      auto compiled = compile(std::move(s));
      if (!compiled) {
        log_.warn("alerts", "rule not loaded: {}", compiled.error().message);
        continue;
      }
      orgs_[(*compiled)->rule().org_id].by_id[(*compiled)->rule().id] = std::move(*compiled);
    }
    auto alerts = load_open_alerts(c);
    if (!alerts) return alerts.error();
    for (auto& a : *alerts) {
      OpenAlert oa;
      oa.alert = std::move(a);
      if (auto org = orgs_.find(oa.alert.org_id); org != orgs_.end()) {
        if (auto r = org->second.by_id.find(oa.alert.rule_id); r != org->second.by_id.end()) {
          oa.for_ms = r->second->for_ms();
        }
      }
      open_by_key_[open_key(oa.alert.rule_id, oa.alert.subject)] = oa.alert.id;
      open_.emplace(oa.alert.id, std::move(oa));
    }
    auto incidents = load_open_incidents(c);
    if (!incidents) return incidents.error();
    for (auto& i : *incidents) incidents_.emplace(i.id, std::move(i));
    for (auto [table, next] :
         {std::pair{"alerts", &next_alert_id_}, std::pair{"incidents", &next_incident_id_},
          std::pair{"alert_comments", &next_comment_id_}}) {
      auto id = next_id(c, table);
      if (!id) return id.error();
      *next = *id;
    }
    if (auto r = load_silences_and_windows(c); !r) return r;
    auto saved = load_series_state(c);
    if (!saved) return saved.error();
    for (auto& st : *saved) saved_states_[open_key(st.rule_id, st.subject)] = std::move(st.blob);
    return core::ok();
  });
  if (!loaded) return loaded;
  for (auto& [org, rules] : orgs_) reindex(org);
  install_default_rules();
  return core::ok();
}

void EngineImpl::start() {
  subscribe();
  // What changed while NetPulse was down: devices down now, silent series.
  const auto devices = inventory_.all_enabled();
  for (auto& [org, rules] : orgs_) {
    for (auto& [id, rule] : rules.by_id) sync_rule(*rule, devices);
    topology_dirty_.insert(org);
  }
  reapply_silences(0);
  flush();
  arm_tick();
}

void EngineImpl::subscribe() {
  subs_.push_back(bus_.subscribe<tsdb::SamplesAppended>(
      [this](const tsdb::SamplesAppended& e) { on_samples(e); }));
  subs_.push_back(bus_.subscribe<devices::DeviceStatusChanged>(
      [this](const devices::DeviceStatusChanged& e) { on_device_status(e); }));
  subs_.push_back(bus_.subscribe<devices::DeviceChanged>(
      [this](const devices::DeviceChanged& e) { on_device_changed(e); }));
  subs_.push_back(bus_.subscribe<devices::InterfaceStatusChanged>(
      [this](const devices::InterfaceStatusChanged& e) { on_interface(e); }));
  subs_.push_back(bus_.subscribe<devices::ServiceCheckChanged>(
      [this](const devices::ServiceCheckChanged& e) { on_check(e); }));
  subs_.push_back(bus_.subscribe<devices::DeviceEventRecorded>(
      [this](const devices::DeviceEventRecorded& e) { on_event(e); }));
  subs_.push_back(bus_.subscribe<core::OrgDeleted>(
      [this](const core::OrgDeleted& e) { forget_org(e.org_id); }));
}

void EngineImpl::arm_tick() {
  if (shut_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(o_.tick_ms));
  tick_timer_.async_wait(guarded([this](boost::system::error_code ec) {
    if (ec || shut_) return;
    tick();
    arm_tick();
  }));
}

void EngineImpl::tick() {
  const auto now = clock_.unix_millis();
  tick_no_data(now);
  tick_alerts(now);
  tick_silences(now);
  if (now - last_state_save_ms_ >= o_.baseline_save_interval_s * 1000) {
    last_state_save_ms_ = now;
    save_state([this](core::Result<void> r) {
      if (!r) log_.warn("alerts", "baselines not saved: {}", r.error().message);
    });
  }
  if (now - last_retention_ms_ >= 3'600'000) {
    last_retention_ms_ = now;
    const auto cutoff = now - o_.history_retention_days * 86'400'000;
    write([cutoff](db::Connection& c) { return delete_resolved_before(c, cutoff); },
          [this](core::Result<void> r) {
            if (!r) log_.warn("alerts", "old alerts not deleted: {}", r.error().message);
          });
  }
  flush();
}

void EngineImpl::save_state(Callback<void> done) {
  std::vector<SavedState> states;
  series_.for_each([&](tsdb::SeriesId id, SeriesEntry& entry) {
    const tsdb::SeriesKey* key = nullptr;
    for (auto& b : entry.bindings) {
      auto blob = save_eval(b.eval);
      if (!blob) continue;
      if (!key) key = store_.key_of(id);
      if (!key) break;
      states.push_back({b.rule->rule().id, series_subject(*key), std::move(*blob)});
    }
  });
  if (states.empty()) return post(std::move(done), core::Result<void>(core::ok()));
  const auto at = clock_.unix_millis();
  write([states = std::move(states),
         at](db::Connection& c) { return save_series_state(c, states, at); },
        std::move(done));
}

void EngineImpl::forget_org(std::int64_t org_id) {
  orgs_.erase(org_id);
  topologies_.erase(org_id);
  std::erase_if(open_, [&](const auto& kv) {
    if (kv.second.alert.org_id != org_id) return false;
    open_by_key_.erase(open_key(kv.second.alert.rule_id, kv.second.alert.subject));
    return true;
  });
  std::erase_if(incidents_, [&](const auto& kv) { return kv.second.org_id == org_id; });
  series_.for_each([&](tsdb::SeriesId, SeriesEntry& entry) {
    if (entry.org_id != org_id) return;
    stats_.states -= std::min(stats_.states, entry.bindings.size());
    entry = SeriesEntry{};
  });
  forget_org_silences(org_id);
  ++generation_;
}

// The /metrics gauges, read from the rendering thread: copied here, on the loop.
void EngineImpl::update_gauges() {
  auto s = counts();
  g_rules_ = s.rules;
  g_states_ = s.states;
  g_pending_ = s.pending;
  g_firing_ = s.firing;
  g_acknowledged_ = s.acknowledged;
  g_incidents_ = s.incidents_open;
}

EngineStats EngineImpl::stats() const {
  auto s = counts();
  s.state_bytes = state_bytes();
  return s;
}

EngineStats EngineImpl::counts() const {
  auto s = stats_;
  s.rules = 0;
  for (auto& [org, rules] : orgs_) s.rules += rules.by_id.size();
  s.pending = s.firing = s.acknowledged = 0;
  for (auto& [id, oa] : open_) {
    switch (oa.alert.status) {
      case AlertStatus::kPending:
        ++s.pending;
        break;
      case AlertStatus::kFiring:
        ++s.firing;
        break;
      case AlertStatus::kAcknowledged:
        ++s.acknowledged;
        break;
      case AlertStatus::kResolved:
        break;
    }
  }
  s.incidents_open = incidents_.size();
  return s;
}

std::size_t EngineImpl::state_bytes() const {
  std::size_t bytes = series_.bytes();
  series_.for_each([&](tsdb::SeriesId, const SeriesEntry& e) {
    bytes += e.bindings.capacity() * sizeof(SeriesBinding);
    for (auto& b : e.bindings) bytes += eval_heap_bytes(b.eval);
  });
  return bytes;
}

void EngineImpl::close() {
  if (shut_) return;
  shut_ = true;
  tick_timer_.cancel();
  subs_.clear();
}

}  // namespace netpulse::alerts::detail
