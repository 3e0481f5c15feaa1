// bench/store_memory — the heap the time-series store holds per series with 24 h of 60 s samples
// in its head, on a real SQLite database and append log in a temporary directory:
//   counters    ifHCInOctets{host,ifName} at 1,000, 2,000 and 4,000 series: the head's chunk
//               bytes per sample, the heap beyond those chunks per series, and the marginal
//               figure between the counts (what one more series costs: the average also carries
//               fixed costs such as SQLite's page cache).
//   interfaces  what the SNMP poller writes per port of 48-port switches (12 metrics, labels
//               device, device_id, ifAlias, ifIndex, ifName) for 2 and 6 switches: heap per series
//               chunks included, and the marginal figure.
// Heap is glibc's count (mallinfo2: in use plus mmapped), so the figures mean something only in a
// build without sanitizers (bench/tsdb_micro.sh runs the Release build). Exits 1 when the store
// refuses a step.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <malloc.h>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <sqlite3.h>

#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/tsdb/store.hpp>

using namespace netpulse;
using tsdb::Timestamp;

namespace {

constexpr Timestamp kMin = 60'000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench/store_memory: %s\n", what.c_str());
  std::exit(1);
}

double heap_in_use() {
  const auto mi = mallinfo2();
  return static_cast<double>(mi.uordblks + mi.hblkhd);
}

