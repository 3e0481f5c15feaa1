// bench/alerts_eval — the alerts module's per-series evaluators alone: how many samples a second
// one core pushes through WindowAggregate (avg and p95), CounterRate and Trend observe() on
// 10,000 series (samples interleaved across series as ingestion delivers them, 10 s apart per
// series), and each state's bytes per series. Also avg and p95 with value() asked after every
// sample, as an engine evaluating on each sample would. Each figure is the median of BENCH_RUNS
// runs (default 5); a run stops after BENCH_SAMPLES samples per series (default 200) or 2 s,
// whichever comes first. The target: 2 M samples/s through 1,000 rules on 10,000 series.
// Exits 1 if a run produced no value (the evaluators did not run).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <netpulse/alerts/counter_rate.hpp>
#include <netpulse/alerts/flapping.hpp>
#include <netpulse/alerts/trend.hpp>
#include <netpulse/alerts/window_aggregate.hpp>

using namespace netpulse::alerts;

namespace {

constexpr int kSeries = 10'000;
constexpr std::int64_t kT0 = 1'800'000'000'000;
constexpr std::int64_t kStepMs = 10'000;
constexpr double kMaxRunSeconds = 2.0;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return std::max(1, v ? std::atoi(v) : fallback);
}

// A cheap deterministic value per (series, step): a counter-like ramp with a wobble.
double sample_value(int series, int step) {
  const auto h = static_cast<std::uint32_t>(series * 2654435761u + step * 40503u);
  return 1e6 + step * 1000.0 + series + static_cast<double>(h % 997);
}

// Runs `one(series, step, at_ms)` over steps x series until `samples_per_series` steps or the
// time limit; returns samples/s. `sink` collects something from each run so nothing is elided.
double run(const std::function<double(int, int, std::int64_t)>& one, int samples_per_series,
           double& sink) {
  const auto start = std::chrono::steady_clock::now();
  std::int64_t done = 0;
  double seconds = 0;
  for (int step = 0; step < samples_per_series; ++step) {
    const std::int64_t at = kT0 + step * kStepMs;
    for (int s = 0; s < kSeries; ++s) sink += one(s, step, at);
    done += kSeries;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > kMaxRunSeconds) break;
  }
  return static_cast<double>(done) / seconds;
}

template <typename State>
void report(const char* name, std::size_t bytes_per_series,
            const std::function<std::vector<State>()>& make,
            const std::function<double(State&, int, int, std::int64_t)>& step, int runs,
            int samples, bool& failed) {
  std::vector<double> rates;
  double sink = 0;
  for (int r = 0; r < runs; ++r) {
    auto states = make();  // fresh states each run: every run starts from empty windows
    rates.push_back(
        run([&](int s, int k,
                std::int64_t at) { return step(states[static_cast<std::size_t>(s)], s, k, at); },
            samples, sink));
  }
  std::sort(rates.begin(), rates.end());
  if (!(sink != 0)) failed = true;
  std::printf("%-28s %8zu bytes/series  median of %d: %6.2f M samples/s\n", name, bytes_per_series,
              runs, rates[rates.size() / 2] / 1e6);
}

std::vector<WindowAggregate> windows(ConditionFn fn) {
  std::vector<WindowAggregate> v;
  v.reserve(kSeries);
  for (int i = 0; i < kSeries; ++i) v.emplace_back(fn, 3600);
  return v;
}

}  // namespace

int main() {
  const int runs = env_int("BENCH_RUNS", 5);
  const int samples = env_int("BENCH_SAMPLES", 200);
  bool failed = false;
  std::printf("alerts eval: %d series, up to %d samples each (10 s apart), 1-hour windows\n",
              kSeries, samples);
  const std::size_t avg_bytes = WindowAggregate(ConditionFn::kAvg, 3600).state_bytes();
  const std::size_t p95_bytes = WindowAggregate(ConditionFn::kP95, 3600).state_bytes();
  for (const ConditionFn fn : {ConditionFn::kAvg, ConditionFn::kP95}) {
    const bool p95 = fn == ConditionFn::kP95;
    report<WindowAggregate>(
        p95 ? "WindowAggregate p95 observe" : "WindowAggregate avg observe",
        p95 ? p95_bytes : avg_bytes, [fn] { return windows(fn); },
        [](WindowAggregate& w, int s, int k, std::int64_t at) {
          w.observe(at, sample_value(s, k));
          return 1.0;
        },
        runs, samples, failed);
    report<WindowAggregate>(
        p95 ? "  ... observe + value" : "  ... observe + value", p95 ? p95_bytes : avg_bytes,
        [fn] { return windows(fn); },
        [](WindowAggregate& w, int s, int k, std::int64_t at) {
          w.observe(at, sample_value(s, k));
          return w.value(at).value_or(0);
        },
        runs, samples, failed);
  }
  report<CounterRate>(
      "CounterRate observe", sizeof(CounterRate), [] { return std::vector<CounterRate>(kSeries); },
      [](CounterRate& c, int s, int k, std::int64_t at) {
        return c.observe(at, sample_value(s, k)).value_or(0);
      },
      runs, samples, failed);
  report<Trend>(
      "Trend observe", sizeof(Trend), [] { return std::vector<Trend>(kSeries, Trend(86'400)); },
      [](Trend& t, int s, int k, std::int64_t at) {
        t.observe(at, sample_value(s, k));
        return 1.0;
      },
      runs, samples, failed);
  std::printf("FlapDetector: %zu bytes/alert\n", sizeof(FlapDetector));
  if (failed) {
    std::fprintf(stderr, "alerts eval: a run produced nothing\n");
    return 1;
  }
  return 0;
}
