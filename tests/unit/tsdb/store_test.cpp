// The time-series store on a real SQLite database and a real append log, with a ManualClock:
// append and read back, chunk sealing and persistence, out-of-order and duplicate rules, both
// append modes, the series limit, crash recovery (the store dropped without its final
// checkpoint, then reopened), torn log tails, rollups against a naive computation, retention,
// staleness events, and the head's memory budget (its heap per series is reported by
// bench/store_memory.cpp). Async results are collected by running the io_context on the test
// thread, bounded in time.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/tsdb/store.hpp>

#include "support/temp_dir.hpp"

using namespace netpulse;
using tsdb::AppendMode;
using tsdb::Sample;
using tsdb::Timestamp;

namespace {

constexpr Timestamp kMin = 60'000;

struct Fixture {
  test::TempDir dir;
  core::ManualClock clock{core::SystemTime(std::chrono::seconds(1'790'000'000))};
  core::Logger log{clock, [](std::string_view) {}};
  core::MetricsRegistry metrics;
  boost::asio::io_context loop;
  core::WorkerPool workers{1, 64};
  core::EventBus bus;

  core::Env env() { return {clock, log, metrics, bus, loop.get_executor(), workers}; }
  std::unique_ptr<db::Database> db;
  std::unique_ptr<tsdb::Store> store;
  tsdb::StoreOptions options;

  Fixture() {
    db::Options o;
    o.path = dir.file("np.db");
    auto opened = db::Database::open(o, env());
    REQUIRE(opened);
    db = std::move(opened).value();
    options.dir = dir.file("tsdb");
  }

  void open() {
    auto s = tsdb::Store::open(options, env(), *db);
    REQUIRE(s);
    store = std::move(s).value();
  }

  // The store gone without its final checkpoint, as after kill -9 (the log file stays as written).
  void crash() {
    store.reset();
    loop.restart();
    loop.poll();
  }

  void close_and_reopen() {
    REQUIRE(store->close());
    store.reset();
    open();
  }

  Timestamp now() const { return clock.unix_millis(); }

  template <class T>
  T wait(std::optional<T>& slot) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!slot && std::chrono::steady_clock::now() < deadline) {
      loop.restart();
      loop.run_for(std::chrono::milliseconds(5));
    }
    REQUIRE(slot);
    return std::move(*slot);
  }

  tsdb::AppendResult append(std::int64_t org, std::vector<tsdb::AppendSample> batch,
                            AppendMode mode = AppendMode::kAllOrNothing) {
    std::optional<core::Result<tsdb::AppendResult>> out;
    store->append(org, std::move(batch), mode, [&](auto r) { out = std::move(r); });
    auto r = wait(out);
    REQUIRE(r);
    // The head takes the batch a moment after the answer, or first thing in the next read: the
    // read makes it (and its SamplesAppended event) happen now.
    (void)store->stats();
    return std::move(r).value();
  }

  std::vector<tsdb::SeriesData> select(std::int64_t org, std::string_view selector, Timestamp start,
                                       Timestamp end,
                                       std::optional<tsdb::Tier> tier = std::nullopt) {
    tsdb::SelectRequest req;
    req.org_id = org;
    auto sel = tsdb::Selector::parse(selector);
    REQUIRE(sel);
    req.selectors.push_back(std::move(*sel));
    req.start = start;
    req.end = end;
    req.tier = tier;
    std::optional<core::Result<std::vector<tsdb::SeriesData>>> out;
    store->select(std::move(req), [&](auto r) { out = std::move(r); });
    auto r = wait(out);
    REQUIRE(r);
    return std::move(r).value();
  }

  void run(void (tsdb::Store::*fn)(std::function<void(core::Result<void>)>)) {
    std::optional<core::Result<void>> out;
    (store.get()->*fn)([&](core::Result<void> r) { out = std::move(r); });
    auto r = wait(out);
    REQUIRE(r);
  }

  std::int64_t count_rows(const std::string& table) {
    return db->read([&](db::Connection& c) -> std::int64_t {
      auto st = c.prepare("SELECT count(*) FROM " + table);
      REQUIRE(st);
      auto row = st->step();
      REQUIRE(row);
      return st->get_int64(0);
    });
  }
};

tsdb::AppendSample sample(std::string metric, tsdb::LabelSet labels, Timestamp t, double v) {
  return {{std::move(metric), std::move(labels)}, {t, v}};
}

std::vector<Sample> only_series(const std::vector<tsdb::SeriesData>& data) {
  REQUIRE(data.size() == 1);
  return data[0].samples;
}

bool bit_equal(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("store: samples read back exactly; events name the series", "[tsdb][store]") {
  Fixture f;
  f.open();
  std::vector<tsdb::AppendedSample> seen;
  std::int64_t seen_org = 0;
  auto sub = f.bus.subscribe<tsdb::SamplesAppended>([&](const tsdb::SamplesAppended& e) {
    seen_org = e.org_id;
    seen.assign(e.samples.begin(), e.samples.end());
  });
  Timestamp t0 = f.now() - 3'600'000;
  std::vector<double> values = {0.1, 1e-300, 123456789.123, 9007199254740992.0, -0.0, 42};
  std::vector<tsdb::AppendSample> batch;
  for (std::size_t i = 0; i < values.size(); ++i) {
    batch.push_back(
        sample("cpu", {{"host", "a"}}, t0 + static_cast<Timestamp>(i) * kMin, values[i]));
  }
  batch.push_back(sample("cpu", {{"host", "b"}}, t0, 7));
  auto r = f.append(5, batch);
  CHECK(r.accepted == 7);
  CHECK(r.new_series == 2);
  CHECK(r.refused.empty());
  REQUIRE(seen.size() == 7);
  CHECK(seen_org == 5);
  const auto* key = f.store->key_of(seen[0].series);
  REQUIRE(key);
  CHECK(key->metric == "cpu");
  CHECK(key->labels == tsdb::LabelSet{{"host", "a"}});
  CHECK(f.store->org_of(seen[0].series) == 5);

  auto got = only_series(f.select(5, R"(cpu{host="a"})", t0, f.now()));
  REQUIRE(got.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(got[i].t == t0 + static_cast<Timestamp>(i) * kMin);
    CHECK(bit_equal(got[i].v, values[i]));
  }
  // Another org sees nothing; the range is inclusive at both ends.
  CHECK(f.select(6, "cpu", t0, f.now()).empty());
  CHECK(only_series(f.select(5, R"(cpu{host="a"})", t0 + kMin, t0 + 2 * kMin)).size() == 2);
  CHECK(f.store->label_values(5, "host", {}) == std::vector<std::string>{"a", "b"});
  CHECK(f.store->label_names(5, {}) == std::vector<std::string>{"__name__", "host"});
}

TEST_CASE("store: chunks seal every chunk_samples samples and persist to SQLite", "[tsdb][store]") {
  Fixture f;
  f.options.chunk_samples = 120;
  f.open();
  Timestamp t0 = f.now() - 1000 * kMin;
  std::vector<tsdb::AppendSample> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(sample("octets", {}, t0 + i * kMin, i * 1000.0));
  f.append(1, batch);
  CHECK(f.store->stats().head_chunks == 8);  // 8 sealed, 40 samples in the open chunk
  f.run(&tsdb::Store::flush);
  CHECK(f.count_rows("tsdb_chunks") == 8);
  CHECK(f.count_rows("tsdb_series") == 1);
  auto got = only_series(f.select(1, "octets", t0, f.now()));
  REQUIRE(got.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(got[static_cast<std::size_t>(i)].v == i * 1000.0);
}

TEST_CASE("store: out-of-order within the window, duplicates, and refusals", "[tsdb][store]") {
  Fixture f;
  f.options.ooo_window_ms = 10 * kMin;
  f.open();
  Timestamp t = f.now() - 60 * kMin;
  f.append(1, {sample("m", {}, t, 1), sample("m", {}, t + 10 * kMin, 3)});

  SECTION("late samples within the window are stored in order") {
    auto r = f.append(1, {sample("m", {}, t + 5 * kMin, 2), sample("m", {}, t + 7 * kMin, 2.5)});
    CHECK(r.accepted == 2);
    auto got = only_series(f.select(1, "m", t, f.now()));
    std::vector<Sample> want = {{t, 1}, {t + 5 * kMin, 2}, {t + 7 * kMin, 2.5}, {t + 10 * kMin, 3}};
    CHECK(got == want);
  }
  SECTION("a sample further behind than the window is refused, and counted") {
    auto r = f.append(1, {sample("m", {}, t - kMin, 0)}, AppendMode::kPartial);
    CHECK(r.accepted == 0);
    REQUIRE(r.refused.size() == 1);
    CHECK(r.refused[0].reason == tsdb::RefuseReason::kTooOld);
    CHECK(r.refused[0].field == "timestamp");
    CHECK(f.metrics.render().find(R"(netpulse_tsdb_refused_samples_total{reason="too_old"} 1)") !=
          std::string::npos);
  }
  SECTION("a duplicate with the same value is accepted and ignored; another value is refused") {
    auto same = f.append(1, {sample("m", {}, t, 1)});
    CHECK(same.accepted == 1);
    CHECK(same.duplicates == 1);
    auto other = f.append(1, {sample("m", {}, t + 10 * kMin, 4)}, AppendMode::kPartial);
    REQUIRE(other.refused.size() == 1);
    CHECK(other.refused[0].reason == tsdb::RefuseReason::kDuplicateConflict);
    // Within one batch too.
    auto in_batch =
        f.append(1, {sample("m", {}, t + 11 * kMin, 5), sample("m", {}, t + 11 * kMin, 6)},
                 AppendMode::kPartial);
    CHECK(in_batch.accepted == 1);
    CHECK(in_batch.refused.size() == 1);
    auto got = only_series(f.select(1, "m", t, f.now()));
    CHECK(got == std::vector<Sample>{{t, 1}, {t + 10 * kMin, 3}, {t + 11 * kMin, 5}});
  }
  SECTION("all-or-nothing stores nothing when one sample is bad; partial stores the rest") {
    std::vector<tsdb::AppendSample> batch = {
        sample("m", {}, t + 20 * kMin, 9), sample("m", {}, f.now() + 3'600'000, 1),
        sample("m", {}, t + 21 * kMin, NAN), sample("new_series", {}, t, 1)};
    auto r = f.append(1, batch);
    CHECK_FALSE(r.stored);
    CHECK(r.accepted == 0);
    REQUIRE(r.refused.size() == 2);
    CHECK(r.refused[0].index == 1);
    CHECK(r.refused[0].reason == tsdb::RefuseReason::kTooFarInFuture);
    CHECK(r.refused[1].reason == tsdb::RefuseReason::kNotFinite);
    CHECK(only_series(f.select(1, "m", t, f.now())).size() == 2);
    CHECK(f.store->series(1, {}, 100).size() == 1);  // new_series was not created
    auto p = f.append(1, batch, AppendMode::kPartial);
    CHECK(p.stored);
    CHECK(p.accepted == 2);
    CHECK(p.new_series == 1);
    CHECK(only_series(f.select(1, "m", t, f.now())).size() == 3);
  }
}

TEST_CASE("store: the per-org series limit refuses new series only", "[tsdb][store]") {
  Fixture f;
  f.options.max_series_per_org = 3;
  f.open();
  Timestamp t = f.now() - kMin;
  std::vector<tsdb::AppendSample> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(sample("m", {{"i", std::to_string(i)}}, t, i));
  auto r = f.append(1, batch, AppendMode::kPartial);
  CHECK(r.accepted == 3);
  REQUIRE(r.refused.size() == 2);
  CHECK(r.refused[0].reason == tsdb::RefuseReason::kSeriesLimit);
  CHECK(r.refused[0].message.find("limit") != std::string::npos);
  // Existing series still take samples; another org has its own budget.
  CHECK(f.append(1, {sample("m", {{"i", "0"}}, t + 1, 1)}).accepted == 1);
  CHECK(f.append(2, {sample("m", {{"i", "9"}}, t, 1)}).accepted == 1);
}

TEST_CASE("store: reaching 80 % and 100 % of the series limit is published once per crossing",
          "[tsdb][store]") {
  Fixture f;
  f.options.max_series_per_org = 10;
  std::vector<tsdb::SeriesLimitReached> seen;
  auto sub = f.bus.subscribe<tsdb::SeriesLimitReached>(
      [&](const tsdb::SeriesLimitReached& e) { seen.push_back(e); });
  f.open();
  const Timestamp t = f.now() - kMin;
  auto series = [&](int from, int to, std::int64_t org = 1) {
    std::vector<tsdb::AppendSample> batch;
    for (int i = from; i < to; ++i) batch.push_back(sample("m", {{"i", std::to_string(i)}}, t, i));
    return f.append(org, batch, AppendMode::kPartial);
  };
  series(0, 7);
  CHECK(seen.empty());
  CHECK(f.store->series_usage(1).series == 7);
  CHECK(f.store->series_usage(1).limit == 10);
  series(7, 8);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].org_id == 1);
  CHECK(seen[0].level == 80);
  CHECK(seen[0].series == 8);
  CHECK(seen[0].limit == 10);
  series(8, 9);
  CHECK(seen.size() == 1);
  auto r = series(9, 12);
  CHECK(r.accepted == 1);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].level == 100);
  CHECK(seen[1].series == 10);
  series(12, 20);  // refused: no new crossing
  CHECK(seen.size() == 2);
  // Another organization has its own levels.
  series(0, 9, 2);
  CHECK(seen.size() == 3);
  CHECK(seen[2].org_id == 2);
  CHECK(seen[2].level == 80);

