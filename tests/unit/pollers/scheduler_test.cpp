// The check scheduler with a ManualClock: even spreading over the interval, overruns skipped and
// counted (never queued), the per-kind concurrency bound, retries and timeouts, re-plans that
// keep phases, "poll now", and late ticks that owe nothing.
#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/scheduler.hpp>

using namespace netpulse;
using namespace std::chrono_literals;
using pollers::CheckKind;
using pollers::CheckOutcome;
using pollers::CheckSpec;
using pollers::Scheduler;

namespace {

CheckSpec spec(std::uint64_t id, std::chrono::milliseconds interval = 60s,
               CheckKind kind = CheckKind::kIcmp, int retries = 0) {
  CheckSpec s;
  s.id = id;
  s.device_id = static_cast<std::int64_t>(id);
  s.kind = kind;
  s.interval = interval;
  s.retries = retries;
  return s;
}

// A runner that keeps every attempt's callback until the test answers it.
struct HeldRunner {
  std::vector<std::pair<CheckSpec, std::function<void(CheckOutcome)>>> pending;
  pollers::CheckRunner fn() {
    return [this](const CheckSpec& s, std::function<void(CheckOutcome)> done) {
      pending.emplace_back(s, std::move(done));
    };
  }
  void answer_all(bool ok) {
    auto now = std::move(pending);
    pending.clear();
    for (auto& [s, done] : now) done(CheckOutcome{ok, false, ok ? "" : "no reply"});
  }
};

}  // namespace

TEST_CASE("scheduler: checks spread evenly over their interval, each once per interval",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  Scheduler s(clock);
  std::map<std::uint64_t, int> runs;
  std::vector<int> per_second;
  s.set_runner(CheckKind::kIcmp, [&](const CheckSpec& c, auto done) {
    ++runs[c.id];
    ++per_second.back();
    done(CheckOutcome{true, false, ""});
  });
  std::vector<CheckSpec> plan;
  for (std::uint64_t id = 1; id <= 600; ++id) plan.push_back(spec(id));
  s.set_plan(plan);
  for (int second = 0; second <= 120; ++second) {
    per_second.push_back(0);
    s.tick();
    clock.advance(1s);
  }
  // 600 checks a minute: 10 a second on average; golden-ratio phases keep every second near it.
  // (A tick at second N starts what fell due in (N-1, N].)
  CHECK(per_second[0] == 0);
  for (int second = 1; second <= 120; ++second) {
    INFO("second " << second);
    CHECK(per_second[static_cast<std::size_t>(second)] >= 6);
    CHECK(per_second[static_cast<std::size_t>(second)] <= 14);
  }
  REQUIRE(runs.size() == 600);
  for (auto& [id, n] : runs) CHECK(n == 2);
  CHECK(s.stats(CheckKind::kIcmp).runs_ok == 1200);
  CHECK(s.stats(CheckKind::kIcmp).in_flight == 0);
}

TEST_CASE("scheduler: a check still running when due again is skipped and counted",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  Scheduler s(clock);
  HeldRunner runner;
  s.set_runner(CheckKind::kIcmp, runner.fn());
  s.set_plan({spec(1, 10s)});
  for (int i = 0; i < 45; ++i) {  // phase 6.18 s (10 s x frac(phi)): due at 6, 16, 26, 36 s
    s.tick();
    clock.advance(1s);
  }
  CHECK(runner.pending.size() == 1);  // never queued up
  auto& st = s.stats(CheckKind::kIcmp);
  CHECK(st.runs_started == 1);
  CHECK(st.overruns == 3);
  CHECK(st.in_flight == 1);
  runner.answer_all(true);
  CHECK(st.in_flight == 0);
  CHECK(st.runs_ok == 1);
  for (int i = 0; i < 10; ++i) {
    s.tick();
    clock.advance(1s);
  }
  CHECK(runner.pending.size() == 1);  // runs again at its next slot
}

TEST_CASE("scheduler: concurrency per kind is bounded; the excess is skipped and counted",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  pollers::SchedulerOptions o;
  o.max_in_flight[static_cast<std::size_t>(CheckKind::kSnmp)] = 3;
  Scheduler s(clock, o);
  HeldRunner snmp, icmp;
  s.set_runner(CheckKind::kSnmp, snmp.fn());
  s.set_runner(CheckKind::kIcmp, icmp.fn());
  std::vector<CheckSpec> plan;
  for (std::uint64_t id = 1; id <= 10; ++id) plan.push_back(spec(id, 60s, CheckKind::kSnmp));
  for (std::uint64_t id = 11; id <= 20; ++id) plan.push_back(spec(id, 60s, CheckKind::kIcmp));
  s.set_plan(plan);
  clock.advance(60s);  // every check due at once
  s.tick();
  CHECK(snmp.pending.size() == 3);
  CHECK(s.stats(CheckKind::kSnmp).throttled == 7);
  CHECK(icmp.pending.size() == 10);  // another kind, another bound
  CHECK(s.stats(CheckKind::kSnmp).in_flight == 3);
}

