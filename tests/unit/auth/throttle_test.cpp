// Login throttling with a ManualClock: lock after the threshold, doubling back-off, the cap,
// reset on success, accounts locked per source address (an attacker at one address cannot lock
// the user out at another), sources counted separately and per /64 for IPv6, unlocks, and
// bounded memory.
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
  CHECK(t.record_failure("a@example.com", "10.0.0.1"));  // 3rd: 1 s
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 1);
  CHECK(t.remaining_s("a@example.com", "10.0.0.9") == 0);  // locked for that address only
  clock.advance(seconds(1));
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 0);
  CHECK_FALSE(t.record_failure("a@example.com", "10.0.0.1"));  // 4th: 2 s
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 2);
  clock.advance(seconds(2));
  t.record_failure("a@example.com", "10.0.0.1");  // 5th: 4 s
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 4);
  clock.advance(std::chrono::milliseconds(500));
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 4);  // rounded up
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
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 1);
  t.record_success("A@example.com", "10.0.0.1");
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 0);
  t.record_failure("a@example.com", "10.0.0.1");  // 1st account failure again, 4th for the IP
  CHECK(t.pair_remaining_s("a@example.com", "10.0.0.1") == 0);
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

TEST_CASE(
    "throttle: an attacker failing forever at one address never locks the user out at another",
    "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  auto o = options();
  o.max = seconds(900);
  LoginThrottle t(clock, o);
  // A wrong password every time the lock allows it, for two days.
  int failures = 0;
  for (int step = 0; step < 2 * 24 * 3600; step += 30) {
    if (t.remaining_s("admin@isp.example", "203.0.113.66") == 0) {
      t.record_failure("admin@isp.example", "203.0.113.66");
      ++failures;
      // The attacker stays locked out after every failure past the threshold.
      if (failures >= o.account_failures) {
        CHECK(t.remaining_s("admin@isp.example", "203.0.113.66") > 0);
      }
    }
    // The administrator, at the office, is never made to wait.
    REQUIRE(t.remaining_s("admin@isp.example", "198.51.100.7") == 0);
    clock.advance(seconds(30));
  }
  CHECK(failures > 100);
}

TEST_CASE("throttle: IPv6 sources count per /64, IPv4-mapped as IPv4", "[auth][throttle]") {
  CHECK(LoginThrottle::source_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  CHECK(LoginThrottle::source_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64");
  CHECK(LoginThrottle::source_key("::ffff:192.0.2.1") == "192.0.2.1");
  CHECK(LoginThrottle::source_key("192.0.2.1") == "192.0.2.1");
  CHECK(LoginThrottle::source_key("not-an-address") == "not-an-address");

  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  // Rotating through the addresses of one /64 does not buy fresh attempts.
  for (int i = 1; i <= 3; ++i) {
    t.record_failure("a@example.com", "2001:db8:1:2::" + std::to_string(i));
  }
  CHECK(t.remaining_s("a@example.com", "2001:db8:1:2::ffff") == 1);
  CHECK(t.remaining_s("a@example.com", "2001:db8:1:3::1") == 0);
}

TEST_CASE("throttle: an unlock forgives the failures before it, not those after",
          "[auth][throttle]") {
  netpulse::core::ManualClock clock;
  LoginThrottle t(clock, options());
  for (int i = 0; i < 3; ++i) t.record_failure("a@example.com", "10.0.0.1");
  REQUIRE(t.remaining_s("a@example.com", "10.0.0.1") == 1);
  const auto unlocked_at = clock.unix_millis() - 1;  // an unlock older than the failures
  t.forgive("a@example.com", "10.0.0.1", unlocked_at);
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 1);
  clock.advance(std::chrono::milliseconds(10));
  t.forgive("A@example.com", "10.0.0.1", clock.unix_millis());
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 0);
  // Counting starts again from nothing.
  t.record_failure("a@example.com", "10.0.0.1");
  CHECK(t.remaining_s("a@example.com", "10.0.0.1") == 0);
}