  // A restart loads the series without announcing them again; a larger limit re-arms the
  // levels, which are crossed again as new series arrive.
  f.options.max_series_per_org = 20;
  f.close_and_reopen();
  CHECK(seen.size() == 3);
  CHECK(f.store->series_usage(1).series == 10);
  series(10, 15);
  CHECK(seen.size() == 3);
  series(15, 16);
  REQUIRE(seen.size() == 4);
  CHECK(seen[3].level == 80);
  CHECK(seen[3].series == 16);
  CHECK(f.store->series_usage(3).series == 0);
}

TEST_CASE("store: after a crash every acknowledged sample is back, once", "[tsdb][store]") {
  Fixture f;
  f.options.chunk_samples = 50;
  f.open();
  Timestamp t0 = f.now() - 600 * kMin;
  std::map<std::string, std::vector<Sample>> want;
  std::mt19937_64 rng(7);
  auto add = [&](int from, int to) {
    std::vector<tsdb::AppendSample> batch;
    for (int i = from; i < to; ++i) {
      for (int h = 0; h < 3; ++h) {
        double v = std::uniform_real_distribution<double>(0, 1e6)(rng);
        auto host = "h" + std::to_string(h);
        batch.push_back(sample("x", {{"host", host}}, t0 + i * kMin, v));
        want[host].push_back({t0 + i * kMin, v});
      }
    }
    f.append(1, batch);
  };
  auto check = [&] {
    for (const auto& [host, samples] : want) {
      INFO(host);
      auto got = only_series(f.select(1, "x{host=\"" + host + "\"}", t0, f.now()));
      CHECK(got == samples);
    }
  };
  add(0, 120);
  f.crash();  // nothing persisted yet: everything comes from the log
  f.open();
  check();
  f.run(&tsdb::Store::checkpoint);
  add(120, 300);
  f.run(&tsdb::Store::flush);  // some chunks sealed after the checkpoint reach SQLite
  add(300, 350);
  f.crash();  // replay re-seals chunks SQLite already has: they must not double
  f.open();
  check();
  f.crash();  // and a second replay of the same log
  f.open();
  check();
  f.close_and_reopen();
  check();
  CHECK(f.store->stats().series == 3);
}