TEST_CASE("scheduler: retries after a failed attempt; timeouts are counted",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  Scheduler s(clock);
  int calls = 0;
  std::vector<int> attempts_seen;
  std::vector<CheckOutcome> finals;
  s.set_listener([&](const CheckSpec&, const CheckOutcome& o, int attempts) {
    finals.push_back(o);
    attempts_seen.push_back(attempts);
  });
  SECTION("fails once, then succeeds") {
    s.set_runner(CheckKind::kTcp, [&](const CheckSpec&, auto done) {
      ++calls;
      done(calls == 1 ? CheckOutcome{false, true, "timed out"} : CheckOutcome{true, false, ""});
    });
    s.set_plan({spec(1, 5s, CheckKind::kTcp, 2)});
    clock.advance(5s);
    s.tick();
    REQUIRE(finals.size() == 1);
    CHECK(finals[0].ok);
    CHECK(attempts_seen[0] == 2);
    auto& st = s.stats(CheckKind::kTcp);
    CHECK(st.retries == 1);
    CHECK(st.timeouts == 1);
    CHECK(st.attempts == 2);
    CHECK(st.runs_ok == 1);
  }
  SECTION("fails every attempt") {
    s.set_runner(CheckKind::kTcp, [&](const CheckSpec&, auto done) {
      ++calls;
      done(CheckOutcome{false, false, "connection refused"});
    });
    s.set_plan({spec(1, 5s, CheckKind::kTcp, 2)});
    clock.advance(5s);
    s.tick();
    REQUIRE(finals.size() == 1);
    CHECK_FALSE(finals[0].ok);
    CHECK(finals[0].error == "connection refused");
    CHECK(attempts_seen[0] == 3);
    CHECK(calls == 3);
    CHECK(s.stats(CheckKind::kTcp).runs_failed == 1);
    CHECK(s.last_outcome(1)->error == "connection refused");
  }
}

TEST_CASE("scheduler: a re-plan keeps phases and drops removed checks' late answers",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  Scheduler s(clock);
  HeldRunner runner;
  s.set_runner(CheckKind::kIcmp, runner.fn());
  s.set_plan({spec(1), spec(2), spec(3)});
  const auto due_before = s.next_due();
  clock.advance(60s);
  s.tick();
  REQUIRE(runner.pending.size() == 3);
  // Check 2 is removed while running, check 4 is added; 1 and 3 keep their runs in flight.
  s.set_plan({spec(1), spec(3), spec(4)});
  CHECK(s.stats(CheckKind::kIcmp).checks == 3);
  runner.answer_all(true);
  CHECK(s.stats(CheckKind::kIcmp).in_flight == 0);
  CHECK(s.stats(CheckKind::kIcmp).runs_ok == 2);  // 2's answer was dropped
  CHECK_FALSE(s.last_outcome(2));
  REQUIRE(due_before);
  // An interval change re-phases from the next run; the plan accepts it without restarting.
  s.set_plan({spec(1, 10s)});
  CHECK(s.stats(CheckKind::kIcmp).checks == 1);
  int runs = 0;
  s.set_runner(CheckKind::kIcmp, [&](const CheckSpec&, auto done) {
    ++runs;
    done(CheckOutcome{true, false, ""});
  });
  for (int i = 0; i < 60; ++i) {
    s.tick();
    clock.advance(1s);
  }
  CHECK(runs == 6);
}

TEST_CASE("scheduler: poll now runs out of turn; a late tick owes no extra runs",
          "[pollers][scheduler]") {
  core::ManualClock clock;
  Scheduler s(clock);
  HeldRunner runner;
  s.set_runner(CheckKind::kSnmp, runner.fn());
  s.set_plan({spec(7, 60s, CheckKind::kSnmp)});
  std::optional<CheckOutcome> got;
  REQUIRE(s.run_now(7, [&](CheckOutcome o) { got = o; }));
  CHECK(runner.pending.size() == 1);
  auto again = s.run_now(7, [](CheckOutcome) {});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == core::Errc::kConflict);
  CHECK(s.run_now(99, [](CheckOutcome) {}).error().code == core::Errc::kNotFound);
  runner.answer_all(true);
  REQUIRE(got);
  CHECK(got->ok);

  clock.advance(std::chrono::hours(1));  // the loop was stalled for an hour
  CHECK(s.tick() == 1);
  CHECK(s.tick() == 0);
  REQUIRE(s.next_due());
  CHECK(*s.next_due() > clock.steady_now());
  CHECK(*s.next_due() - clock.steady_now() <= 60s);
}
