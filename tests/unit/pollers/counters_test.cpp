// Counter rates: plain increases, 32-bit wraps, resets, and implausible wraps.
#include "pollers/detail/counters.hpp"

#include <catch2/catch.hpp>

using netpulse::pollers::detail::counter_increase;
using netpulse::pollers::detail::octet_rate_bps;

TEST_CASE("counters: increases, 32-bit wraps and resets", "[pollers]") {
  CHECK(counter_increase(100, 700, false, 60, 0) == 600.0);
  // A 32-bit counter passing 2^32: 0xFFFFFF00 -> 0x100 is 0x200 octets.
  CHECK(counter_increase(0xFFFFFF00ull, 0x100, false, 60, 0) == 512.0);
  // The same drop on a 64-bit counter is a reset: no increase for that interval.
  CHECK_FALSE(counter_increase(0xFFFFFF00ull, 0x100, true, 60, 0));
  CHECK(counter_increase(1ull << 63, (1ull << 63) + 5, true, 60, 0) == 5.0);
  // A wrap implying more than the line can carry is a reset (an agent restart near zero).
  CHECK_FALSE(counter_increase(1000, 10, false, 60, 1e3));
  CHECK(counter_increase(0xFFFFFFF0ull, 10, false, 60, 1e3) == 26.0);
  CHECK_FALSE(counter_increase(5, 6, false, 0, 0));  // no time passed
}

TEST_CASE("counters: octet rates in bits per second bounded by the line rate", "[pollers]") {
  CHECK(octet_rate_bps(0, 7'500'000, true, 60, 1e9) == Approx(1e6));
  // 100 Mb/s line: 1000 -> 10 as a wrap is ~4.29 GB in 60 s (572 Mb/s): a reset.
  CHECK_FALSE(octet_rate_bps(1000, 10, false, 60, 100e6));
  // 10 Gb/s line: the same wrap is plausible.
  auto r = octet_rate_bps(1000, 10, false, 60, 10e9);
  REQUIRE(r);
  CHECK(*r == Approx((4294967296.0 - 1000 + 10) * 8 / 60));
  // Near the top of the range a wrap is small and plausible on a slow line too.
  CHECK(octet_rate_bps(4'000'000'000ull, 10, false, 60, 100e6));
}
