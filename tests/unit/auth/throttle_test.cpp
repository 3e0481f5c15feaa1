// Login throttling with a ManualClock: lock after the threshold, doubling back-off, the cap,
// reset on success, IPs counted separately, and bounded memory.
#include "auth/detail/throttle.hpp"

#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>

using netpulse::auth::detail::LoginThrottle;
using netpulse::auth::detail::ThrottleOptions;
using std::chrono::seconds;

namespace {
ThrottleOptions options() {
  ThrottleOptions o;
  o.account_failures = 3;
  o.ip_failures = 10;
  o.base = seconds(1);
  o.max = seconds(60);
  return o;
}
}  // namespace

TEST_CASE("throttle: an account locks after the threshold and backs off exponentially",
          "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  t.record_failure("a@example.com", "10.0.0.1");
  t.record_failure("a@example.com", "10.0.0.1");
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 0);
  t.record_failure("a@example.com", "10.0.0.1");  // 3rd: 1 s
  CHECK(t.remaining_s("a@example.com", "10.0.0.9") == 1);
  clock.advance(seconds(1));
  CHECK(t.remaining_s("a@example.com", "10.0.0.9") == 0);
  t.record_failure("a@example.com", "10.0.0.1");  // 4th: 2 s
  CHECK(t.remaining_s("a@example.com", "") == 2);
  clock.advance(seconds(2));
  t.record_failure("a@example.com", "10.0.0.1");  // 5th: 4 s
  CHECK(t.remaining_s("a@example.com", "") == 4);
  clock.advance(std::chrono::milliseconds(500));
  CHECK(t.remaining_s("a@example.com", "") == 4);  // rounded up
  // Another account is not affected.
  CHECK(t.remaining_s("b@example.com", "10.0.0.2") == 0);
}

TEST_CASE("throttle: accounts match case-insensitively", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  t.record_failure("Alice@Example.com", "");
  t.record_failure("alice@example.com", "");
  t.record_failure("ALICE@EXAMPLE.COM", "");
  CHECK(t.remaining_s("alice@example.com", "") == 1);
}

TEST_CASE("throttle: the back-off is capped at the maximum", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  for (int i = 0; i < 100; ++i) t.record_failure("a@example.com", "");
  CHECK(t.remaining_s("a@example.com", "") == 60);
  clock.advance(seconds(59));
  CHECK(t.remaining_s("a@example.com", "") == 1);
  clock.advance(seconds(1));
  CHECK(t.remaining_s("a@example.com", "") == 0);
}

TEST_CASE("throttle: success resets the account but not the IP", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  auto o = options();
  o.ip_failures = 4;
  LoginThrottle t(clock, o);
  for (int i = 0; i < 3; ++i) t.record_failure("a@example.com", "10.0.0.1");
  CHECK(t.remaining_s("a@example.com", "") == 1);
  t.record_success("A@example.com");
  CHECK(t.remaining_s("a@example.com", "") == 0);
  t.record_failure("a@example.com", "10.0.0.1");  // 1st account failure again, 4th for the IP
  CHECK(t.remaining_s("a@example.com", "") == 0);
  CHECK(t.remaining_s("someone@example.com", "10.0.0.1") == 1);
}

TEST_CASE("throttle: an IP guessing across many accounts is locked", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  for (int i = 0; i < 9; ++i) t.record_failure("user" + std::to_string(i) + "@x", "192.0.2.1");
  CHECK(t.remaining_s("fresh@x", "192.0.2.1") == 0);
  t.record_failure("user9@x", "192.0.2.1");
  CHECK(t.remaining_s("fresh@x", "192.0.2.1") == 1);
  CHECK(t.remaining_s("fresh@x", "192.0.2.2") == 0);
}

TEST_CASE("throttle: failures are forgotten after a quiet period", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  t.record_failure("a@example.com", "");
  t.record_failure("a@example.com", "");
  clock.advance(seconds(61));  // past `max` since the last failure
  t.record_failure("a@example.com", "");
  CHECK(t.remaining_s("a@example.com", "") == 0);  // counted from 1 again
}

TEST_CASE("throttle: memory stays bounded, evicting the oldest entries", "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  auto o = options();
  o.max_entries = 100;
  LoginThrottle t(clock, o);
  for (int i = 0; i < 3; ++i) t.record_failure("victim@x", "");
  for (int i = 0; i < 1000; ++i) {
    t.record_failure("spray" + std::to_string(i) + "@x", "198.51.100." + std::to_string(i % 250));
    clock.advance(std::chrono::milliseconds(1));
  }
  CHECK(t.size() <= 200);
  // Stale entries go too: after a quiet period one failure sweeps them.
  clock.advance(seconds(120));
  t.record_failure("late@x", "203.0.113.1");
  CHECK(t.size() == 2);
}
