// bench/alerts_engine — the whole alert engine (AlertEngine::open with a real database,
// inventory and time-series store in a temporary directory, as tests/unit/alerts/engine_harness
// does), measured from outside. Run by bench/alerts.sh, which prints the table; by hand:
//
//   alerts_engine [eval|latency|all]      (default all)
//
// eval     Evaluation alone on one core: 10,000 series `m<k>{shard="<j>",port="<p>"}` (k 0..9,
//          j 0..99, p 0..9) are made through the store (so Store::key_of knows them), then
//          SamplesAppended events for them are published straight on the bus, in batches of
//          1,000 (BENCH_ALERTS_BATCH), samples 10 s apart per series; samples/s = samples
//          published / time inside the publish calls (the engine's whole per-sample path: the
//          binding cache, each bound rule's evaluator, its ThresholdState). A ManualClock: no
//          tick runs meanwhile. Three rule sets, each on a fresh engine:
//            defaults        the default rule set only (none selects these series)
//            defaults+1000   the defaults plus 1,000 threshold rules that never cross:
//                            900 `m<k>{shard="<j>"}` (j 0..89; fn value, rate and avg over
//                            600 s in turn) and 100 `m<k>{port="<p>"}` (fn value, for_s 60),
//                            so a series is selected by 1.9 rules on average
//            anomaly         10 anomaly rules `m<k>`: one baseline per series
//          Each: BENCH_RUNS runs (5), each BENCH_ALERTS_STEPS rounds over every series (50) or
//          2 s, whichever first; the median. The first round after the rules were made (it
//          binds every series) is timed apart. Memory: EngineStats::state_bytes over states and
//          over series, and the heap (glibc mallinfo2) the binding round allocated: the engine's
//          series map, bindings and evaluators with the allocator's overhead (the store's cache
//          of decoded series keys, which binding fills, is filled beforehand and shown apart).
// latency  The real loop and clock (SystemClock; the engine's 1-s tick runs): the default rules
//          plus `lat_probe > 90` (for_s 0). BENCH_ALERTS_LATENCY (1,000) series sit at 0; then,
//          one after another, each gets a crossing sample through Store::append and the time to
//          the first AlertChanged of its alert is taken (from the append call to the bus
//          handler: key making, the append log write, the head apply, the engine's evaluation,
//          the SQLite commit of the transition on the database writer, the publish). At most 120
//          s. p50, p99 (nearest rank), max; and the two parts: append to the engine's evaluation
//          (the store answers, then applies the batch to its head kApplyDelay = 1 ms later, so a
//          lone sample waits that long), and evaluation to AlertChanged (the commit).
//
// Figures go to stdout as `name value` lines (bench/alerts.sh reads them); progress to stderr.
// Exits 1 if a figure is missing or absurd (no sample matched, an alert never came).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <malloc.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/alerts/rule_json.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/tsdb/store.hpp>

#include "support/test_env.hpp"

using namespace netpulse;
using Steady = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kOrg = 1;
constexpr int kMetrics = 10, kShards = 100, kPorts = 10;
constexpr int kSeries = kMetrics * kShards * kPorts;
constexpr std::int64_t kStepMs = 10'000;
constexpr double kMaxRunSeconds = 2.0;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return std::max(1, v ? std::atoi(v) : fallback);
}

void fail(const std::string& why) {
  std::fprintf(stderr, "alerts_engine: error: %s\n", why.c_str());
  std::exit(1);
}