TEST_CASE("store: a torn tail in the log is cut off and writing goes on", "[tsdb][store]") {
  Fixture f;
  f.open();
  Timestamp t = f.now() - 10 * kMin;
  f.append(1, {sample("m", {}, t, 1), sample("m", {}, t + kMin, 2)});
  f.crash();
  // Half a record at the end of the newest segment, as a crash mid-write leaves it.
  std::string newest;
  for (auto& e : std::filesystem::directory_iterator(f.options.dir))
    newest = std::max(newest, e.path().string());
  {
    std::ofstream out(newest, std::ios::app | std::ios::binary);
    out.write("\x40\x00\x00\x00\x01\x02\x03\x04\x02partial", 16);
  }
  f.open();
  CHECK(only_series(f.select(1, "m", t, f.now())).size() == 2);
  f.append(1, {sample("m", {}, t + 2 * kMin, 3)});
  f.crash();
  f.open();
  CHECK(only_series(f.select(1, "m", t, f.now())) ==
        std::vector<Sample>{{t, 1}, {t + kMin, 2}, {t + 2 * kMin, 3}});
}

TEST_CASE("store: 5m and 1h rollups match a naive computation, out-of-order included",
          "[tsdb][store]") {
  Fixture f;
  f.options.ooo_window_ms = 30 * kMin;
  f.open();
  Timestamp t0 = (f.now() - 20 * 3'600'000) / 3'600'000 * 3'600'000;
  std::mt19937_64 rng(11);
  std::vector<Sample> all;
  // 10 h of 20 s samples with random gaps, sent in batches; every 7th batch also carries late
  // samples (30 s offsets, still inside the window).
  std::vector<tsdb::AppendSample> batch;
  Timestamp t = t0;
  int n = 0;
  while (t < t0 + 10 * 3'600'000) {
    double v = std::uniform_real_distribution<double>(-50, 50)(rng);
    batch.push_back(sample("g", {}, t, v));
    all.push_back({t, v});
    if (++n % 7 == 0 && t - t0 > 10 * kMin) {
      Timestamp late = t - 10 * kMin + 30'000 + 7;
      double lv = std::uniform_real_distribution<double>(-50, 50)(rng);
      batch.push_back(sample("g", {}, late, lv));
      all.push_back({late, lv});
    }
    if (batch.size() >= 50) {
      CHECK(f.append(1, batch).refused.empty());
      batch.clear();
    }
    t += 20'000 * std::uniform_int_distribution<int>(1, 3)(rng);
  }
  CHECK(f.append(1, batch).refused.empty());
  f.run(&tsdb::Store::checkpoint);
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.t < b.t; });
  for (auto tier : {tsdb::Tier::k5m, tsdb::Tier::k1h}) {
    Timestamp width = tsdb::kTierWidthMs[static_cast<int>(tier)];
    std::map<Timestamp, std::vector<Sample>> naive;
    for (auto& s : all) naive[s.t / width * width].push_back(s);
    auto data = f.select(1, "g", t0, t0 + 11 * 3'600'000, tier);
    REQUIRE(data.size() == 1);
    REQUIRE(data[0].buckets.size() == naive.size());
    std::size_t i = 0;
    for (auto& [start, samples] : naive) {
      const auto& b = data[0].buckets[i++];
      INFO("tier " << tsdb::tier_name(tier) << " bucket " << start);
      CHECK(b.t == start);
      CHECK(b.count == static_cast<std::int64_t>(samples.size()));
      double mn = samples[0].v, mx = samples[0].v, sum = 0;
      for (auto& s : samples) {
        mn = std::min(mn, s.v);
        mx = std::max(mx, s.v);
        sum += s.v;
      }
      CHECK(b.min == mn);
      CHECK(b.max == mx);
      CHECK(b.sum == Approx(sum).margin(1e-9));
      CHECK(b.last == samples.back().v);
      CHECK(b.last_t == samples.back().t);
    }
  }
  // The rollups survive a restart (they are in SQLite and the snapshot).
  f.close_and_reopen();
  auto again = f.select(1, "g", t0, t0 + 11 * 3'600'000, tsdb::Tier::k1h);
  REQUIRE(again.size() == 1);
  CHECK(again[0].buckets.size() == 10);
}

