// ManualClock moves only when told, both time lines together; RFC 3339 formatting of wall time.
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>

using namespace std::chrono_literals;
using netpulse::core::ManualClock;
using netpulse::core::SystemTime;

TEST_CASE("manual clock: starts at 2026-01-01 and moves only on advance", "[core][clock]") {
  ManualClock clock;
  CHECK(clock.unix_seconds() == 1767225600);
  CHECK(clock.unix_millis() == 1767225600000);
  auto steady = clock.steady_now();
  CHECK(steady != netpulse::core::SteadyTime{});
  CHECK(clock.steady_now() == steady);

  clock.advance(90min + 250ms);
  CHECK(clock.steady_now() - steady == 90min + 250ms);
  CHECK(clock.unix_millis() == 1767225600000 + 90 * 60'000 + 250);
  CHECK(netpulse::core::format_rfc3339(clock.system_now()) == "2026-01-01T01:30:00.250Z");
}

TEST_CASE("manual clock: set_system moves wall time only", "[core][clock]") {
  ManualClock clock;
  auto steady = clock.steady_now();
  clock.set_system(SystemTime(std::chrono::seconds(0)));
  CHECK(clock.unix_seconds() == 0);
  CHECK(clock.steady_now() == steady);
}

TEST_CASE("format_rfc3339: UTC with milliseconds, including before 1970", "[core][clock]") {
  CHECK(netpulse::core::format_rfc3339(SystemTime(0ms)) == "1970-01-01T00:00:00.000Z");
  CHECK(netpulse::core::format_rfc3339(SystemTime(1768473000123ms)) == "2026-01-15T10:30:00.123Z");
  CHECK(netpulse::core::format_rfc3339(SystemTime(-1ms)) == "1969-12-31T23:59:59.999Z");
  CHECK(netpulse::core::format_rfc3339_seconds(1768473000) == "2026-01-15T10:30:00Z");
  CHECK(netpulse::core::format_rfc3339_seconds(951782400) == "2000-02-29T00:00:00Z");
}