void figure(std::string_view name, double value) {
  std::printf("%.*s %.6g\n", static_cast<int>(name.size()), name.data(), value);
  std::fflush(stdout);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// A temporary directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "netpulse-bench-alerts.XXXXXX").string();
    if (!mkdtemp(pattern.data())) fail("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The modules the engine talks to, opened as the server opens them, and the engine.
struct Rig {
  ScratchDir dir;
  core::Logger log;
  test::TestEnv test_env;
  core::EventBus& bus = test_env.bus();
  boost::asio::io_context& io = test_env.loop();
  std::unique_ptr<db::Database> database;
  std::unique_ptr<devices::Inventory> inventory;
  std::unique_ptr<tsdb::Store> store;
  std::unique_ptr<alerts::AlertEngine> engine;
  core::OrgScope scope = core::OrgScope::trusted(kOrg);

  Rig(const core::Clock& clock, alerts::EngineOptions options)
      : log(
            clock,
            [](std::string_view line) {
              std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
            },
            core::LogLevel::kWarn),
        test_env(clock, log) {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, test_env.env());
    if (!opened) fail("database: " + opened.error().message);
    database = std::move(*opened);
    auto made = database->write_sync([](db::Connection& c) {
      return c.exec(
          "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) "
          "VALUES (1, 'One', 'one', 1, 0, 0)");
    });
    if (!made) fail("organizations: " + made.error().message);
    devices::InventoryOptions io_options;
    io_options.data_dir = dir.path();
    auto inv = devices::Inventory::open(io_options, test_env.env(), *database);
    if (!inv) fail("inventory: " + inv.error().message);
    inventory = std::move(*inv);
    tsdb::StoreOptions so;
    so.dir = dir.file("tsdb");
    auto s = tsdb::Store::open(so, test_env.env(), *database);
    if (!s) fail("store: " + s.error().message);
    store = std::move(*s);
    auto e = alerts::AlertEngine::open(options, test_env.env(), *database, *inventory, *store);
    if (!e) fail("engine: " + e.error().message);
    engine = std::move(*e);
    run_for(std::chrono::milliseconds(5));
  }

  ~Rig() {
    engine->close();
    engine.reset();
    (void)store->close();
    run_for(std::chrono::milliseconds(20));
  }

  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  void run_until(const std::function<bool()>& done, const char* what) {
    const auto deadline = Steady::now() + std::chrono::seconds(60);
    while (!done()) {
      if (Steady::now() > deadline) fail(fmt::format("{}: not done within 60 s", what));
      run_for(std::chrono::milliseconds(2));
    }
  }

  // Creates the rules (JSON bodies), all at once, and waits for every one.
  void add_rules(const std::vector<std::string>& bodies) {
    std::size_t done = 0;
    for (auto& body : bodies) {
      auto rule = alerts::rule_from_json(boost::json::parse(body));
      if (!rule) fail("rule " + body + ": " + rule.error().message);
      engine->create_rule(scope, std::move(*rule), [&](core::Result<alerts::StoredRule> r) {
        if (!r) fail("create_rule: " + r.error().message);
        ++done;
      });
    }
    run_until([&] { return done == bodies.size(); }, "creating the rules");
  }

  // Appends the batch through the store and waits until the engine has seen it.
  void append(std::vector<tsdb::AppendSample> batch) {
    const auto n = batch.size();
    bool done = false;
    store->append(kOrg, std::move(batch), tsdb::AppendMode::kAllOrNothing,
                  [&](core::Result<tsdb::AppendResult> r) {
                    if (!r) fail("append: " + r.error().message);
                    if (r->accepted != n)
                      fail(fmt::format("append: {} of {} accepted", r->accepted, n));
                    done = true;
                  });
    run_until([&] { return done; }, "append");
    (void)store->stats();  // the head takes the batch and publishes SamplesAppended
    run_for(std::chrono::milliseconds(1));
  }
};

tsdb::SeriesKey eval_key(int i) {
  const int k = i % kMetrics, j = (i / kMetrics) % kShards, p = i / (kMetrics * kShards);
  return {fmt::format("m{}", k), {{"port", std::to_string(p)}, {"shard", std::to_string(j)}}};
}

// A counter-like value per (series, step): rises ~100/s, thresholds at 1e15 never reached.
double eval_value(int series, int step) {
  const auto h = static_cast<std::uint32_t>(series * 2654435761u + step * 40503u);
  return 1e6 + step * 1000.0 + series + static_cast<double>(h % 97);
}

// The 1,000 threshold rules of "defaults+1000" (bench/alerts.sh posts the same shape over its
// own series).
std::vector<std::string> threshold_rules() {
  std::vector<std::string> out;
  for (int k = 0; k < kMetrics; ++k) {
    for (int j = 0; j < 90; ++j) {
      const char* condition[] = {R"({"fn": "value", "op": ">", "value": 1e15, "clear": 9e14})",
                                 R"({"fn": "rate", "op": ">", "value": 1e12})",
                                 R"({"fn": "avg", "window_s": 600, "op": ">", "value": 1e15})"};
      out.push_back(fmt::format(
          R"({{"name": "m{0} shard {1}", "kind": "threshold", "selector": "m{0}{{shard=\"{1}\"}}",
              "condition": {2}, "for_s": 0, "severity": "warning"}})",
          k, j, condition[(k * 90 + j) % 3]));
    }
    for (int p = 0; p < kPorts; ++p) {
      out.push_back(fmt::format(
          R"({{"name": "m{0} port {1}", "kind": "threshold", "selector": "m{0}{{port=\"{1}\"}}",
              "condition": {{"fn": "value", "op": "<", "value": -1}}, "for_s": 60,
              "severity": "critical"}})",
          k, p));
    }
  }
  return out;
}

