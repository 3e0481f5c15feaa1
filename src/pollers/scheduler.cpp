// The check scheduler; see scheduler.hpp. Checks wait in a queue ordered by due time; tick() pops
// the due ones. A check's phase within its interval is the fractional part of id × φ (the golden
// ratio): consecutive ids land in the largest remaining gap, so any number of checks — and checks
// added later — spread evenly without a global re-plan that would move existing ones.
#include <cmath>

#include <netpulse/pollers/scheduler.hpp>

namespace netpulse::pollers {

namespace {

constexpr double kGoldenFraction = 0.6180339887498949;

}  // namespace

std::string_view check_kind_name(CheckKind k) noexcept {
  switch (k) {
    case CheckKind::kIcmp:
      return "icmp";
    case CheckKind::kSnmp:
      return "snmp";
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kHttp:
      return "http";
    case CheckKind::kDns:
      return "dns";
  }
  return "unknown";
}

Scheduler::Scheduler(const core::Clock& clock, SchedulerOptions options)
    : clock_(clock), options_(options), epoch_(clock.steady_now()) {}

void Scheduler::set_runner(CheckKind kind, CheckRunner runner) {
  runners_[static_cast<std::size_t>(kind)] = std::move(runner);
}

core::SteadyTime Scheduler::first_run(const CheckSpec& spec) const {
  const auto interval = std::max(spec.interval, std::chrono::milliseconds(1));
  const double fraction = std::fmod(static_cast<double>(spec.id) * kGoldenFraction, 1.0);
  const auto phase = std::chrono::milliseconds(
      static_cast<std::int64_t>(fraction * static_cast<double>(interval.count())));
  auto at = epoch_ + phase;
  const auto now = clock_.steady_now();
  if (at < now) {
    const auto behind = now - at;
    const auto periods = (behind + interval - std::chrono::nanoseconds(1)) / interval;
    at += periods * interval;
  }
  return at;
}

void Scheduler::set_plan(std::vector<CheckSpec> checks) {
  std::map<std::uint64_t, Entry> next;
  for (auto& spec : checks) {
    auto it = entries_.find(spec.id);
    if (it != entries_.end()) {
      Entry e = std::move(it->second);
      entries_.erase(it);
      const bool interval_changed = e.spec.interval != spec.interval;
      e.spec = spec;
      if (interval_changed) e.next = first_run(spec);
      next.emplace(spec.id, std::move(e));
    } else {
      Entry e;
      e.spec = spec;
      e.generation = ++generation_;
      e.next = first_run(spec);
      next.emplace(spec.id, std::move(e));
    }
  }
  // What is left was removed. A run in flight answers into the void (generation check).
  for (auto& [id, e] : entries_) {
    for (auto& w : e.waiters) w(CheckOutcome{false, false, "the check was removed"});
  }
  entries_ = std::move(next);
  queue_.clear();
  for (auto& s : stats_) s.checks = 0;
  for (auto& [id, e] : entries_) {
    ++stats_of(e.spec.kind).checks;
    queue_.emplace(e.next, id);
  }
}

std::size_t Scheduler::tick() {
  const auto now = clock_.steady_now();
  std::vector<std::uint64_t> due;
  while (!queue_.empty() && queue_.begin()->first <= now) {
    const auto id = queue_.begin()->second;
    queue_.erase(queue_.begin());
    auto& e = entries_.at(id);
    // The next slot strictly after now; slots missed by a late tick are not runs owed.
    const auto interval = std::max(e.spec.interval, std::chrono::milliseconds(1));
    const auto periods = (now - e.next) / interval + 1;
    e.next += periods * interval;
    queue_.emplace(e.next, id);
    due.push_back(id);
  }
  std::size_t started = 0;
  for (auto id : due) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    auto& e = it->second;
    auto& st = stats_of(e.spec.kind);
    if (e.running) {
      ++st.overruns;
      continue;
    }
    if (st.in_flight >= options_.max_in_flight[static_cast<std::size_t>(e.spec.kind)]) {
      ++st.throttled;
      continue;
    }
    start(e);
    ++started;
  }
  return started;
}

std::optional<core::SteadyTime> Scheduler::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

core::Result<void> Scheduler::run_now(std::uint64_t id, std::function<void(CheckOutcome)> done) {
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    return core::Error(core::Errc::kNotFound, "no check " + std::to_string(id));
  }
  if (it->second.running) {
    return core::Error(core::Errc::kConflict, "the check is running; try again when it is done");
  }
  it->second.waiters.push_back(std::move(done));
  start(it->second);
  return core::ok();
}

std::optional<CheckOutcome> Scheduler::last_outcome(std::uint64_t id) const {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.last;
}

void Scheduler::start(Entry& e) {
  e.running = true;
  auto& st = stats_of(e.spec.kind);
  ++st.runs_started;
  ++st.in_flight;
  attempt(e.spec.id, e.generation, 1);
}

void Scheduler::attempt(std::uint64_t id, std::uint64_t generation, int attempt_no) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.generation != generation) return;
  const CheckSpec spec = it->second.spec;
  ++stats_of(spec.kind).attempts;
  auto& runner = runners_[static_cast<std::size_t>(spec.kind)];
  auto on_done = [this, id, generation, attempt_no, kind = spec.kind](CheckOutcome outcome) {
    auto& st = stats_of(kind);
    if (outcome.timed_out) ++st.timeouts;
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.generation != generation) {
      --st.in_flight;  // removed while running: its result is dropped
      return;
    }
    auto& e = it->second;
    if (!outcome.ok && attempt_no <= e.spec.retries) {
      ++st.retries;
      attempt(id, generation, attempt_no + 1);
      return;
    }
    finish(e, outcome, attempt_no);
  };
  if (!runner) {
    on_done(CheckOutcome{false, false, "no runner for this kind of check"});
    return;
  }
  runner(spec, std::move(on_done));
}

void Scheduler::finish(Entry& e, const CheckOutcome& outcome, int attempts) {
  auto& st = stats_of(e.spec.kind);
  --st.in_flight;
  ++(outcome.ok ? st.runs_ok : st.runs_failed);
  e.running = false;
  e.last = outcome;
  auto waiters = std::move(e.waiters);
  e.waiters.clear();
  const CheckSpec spec = e.spec;  // a listener may re-plan and invalidate `e`
  if (listener_) listener_(spec, outcome, attempts);
  for (auto& w : waiters) w(outcome);
}

}  // namespace netpulse::pollers
