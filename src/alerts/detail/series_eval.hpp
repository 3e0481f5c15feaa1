// The state one rule keeps for one series, and what it computes from a sample: the number the
// rule's threshold state machine compares (the value, a counter's rate, a window aggregate, an
// anomaly's deviation or a forecast's seconds until the target), plus what a no_data rule needs
// (the newest sample and the series' usual interval). The kind's part is allocated only for the
// kinds that need one: a value, rate or no_data rule keeps 56 bytes, 72 with its binding's rule
// pointer (docs/alerts.md has every kind's figure).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include <netpulse/alerts/counter_rate.hpp>
#include <netpulse/alerts/seasonal_baseline.hpp>
#include <netpulse/alerts/threshold_state.hpp>
#include <netpulse/alerts/trend.hpp>
#include <netpulse/alerts/window_aggregate.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::alerts::detail {

struct CompiledRule;

// A no_data rule's part.
struct NoDataState {
  std::int64_t last_sample_ms = 0;  // the newest sample
  std::int64_t interval_ms = 0;     // the series' usual interval (EWMA of the gaps)
  bool alert_open = false;          // an alert is open for this series
};

// 56 bytes: the per-sample path reads a series' bindings one after another, so every byte here
// is paid per sample (a binding with its rule pointer is 72 bytes).
struct SeriesEval {
  ThresholdState threshold;
  std::variant<std::monostate, CounterRate, NoDataState, std::unique_ptr<WindowAggregate>,
               std::unique_ptr<SeasonalBaseline>, std::unique_ptr<Trend>>
      part;
};

// A fresh state for `rule`'s kind and condition.
SeriesEval make_eval(const CompiledRule& rule);

// What the rule's condition compares after `sample`, or nothing (no rate yet, an empty window, a
// baseline still warming up). A forecast that will not reach its target gives +infinity's
// stand-in (a number beyond any horizon), so a firing forecast clears.
std::optional<double> condition_input(SeriesEval& eval, const CompiledRule& rule,
                                      const tsdb::Sample& sample);

// The look-ahead of the engine's per-sample loop (WindowAggregate::prefetch_head): the kind's
// part's first line, and then the window ring's slots a sample at `at_ms` will touch.
void prefetch_part(const SeriesEval& eval) noexcept;
void prefetch_part_buckets(const SeriesEval& eval, std::int64_t at_ms) noexcept;

// A no_data rule's state (make_eval gives every no_data rule one).
NoDataState& no_data(SeriesEval& eval);

// no_data: a sample arrived at `at_ms`.
void note_sample(SeriesEval& eval, std::int64_t at_ms);

// An anomaly rule's baseline has seen less than its warm-up.
bool warming_up(const SeriesEval& eval, const CompiledRule& rule, std::int64_t now_ms);

// The heap bytes of the kind's part (the rest is sizeof(SeriesEval)).
std::size_t eval_heap_bytes(const SeriesEval& eval);

// The anomaly baselines and trends worth keeping across a restart, as a versioned blob; and back.
std::optional<std::string> save_eval(const SeriesEval& eval);
bool restore_eval(SeriesEval& eval, std::string_view blob);

}  // namespace netpulse::alerts::detail