std::vector<std::string> anomaly_rules() {
  std::vector<std::string> out;
  for (int k = 0; k < kMetrics; ++k) {
    out.push_back(fmt::format(
        R"({{"name": "m{0} anomalous", "kind": "anomaly", "selector": "m{0}",
            "anomaly": {{"sensitivity": 4}}}})",
        k));
  }
  return out;
}

// One rule set on a fresh engine: throughput, then memory.
void eval_case(const std::string& name, bool defaults, const std::vector<std::string>& rules) {
  const int runs = env_int("BENCH_RUNS", 5);
  const int steps = env_int("BENCH_ALERTS_STEPS", 50);
  const int batch_size = std::min(env_int("BENCH_ALERTS_BATCH", 1'000), kSeries);
  core::ManualClock clock;
  alerts::EngineOptions options;
  options.install_default_rules = defaults;
  options.tick_ms = 3'600'000;  // no tick during the runs
  Rig rig(clock, options);

  // The series, through the store; their ids from the event it publishes.
  std::vector<tsdb::SeriesId> ids;
  {
    auto sub = rig.bus.subscribe<tsdb::SamplesAppended>([&](const tsdb::SamplesAppended& e) {
      for (auto& s : e.samples) ids.push_back(s.series);
    });
    const auto t = clock.unix_millis() - 3'600'000;
    for (int i = 0; i < kSeries; i += batch_size) {
      std::vector<tsdb::AppendSample> batch;
      for (int n = i; n < std::min(kSeries, i + batch_size); ++n) {
        batch.push_back({eval_key(n), {t, eval_value(n, 0)}});
      }
      rig.append(std::move(batch));
    }
  }
  if (ids.size() != static_cast<std::size_t>(kSeries)) fail("the store did not make every series");
  rig.add_rules(rules);

  std::vector<tsdb::AppendedSample> batch(static_cast<std::size_t>(batch_size));
  // BENCH_ALERTS_EVICT_MB: written through between two batches (not timed), as the server's
  // store and parsers do, so the engine's per-series state is cold when a batch comes.
  std::vector<char> evict(static_cast<std::size_t>(env_int("BENCH_ALERTS_EVICT_MB", 0)) << 20);
  std::int64_t t0 = clock.unix_millis();
  int step = 1;
  // One round over every series; returns the seconds spent inside publish.
  auto round = [&]() {
    double seconds = 0;
    const std::int64_t t = t0 + step * kStepMs;
    for (int i = 0; i < kSeries; i += batch_size) {
      const int n = std::min(kSeries - i, batch_size);
      for (int b = 0; b < n; ++b) {
        batch[static_cast<std::size_t>(b)] = {ids[static_cast<std::size_t>(i + b)],
                                              {t, eval_value(i + b, step)}};
      }
      const tsdb::SamplesAppended event{
          kOrg, std::span<const tsdb::AppendedSample>(batch.data(), static_cast<std::size_t>(n))};
      if (!evict.empty()) {
        std::memset(evict.data(), static_cast<int>(step + i), evict.size());
        asm volatile("" : : "r"(evict.data()) : "memory");
      }
      const auto start = Steady::now();
      rig.bus.publish(event);
      seconds += std::chrono::duration<double>(Steady::now() - start).count();
    }
    ++step;
    return seconds;
  };

  // Binding reads each series' key, which the store decodes once and keeps (its memory, not
  // the engine's): done here first, so the heap figure below is the engine's alone.
  const auto heap_keys = heap_in_use();
  for (auto id : ids) (void)rig.store->key_of(id);
  const auto key_cache = heap_in_use() - heap_keys;
  const auto heap0 = heap_in_use();
  const double bind_seconds = round();  // binds every series to the new rules
  const auto heap1 = heap_in_use();

  std::vector<double> rates, matched_rates;
  for (int run = 0; run < runs; ++run) {
    const auto before = rig.engine->stats();
    double seconds = 0;
    std::int64_t samples = 0;
    for (int s = 0; s < steps && seconds < kMaxRunSeconds; ++s) {
      seconds += round();
      samples += kSeries;
    }
    const auto after = rig.engine->stats();
    if (after.samples_seen - before.samples_seen != static_cast<std::uint64_t>(samples)) {
      fail(name + ": the engine saw " + std::to_string(after.samples_seen - before.samples_seen) +
           " samples of " + std::to_string(samples));
    }
    rates.push_back(static_cast<double>(samples) / seconds);
    matched_rates.push_back(static_cast<double>(after.samples_matched - before.samples_matched) /
                            seconds);
    std::fprintf(stderr, "alerts_engine: %s run %d/%d: %.0f samples/s, %.0f matched/s\n",
                 name.c_str(), run + 1, runs, rates.back(), matched_rates.back());
  }
  const auto stats = rig.engine->stats();
  if (!rules.empty() && stats.samples_matched == 0) fail(name + ": no sample matched a rule");
  if (stats.pending + stats.firing != 0) fail(name + ": an alert opened; the thresholds crossed");

  const std::string p = "eval." + name + ".";
  figure(p + "rules", static_cast<double>(stats.rules));
  figure(p + "samples_per_s", median(rates));
  figure(p + "matched_per_s", median(matched_rates));
  figure(p + "matched_per_sample", median(matched_rates) / median(rates));
  figure(p + "bind_round_samples_per_s", kSeries / bind_seconds);
  figure(p + "states", static_cast<double>(stats.states));
  figure(p + "state_bytes", static_cast<double>(stats.state_bytes));
  figure(p + "state_bytes_per_state",
         stats.states ? static_cast<double>(stats.state_bytes) / static_cast<double>(stats.states)
                      : 0);
  figure(p + "state_bytes_per_series", static_cast<double>(stats.state_bytes) / kSeries);
  figure(p + "store_key_cache_bytes_per_series", static_cast<double>(key_cache) / kSeries);
  figure(p + "bind_heap_bytes_per_series",
         (static_cast<double>(heap1) - static_cast<double>(heap0)) / kSeries);
}

void eval() {
  eval_case("defaults", true, {});
  eval_case("defaults+1000", true, threshold_rules());
  eval_case("anomaly", false, anomaly_rules());
}

// Time from a crossing sample's append to its AlertChanged, on the real loop and clock.
void latency() {
  const int n = env_int("BENCH_ALERTS_LATENCY", 1'000);
  core::SystemClock clock;
  alerts::EngineOptions options;  // the defaults: default rules, 1-s tick
  Rig rig(clock, options);
  rig.add_rules({R"({"name": "latency probe", "kind": "threshold", "selector": "lat_probe",
      "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 0})"});
  auto key = [](int i) { return tsdb::SeriesKey{"lat_probe", {{"n", std::to_string(i)}}}; };
  for (int i = 0; i < n; i += 1'000) {
    std::vector<tsdb::AppendSample> batch;
    for (int j = i; j < std::min(n, i + 1'000); ++j) {
      batch.push_back({key(j), {clock.unix_millis() - 1'000, 0.0}});
    }
    rig.append(std::move(batch));
  }

  std::vector<double> ms, evaluated_ms;  // to AlertChanged; to the engine's evaluation
  int current = -1;
  Steady::time_point sent{};
  std::int64_t last_t = 0;
  std::function<void()> next = [&]() {
    ++current;
    if (current >= n) return;
    const auto t = std::max(clock.unix_millis(), last_t + 1);
    last_t = t;
    std::vector<tsdb::AppendSample> batch;
    batch.push_back({key(current), {t, 95.0}});
    sent = Steady::now();
    rig.store->append(kOrg, std::move(batch), tsdb::AppendMode::kAllOrNothing,
                      [](core::Result<tsdb::AppendResult> r) {
                        if (!r || r->accepted != 1) fail("the crossing sample was not stored");
                      });
  };
  // Subscribed after the engine: runs once the engine has evaluated the sample (and queued the
  // transition's write).
  auto evaluated = rig.bus.subscribe<tsdb::SamplesAppended>([&](const tsdb::SamplesAppended& e) {
    if (current < 0 || current >= n || static_cast<int>(evaluated_ms.size()) > current) return;
    if (e.samples.size() != 1) return;
    evaluated_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - sent).count());
  });
  auto sub = rig.bus.subscribe<alerts::AlertChanged>([&](const alerts::AlertChanged& e) {
    if (current < 0 || current >= n) return;
    // Only the first change of the current probe's alert (pending and firing come together).
    if (static_cast<int>(ms.size()) > current) return;
    if (e.alert.subject != fmt::format("lat_probe{{n=\"{}\"}}", current)) return;
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - sent).count());
    boost::asio::post(rig.io, next);
  });
  const auto deadline = Steady::now() + std::chrono::seconds(120);
  next();
  while (static_cast<int>(ms.size()) < n && Steady::now() < deadline) {
    rig.run_for(std::chrono::milliseconds(50));
  }
  if (ms.size() < 100) fail(fmt::format("only {} of {} alerts arrived within 120 s", ms.size(), n));
  if (evaluated_ms.size() < ms.size()) fail("an alert came before its sample was evaluated");
  auto rank = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size(), std::max<std::size_t>(i, 1)) - 1];
  };
  figure("latency.alerts", static_cast<double>(ms.size()));
  figure("latency.p50_ms", rank(ms, 0.50));
  figure("latency.p99_ms", rank(ms, 0.99));
  figure("latency.max_ms", rank(ms, 1.0));
  figure("latency.evaluated_p50_ms", rank(evaluated_ms, 0.50));
  figure("latency.evaluated_p99_ms", rank(evaluated_ms, 0.99));
  std::vector<double> committed_ms;  // from the evaluation to AlertChanged: the SQLite commit
  for (std::size_t i = 0; i < ms.size(); ++i) committed_ms.push_back(ms[i] - evaluated_ms[i]);
  figure("latency.commit_p50_ms", rank(committed_ms, 0.50));
  figure("latency.commit_p99_ms", rank(committed_ms, 0.99));
}

