// bench/topology_correlate — the alerts module's topology correlation (src/alerts/topology*.cpp)
// on a 10,000-device tree: 1 core, 100 distribution devices behind it, 9,899 CPE spread over them.
// Prints the median time per call of correlate() with the core failed (everything behind it),
// with one distribution device failed, and with one CPE failed; the median time of a full
// rebuild; the heap per device (glibc's mallinfo2: use a build without sanitizers); and, as the
// floor to compare with, a plain breadth-first walk over the same tree held in vectors.
// BENCH_RUNS runs each (default 101). Exits 1 if a correlation is not the expected one.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <malloc.h>
#include <vector>

#include <netpulse/alerts/topology.hpp>

using netpulse::alerts::Correlation;
using netpulse::alerts::DeviceLinks;
using netpulse::alerts::FailedDevice;
using netpulse::alerts::Topology;

namespace {

constexpr std::int64_t kCore = 1;
constexpr std::int64_t kDistributions = 100;
constexpr std::int64_t kCpe = 9'899;
constexpr std::int64_t kFirstDistribution = 10;
constexpr std::int64_t kFirstCpe = 1'000;

std::vector<DeviceLinks> tree() {
  std::vector<DeviceLinks> devices{{kCore, {}}};
  for (std::int64_t d = 0; d < kDistributions; ++d) {
    devices.push_back({kFirstDistribution + d, {kCore}});
  }
  for (std::int64_t c = 0; c < kCpe; ++c) {
    devices.push_back({kFirstCpe + c, {kFirstDistribution + (c % kDistributions)}});
  }
  return devices;
}

std::size_t heap_in_use() {
  const auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// The median of `runs` timings of `work`, in microseconds.
template <class Work>
double median_us(int runs, Work&& work) {
  std::vector<double> us;
  for (int run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    work();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::nth_element(us.begin(), us.begin() + (runs / 2), us.end());
  return us[runs / 2];
}

bool failed = false;

void expect(const Correlation& c, std::int64_t root, std::size_t impact) {
  if (c.incidents().size() != 1 || c.incidents()[0].root_device_id != root ||
      c.incidents()[0].impact != impact) {
    std::printf("unexpected correlation for root %lld\n", static_cast<long long>(root));
    failed = true;
  }
}

}  // namespace

int main() {
  const char* runs_env = std::getenv("BENCH_RUNS");
  const int runs = std::max(1, runs_env ? std::atoi(runs_env) : 101);
  const auto devices = tree();

  const std::size_t heap_before = heap_in_use();
  Topology topology(devices);
  const std::size_t heap_after = heap_in_use();
  std::printf(
      "topology: %zu devices, %zu links; heap %.1f bytes per device; median of %d runs\n",
      topology.device_count(), topology.link_count(),
      static_cast<double>(heap_after - heap_before) / static_cast<double>(topology.device_count()),
      runs);

  struct Case {
    const char* name;
    std::int64_t device;
    std::size_t impact;
  };
  const Case cases[] = {{"core failed", kCore, 9'999},
                        {"one distribution failed", kFirstDistribution + 7, 99},
                        {"one CPE failed", kFirstCpe + 123, 0}};
  for (const auto& c : cases) {
    const std::vector<FailedDevice> f{{c.device, 1000}};
    expect(topology.correlate(f), c.device, c.impact);
    const double us = median_us(runs, [&] {
      const Correlation r = topology.correlate(f);
      if (r.incidents().empty()) failed = true;
    });
    std::printf("  correlate, %-24s %10.1f us/call (impact %zu)\n", c.name, us, c.impact);
  }
  const double rebuild_us = median_us(runs, [&] { topology.rebuild(devices); });
  std::printf("  rebuild                            %10.1f us/call\n", rebuild_us);

  // The floor: a breadth-first walk over the same tree as plain child lists.
  std::vector<std::vector<std::int32_t>> children(devices.size());
  {
    std::vector<std::int64_t> ids;
    for (const auto& d : devices) ids.push_back(d.device_id);
    std::sort(ids.begin(), ids.end());
    const auto index = [&](std::int64_t id) {
      return static_cast<std::int32_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
    };
    for (const auto& d : devices) {
      for (const auto p : d.parents) children[index(p)].push_back(index(d.device_id));
    }
  }
  std::size_t walked = 0;
  const double floor_us = median_us(runs, [&] {
    std::vector<char> seen(children.size(), 0);
    std::deque<std::int32_t> queue{0};
    seen[0] = 1;
    walked = 0;
    while (!queue.empty()) {
      const auto v = queue.front();
      queue.pop_front();
      ++walked;
      for (const auto c : children[v]) {
        if (seen[c] == 0) {
          seen[c] = 1;
          queue.push_back(c);
        }
      }
    }
  });
  std::printf("  plain BFS over vectors (floor)     %10.1f us/call (%zu devices)\n", floor_us,
              walked);
  return failed ? 1 : 0;
}
