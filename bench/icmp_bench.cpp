// bench/icmp_bench — drives NetPulse's ICMP echo engine (pollers::IcmpPinger) for bench/icmp.sh.
//
//   icmp_bench burst TARGETS_FILE [TIMEOUT_MS]
//       one echo to each address of the file (one per line), all handed to the engine at once;
//       waits until every echo has completed (reply or timeout).
//   icmp_bench sustained TARGETS_FILE SECONDS [TIMEOUT_MS]
//       every target once per second for SECONDS: each second is cut into 100 slices of 10 ms
//       and each slice sends to the next 1/100 of the targets (absolute deadlines, no drift);
//       then waits for the last echoes. CPU is this process's getrusage() over that window.
//
// Prints `name value` lines (mode, targets, sent, replies, timeouts, errors, seconds,
// echoes_per_s, loss_percent, cpu_user_s, cpu_sys_s, cpu_percent, rtt_p50_ms, rtt_p99_ms,
// rtt_max_ms, max_in_flight). Exit 1 on usage or open errors. Every loop is bounded: the burst
// by the target count and the timeout, the sustained run by SECONDS plus the timeout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/icmp.hpp>

namespace {

namespace ip = boost::asio::ip;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double cpu_seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

struct Tally {
  std::size_t replies = 0, timeouts = 0, errors = 0, completed = 0;
  std::vector<double> rtts_ms;
  void operator()(netpulse::core::Result<std::chrono::nanoseconds> r) {
    ++completed;
    if (r) {
      ++replies;
      rtts_ms.push_back(std::chrono::duration<double, std::milli>(*r).count());
    } else if (r.error().code == netpulse::core::Errc::kTimeout) {
      ++timeouts;
    } else {
      if (errors++ == 0)
        std::fprintf(stderr, "icmp_bench: first error: %s\n", r.error().message.c_str());
    }
  }
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int usage() {
  std::fprintf(stderr,
               "usage: icmp_bench burst TARGETS_FILE [TIMEOUT_MS]\n"
               "       icmp_bench sustained TARGETS_FILE SECONDS [TIMEOUT_MS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string what = argv[1];
  const bool sustained = what == "sustained";
  if (!sustained && what != "burst") return usage();
  if (sustained && argc < 4) return usage();
  const long seconds = sustained ? std::strtol(argv[3], nullptr, 10) : 0;
  const int timeout_arg = sustained ? 4 : 3;
  const auto timeout =
      std::chrono::milliseconds(argc > timeout_arg ? std::atoi(argv[timeout_arg]) : 1000);
  if (sustained && (seconds < 1 || seconds > 3600)) return usage();

  std::vector<ip::address> targets;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto a = ip::make_address(line, ec);
    if (ec) {
      std::fprintf(stderr, "icmp_bench: bad address '%s'\n", line.c_str());
      return 1;
    }
    targets.push_back(a);
  }
  if (targets.empty() || targets.size() > 60'000) {
    std::fprintf(stderr, "icmp_bench: need 1..60000 targets, got %zu\n", targets.size());
    return 1;
  }

  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  netpulse::pollers::IcmpOptions options;
  options.max_in_flight = 65'000;
  options.ipv6 = false;
  auto opened = netpulse::pollers::IcmpPinger::open(options, io.get_executor(), clock);
  if (!opened) {
    std::fprintf(stderr, "icmp_bench: %s\n", opened.error().message.c_str());
    return 1;
  }
  auto& pinger = *opened.value();
  Tally tally;
  std::size_t sent_calls = 0, max_in_flight = 0;
  auto record = [&tally](netpulse::core::Result<std::chrono::nanoseconds> r) {
    tally(std::move(r));
  };

  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto started = Clock::now();
  Clock::time_point finished;
  const auto limit = started + std::chrono::seconds(seconds) + timeout + 5s;

  // The sustained run's slices: 100 a second; slice k of a second sends targets
  // [k*n/100, (k+1)*n/100). Declared here so they outlive the loop below.
  constexpr int kSlices = 100;
  const std::size_t n = targets.size();
  const long total_slices = seconds * kSlices;
  long slice = 0;
  boost::asio::steady_timer timer(io);
  std::function<void()> on_slice;
  if (!sustained) {
    for (const auto& t : targets) pinger.echo(t, timeout, 56, record);
    sent_calls = targets.size();
    max_in_flight = pinger.stats().in_flight;
  } else {
    on_slice = [&] {
      const std::size_t k = static_cast<std::size_t>(slice % kSlices);
      for (std::size_t i = k * n / kSlices; i < (k + 1) * n / kSlices; ++i) {
        pinger.echo(targets[i], timeout, 56, record);
        ++sent_calls;
      }
      max_in_flight = std::max<std::size_t>(max_in_flight, pinger.stats().in_flight);
      if (++slice == total_slices) return;
      timer.expires_at(started + slice * 10ms);
      timer.async_wait([&](boost::system::error_code ec) {
        if (!ec) on_slice();
      });
    };
    on_slice();
  }
  while (tally.completed <
             (sustained ? static_cast<std::size_t>(seconds) * targets.size() : targets.size()) &&
         Clock::now() < limit) {
    io.run_one_for(50ms);
  }
  finished = Clock::now();
  getrusage(RUSAGE_SELF, &after);

  const double wall = std::chrono::duration<double>(finished - started).count();
  const double user = cpu_seconds(after.ru_utime) - cpu_seconds(before.ru_utime);
  const double sys = cpu_seconds(after.ru_stime) - cpu_seconds(before.ru_stime);
  const auto stats = pinger.stats();
  std::printf("mode %s\n", std::string(netpulse::pollers::icmp_mode_name(pinger.mode())).c_str());
  std::printf("targets %zu\n", targets.size());
  std::printf("echoes %zu\n", sent_calls);
  std::printf("sent %llu\n", static_cast<unsigned long long>(stats.sent));
  std::printf("replies %zu\n", tally.replies);
  std::printf("timeouts %zu\n", tally.timeouts);
  std::printf("errors %zu\n", tally.errors);
  std::printf("unfinished %zu\n", sent_calls - tally.completed);
  std::printf("unmatched %llu\n", static_cast<unsigned long long>(stats.unmatched));
  std::printf("seconds %.6f\n", wall);
  std::printf("echoes_per_s %.1f\n", static_cast<double>(tally.replies) / wall);
  std::printf("loss_percent %.4f\n", sent_calls
                                         ? 100.0 * static_cast<double>(sent_calls - tally.replies) /
                                               static_cast<double>(sent_calls)
                                         : 0.0);
  std::printf("cpu_user_s %.3f\ncpu_sys_s %.3f\n", user, sys);
  std::printf("cpu_percent %.2f\n", 100.0 * (user + sys) / wall);
  std::printf("rtt_p50_ms %.3f\n", percentile(tally.rtts_ms, 0.5));
  std::printf("rtt_p99_ms %.3f\n", percentile(tally.rtts_ms, 0.99));
  std::printf("rtt_max_ms %.3f\n", percentile(tally.rtts_ms, 1.0));
  std::printf("max_in_flight %zu\n", max_in_flight);
  return 0;
}
