// Time, injected. Every module takes a `Clock&`; production passes SystemClock, tests pass
// ManualClock and move time by hand, so hours of timers run in milliseconds with no sleep.
// SteadyTime (monotonic: durations, deadlines) and SystemTime (wall clock: timestamps shown to
// people, token expiry) are distinct types so they cannot be mixed up.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace netpulse::core {

using SteadyTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic now. Thread-safe.
  virtual SteadyTime steady_now() const noexcept = 0;
  // Wall-clock now. Thread-safe.
  virtual SystemTime system_now() const noexcept = 0;

  // Wall clock as whole seconds / milliseconds since the Unix epoch.
  std::int64_t unix_seconds() const noexcept;
  std::int64_t unix_millis() const noexcept;
};

// The real clocks.
class SystemClock final : public Clock {
 public:
  SteadyTime steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
  SystemTime system_now() const noexcept override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told. Both time lines advance together. Thread-safe.
class ManualClock final : public Clock {
 public:
  // Starts at the given wall time (default 2026-01-01T00:00:00Z).
  explicit ManualClock(SystemTime start = SystemTime(std::chrono::seconds(1767225600)));
  SteadyTime steady_now() const noexcept override;
  SystemTime system_now() const noexcept override;
  void advance(std::chrono::nanoseconds d) noexcept;
  void set_system(SystemTime t) noexcept;

 private:
  std::atomic<std::int64_t> steady_ns_{0};
  std::atomic<std::int64_t> system_ns_;
};

// RFC 3339 UTC with milliseconds: "2026-01-15T10:30:00.123Z".
std::string format_rfc3339(SystemTime t);
// RFC 3339 UTC from Unix seconds: "2026-01-15T10:30:00Z".
std::string format_rfc3339_seconds(std::int64_t unix_seconds);

}  // namespace netpulse::core
