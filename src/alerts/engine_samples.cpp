// The sample kinds (threshold, anomaly, forecast, no_data, and a check rule's certificate part):
// SamplesAppended is matched against the rules through the index — a series is bound once to
// the rules that select it (by metric name, then the selector's matchers and the rule's scope)
// and the binding is kept until a rule or a device changes — then each bound rule's per-series
// state takes the sample. A series no rule selects costs one load from the series table per sample.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

std::optional<std::int64_t> label_int(const tsdb::SeriesKey& key, std::string_view name) {
  for (auto& [k, v] : key.labels) {
    if (k != name) continue;
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

// The cache lines of a series' bindings (the first few: one or two rules per series is usual).
void prefetch_bindings(const SeriesEntry& entry) noexcept {
  constexpr std::size_t kMaxLines = 4;
  const auto* p = reinterpret_cast<const char*>(entry.bindings.data());
  const std::size_t bytes =
      std::min(entry.bindings.size() * sizeof(SeriesBinding), kMaxLines * std::size_t{64});
  for (std::size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
}

// The lines of a rule its evaluation reads (CompiledRule's first two).
void prefetch_rule(const CompiledRule& rule) noexcept {
  const auto* p = reinterpret_cast<const char*>(&rule);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
}

// A series missing for this many of its usual intervals has no data (docs/alerts.md).
constexpr std::int64_t kNoDataIntervals = 3;
constexpr std::int64_t kNoDataMinMs = 60'000;

}  // namespace

std::string series_subject(const tsdb::SeriesKey& key) {
  std::string out = key.metric;
  out += '{';
  bool first = true;
  for (auto& [k, v] : key.labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += v;
    out += '"';
  }
  out += '}';
  return out;
}

std::map<std::string, std::string> EngineImpl::series_labels(const tsdb::SeriesKey& key,
                                                             const CompiledRule& rule) const {
  std::map<std::string, std::string> out(key.labels.begin(), key.labels.end());
  out["__name__"] = key.metric;
  for (auto& [k, v] : rule.rule().labels) out[k] = v;
  return out;
}

void EngineImpl::on_samples(const tsdb::SamplesAppended& e) {
  stats_.samples_seen += e.samples.size();
  auto org = orgs_.find(e.org_id);
  if (org == orgs_.end() || !org->second.has_sample_rules()) {
    return;
  }
  const auto t0 = clock_.steady_now();
  std::uint64_t matched = 0;
  // A batch's series states are mostly cold (the store and the parsers went through the cache
  // since), and each is a chain of loads: the slot, its bindings, a window's head, its ring
  // slots. The CPU is asked for each link a few samples before its turn (16, 8, 4 and 2
  // ahead), once the link before it has had time to arrive, so the loads of different series
  // overlap instead of stalling one after another.
  constexpr std::size_t kAhead = 16;
  const auto& samples = e.samples;
  const std::size_t n = samples.size();
  auto ahead = [&](std::size_t i) -> const SeriesEntry* {
    if (i >= n) return nullptr;
    const auto* entry = series_.find(samples[i].series);
    return entry && entry->generation == generation_ ? entry : nullptr;
  };
  for (std::size_t i = 0; i < std::min(n, kAhead); ++i) series_.prefetch(samples[i].series);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) series_.prefetch(samples[i + kAhead].series);
    if (const auto* a = ahead(i + kAhead / 2)) prefetch_bindings(*a);
    if (const auto* a = ahead(i + kAhead / 4)) {
      for (auto& b : a->bindings) {
        prefetch_part(b.eval);
        prefetch_rule(*b.rule);
      }
    }
    if (const auto* a = ahead(i + kAhead / 8)) {
      for (auto& b : a->bindings) prefetch_part_buckets(b.eval, samples[i + kAhead / 8].sample.t);
    }
    const auto& s = samples[i];
    auto& entry = series_.slot(s.series);
    if (entry.generation != generation_) bind(s.series, entry);
    for (auto& b : entry.bindings) {
      evaluate(s.series, b, s.sample);
      ++matched;
    }
  }
  stats_.samples_matched += matched;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.steady_now() - t0);
  stats_.eval_ns += static_cast<std::uint64_t>(ns.count());
  if (m_samples_) m_samples_->inc(static_cast<double>(e.samples.size()));
  if (m_matched_) m_matched_->inc(static_cast<double>(matched));
  if (m_eval_seconds_) m_eval_seconds_->inc(static_cast<double>(ns.count()) / 1e9);
  if (!dirty_order_.empty() || !topology_dirty_.empty()) flush();
}

