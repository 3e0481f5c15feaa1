// The time-series store through the real binary, durability: every acknowledged sample survives
// kill -9 in the middle of a stream of writes (a checkpoint included), replaying twice stores
// nothing twice, and samples sealed into many chunks, persisted, evicted to SQLite and joined by
// out-of-order ones read back exactly, in whole and in part, raw and rolled up. Each case is one
// data directory through a sequence of kills and restarts, its phases named by INFO.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

namespace {

// The stream of writes of the durability test: batch b holds samples b*500 .. b*500+499, sample g
// going to series dur{host="h<g%10>"} at base + g ms with a value no rounding would leave alone.
constexpr int kBatchLines = 500;
constexpr int kDurSeries = 10;

double dur_value(std::int64_t g) {
  return static_cast<double>(g) * 1.0000001 + 0.1;
}

std::string dur_batch(std::int64_t base, int b) {
  std::string out;
  for (int i = 0; i < kBatchLines; ++i) {
    const std::int64_t g = static_cast<std::int64_t>(b) * kBatchLines + i;
    out += "dur,host=h" + std::to_string(g % kDurSeries) + " value=" + num(dur_value(g)) + " " +
           std::to_string(base + g) + "\n";
  }
  return out;
}

// Every stored sample of the stream, by time (times are unique across series), after checking
// that each one is one the test sent, with its exact value and series.
std::map<std::int64_t, double> stored_stream(HttpClient& c, const std::string& token,
                                             std::int64_t base, int batches_sent) {
  auto series = range(c, token, "dur", base, base + 200 * kBatchLines);
  std::map<std::int64_t, double> out;
  std::size_t foreign = 0, duplicated = 0;
  for (const auto& s : series) {
    for (const auto& p : s.points) {
      const std::int64_t g = p.t - base;
      const bool ours = g >= 0 && g < static_cast<std::int64_t>(batches_sent) * kBatchLines &&
                        s.labels.at("host") == "h" + std::to_string(g % kDurSeries) &&
                        same_bits(p.v, dur_value(g));
      if (!ours) ++foreign;
      if (!out.emplace(p.t, p.v).second) ++duplicated;
    }
  }
  CHECK(series.size() <= static_cast<std::size_t>(kDurSeries));
  CHECK(foreign == 0);
  CHECK(duplicated == 0);
  return out;
}

// How many samples of the acknowledged batches are missing from `stored`.
std::size_t missing_acked(const std::map<std::int64_t, double>& stored, std::int64_t base,
                          const std::vector<int>& acked) {
  std::size_t missing = 0;
  for (int b : acked) {
    for (int i = 0; i < kBatchLines; ++i) {
      const std::int64_t g = static_cast<std::int64_t>(b) * kBatchLines + i;
      if (!stored.count(base + g)) ++missing;
    }
  }
  return missing;
}

// The rollups of each series of the stream agree with its stored samples.
void check_stream_rollups(HttpClient& c, const std::string& token, std::int64_t base,
                          const std::map<std::int64_t, double>& stored) {
  std::vector<std::vector<Point>> by_series(kDurSeries);
  for (const auto& [t, v] : stored) by_series[(t - base) % kDurSeries].push_back({t, v});
  for (int h = 0; h < kDurSeries; ++h) {
    INFO("series h" << h);
    if (by_series[h].empty()) continue;
    check_rollups(c, token, "dur{host=\"h" + std::to_string(h) + "\"}", by_series[h], base,
                  by_series[h].back().t);
  }
}

}  // namespace