TEST_CASE("store: retention removes chunks past the raw retention from disk and memory",
          "[tsdb][store]") {
  Fixture f;
  f.options.raw_retention_ms = 2LL * 86'400'000;
  f.options.head_keep_ms = 3'600'000;
  f.options.ooo_window_ms = kMin;
  f.options.chunk_samples = 60;
  f.open();
  Timestamp t0 = f.now() - 47 * 3'600'000;
  std::vector<tsdb::AppendSample> batch;
  for (int i = 0; i < 47 * 60; ++i) batch.push_back(sample("r", {}, t0 + i * kMin, i));
  f.append(1, batch);
  f.run(&tsdb::Store::flush);
  auto before = f.count_rows("tsdb_chunks");
  CHECK(before == 46);
  CHECK(f.count_rows("tsdb_rollups") == 0);  // buckets come from raw samples while they last
  f.clock.advance(std::chrono::hours(10));   // the first ~10 hours are now past retention
  f.run(&tsdb::Store::enforce_retention);
  // Raw samples expire in whole hours: chunks (one an hour here) wholly before the cut-off go.
  const Timestamp cut = (f.now() - f.options.raw_retention_ms) / 3'600'000 * 3'600'000;
  std::int64_t gone = 0;
  for (int k = 0; k < 46; ++k) gone += t0 + k * 3'600'000 + 59 * kMin < cut ? 1 : 0;
  CHECK(gone >= 8);
  CHECK(f.count_rows("tsdb_chunks") == before - gone);
  auto got = only_series(f.select(1, "r", t0, f.now()));
  REQUIRE(!got.empty());
  CHECK(got.front().t >= cut - 3'600'000);
  CHECK(got.front().t < cut + 3'600'000);
  CHECK(got.back().t == t0 + (47 * 60 - 1) * kMin);
  // Before they went, their 5m and 1h buckets were written: the tiers still cover all 47 hours,
  // from tsdb_rollups before the cut-off and from raw samples after it, and match the data
  // (sample i has value i).
  CHECK(f.count_rows("tsdb_rollups") > 0);
  auto check_tiers = [&] {
    for (auto tier : {tsdb::Tier::k5m, tsdb::Tier::k1h}) {
      const Timestamp width = tsdb::kTierWidthMs[static_cast<int>(tier)];
      std::map<Timestamp, std::vector<int>> naive;
      for (int i = 0; i < 47 * 60; ++i) naive[(t0 + i * kMin) / width * width].push_back(i);
      auto data = f.select(1, "r", t0, f.now(), tier);
      REQUIRE(data.size() == 1);
      REQUIRE(data[0].buckets.size() == naive.size());
      std::size_t n = 0;
      for (const auto& [start, values] : naive) {
        const auto& b = data[0].buckets[n++];
        INFO("tier " << tsdb::tier_name(tier) << " bucket " << start);
        CHECK(b.t == start);
        CHECK(b.count == static_cast<std::int64_t>(values.size()));
        CHECK(b.min == values.front());
        CHECK(b.max == values.back());
        CHECK(b.last == values.back());
        CHECK(b.last_t == t0 + values.back() * kMin);
        double sum = 0;
        for (int v : values) sum += v;
        CHECK(b.sum == sum);
      }
    }
  };
  check_tiers();
  // The cut-off is persisted: after a restart the same buckets come from the same places.
  f.close_and_reopen();
  check_tiers();
  // Another run a day later rolls the next hours and deletes their raw chunks.
  f.clock.advance(std::chrono::hours(24));
  f.run(&tsdb::Store::enforce_retention);
  check_tiers();
  CHECK(f.count_rows("tsdb_chunks") < before - gone);
}

