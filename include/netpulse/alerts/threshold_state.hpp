// The state machine of one threshold alert on one series: inactive → pending → firing → inactive
// (resolved), driven by observations with their own times — evaluation takes the time as an
// argument (as Prometheus' rules do), so a test runs hours of for-durations in microseconds and
// the engine can replay samples in time order. The per-series state is ThresholdState: 24 bytes.
//
// - inactive: a value that meets the condition starts `pending` (or `firing` at once when the
//   for-duration is 0);
// - pending: a value that no longer meets it returns to `inactive`; one that still meets it once
//   the for-duration has passed since the first fires;
// - firing: the alert holds while the value stays beyond the clear threshold (the condition's
//   own threshold when it has no `clear`); a value that does not resolves it.
// An observation older than the state's last one is ignored (the state never goes back in time).
#pragma once

#include <cstdint>
#include <optional>

#include <netpulse/alerts/rule.hpp>

namespace netpulse::alerts {

enum class ThresholdPhase : std::uint8_t { kInactive, kPending, kFiring };
std::string_view threshold_phase_name(ThresholdPhase p) noexcept;  // "inactive", ...

struct ThresholdState {
  std::int64_t since_ms = 0;  // pending: when the condition began; firing: when it fired
  std::int64_t last_ms = 0;   // the newest observation taken
  ThresholdPhase phase = ThresholdPhase::kInactive;
};

struct ThresholdTransition {
  ThresholdPhase from = ThresholdPhase::kInactive;
  ThresholdPhase to = ThresholdPhase::kInactive;
  std::int64_t at_ms = 0;
  double value = 0;
};

// Feeds the value the condition's fn produced at `at_ms` (a raw value, a rate or a window
// aggregate: computing it is the caller's part). Returns the transition it caused, if any.
std::optional<ThresholdTransition> observe(ThresholdState& state, const Condition& condition,
                                           std::int64_t for_ms, std::int64_t at_ms, double value);

}  // namespace netpulse::alerts
