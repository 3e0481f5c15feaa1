// One threshold alert's state machine (threshold_state.hpp): pending while the for-duration runs,
// firing after it, resolved past the clear threshold (hysteresis).
#include <cmath>

#include <netpulse/alerts/threshold_state.hpp>

namespace netpulse::alerts {

std::string_view threshold_phase_name(ThresholdPhase p) noexcept {
  switch (p) {
    case ThresholdPhase::kInactive:
      return "inactive";
    case ThresholdPhase::kPending:
      return "pending";
    case ThresholdPhase::kFiring:
      return "firing";
  }
  return "inactive";
}

std::optional<ThresholdTransition> observe(ThresholdState& state, const Condition& condition,
                                           std::int64_t for_ms, std::int64_t at_ms, double value) {
  if (at_ms < state.last_ms || std::isnan(value)) return std::nullopt;
  state.last_ms = at_ms;
  auto move_to = [&](ThresholdPhase to) {
    ThresholdTransition t{state.phase, to, at_ms, value};
    state.phase = to;
    state.since_ms = at_ms;
    return t;
  };
  const bool meets = compare(condition.op, value, condition.value);
  switch (state.phase) {
    case ThresholdPhase::kInactive:
      if (!meets) return std::nullopt;
      return move_to(for_ms <= 0 ? ThresholdPhase::kFiring : ThresholdPhase::kPending);
    case ThresholdPhase::kPending: {
      if (!meets) return move_to(ThresholdPhase::kInactive);
      if (at_ms - state.since_ms < for_ms) return std::nullopt;
      return move_to(ThresholdPhase::kFiring);
    }
    case ThresholdPhase::kFiring: {
      const double clear_at = condition.clear.value_or(condition.value);
      if (compare(condition.op, value, clear_at)) return std::nullopt;
      return move_to(ThresholdPhase::kInactive);
    }
  }
  return std::nullopt;
}

}  // namespace netpulse::alerts