// A backtest of 24 hours of 10,000 series (5-minute samples, 2.88 M), answered off the loop:
// the time from backtest() to its answer, median of BENCH_RUNS runs.
void backtest() {
  const int runs = env_int("BENCH_RUNS", 5);
  const int series = env_int("BENCH_ALERTS_SERIES", kSeries);
  constexpr std::int64_t kStepMs = 300'000;
  constexpr int kSteps = 288;  // 24 hours
  core::ManualClock clock;
  alerts::EngineOptions options;
  options.install_default_rules = false;
  options.tick_ms = 3'600'000;
  Rig rig(clock, options);
  const auto start = clock.unix_millis() - kSteps * kStepMs;
  for (int step = 0; step < kSteps; ++step) {
    std::vector<tsdb::AppendSample> batch;
    batch.reserve(static_cast<std::size_t>(series));
    for (int i = 0; i < series; ++i) {
      batch.push_back({eval_key(i), {start + step * kStepMs, eval_value(i, step)}});
    }
    rig.append(std::move(batch));
  }
  auto rule = alerts::rule_from_json(boost::json::parse(
      R"({"name": "backtest", "kind": "threshold", "selector": "{port=~\".+\"}",
          "condition": {"fn": "avg", "window_s": 1800, "op": ">", "value": 50, "clear": 40},
          "for_s": 600})"));
  if (!rule) fail("backtest rule: " + rule.error().message);
  std::vector<double> seconds;
  std::size_t events = 0, samples = 0;
  for (int run = 0; run < runs; ++run) {
    std::optional<core::Result<alerts::BacktestResult>> out;
    const auto t0 = Steady::now();
    rig.engine->backtest(
        rig.scope, *rule, start, clock.unix_millis(),
        [&](core::Result<alerts::BacktestResult> r) { out.emplace(std::move(r)); });
    rig.run_until([&] { return out.has_value(); }, "backtest");
    seconds.push_back(std::chrono::duration<double>(Steady::now() - t0).count());
    if (!*out) fail("backtest: " + out->error().message);
    events = (*out)->events.size();
    samples = (*out)->samples;
    std::fprintf(stderr, "alerts_engine: backtest run %d/%d: %.2f s, %zu samples, %zu events\n",
                 run + 1, runs, seconds.back(), samples, events);
  }
  figure("backtest.series", series);
  figure("backtest.samples", static_cast<double>(samples));
  figure("backtest.events", static_cast<double>(events));
  figure("backtest.seconds", median(seconds));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  if (what != "eval" && what != "latency" && what != "backtest" && what != "all") {
    std::fprintf(stderr, "usage: %s [eval|latency|backtest|all]\n", argv[0]);
    return 2;
  }
  if (what == "eval" || what == "all") eval();
  if (what == "latency" || what == "all") latency();
  if (what == "backtest" || what == "all") backtest();
  return 0;
}