TEST_CASE(
    "tsdb durability: every acknowledged sample survives kill -9 mid-stream, checkpoints "
    "included; a second replay and clean restarts keep each sample once",
    "[tsdb]") {
  TempDir dir;
  // A checkpoint whenever the append log has grown by 1 MiB: the restart loads a head snapshot
  // and replays the log written after it.
  auto env = tsdb_env();
  env["NETPULSE_TSDB_CHECKPOINT_LOG_MB"] = "1";
  const std::int64_t base = now_ms() - 40 * 60'000;
  // Written before the stream, 1.2 MB of log: its append starts the first checkpoint.
  constexpr int kPrefill = 60'000;
  const std::int64_t prefill_base = base - 5 * 60'000;
  auto check_prefill = [&](HttpClient& c, const std::string& key) {
    auto points = points_of(c, key, "dur_prefill", prefill_base, prefill_base + kPrefill);
    REQUIRE(points.size() == static_cast<std::size_t>(kPrefill));
    std::size_t wrong = 0;
    for (int g = 0; g < kPrefill; ++g) {
      if (points[g].t != prefill_base + g || !same_bits(points[g].v, dur_value(g))) ++wrong;
    }
    CHECK(wrong == 0);
  };
  std::string key;
  std::vector<int> acked;
  int batches_sent = 0;
  {
    INFO("first start: prefill, a checkpoint, a stream of writes killed -9 in the middle");
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    key = create_key(c, login(c, kAdminEmail, kAdminPassword), "collector");
    std::string prefill;
    for (int g = 0; g < kPrefill; ++g) {
      prefill += "dur_prefill,host=p value=" + num(dur_value(g)) + " " +
                 std::to_string(prefill_base + g) + "\n";
    }
    REQUIRE(write_lp(c, key, prefill).status == 204);
    double checkpoints = 0;
    for (int attempt = 0; attempt < 100 && checkpoints < 1; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      checkpoints = metric_value(c, "netpulse_tsdb_checkpoint_seconds_count");
    }
    REQUIRE(checkpoints >= 1);

    // One thread writes batches over a kept-alive connection, recording each 2xx, until the
    // server dies, 200 batches, or 3 s; this one kills the server in the middle of it.
    std::mutex mu;
    std::atomic<int> acked_count{0};
    std::atomic<bool> writer_done{false};
    std::string writer_error;
    std::thread writer([&] {
      HttpClient wc("127.0.0.1", server.port());
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      for (int b = 0; b < 200 && std::chrono::steady_clock::now() < deadline; ++b) {
        auto body = dur_batch(base, b);
        {
          std::lock_guard lock(mu);
          batches_sent = b + 1;
        }
        try {
          auto res = write_lp(wc, key, std::move(body));
          if (res.status / 100 != 2) {
            std::lock_guard lock(mu);
            writer_error =
                "batch " + std::to_string(b) + ": " + std::to_string(res.status) + " " + res.body;
            break;
          }
          std::lock_guard lock(mu);
          acked.push_back(b);
          ++acked_count;
        } catch (const std::exception&) {
          break;  // the server is gone
        }
      }
      writer_done = true;
    });
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (acked_count < 60 && !writer_done && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const bool mid_stream = !writer_done;
    server.kill9();
    writer.join();
    INFO(writer_error);
    REQUIRE(writer_error.empty());
    CHECK(mid_stream);
    REQUIRE(acked.size() >= 5);
    WARN("kill -9 after " << acked.size() << " acknowledged batches of " << batches_sent
                          << " sent");
  }

  std::map<std::int64_t, double> after_kill;
  {
    INFO("restart after kill -9: every acknowledged sample once, rollups agree");
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    after_kill = stored_stream(c, key, base, batches_sent);
    CHECK(missing_acked(after_kill, base, acked) == 0);
    CHECK(after_kill.size() >= acked.size() * kBatchLines);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    check_stream_rollups(c, key, base, after_kill);
    // Killed again before any checkpoint: the log is replayed a second time.
    server.kill9();
  }
  const int extra_batch = 200;
  {
    INFO("restart after a second kill -9: the log replayed again stores nothing twice");
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    auto again = stored_stream(c, key, base, batches_sent);
    CHECK(again == after_kill);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    // One more batch, then a clean stop.
    REQUIRE(write_lp(c, key, dur_batch(base, extra_batch)).status == 204);
    CHECK(server.terminate() == 0);
  }
  for (int round = 0; round < 2; ++round) {
    INFO("clean restart " << round + 1);
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    auto series = range(c, key, "dur", base, base + (extra_batch + 1) * kBatchLines);
    std::map<std::int64_t, double> all;
    std::size_t points = 0;
    for (const auto& s : series) {
      for (const auto& p : s.points) {
        ++points;
        all.emplace(p.t, p.v);
      }
    }
    CHECK(points == all.size());
    CHECK(all.size() == after_kill.size() + kBatchLines);
    std::size_t wrong = 0;
    for (const auto& [t, v] : after_kill) {
      auto it = all.find(t);
      if (it == all.end() || !same_bits(it->second, v)) ++wrong;
    }
    for (int i = 0; i < kBatchLines; ++i) {
      const std::int64_t g = static_cast<std::int64_t>(extra_batch) * kBatchLines + i;
      auto it = all.find(base + g);
      if (it == all.end() || !same_bits(it->second, dur_value(g))) ++wrong;
    }
    CHECK(wrong == 0);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    check_stream_rollups(c, key, base, all);
    CHECK(server.terminate() == 0);
  }
}

TEST_CASE(
    "tsdb durability: samples sealed into many chunks read back exactly, in whole and in part, "
    "from memory and from SQLite, with out-of-order samples and duplicates across restarts",
    "[tsdb]") {
  TempDir dir;
  const std::int64_t base = (now_ms() / 1000 - 40 * 60) * 1000;
  constexpr int kSamples = 1000;  // about 8 sealed chunks of 120 per series
  // A series whose old chunks leave memory once persisted (older than head_keep_h, 24 h, and
  // far behind the series' newest sample): they are read back from SQLite.
  const std::int64_t old_base = (now_ms() / 1000 - 30 * 3600) * 1000;
  const std::int64_t recent = (now_ms() / 1000 - 600) * 1000;
  std::vector<Point> archived;
  for (int i = 0; i < kSamples; ++i)
    archived.push_back({old_base + i * 1000LL, i * 0.5 - 3.25e-7 * i});
  archived.push_back({recent, 42});
  auto check_archived = [&](HttpClient& c, const std::string& key) {
    auto slice = [&](std::int64_t from, std::int64_t to) {
      std::vector<Point> out;
      for (const auto& p : archived) {
        if (p.t >= from && p.t <= to) out.push_back(p);
      }
      return out;
    };
    for (auto [from, to] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {old_base, recent},
             {old_base + 130'000, old_base + 175'000},
             {old_base + 100'500, old_base + 130'500},
             {old_base + 990'000, recent + 1}}) {
      INFO("archived " << from - old_base << " .. " << to - old_base << " ms");
      check_exact(points_of(c, key, "archived", from, to), slice(from, to));
    }
    check_rollups(c, key, "archived", archived, old_base, recent);
  };
  // A backfilled series: all of it as old, and joined later by out-of-order samples.
  std::vector<Point> backfill;
  for (int i = 0; i < 300; ++i) backfill.push_back({old_base + i * 1000LL, i * 2.5});
  auto check_backfill = [&](HttpClient& c, const std::string& key) {
    INFO("backfill");
    auto sorted = backfill;
    std::sort(sorted.begin(), sorted.end(),
              [](const Point& a, const Point& b) { return a.t < b.t; });
    check_exact(points_of(c, key, "backfill", old_base, old_base + 400'000), sorted);
    check_rollups(c, key, "backfill", sorted, old_base, old_base + 400'000);
  };
  auto write_backfill = [&](HttpClient& c, const std::string& key, std::int64_t t, double v) {
    auto res =
        write_lp(c, key, "backfill,kind=old value=" + num(v) + " " + std::to_string(t) + "\n");
    INFO(res.body);
    REQUIRE(res.status == 204);
    backfill.push_back({t, v});
  };
  // Integers (the integer chunk encoding), fractions, and a series switching between the two.
  const std::map<std::string, std::function<double(int)>> series = {
      {"ints", [](int i) { return 9007199254740992.0 - 3.0 * i * i; }},
      {"floats", [](int i) { return std::sin(i * 0.01) * 1e6 + 1e-9 * i; }},
      {"mixed", [](int i) { return i % 3 == 0 ? static_cast<double>(i) : i / 7.0; }},
  };
  // Samples written out of order later, between the regular ones, by series.
  std::map<std::string, std::vector<Point>> late;
  auto expected = [&](const std::string& name, std::int64_t from, std::int64_t to) {
    std::vector<Point> out;
    for (int i = 0; i < kSamples; ++i) {
      const std::int64_t t = base + i * 1000LL;
      if (t >= from && t <= to) out.push_back({t, series.at(name)(i)});
    }
    for (const auto& p : late[name]) {
      if (p.t >= from && p.t <= to) out.push_back(p);
    }
    std::sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    return out;
  };
  auto check_all = [&](HttpClient& c, const std::string& key) {
    for (const auto& [name, _] : series) {
      INFO(name);
      const std::string sel = "chunky{kind=\"" + name + "\"}";
      auto check_range = [&](std::int64_t from, std::int64_t to) {
        INFO("range " << from - base << " .. " << to - base << " ms");
        check_exact(points_of(c, key, sel, from, to), expected(name, from, to));
      };
      check_range(base, base + kSamples * 1000LL);
      check_range(base + 130'000, base + 175'000);    // inside one sealed chunk
      check_range(base + 100'500, base + 130'500);    // across a chunk boundary
      check_range(base + 995'000, base + 2'000'000);  // the open chunk's tail
      auto count = points_of(c, key, sel, base, base + 3'599'999, "&step=1h&agg=count");
      REQUIRE(count.size() == 1);
      CHECK(count[0].v == static_cast<double>(kSamples + late[name].size()));
      const std::int64_t last = base + kSamples * 1000LL;
      check_rollups(c, key, sel, expected(name, base, last), base, last);
    }
  };
  auto write_late_many = [&](HttpClient& c, const std::string& key, const std::string& name,
                             const std::vector<Point>& points) {
    std::string lp;
    for (const auto& p : points)
      lp += "chunky,kind=" + name + " value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    auto res = write_lp(c, key, lp);
    INFO(res.body);
    REQUIRE(res.status == 204);
    late[name].insert(late[name].end(), points.begin(), points.end());
  };
  auto write_late = [&](HttpClient& c, const std::string& key, const std::string& name,
                        std::int64_t t, double v) {
    write_late_many(c, key, name, {{t, v}});
  };

  std::string key;
  {
    INFO("first start");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    key = create_key(c, login(c, kAdminEmail, kAdminPassword), "collector");
    std::string lp;
    for (int i = 0; i < kSamples; ++i) {
      for (const auto& [name, value] : series) {
        lp += "chunky,kind=" + name + " value=" + num(value(i)) + " " +
              std::to_string(base + i * 1000LL) + "\n";
      }
    }
    for (const auto& p : archived)
      lp += "archived,kind=old value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    for (const auto& p : backfill)
      lp += "backfill,kind=old value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    REQUIRE(write_lp(c, key, lp).status == 204);
    check_all(c, key);
    check_archived(c, key);
    write_backfill(c, key, old_base + 50'500, 0.25);
    check_backfill(c, key);
    // Wait until the sealed chunks are in SQLite (flushed every second here): the first flush
    // writes the new series and the chunks sealed so far in one transaction, and only then
    // does the series gauge count them.
    double indexed = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
      indexed = metric_value(c, "netpulse_tsdb_series");
      if (indexed == 5) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(indexed == 5);
    CHECK(metric_value(c, "netpulse_tsdb_pending_chunks") == 0);
    // The old chunks have left memory: these reads go to SQLite.
    check_archived(c, key);
    // ... then die without a checkpoint: the restart has the chunks in SQLite and the same
    // samples in the log.
    server.kill9();
  }
  {
    INFO("restart after kill -9, no checkpoint");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_archived(c, key);
    check_backfill(c, key);
    CHECK(metric_value(c, "netpulse_tsdb_series") == 5);
    // The backfilled series still takes out-of-order samples within its window (an hour behind
    // its newest sample, which is 30 hours old), and its rollups follow.
    write_backfill(c, key, old_base + 100'500, 0.5);
    check_backfill(c, key);
    // A sample of a sealed, persisted chunk sent again: the same value is a duplicate, another
    // value a conflict.
    const std::string again = "chunky,kind=floats value=" + num(series.at("floats")(150)) + " " +
                              std::to_string(base + 150'000) + "\n";
    REQUIRE(write_lp(c, key, again).status == 204);
    refused_once(
        write_lp(c, key, "chunky,kind=floats value=0.5 " + std::to_string(base + 150'000) + "\n"),
        "duplicate_conflict");
    // Out of order, between the samples of sealed chunks and of the open one.
    write_late(c, key, "floats", base + 150'500, 0.125);
    write_late(c, key, "ints", base + 150'250, 12345678901234.0);
    write_late(c, key, "mixed", base + 998'500, -1e-300);
    // More out-of-order samples than one chunk holds: an out-of-order chunk is sealed.
    std::vector<Point> burst;
    for (int k = 0; k < 150; ++k) burst.push_back({base + 200'500 + k * 1000LL, -0.75 * k});
    write_late_many(c, key, "floats", burst);
    check_all(c, key);
    CHECK(server.terminate() == 0);
  }
  {
    // After a clean stop: the head snapshot, out-of-order chunks included.
    INFO("restart after a clean stop");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_backfill(c, key);
    write_backfill(c, key, old_base + 200'500, 0.75);
    check_backfill(c, key);
    // Nothing to replay, so nothing is sealed: the flushes that follow have nothing to write.
    const double log_bytes = metric_value(c, "netpulse_tsdb_log_bytes");
    write_late(c, key, "floats", base + 150'750, 0.25);
    write_late(c, key, "mixed", base + 10'500, 3.5);
    check_all(c, key);
    // The gauges follow such writes too (within a few flush intervals).
    double grown = log_bytes;
    for (int attempt = 0; attempt < 60 && grown <= log_bytes; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      grown = metric_value(c, "netpulse_tsdb_log_bytes");
    }
    CHECK(grown > log_bytes);
    server.kill9();
  }
  {
    // After kill -9 on top of a snapshot: the snapshot plus the log after it.
    INFO("restart after kill -9 on a snapshot");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_archived(c, key);
    check_backfill(c, key);
    // The out-of-order samples are known as stored ones: another value is a conflict.
    refused_once(
        write_lp(c, key, "chunky,kind=floats value=0.75 " + std::to_string(base + 150'500) + "\n"),
        "duplicate_conflict");
    CHECK(metric_value(c, "netpulse_tsdb_series") == 5);
    CHECK(server.terminate() == 0);
  }
}
