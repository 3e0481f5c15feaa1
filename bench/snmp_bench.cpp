// bench/snmp_bench — the driver bench/snmp.sh runs: NetPulse's SNMP engine (pollers::SnmpClient)
// walking real agents, timing its own CPU with getrusage (the agents' CPU is not ours).
//
//   snmp_bench walk  --address A --port P --community C --roots R1,R2 --scrapes N [--max-rep 25]
//       N scrapes one after another; each walks the roots one after another (as
//       prometheus-snmp-exporter walks a module's subtrees). Prints
//       `values=V scrapes=N cpu_us=U us_per_value=X wall_ms=W` (values summed over scrapes).
//   snmp_bench scale --first 127.0.1.1 --agents 1000 --port P --community C --roots R1,R2
//                    --interval-ms 60000 --cycles 2 --in-flight 600 [--max-rep 25]
//       Every interval, walks the roots of every agent (one walk_columns per agent... per root
//       set), keeping `in-flight` walks under way (the scheduler's role: the engine refuses past
//       its bound, it does not queue). A cycle of an agent is on time when its walk answered
//       without error before the interval ended. Prints values, values/s over the run and over
//       the busy part, CPU % of one core, the share of agent cycles on time, the peak in flight.
// Every loop is bounded: by --scrapes, by --cycles x --agents, and by a wall-clock cap.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace asio = boost::asio;
using namespace netpulse::pollers;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "snmp_bench: %s\n", message.c_str());
  std::exit(1);
}