TEST_CASE("store: the head takes an answered batch by itself a moment later", "[tsdb][store]") {
  Fixture f;
  f.open();
  std::size_t seen = 0;
  auto sub = f.bus.subscribe<tsdb::SamplesAppended>(
      [&](const tsdb::SamplesAppended& e) { seen += e.samples.size(); });
  std::vector<tsdb::AppendSample> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(sample("ping", {{"device", "d" + std::to_string(i)}}, f.now(), i));
  }
  std::optional<std::size_t> seen_at_answer;
  std::optional<core::Result<tsdb::AppendResult>> out;
  f.store->append(1, batch, AppendMode::kAllOrNothing, [&](auto r) {
    seen_at_answer = seen;
    out = std::move(r);
  });
  REQUIRE(f.wait(out));
  // The answer comes first (the head work overlaps the client's next request)...
  CHECK(seen_at_answer == std::size_t{0});
  // ...and the samples follow without any read of the store to pull them in.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen < batch.size() && std::chrono::steady_clock::now() < deadline) {
    f.loop.restart();
    f.loop.run_for(std::chrono::milliseconds(5));
  }
  CHECK(seen == batch.size());
}

TEST_CASE("store: every callback is posted to the loop, never called inline", "[tsdb][store]") {
  Fixture f;
  f.options.max_batch_samples = 2;
  f.open();
  const Timestamp t = f.now();
  // Each of these calls has its answer at once (a refusal, nothing to do, a small read from
  // memory, the log written): the answer still comes from the loop, after the call returned.
  auto check = [&](const char* what, const auto& call) {
    INFO(what);
    std::optional<bool> answered;
    call([&](auto) { answered = true; });
    CHECK_FALSE(answered);
    (void)f.wait(answered);
  };
  check("enforce_retention, nothing stored",
        [&](auto cb) { f.store->enforce_retention(std::move(cb)); });
  check("append, stored", [&](auto cb) {
    f.store->append(1, {sample("m", {}, t, 1)}, AppendMode::kAllOrNothing, std::move(cb));
  });
  check("append, batch refused", [&](auto cb) {
    f.store->append(1, {sample("m", {}, t + 1, NAN)}, AppendMode::kAllOrNothing, std::move(cb));
  });
  check("append, batch too large", [&](auto cb) {
    f.store->append(
        1, {sample("m", {}, t + 1, 1), sample("m", {}, t + 2, 2), sample("m", {}, t + 3, 3)},
        AppendMode::kPartial, std::move(cb));
  });
  check("select, end before start", [&](auto cb) {
    tsdb::SelectRequest req;
    req.org_id = 1;
    req.start = t;
    req.end = t - 1;
    f.store->select(std::move(req), std::move(cb));
  });
  check("select, small read from memory", [&](auto cb) {
    tsdb::SelectRequest req;
    req.org_id = 1;
    req.selectors.push_back(*tsdb::Selector::parse("m"));
    req.start = t - kMin;
    req.end = t + kMin;
    f.store->select(std::move(req), std::move(cb));
  });
  // A new series makes the flush write; the checkpoint asked for meanwhile is refused at once.
  f.append(1, {sample("other", {}, t, 1)});
  std::optional<core::Result<void>> flushed;
  f.store->flush([&](core::Result<void> r) { flushed = std::move(r); });
  check("checkpoint while a flush writes", [&](auto cb) { f.store->checkpoint(std::move(cb)); });
  check("flush while a flush writes", [&](auto cb) { f.store->flush(std::move(cb)); });
  REQUIRE(f.wait(flushed));
  check("flush, nothing to write", [&](auto cb) { f.store->flush(std::move(cb)); });
  REQUIRE(f.store->close());
  check("append, store closed", [&](auto cb) {
    f.store->append(1, {sample("m", {}, t + 5, 1)}, AppendMode::kAllOrNothing, std::move(cb));
  });
}