// A store of its own on a fresh database in a temporary directory, driven from this thread.
class StoreUnderTest {
 public:
  StoreUnderTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "netpulse-bench-XXXXXX");
    if (!::mkdtemp(pattern.data())) die("mkdtemp failed");
    dir_ = pattern;
    db::Options o;
    o.path = dir_ + "/np.db";
    auto opened = db::Database::open(o, env());
    if (!opened) die("database: " + opened.error().message);
    db_ = std::move(opened).value();
    tsdb::StoreOptions options;
    options.dir = dir_ + "/tsdb";
    auto store = tsdb::Store::open(options, env(), *db_);
    if (!store) die("store: " + store.error().message);
    store_ = std::move(store).value();
  }
  ~StoreUnderTest() {
    store_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Timestamp now() const { return clock_.unix_millis(); }
  tsdb::Store& store() { return *store_; }

  void append(std::vector<tsdb::AppendSample> batch) {
    std::optional<core::Result<tsdb::AppendResult>> out;
    store_->append(1, std::move(batch), tsdb::AppendMode::kAllOrNothing,
                   [&](auto r) { out = std::move(r); });
    if (!wait(out)) die("append: " + out->error().message);
  }

  void flush() {
    std::optional<core::Result<void>> out;
    store_->flush([&](core::Result<void> r) { out = std::move(r); });
    if (!wait(out)) die("flush: " + out->error().message);
  }

 private:
  template <class T>
  bool wait(std::optional<T>& slot) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!slot && std::chrono::steady_clock::now() < deadline) {
      loop_.restart();
      loop_.run_for(std::chrono::milliseconds(5));
    }
    if (!slot) die("no answer within 60 s");
    return static_cast<bool>(*slot);
  }

  std::string dir_;
  core::ManualClock clock_{core::SystemTime(std::chrono::seconds(1'790'000'000))};
  core::Logger log_{clock_, [](std::string_view) {}};
  core::MetricsRegistry metrics_;
  boost::asio::io_context loop_;
  core::WorkerPool workers_{1, 64};
  core::EventBus bus_;

  core::Env env() { return {clock_, log_, metrics_, bus_, loop_.get_executor(), workers_}; }
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<tsdb::Store> store_;
};

tsdb::AppendSample sample(std::string metric, tsdb::LabelSet labels, Timestamp t, double v) {
  return {{std::move(metric), std::move(labels)}, {t, v}};
}

void counters() {
  std::printf("counters: ifHCInOctets{host,ifName}, 1,440 samples a series\n");
  std::vector<std::pair<double, double>> points;  // series, heap beyond head chunks
  for (std::size_t n : {1000, 2000, 4000}) {
    StoreUnderTest s;
    const double before = heap_in_use();
    const Timestamp t0 = s.now() - 1439 * kMin;
    std::mt19937_64 rng(n);
    std::vector<double> counter(n);
    std::vector<double> rate(n);
    for (std::size_t i = 0; i < n; ++i) {
      counter[i] = static_cast<double>(rng() >> 24);
      rate[i] = std::exp(std::uniform_real_distribution<double>(std::log(1e3), std::log(1e7))(rng));
    }
    for (int minute = 0; minute < 1440; ++minute) {
      std::vector<tsdb::AppendSample> batch;
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        counter[i] +=
            std::round(rate[i] * 60 * std::uniform_real_distribution<double>(0.95, 1.05)(rng));
        batch.push_back(sample(
            "ifHCInOctets",
            {{"host", "dev" + std::to_string(i / 10)}, {"ifName", "eth" + std::to_string(i % 10)}},
            t0 + minute * kMin, counter[i]));
      }
      s.append(std::move(batch));
    }
    s.flush();
    const auto st = s.store().stats();
    if (st.series != n || st.pending_chunks != 0) die("the store did not hold every series");
    const double beyond = heap_in_use() - before - static_cast<double>(st.head_chunk_bytes);
    points.emplace_back(static_cast<double>(n), beyond);
    std::printf(
        "  %zu series: head chunks %.3f B/sample, heap beyond them %.0f B/series (of which "
        "SQLite's caches, a fixed amount, %lld B)\n",
        n, static_cast<double>(st.head_chunk_bytes) / (1440.0 * static_cast<double>(n)),
        beyond / static_cast<double>(n), static_cast<long long>(sqlite3_memory_used()));
  }
  for (std::size_t i = 1; i < points.size(); ++i) {
    std::printf(
        "  marginal %g -> %g series: %.0f B/series\n", points[i - 1].first, points[i].first,
        (points[i].second - points[i - 1].second) / (points[i].first - points[i - 1].first));
  }
}

void interfaces() {
  std::printf("interfaces: 12 metrics a port of 48-port switches, 1,440 samples a series\n");
  const std::vector<std::string> metrics = {
      "ifHCInOctets", "ifHCOutOctets", "ifInErrors",      "ifOutErrors",
      "ifInDiscards", "ifOutDiscards", "ifHCInUcastPkts", "ifHCOutUcastPkts",
      "ifOperStatus", "ifAdminStatus", "ifSpeedBps",      "ifInUtilizationPct"};
  std::vector<std::pair<double, double>> points;  // series, heap (chunks included)
  for (std::size_t switches : {2, 6}) {
    StoreUnderTest s;
    const double before = heap_in_use();
    const std::size_t n = switches * 48 * metrics.size();
    const Timestamp t0 = s.now() - 1439 * kMin;
    std::mt19937_64 rng(switches);
    std::vector<tsdb::LabelSet> labels;
    for (std::size_t sw = 0; sw < switches; ++sw) {
      for (int port = 0; port < 48; ++port) {
        labels.push_back({{"device", "sw-pop-" + std::to_string(sw) + ".isp.example"},
                          {"device_id", std::to_string(1000 + sw)},
                          {"ifAlias", "Customer " + std::to_string(sw * 48 + port) + " access"},
                          {"ifIndex", std::to_string(1000 + port)},
                          {"ifName", "ge-0/0/" + std::to_string(port)}});
      }
    }
    std::vector<double> value(n);
    for (auto& v : value) v = static_cast<double>(rng() >> 24);
    for (int minute = 0; minute < 1440; ++minute) {
      std::vector<tsdb::AppendSample> batch;
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& metric = metrics[i % metrics.size()];
        if (metric.find("Octets") != std::string::npos ||
            metric.find("Pkts") != std::string::npos) {
          value[i] += std::round(std::uniform_real_distribution<double>(1e5, 1e7)(rng));
        } else if (metric.find("Utilization") != std::string::npos) {
          value[i] = std::round(std::uniform_real_distribution<double>(0, 100)(rng) * 10) / 10;
        }
        batch.push_back(sample(metric, labels[i / metrics.size()], t0 + minute * kMin, value[i]));
      }
      s.append(std::move(batch));
    }
    s.flush();
    const auto st = s.store().stats();
    if (st.series != n) die("the store did not hold every series");
    const double used = heap_in_use() - before;
    points.emplace_back(static_cast<double>(n), used);
    std::printf("  %zu series: %.0f B/series of heap in all, head chunks %.0f B/series\n", n,
                used / static_cast<double>(n),
                static_cast<double>(st.head_chunk_bytes) / static_cast<double>(n));
  }
  std::printf("  marginal: %.0f B/series (chunks of a day included)\n",
              (points[1].second - points[0].second) / (points[1].first - points[0].first));
}

}  // namespace

int main() {
  counters();
  interfaces();
  return 0;
}
