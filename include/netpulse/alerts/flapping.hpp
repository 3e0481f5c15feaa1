// FlapDetector: whether one alert (one rule on one series) is flapping — changing state more
// than N times within the last W — so the engine can mark it and hold its notifications instead
// of paging on every flip.
//
// - The changes counted are those in (now - W, now]: a change exactly W old has left the window.
// - Flapping starts at the change that makes N + 1 changes within W (record_change returns true).
// - It settles (hysteresis) once the changes within W drop to N / 2 or fewer (rounded down), so an
//   alert that keeps flipping at a rate just under N per W stays marked instead of blinking
//   between flapping and not, which is exactly the noise the mark is there to stop.
// - Default N = 6 in W = 20 minutes: three fire/resolve cycles in 20 minutes. With the usual 1 to
//   5 minute evaluation and for-durations, a real outage and its recovery make two changes; six
//   take a condition that keeps crossing its threshold. (Nagios' default flap detection — 21
//   checks, 20 %..50 % of them state changes — comes to a similar 4 to 10 changes.)
//
// Bounded: a ring of the last N + 1 change times (N at most kMaxChanges). 144 bytes per alert; no
// allocation. Times are Unix ms given by the caller; a change older than the newest recorded one
// is ignored.
#pragma once

#include <array>
#include <cstdint>

namespace netpulse::alerts {

class FlapDetector {
 public:
  static constexpr int kMaxChanges = 15;  // N's largest value (the ring holds N + 1)
  static constexpr int kDefaultChanges = 6;
  static constexpr std::int64_t kDefaultWindowMs = std::int64_t{20} * 60'000;

  // `max_changes` (N) is clamped to 1..kMaxChanges; `window_ms` (W) to at least 1.
  explicit FlapDetector(int max_changes = kDefaultChanges,
                        std::int64_t window_ms = kDefaultWindowMs) noexcept;

  // Records a state change of the alert at `at_ms`; returns whether the alert is now flapping.
  bool record_change(std::int64_t at_ms) noexcept;

  // Whether the alert is flapping at `now_ms`: settles (returns false from then on) once the
  // changes within W are N / 2 or fewer. Call it on the engine's tick as well as on changes.
  bool flapping(std::int64_t now_ms) noexcept;

  // The number of changes within (now_ms - W, now_ms], up to N + 1 (the ring's capacity).
  int changes_in_window(std::int64_t now_ms) const noexcept;

 private:
  std::array<std::int64_t, kMaxChanges + 1> changes_{};  // ring of the newest change times
  std::int64_t window_ms_;                               // W
  std::uint8_t max_changes_;                             // N
  std::uint8_t next_ = 0;                                // the ring slot the next change takes
  std::uint8_t held_ = 0;                                // how many slots hold a change (<= N + 1)
  bool flapping_ = false;
};

}  // namespace netpulse::alerts