TEST_CASE("store: a series that stops arriving is stale once, and fresh again on data",
          "[tsdb][store]") {
  Fixture f;
  f.options.stale_factor = 5;
  f.options.stale_min_ms = kMin;
  f.open();
  std::vector<tsdb::SeriesStale> stale;
  std::vector<tsdb::SeriesFresh> fresh;
  auto s1 = f.bus.subscribe<tsdb::SeriesStale>([&](const auto& e) { stale.push_back(e); });
  auto s2 = f.bus.subscribe<tsdb::SeriesFresh>([&](const auto& e) { fresh.push_back(e); });
  for (int i = 0; i < 10; ++i) {
    f.append(1, {sample("ping", {{"device", "cpe-1"}}, f.now(), 1.5)});
    f.clock.advance(std::chrono::seconds(30));
  }
  f.store->check_staleness();
  CHECK(stale.empty());
  f.clock.advance(std::chrono::seconds(100));  // 130 s without data: < 5 × 30 s
  f.store->check_staleness();
  CHECK(stale.empty());
  f.clock.advance(std::chrono::seconds(30));  // 160 s > 150 s
  f.store->check_staleness();
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].key.labels == tsdb::LabelSet{{"device", "cpe-1"}});
  CHECK(stale[0].interval_ms == 30'000);
  CHECK(stale[0].org_id == 1);
  f.store->check_staleness();
  CHECK(stale.size() == 1);  // once
  CHECK(f.store->series(1, {}, 10)[0].stale);
  f.append(1, {sample("ping", {{"device", "cpe-1"}}, f.now(), 2)});
  REQUIRE(fresh.size() == 1);
  CHECK_FALSE(f.store->series(1, {}, 10)[0].stale);
}

