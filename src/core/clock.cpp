// The system and manual clocks, and RFC 3339 formatting of wall time.
#include <ctime>

#include <fmt/format.h>

#include <netpulse/core/clock.hpp>

namespace netpulse::core {

std::int64_t Clock::unix_seconds() const noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(system_now().time_since_epoch()).count();
}

std::int64_t Clock::unix_millis() const noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(system_now().time_since_epoch())
      .count();
}

ManualClock::ManualClock(SystemTime start)
    : system_ns_(
          std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}

SteadyTime ManualClock::steady_now() const noexcept {
  // Offset so that steady time never equals the default-constructed (zero) time point.
  return SteadyTime(std::chrono::nanoseconds(steady_ns_.load() + 1'000'000'000));
}

SystemTime ManualClock::system_now() const noexcept {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::nanoseconds(system_ns_.load())));
}

void ManualClock::advance(std::chrono::nanoseconds d) noexcept {
  steady_ns_ += d.count();
  system_ns_ += d.count();
}

void ManualClock::set_system(SystemTime t) noexcept {
  system_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

namespace {
std::tm utc_tm(std::int64_t secs) {
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
}  // namespace

std::string format_rfc3339(SystemTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = ms / 1000;
  auto frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  auto tm = utc_tm(secs);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string format_rfc3339_seconds(std::int64_t unix_seconds) {
  auto tm = utc_tm(unix_seconds);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace netpulse::core