void EngineImpl::bind(tsdb::SeriesId id, SeriesEntry& entry) {
  entry.generation = generation_;
  entry.org_id = store_.org_of(id);
  const auto* key = store_.key_of(id);
  std::vector<SeriesBinding> bound;
  auto org = orgs_.find(entry.org_id);
  if (key && org != orgs_.end()) {
    std::vector<const RulePtr*> candidates;
    const auto& rules = org->second;
    if (auto m = rules.by_metric.find(key->metric); m != rules.by_metric.end()) {
      for (auto& r : m->second) candidates.push_back(&r);
    }
    if (!rules.by_label.empty()) {
      for (auto& [name, value] : key->labels) {
        auto m = rules.by_label.find(label_key(key->metric, name, value));
        if (m == rules.by_label.end()) continue;
        for (auto& r : m->second) candidates.push_back(&r);
      }
    }
    for (auto& r : org->second.any_metric) candidates.push_back(&r);
    std::optional<DeviceFacts> device;
    bool device_looked_up = false;
    stats_.selector_tests += candidates.size();
    for (auto* rp : candidates) {
      const auto& rule = **rp;
      if (!rule.selector->matches(*key)) continue;
      const auto& scope = rule.rule().scope;
      const bool scoped = !scope.device_ids.empty() || !scope.group_ids.empty() ||
                          !scope.tags.empty() || !scope.device_types.empty();
      if (scoped && !device_looked_up) {
        device_looked_up = true;
        if (auto d = label_int(*key, "device_id")) device = device_facts(entry.org_id, *d);
      }
      if (scoped && !in_scope(rule.rule(), device ? &*device : nullptr)) continue;
      if (stats_.states + bound.size() >= o_.max_alert_states + entry.bindings.size()) {
        ++stats_.states_refused;
        break;
      }
      // The state of an unchanged rule carries over.
      auto old = std::find_if(entry.bindings.begin(), entry.bindings.end(), [&](auto& b) {
        return b.rule->rule().id == rule.rule().id && b.rule->version == rule.version;
      });
      if (old != entry.bindings.end()) {
        bound.push_back(std::move(*old));
      } else {
        bound.push_back(SeriesBinding{*rp, make_eval(rule)});
        if (!saved_states_.empty()) restore_saved(*key, bound.back());
        // An alert already open on this series (one loaded at start-up) is where the new state
        // stands: left inactive, it would take no transition from a sample on the clear side
        // and the alert would never resolve.
        if (!open_.empty()) {
          if (const auto* open = find_open(rule.rule().id, series_subject(*key))) {
            auto& eval = bound.back().eval;
            const auto& a = open->alert;
            if (rule.rule().kind == RuleKind::kNoData) {
              no_data(eval).alert_open = true;
            } else if (a.status == AlertStatus::kPending) {
              eval.threshold.phase = ThresholdPhase::kPending;
              eval.threshold.since_ms = a.started_at;
            } else {
              eval.threshold.phase = ThresholdPhase::kFiring;
              eval.threshold.since_ms = a.fired_at.value_or(a.started_at);
            }
          }
        }
      }
      if (rule.rule().kind == RuleKind::kNoData) no_data_series_.insert(id);
    }
  }
  stats_.states = stats_.states - entry.bindings.size() + bound.size();
  entry.bindings = std::move(bound);
}

// A baseline or trend saved before a restart goes back into the state made for it.
void EngineImpl::restore_saved(const tsdb::SeriesKey& key, SeriesBinding& b) {
  auto it = saved_states_.find(open_key(b.rule->rule().id, series_subject(key)));
  if (it == saved_states_.end()) return;
  restore_eval(b.eval, it->second);
  saved_states_.erase(it);
}