TEST_CASE("store: over its memory budget the head lets persisted chunks go; reads still see them",
          "[tsdb][store]") {
  Fixture f;
  f.options.head_max_bytes = 4096;
  f.options.ooo_window_ms = kMin;
  f.options.chunk_samples = 60;
  f.open();
  Timestamp t0 = f.now() - 20 * 3'600'000;
  std::vector<tsdb::AppendSample> batch;
  std::mt19937_64 rng(3);
  std::vector<Sample> want;
  for (int i = 0; i < 20 * 60; ++i) {
    double v = std::uniform_real_distribution<double>(0, 1)(rng);
    batch.push_back(sample("mem", {}, t0 + i * kMin, v));
    want.push_back({t0 + i * kMin, v});
  }
  f.append(1, batch);
  auto full = f.store->stats().head_chunk_bytes;
  f.run(&tsdb::Store::flush);
  CHECK(f.store->stats().head_chunk_bytes < full);
  CHECK(f.store->stats().head_chunk_bytes <= 4096 + 4096);
  CHECK(only_series(f.select(1, "mem", t0, f.now())) == want);
}

TEST_CASE("store: dropping an organization removes its series for good; others stay",
          "[tsdb][store]") {
  Fixture f;
  f.options.chunk_samples = 20;
  f.open();
  Timestamp t0 = f.now() - 100 * kMin;
  std::vector<tsdb::AppendSample> a, b;
  for (int i = 0; i < 100; ++i) {
    a.push_back(sample("m", {{"org", "a"}}, t0 + i * kMin, i));
    b.push_back(sample("m", {{"org", "b"}}, t0 + i * kMin, -i));
  }
  f.append(1, a);
  f.append(2, b);
  f.run(&tsdb::Store::flush);
  REQUIRE(f.count_rows("tsdb_chunks") > 0);
  f.run(&tsdb::Store::checkpoint);
  f.append(1, {sample("m", {{"org", "a"}}, t0 + 100 * kMin, 100)});  // in the log only
  std::optional<core::Result<void>> dropped;
  f.store->drop_org(1, [&](core::Result<void> r) { dropped = std::move(r); });
  REQUIRE(f.wait(dropped));
  CHECK(f.select(1, "m", t0, f.now()).empty());
  CHECK(f.store->series(1, {}, 10).empty());
  CHECK(only_series(f.select(2, "m", t0, f.now())).size() == 100);
  CHECK(f.store->stats().series == 1);
  // Nothing of org 1 in SQLite, and a restart (replaying whatever log is left) does not bring it
  // back; its name can be used again by org 2 without meeting the old series.
  auto org1_rows = f.db->read([](db::Connection& c) -> std::int64_t {
    auto st = c.prepare("SELECT count(*) FROM tsdb_series WHERE org_id = 1");
    REQUIRE(st);
    REQUIRE(st->step());
    return st->get_int64(0);
  });
  CHECK(org1_rows == 0);
  f.crash();
  f.open();
  CHECK(f.select(1, "m", t0, f.now()).empty());
  CHECK(only_series(f.select(2, "m", t0, f.now())).size() == 100);
  f.append(1, {sample("m", {{"org", "a"}}, f.now(), 7)});
  CHECK(only_series(f.select(1, "m", t0, f.now())).size() == 1);
}

namespace {

// The value of an unlabelled metric in the exposition, or -1.
double metric_value(const core::MetricsRegistry& m, const std::string& name) {
  const auto text = m.render();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// Runs the loop until the dropped organizations' rows are purged (at most 20 s).
void until_purged(Fixture& f) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.store->stats().purging_series > 0 && std::chrono::steady_clock::now() < deadline) {
    f.loop.restart();
    f.loop.run_for(std::chrono::milliseconds(5));
  }
  REQUIRE(f.store->stats().purging_series == 0);
}

}  // namespace

