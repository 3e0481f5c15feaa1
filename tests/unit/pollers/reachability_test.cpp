// Up/down from consecutive cycles and flap damping.
#include "pollers/detail/reachability.hpp"

#include <catch2/catch.hpp>

using netpulse::pollers::detail::Reachability;
using netpulse::pollers::detail::ReachabilityOptions;

TEST_CASE("reachability: down after N failed cycles, up after one answer", "[pollers]") {
  ReachabilityOptions o;  // down_after 3, up_after 1
  Reachability r;
  CHECK(r.observe(true, 0, o) == true);  // the first verdict decides
  CHECK_FALSE(r.observe(false, 60, o));
  CHECK_FALSE(r.observe(false, 120, o));
  CHECK_FALSE(r.observe(true, 180, o));  // an answer resets the count
  CHECK_FALSE(r.observe(false, 240, o));
  CHECK_FALSE(r.observe(false, 300, o));
  CHECK(r.observe(false, 360, o) == false);
  CHECK_FALSE(r.observe(false, 420, o));  // already down: no new change
  CHECK(r.observe(true, 480, o) == true);
  Reachability fresh;
  CHECK(fresh.observe(false, 0, o) == false);  // unknown -> down at once
}

TEST_CASE("reachability: a flapping device needs several answers to come back up", "[pollers]") {
  ReachabilityOptions o;
  o.down_after = 1;
  o.flap_changes = 4;
  o.flap_window_s = 600;
  o.flap_up_after = 3;
  Reachability r;
  r.observe(true, 0, o);
  std::int64_t t = 0;
  // up/down four times within ten minutes.
  for (int i = 0; i < 2; ++i) {
    CHECK(r.observe(false, t += 30, o) == false);
    CHECK(r.observe(true, t += 30, o) == true);
  }
  CHECK(r.flapping(t, o));
  CHECK(r.observe(false, t += 30, o) == false);
  CHECK_FALSE(r.observe(true, t += 30, o));
  CHECK_FALSE(r.observe(true, t += 30, o));
  CHECK(r.observe(true, t += 30, o) == true);  // the third answer in a row
  // Long after, the damping has expired.
  t += 3600;
  CHECK_FALSE(r.flapping(t, o));
  CHECK(r.observe(false, t += 30, o) == false);
  CHECK(r.observe(true, t += 30, o) == true);
}