void EngineImpl::evaluate(tsdb::SeriesId id, SeriesBinding& b, const tsdb::Sample& s) {
  const auto& rule = *b.rule;
  if (rule.kind == RuleKind::kNoData) {
    note_sample(b.eval, s.t);
    if (auto& nd = no_data(b.eval); nd.alert_open) {
      nd.alert_open = false;
      if (const auto* key = store_.key_of(id)) {
        if (auto* a = find_open(rule.rule().id, series_subject(*key))) {
          clear(a->alert.id, 0, s.t, "data again");
        }
      }
    }
    return;
  }
  auto in = condition_input(b.eval, rule, s);
  if (!in) return;
  auto t = observe(b.eval.threshold, *rule.condition, rule.for_ms(), s.t, *in);
  if (t) threshold_transition(id, b, *t, s.v);
}

void EngineImpl::threshold_transition(tsdb::SeriesId id, SeriesBinding& b,
                                      const ThresholdTransition& t, double sample_value) {
  const auto* key = store_.key_of(id);
  if (!key) return;
  const auto& rule = *b.rule;
  const auto subject = series_subject(*key);
  auto* open = find_open(rule.rule().id, subject);
  // The value people read: the sample's own for an anomaly or a forecast (what is 3 sigma off,
  // what will be full), the compared one otherwise (the rate, the window's average).
  const auto kind = rule.rule().kind;
  const double value =
      kind == RuleKind::kAnomaly || kind == RuleKind::kForecast ? sample_value : t.value;
  if (t.to == ThresholdPhase::kInactive) {
    if (open) clear(open->alert.id, value, t.at_ms, "condition cleared");
    return;
  }
  if (!open) {
    open = &raise(rule, subject, label_int(*key, "device_id"), series_labels(*key, rule), value,
                  t.at_ms, id);
  }
  if (t.to == ThresholdPhase::kFiring) fire(*open, value, t.at_ms);
}

// A new no_data rule (or the engine's start): the series it selects that the store knows of
// are watched from their newest sample, so a device already silent is not forgotten.
void EngineImpl::seed_no_data(const CompiledRule& rule) {
  const std::vector<tsdb::Selector> selectors{*rule.selector};
  for (auto& info : store_.series(rule.rule().org_id, selectors, 100'000)) {
    auto& entry = series_.slot(info.id);
    if (entry.generation != generation_) bind(info.id, entry);
    for (auto& b : entry.bindings) {
      if (b.rule->rule().id == rule.rule().id && info.last_t > 0) note_sample(b.eval, info.last_t);
    }
  }
}

void EngineImpl::tick_no_data(std::int64_t now_ms) {
  for (auto it = no_data_series_.begin(); it != no_data_series_.end();) {
    auto* e = series_.find(*it);
    if (!e) {
      it = no_data_series_.erase(it);
      continue;
    }
    bool any = false;
    for (auto& b : e->bindings) {
      if (b.rule->rule().kind != RuleKind::kNoData) continue;
      any = true;
      auto& nd = no_data(b.eval);
      if (nd.alert_open || nd.last_sample_ms <= 0) continue;
      const auto interval = nd.interval_ms > 0 ? nd.interval_ms : kNoDataMinMs;
      const auto silent_from =
          nd.last_sample_ms + std::max(kNoDataIntervals * interval, kNoDataMinMs);
      if (now_ms < silent_from) continue;
      const auto* key = store_.key_of(*it);
      if (!key) continue;
      nd.alert_open = true;
      const auto subject = series_subject(*key);
      if (find_open(b.rule->rule().id, subject)) continue;
      const auto silent_s = static_cast<double>(now_ms - nd.last_sample_ms) / 1000.0;
      raise(*b.rule, subject, label_int(*key, "device_id"), series_labels(*key, *b.rule), silent_s,
            silent_from, *it);
    }
    it = any ? std::next(it) : no_data_series_.erase(it);
  }
}

}  // namespace netpulse::alerts::detail