TEST_CASE("store: a dropped organization's chunks and rollups are purged in bounded batches",
          "[tsdb][store][orgs]") {
  Fixture f;
  f.options.chunk_samples = 10;
  f.options.retention_batch_rows = 4;
  f.open();
  Timestamp t0 = f.now() - 300 * kMin;
  std::vector<tsdb::AppendSample> a, b;
  for (int i = 0; i < 300; ++i) {
    for (int s = 0; s < 3; ++s) {
      a.push_back(sample("m", {{"s", std::to_string(s)}}, t0 + i * kMin, i));
    }
    b.push_back(sample("m", {{"org", "b"}}, t0 + i * kMin, -i));
  }
  f.append(1, a);
  f.append(2, b);
  f.run(&tsdb::Store::flush);
  f.run(&tsdb::Store::checkpoint);
  auto rows_of = [&](std::int64_t org, const char* table) {
    return f.db->read([&](db::Connection& c) -> std::int64_t {
      // The org's series ids are those the test made: org 1 has 1..3, org 2 has 4.
      auto st = c.prepare(std::string("SELECT count(*) FROM ") + table +
                          (org == 1 ? " WHERE series_id <= 3" : " WHERE series_id = 4"));
      REQUIRE(st);
      REQUIRE(st->step());
      return st->get_int64(0);
    });
  };
  const auto chunks_a = rows_of(1, "tsdb_chunks");
  const auto chunks_b = rows_of(2, "tsdb_chunks");
  REQUIRE(chunks_a >= 80);
  // Rollup blocks of both (as retention would have written them).
  REQUIRE(f.db->write_sync([](db::Connection& c) {
    return c.exec(
        "INSERT INTO tsdb_rollups (tier, series_id, block_t, last_t, data) VALUES "
        "(1, 1, 0, 0, x'00'), (2, 2, 0, 0, x'00'), (1, 4, 0, 0, x'00')");
  }));

  std::optional<core::Result<void>> dropped;
  f.store->drop_org(1, [&](core::Result<void> r) { dropped = std::move(r); });
  REQUIRE(f.wait(dropped));
  // The series are gone at once; their rows go afterwards, a few per write (a big
  // organization's chunks in one write would hold the writer for long).
  CHECK(f.store->series(1, {}, 10).empty());
  until_purged(f);
  CHECK(rows_of(1, "tsdb_chunks") == 0);
  CHECK(rows_of(1, "tsdb_rollups") == 0);
  CHECK(f.count_rows("tsdb_purge") == 0);
  CHECK(metric_value(f.metrics, "netpulse_tsdb_purged_rows_total") == chunks_a + 2);
  // At most 4 chunk rows (and 4 rollup rows) a write.
  CHECK(metric_value(f.metrics, "netpulse_tsdb_purge_writes_total") >= chunks_a / 4.0);
  CHECK(metric_value(f.metrics, "netpulse_tsdb_purging_series") == 0);
  // The other organization keeps everything.
  CHECK(rows_of(2, "tsdb_chunks") == chunks_b);
  CHECK(rows_of(2, "tsdb_rollups") == 1);
  CHECK(only_series(f.select(2, "m", t0, f.now())).size() == 300);
}

TEST_CASE("store: a purge cut short by a crash goes on at the next start", "[tsdb][store][orgs]") {
  Fixture f;
  f.options.chunk_samples = 10;
  f.options.retention_batch_rows = 1;
  f.open();
  Timestamp t0 = f.now() - 4000 * kMin;
  std::vector<tsdb::AppendSample> a;
  for (int i = 0; i < 4000; ++i) a.push_back(sample("m", {{"org", "a"}}, t0 + i * kMin, i));
  f.append(1, a);
  f.run(&tsdb::Store::flush);
  std::optional<core::Result<void>> dropped;
  f.store->drop_org(1, [&](core::Result<void> r) { dropped = std::move(r); });
  REQUIRE(f.wait(dropped));
  CHECK(f.store->stats().purging_series == 1);
  f.crash();  // a few of the 400 one-row writes may have run
  REQUIRE(f.count_rows("tsdb_chunks") > 0);
  REQUIRE(f.count_rows("tsdb_purge") == 1);
  f.options.retention_batch_rows = 100;
  f.open();
  CHECK(f.store->stats().purging_series == 1);
  until_purged(f);
  CHECK(f.count_rows("tsdb_chunks") == 0);
  CHECK(f.count_rows("tsdb_purge") == 0);
}

TEST_CASE("store: a dropped organization's series ids are never given again, nor its appends taken",
          "[tsdb][store][orgs]") {
  Fixture f;
  f.open();
  f.append(1, {sample("keep", {}, f.now(), 1)});
  f.append(2, {sample("gone", {{"n", "1"}}, f.now(), 1), sample("gone", {{"n", "2"}}, f.now(), 2)});
  tsdb::SeriesId highest = 0;
  for (auto& s : f.store->series(2, {}, 10)) highest = std::max(highest, s.id);
  REQUIRE(highest > 0);
  CHECK(f.store->org_ids() == std::vector<std::int64_t>{1, 2});
  std::optional<core::Result<void>> dropped;
  f.store->drop_org(2, [&](core::Result<void> r) { dropped = std::move(r); });
  REQUIRE(f.wait(dropped));
  CHECK(f.store->org_ids() == std::vector<std::int64_t>{1});

  // An append of the deleted organization still under way (an ingest parsed before the delete)
  // is refused, not stored as a ghost series.
  std::optional<core::Result<tsdb::AppendResult>> late;
  f.store->append(2, {sample("gone", {{"n", "3"}}, f.now(), 3)}, AppendMode::kPartial,
                  [&](auto r) { late = std::move(r); });
  auto refused = f.wait(late);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::Errc::kOrganizationNotFound);
  CHECK(f.store->series(2, {}, 10).empty());

  // After a restart the freed ids stay freed.
  f.crash();
  f.open();
  f.append(1, {sample("new", {}, f.now(), 1)});
  auto series = f.store->series(1, {}, 10);
  REQUIRE(series.size() == 2);
  for (auto& s : series) {
    if (s.key.metric == "new") CHECK(s.id > highest);
  }
}
