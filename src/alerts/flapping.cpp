// Flap detection for one alert (flapping.hpp): a ring of its last N + 1 change times, flapping
// from the (N + 1)th change within W until the changes within W fall to N / 2.
#include <algorithm>

#include <netpulse/alerts/flapping.hpp>

namespace netpulse::alerts {

FlapDetector::FlapDetector(int max_changes, std::int64_t window_ms) noexcept
    : window_ms_(std::max<std::int64_t>(1, window_ms)),
      max_changes_(static_cast<std::uint8_t>(std::clamp(max_changes, 1, kMaxChanges))) {}

int FlapDetector::changes_in_window(std::int64_t now_ms) const noexcept {
  const int capacity = max_changes_ + 1;
  int n = 0;
  // Walk back from the newest change; times only grow, so the first one out of the window ends it.
  for (int k = 1; k <= held_; ++k) {
    const std::int64_t at = changes_[static_cast<std::size_t>((next_ - k + capacity) % capacity)];
    if (at > now_ms) continue;  // asked about a time before this change
    if (at <= now_ms - window_ms_) break;
    ++n;
  }
  return n;
}

bool FlapDetector::record_change(std::int64_t at_ms) noexcept {
  const int capacity = max_changes_ + 1;
  if (held_ > 0 && at_ms < changes_[static_cast<std::size_t>((next_ - 1 + capacity) % capacity)]) {
    return flapping_;
  }
  changes_[next_] = at_ms;
  next_ = static_cast<std::uint8_t>((next_ + 1) % capacity);
  if (held_ < capacity) ++held_;
  if (changes_in_window(at_ms) > max_changes_) flapping_ = true;
  return flapping(at_ms);
}

bool FlapDetector::flapping(std::int64_t now_ms) noexcept {
  if (flapping_ && changes_in_window(now_ms) <= max_changes_ / 2) flapping_ = false;
  return flapping_;
}

}  // namespace netpulse::alerts
