// One threshold alert's state machine (src/alerts/threshold_state.cpp), driven by observations
// with their own times: for-durations, hysteresis, flapping values, out-of-order samples.
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/alerts/threshold_state.hpp>

using namespace netpulse::alerts;

namespace {

struct Step {
  std::int64_t at_s;
  double value;
  const char* phase_after;  // the phase once the value is taken
};

// Feeds the steps and checks the phase after each; returns the transitions as "from>to@s".
std::vector<std::string> run(const Condition& c, std::int64_t for_s,
                             const std::vector<Step>& steps) {
  ThresholdState s;
  std::vector<std::string> out;
  for (const auto& step : steps) {
    INFO("t=" << step.at_s << " s, value " << step.value);
    auto t = observe(s, c, for_s * 1000, step.at_s * 1000, step.value);
    if (t) {
      out.push_back(std::string(threshold_phase_name(t->from)) + ">" +
                    std::string(threshold_phase_name(t->to)) + "@" +
                    std::to_string(t->at_ms / 1000));
      CHECK(t->value == step.value);
    }
    CHECK(threshold_phase_name(s.phase) == step.phase_after);
  }
  return out;
}

const Condition kCpuHigh{ConditionFn::kValue, 0, CompareOp::kGreater, 90, 80};

}  // namespace

TEST_CASE("threshold state: fires once the condition held for the for-duration",
          "[alerts][state]") {
  auto t = run(kCpuHigh, 60,
               {{0, 50, "inactive"},
                {10, 95, "pending"},
                {40, 97, "pending"},
                {69, 92, "pending"},   // 59 s: not yet
                {70, 91, "firing"},    // 60 s since the first value above 90
                {80, 99, "firing"}});  // no second transition while it fires
  CHECK(t == std::vector<std::string>{"inactive>pending@10", "pending>firing@70"});
}

TEST_CASE("threshold state: a dip during the for-duration starts it again", "[alerts][state]") {
  auto t = run(kCpuHigh, 60,
               {{0, 95, "pending"},
                {30, 85, "inactive"},  // below 90 while pending: back to inactive
                {40, 95, "pending"},
                {90, 95, "pending"},  // 50 s since the new start
                {100, 95, "firing"}});
  CHECK(t == std::vector<std::string>{"inactive>pending@0", "pending>inactive@30",
                                      "inactive>pending@40", "pending>firing@100"});
}

TEST_CASE(
    "threshold state: hysteresis holds the alert until the value passes the clear "
    "threshold",
    "[alerts][state]") {
  auto t = run(kCpuHigh, 0,
               {{0, 91, "firing"},   // for 0: fires at once
                {10, 85, "firing"},  // below 90 but above 80: still firing
                {20, 81, "firing"},
                {30, 80, "inactive"},  // not above 80 any more: resolved
                {40, 85, "inactive"},  // above the clear, below the threshold: nothing
                {50, 90.5, "firing"}});
  CHECK(t ==
        std::vector<std::string>{"inactive>firing@0", "firing>inactive@30", "inactive>firing@50"});
  // Without a clear threshold it resolves as soon as the condition fails.
  const Condition no_clear{ConditionFn::kValue, 0, CompareOp::kGreater, 90, std::nullopt};
  CHECK(run(no_clear, 0, {{0, 91, "firing"}, {10, 89, "inactive"}}) ==
        std::vector<std::string>{"inactive>firing@0", "firing>inactive@10"});
}

TEST_CASE("threshold state: a below-threshold rule clears above its clear value",
          "[alerts][state]") {
  // Free disk below 10 % fires; it clears only above 15 %.
  const Condition low{ConditionFn::kValue, 0, CompareOp::kLess, 10, 15};
  auto t = run(low, 0, {{0, 9, "firing"}, {10, 12, "firing"}, {20, 16, "inactive"}});
  CHECK(t == std::vector<std::string>{"inactive>firing@0", "firing>inactive@20"});
}

TEST_CASE("threshold state: old observations and NaN change nothing", "[alerts][state]") {
  ThresholdState s;
  CHECK(observe(s, kCpuHigh, 0, 100'000, 95));
  CHECK(s.phase == ThresholdPhase::kFiring);
  // A late sample from before the newest one does not resolve the alert...
  CHECK_FALSE(observe(s, kCpuHigh, 0, 50'000, 10));
  CHECK(s.phase == ThresholdPhase::kFiring);
  // ...nor does a NaN.
  CHECK_FALSE(observe(s, kCpuHigh, 0, 110'000, std::numeric_limits<double>::quiet_NaN()));
  CHECK(s.phase == ThresholdPhase::kFiring);
  CHECK(s.last_ms == 100'000);
  // A real value after it does.
  auto t = observe(s, kCpuHigh, 0, 120'000, 10);
  REQUIRE(t);
  CHECK(t->to == ThresholdPhase::kInactive);
  CHECK(sizeof(ThresholdState) <= 24);
}
