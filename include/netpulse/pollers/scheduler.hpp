// Scheduler: runs every check of every device at its interval, spread evenly across the interval
// (no thundering herd), with bounded concurrency per kind of check, a timeout and retries per
// check. A check whose previous run is still going when it is due again is counted as an overrun
// and skipped — never queued; one that is due while its kind is at its concurrency bound is
// counted as throttled and skipped too.
//
// Time comes only from the Clock: the owner calls tick() (production: from one timer at
// next_due(); tests: after moving a ManualClock), so hours of polling run in milliseconds in tests.
// Runners answer through the callback they are given, at any later time, on the loop thread.
// Not thread-safe: the loop thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::pollers {

enum class CheckKind { kIcmp, kSnmp, kTcp, kHttp, kDns };
inline constexpr std::size_t kCheckKinds = 5;
std::string_view check_kind_name(CheckKind k) noexcept;  // "icmp", "snmp", ...

// One scheduled check. `id` identifies it across re-plans (a check keeps its phase and its
// in-flight run when the plan is replaced with the same id).
struct CheckSpec {
  std::uint64_t id = 0;
  std::int64_t device_id = 0;
  CheckKind kind = CheckKind::kIcmp;
  std::chrono::milliseconds interval{60'000};
  std::chrono::milliseconds timeout{5'000};  // per attempt; the runner enforces it
  int retries = 1;                           // further attempts after a failed one
};

// What one attempt of a check came to.
struct CheckOutcome {
  bool ok = false;
  bool timed_out = false;
  std::string error;  // why it failed, for logs and the API
};

// Runs one attempt of a check and calls `done` exactly once (later, on the loop).
using CheckRunner = std::function<void(const CheckSpec&, std::function<void(CheckOutcome)> done)>;
// Told the final outcome of a run (after its retries) and how many attempts it took.
using RunListener = std::function<void(const CheckSpec&, const CheckOutcome&, int attempts)>;

struct SchedulerOptions {
  // Concurrent runs per kind; a due check beyond it is skipped and counted as throttled.
  std::array<std::size_t, kCheckKinds> max_in_flight{2000, 500, 200, 100, 100};
};

struct KindStats {
  std::uint64_t runs_started = 0;
  std::uint64_t runs_ok = 0;
  std::uint64_t runs_failed = 0;
  std::uint64_t attempts = 0;
  std::uint64_t retries = 0;
  std::uint64_t timeouts = 0;   // attempts that timed out
  std::uint64_t overruns = 0;   // due while the previous run was still going: skipped
  std::uint64_t throttled = 0;  // due while the kind was at max_in_flight: skipped
  std::size_t in_flight = 0;
  std::size_t checks = 0;  // in the plan
};

class Scheduler {
 public:
  Scheduler(const core::Clock& clock, SchedulerOptions options = {});
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void set_runner(CheckKind kind, CheckRunner runner);
  void set_listener(RunListener listener) { listener_ = std::move(listener); }

  // Replaces the plan. A check that stays (same id) keeps its phase, next run and any run in
  // flight (whose result still counts); a changed interval takes effect from its next run. New
  // checks get a phase that spreads them evenly over their interval; removed checks stop (a run
  // in flight finishes but its result is dropped).
  void set_plan(std::vector<CheckSpec> checks);

  // Starts every check that is due. Returns how many started.
  std::size_t tick();
  // When the next check is due (nullopt: empty plan).
  std::optional<core::SteadyTime> next_due() const;

  // Runs check `id` now, out of turn (an operator's "poll now"); `done` gets the final outcome.
  // kNotFound for an unknown check; kConflict while the check is already running.
  core::Result<void> run_now(std::uint64_t id, std::function<void(CheckOutcome)> done);

  const KindStats& stats(CheckKind kind) const { return stats_[static_cast<std::size_t>(kind)]; }
  // The last final outcome of check `id`, if it has run.
  std::optional<CheckOutcome> last_outcome(std::uint64_t id) const;

 private:
  struct Entry {
    CheckSpec spec;
    core::SteadyTime next{};
    bool running = false;
    std::uint64_t generation = 0;  // bumped when removed, so late answers are dropped
    std::optional<CheckOutcome> last;
    std::vector<std::function<void(CheckOutcome)>> waiters;  // run_now callers
  };

  void start(Entry& e);
  void attempt(std::uint64_t id, std::uint64_t generation, int attempt_no);
  void finish(Entry& e, const CheckOutcome& outcome, int attempts);
  core::SteadyTime first_run(const CheckSpec& spec) const;
  KindStats& stats_of(CheckKind k) { return stats_[static_cast<std::size_t>(k)]; }

  const core::Clock& clock_;
  SchedulerOptions options_;
  std::array<CheckRunner, kCheckKinds> runners_;
  RunListener listener_;
  std::map<std::uint64_t, Entry> entries_;
  std::set<std::pair<core::SteadyTime, std::uint64_t>> queue_;  // (next run, id) of every entry
  std::uint64_t generation_ = 0;
  std::array<KindStats, kCheckKinds> stats_{};
  core::SteadyTime epoch_;
};

}  // namespace netpulse::pollers
