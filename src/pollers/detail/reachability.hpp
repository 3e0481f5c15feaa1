// Up/down from consecutive ping cycles, with flap damping. A device goes down after
// `down_after` failed cycles in a row and up after `up_after` answered ones; a device that has
// changed state `flap_changes` times within `flap_window` is flapping and needs `flap_up_after`
// answered cycles to come back up, so a bad link raises one alert rather than one a minute.
// Pure logic (no clock of its own: the caller passes the time). Private to the pollers module.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace netpulse::pollers::detail {

struct ReachabilityOptions {
  int down_after = 3;
  int up_after = 1;
  int flap_changes = 4;
  std::int64_t flap_window_s = 600;
  int flap_up_after = 3;
};

class Reachability {
 public:
  // Feeds one cycle's verdict (`answered`: at least one echo came back) at Unix time `t`.
  // Returns the new state (true = up) when it changed, nullopt otherwise. The first verdict
  // decides at once (a fresh device is unknown, not up).
  std::optional<bool> observe(bool answered, std::int64_t t, const ReachabilityOptions& o);

  std::optional<bool> up() const noexcept { return up_; }
  // Whether the state changed flap_changes times within the window ending at `t`.
  bool flapping(std::int64_t t, const ReachabilityOptions& o) const;

 private:
  std::optional<bool> up_;
  int failures_ = 0;                  // consecutive
  int successes_ = 0;                 // consecutive
  std::deque<std::int64_t> changes_;  // times of recent state changes (bounded by flap_changes)
};

}  // namespace netpulse::pollers::detail
