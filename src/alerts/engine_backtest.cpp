// Backtest: a rule replayed over stored samples, so an operator tunes a threshold before enabling
// it. The samples are read by the store (off the loop) and the replay runs on a worker, with the
// same per-series state the live engine keeps; nothing is changed. Sample kinds only: the event
// kinds react to device, interface, check and trap events, which are not samples.
#include <algorithm>

#include <fmt/format.h>

#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

constexpr std::size_t kMaxEvents = 10'000;

std::string phase_transition(ThresholdPhase p) {
  return std::string(p == ThresholdPhase::kInactive ? "resolved" : threshold_phase_name(p));
}

BacktestResult replay(const CompiledRule& rule, std::vector<tsdb::SeriesData> data,
                      std::int64_t start, std::int64_t end) {
  BacktestResult out;
  out.start = start;
  out.end = end;
  out.series = data.size();
  for (auto& series : data) {
    out.samples += series.samples.size();
    const auto subject = series_subject(series.key);
    std::map<std::string, std::string> labels(series.key.labels.begin(), series.key.labels.end());
    auto add = [&](std::int64_t at, std::string transition, double value) {
      if (out.events.size() >= kMaxEvents) {
        out.truncated = true;
        return;
      }
      out.events.push_back({at, std::move(transition), subject, labels, value});
    };
    auto eval = make_eval(rule);
    if (rule.rule().kind == RuleKind::kNoData) {
      // A gap of three usual intervals is a no-data episode; the next sample ends it.
      for (auto& s : series.samples) {
        const auto last = no_data(eval).last_sample_ms;
        const auto interval = no_data(eval).interval_ms;
        note_sample(eval, s.t);
        if (last > 0 && interval > 0 && s.t - last > 3 * std::max<std::int64_t>(interval, 20'000)) {
          add(last + 3 * interval, "firing", static_cast<double>(s.t - last) / 1000.0);
          add(s.t, "resolved", 0);
        }
      }
      continue;
    }
    for (auto& s : series.samples) {
      auto in = condition_input(eval, rule, s);
      if (!in) continue;
      auto t = observe(eval.threshold, *rule.condition, rule.for_ms(), s.t, *in);
      if (!t) continue;
      const auto kind = rule.rule().kind;
      const double value =
          kind == RuleKind::kAnomaly || kind == RuleKind::kForecast ? s.v : t->value;
      add(t->at_ms, phase_transition(t->to), value);
    }
  }
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const BacktestEvent& a, const BacktestEvent& b) { return a.at < b.at; });
  return out;
}

}  // namespace

void EngineImpl::backtest(core::OrgScope scope, Rule rule, std::int64_t start_ms,
                          std::int64_t end_ms, Callback<BacktestResult> done) {
  rule.org_id = scope.org_id();
  if (auto r = check_rule_for_org(scope, rule); !r) return post(std::move(done), {r.error()});
  if (rule.selector.empty()) {
    return post(std::move(done),
                core::Result<BacktestResult>(core::invalid_field(
                    "kind", fmt::format("a {} rule reacts to events, not to stored samples: only "
                                        "threshold, no_data, anomaly and forecast rules replay",
                                        rule_kind_name(rule.kind)))));
  }
  if (end_ms <= start_ms) {
    return post(std::move(done),
                core::Result<BacktestResult>(core::invalid_field("end", "must be after start")));
  }
  if (end_ms - start_ms > o_.backtest_max_range_s * 1000) {
    return post(std::move(done), core::Result<BacktestResult>(core::invalid_field(
                                     "start", fmt::format("a backtest spans at most {} days",
                                                          o_.backtest_max_range_s / 86'400))));
  }
  StoredRule stored;
  stored.rule = std::move(rule);
  auto compiled = compile(std::move(stored));
  if (!compiled) return post(std::move(done), {compiled.error()});
  tsdb::SelectRequest req;
  req.org_id = scope.org_id();
  req.selectors.push_back(*(*compiled)->selector);
  req.start = start_ms;
  req.end = end_ms;
  req.max_series = o_.backtest_max_series;
  auto replay_off_loop = [this, rule = *compiled, start_ms, end_ms, done = std::move(done)](
                             core::Result<std::vector<tsdb::SeriesData>> data) mutable {
    if (!data) return done(std::move(data).error());
    auto shared = std::make_shared<std::vector<tsdb::SeriesData>>(std::move(*data));
    auto queued = workers_.run<BacktestResult>(
        [rule, shared, start_ms, end_ms] {
          return replay(*rule, std::move(*shared), start_ms, end_ms);
        },
        loop_, [done](BacktestResult r) { done(std::move(r)); });
    if (!queued) done(std::move(queued).error());
  };
  store_.select(std::move(req), guarded(std::move(replay_off_loop)));
}

}  // namespace netpulse::alerts::detail