std::vector<Oid> parse_roots(const std::string& list) {
  std::vector<Oid> roots;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    auto parsed = Oid::parse(list.substr(start, comma - start));
    if (!parsed) die(parsed.error().message);
    roots.push_back(parsed.value());
    start = comma + 1;
  }
  return roots;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: snmp_bench walk|scale --option value ...");
  const std::string mode = argv[1];
  std::map<std::string, std::string> opt = {
      {"address", "127.0.0.1"}, {"port", "161"},          {"community", "public"},
      {"scrapes", "10"},        {"max-rep", "25"},        {"first", "127.0.1.1"},
      {"agents", "1000"},       {"interval-ms", "60000"}, {"cycles", "2"},
      {"in-flight", "600"},     {"timeout-ms", "5000"},   {"roots", "1.3.6.1.2.1.2"}};
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) die("bad option " + key);
    opt[key.substr(2)] = argv[i + 1];
  }
  // One UDP socket per agent session: make room for a thousand of them.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  asio::io_context io;
  netpulse::core::SystemClock clock;
  SnmpClientOptions options;
  options.max_in_flight = std::stoul(opt["in-flight"]) + 16;
  auto opened = SnmpClient::open(options, io.get_executor(), clock);
  if (!opened) die(opened.error().message);
  SnmpClient& client = *opened.value();

  SnmpTarget base;
  base.port = static_cast<std::uint16_t>(std::stoi(opt["port"]));
  base.community = opt["community"];
  base.timeout = std::chrono::milliseconds(std::stoi(opt["timeout-ms"]));
  base.retries = 1;
  const std::vector<Oid> roots = parse_roots(opt["roots"]);
  WalkOptions walk_options;
  walk_options.max_repetitions = std::stoi(opt["max-rep"]);
  walk_options.max_values = 1'000'000;

  if (mode == "walk") {
    base.address = asio::ip::make_address(opt["address"]);
    const int scrapes = std::stoi(opt["scrapes"]);
    // Warm-up: the session, net-snmp's first-use allocations.
    std::size_t values = 0;
    int failures = 0;
    auto scrape = [&](int n, bool count) {
      for (int s = 0; s < n; ++s) {
        for (const Oid& root : roots) {
          bool done = false;
          client.walk(base, root, walk_options,
                      [&](netpulse::core::Result<std::vector<VarBind>> r) {
                        done = true;
                        if (!r) {
                          ++failures;
                          std::fprintf(stderr, "walk failed: %s\n", r.error().message.c_str());
                        } else if (count) {
                          values += r->size();
                        }
                      });
          while (!done) io.run_one();
        }
      }
    };
    scrape(1, false);
    const double cpu0 = cpu_seconds();
    const auto wall0 = std::chrono::steady_clock::now();
    scrape(scrapes, true);
    const double cpu = cpu_seconds() - cpu0;
    const double wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
    if (failures > 0 || values == 0) die(fmt::format("{} walks failed", failures));
    const SnmpClientStats stats = client.stats();
    fmt::print(
        "values={} scrapes={} values_per_scrape={} cpu_us={:.0f} us_per_value={:.3f} "
        "wall_ms={:.1f} pdus_answered={} unparseable={}\n",
        values, scrapes, values / scrapes, cpu * 1e6, cpu * 1e6 / values, wall_ms,
        stats.pdus_answered, stats.unparseable_replies);
    return 0;
  }

  if (mode != "scale") die("unknown mode " + mode);
  const int agents = std::stoi(opt["agents"]);
  const int cycles = std::stoi(opt["cycles"]);
  const std::size_t window = std::stoul(opt["in-flight"]);
  const auto interval = std::chrono::milliseconds(std::stol(opt["interval-ms"]));
  std::vector<SnmpTarget> targets;
  const auto first = asio::ip::make_address_v4(opt["first"]).to_uint();
  for (int i = 0; i < agents; ++i) {
    SnmpTarget t = base;
    // 127.0.1.1 .. : skip .0 and .255 host parts so every address is an ordinary one.
    const std::uint32_t host = first + static_cast<std::uint32_t>(i / 250) * 256 + (i % 250);
    t.address = asio::ip::address_v4(host);
    targets.push_back(t);
  }

  std::size_t values = 0, on_time = 0, late = 0, failed = 0, peak = 0, in_flight = 0;
  std::map<std::string, int> errors;
  double busy_seconds = 0;
  const double cpu0 = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const auto cycle_start = start + cycle * interval;
    const auto cycle_end = cycle_start + interval;
    std::deque<int> queue;
    for (int i = 0; i < agents; ++i) queue.push_back(i);
    int answered = 0;
    std::chrono::steady_clock::time_point last_answer = cycle_start;
    std::function<void()> pump = [&] {
      while (in_flight < window && !queue.empty()) {
        const int i = queue.front();
        queue.pop_front();
        ++in_flight;
        peak = std::max(peak, in_flight);
        client.walk_columns(targets[i], roots, walk_options,
                            [&](netpulse::core::Result<std::vector<VarBind>> r) {
                              --in_flight;
                              ++answered;
                              const auto now = std::chrono::steady_clock::now();
                              last_answer = now;
                              if (!r) {
                                ++failed;
                                ++errors[std::string(netpulse::core::errc_name(r.error().code))];
                              } else {
                                values += r->size();
                                (now <= cycle_end ? on_time : late)++;
                              }
                              pump();
                            });
      }
    };
    pump();
    // Bounded: every walk ends by its timeouts; a cap of two intervals guards the rest.
    while (answered < agents && std::chrono::steady_clock::now() < cycle_end + interval) {
      io.run_one_for(std::chrono::milliseconds(100));
    }
    if (answered < agents) die("a cycle did not finish within two intervals");
    busy_seconds += std::chrono::duration<double>(last_answer - cycle_start).count();
    // Idle until the next interval, serving the engine's timers.
    while (cycle + 1 < cycles && std::chrono::steady_clock::now() < cycle_end) {
      io.run_one_until(cycle_end);
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu0;
  const std::size_t total = static_cast<std::size_t>(agents) * cycles;
  std::string error_list;
  for (const auto& [name, n] : errors) error_list += fmt::format("{}:{},", name, n);
  fmt::print(
      "agents={} cycles={} interval_s={:.1f} in_flight_window={} peak_in_flight={} values={} "
      "values_per_s={:.0f} busy_values_per_s={:.0f} busy_s={:.2f} wall_s={:.1f} cpu_s={:.3f} "
      "cpu_pct={:.2f} us_per_value={:.3f} on_time={} late={} failed={} on_time_share={:.4f} "
      "sessions={} errors={}\n",
      agents, cycles, std::chrono::duration<double>(interval).count(), window, peak, values,
      values / wall, values / std::max(busy_seconds, 1e-9), busy_seconds, wall, cpu,
      100.0 * cpu / wall, cpu * 1e6 / std::max<std::size_t>(values, 1), on_time, late, failed,
      static_cast<double>(on_time) / total, client.stats().sessions_open,
      error_list.empty() ? "none" : error_list);
  return 0;
}
