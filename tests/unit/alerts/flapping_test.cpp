// Flap detection (src/alerts/flapping.cpp): when flapping starts, when it settles, and what never
// counts as flapping.
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/alerts/flapping.hpp>

using netpulse::alerts::FlapDetector;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;
constexpr std::int64_t kMinute = 60'000;

}  // namespace

TEST_CASE("flapping: starts exactly at the (N+1)th change within W", "[alerts][flapping]") {
  FlapDetector f;  // N = 6 in 20 minutes
  // Seven changes one minute apart: the seventh (at 6 min) is the one that makes 7 > 6.
  const std::vector<bool> expected{false, false, false, false, false, false, true};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("change " << i + 1);
    CHECK(f.record_change(kT0 + static_cast<std::int64_t>(i) * kMinute) == expected[i]);
  }
  CHECK(f.changes_in_window(kT0 + 6 * kMinute) == 7);
}

TEST_CASE("flapping: N and W are parameters; the window is (now - W, now]", "[alerts][flapping]") {
  FlapDetector f(3, 10 * kMinute);
  CHECK_FALSE(f.record_change(kT0));
  CHECK_FALSE(f.record_change(kT0 + 1 * kMinute));
  CHECK_FALSE(f.record_change(kT0 + 2 * kMinute));
  // The 4th change exactly W after the first: the first has left the window, so 3 — not flapping.
  CHECK_FALSE(f.record_change(kT0 + 10 * kMinute));
  CHECK(f.changes_in_window(kT0 + 10 * kMinute) == 3);
  // One more within W of the 2nd: 4 changes in (now - W, now].
  CHECK(f.record_change(kT0 + 10 * kMinute + 1));
}

TEST_CASE("flapping: settles once the changes in W fall to N/2, not before", "[alerts][flapping]") {
  FlapDetector f;  // N = 6, W = 20 min: settles at 3 or fewer changes in W
  for (int i = 0; i < 7; ++i) f.record_change(kT0 + i * kMinute);  // changes at 0..6 min
  REQUIRE(f.flapping(kT0 + 6 * kMinute));
  // Quiet afterwards: at 20 min + 2 min the changes at 0, 1, 2 min have left: 4 remain.
  CHECK(f.changes_in_window(kT0 + 22 * kMinute) == 4);
  CHECK(f.flapping(kT0 + 22 * kMinute));  // 4 > 3: still flapping (hysteresis)
  CHECK(f.changes_in_window(kT0 + 23 * kMinute) == 3);
  CHECK_FALSE(f.flapping(kT0 + 23 * kMinute));  // 3 <= 6/2: settled
  // Settled stays settled, even asked about the past.
  CHECK_FALSE(f.flapping(kT0 + 6 * kMinute));
  // A new change does not restart it: (4 min, 24 min] holds 3 changes.
  CHECK_FALSE(f.record_change(kT0 + 24 * kMinute));
}

TEST_CASE("flapping: changes spread wider than W never flap", "[alerts][flapping]") {
  FlapDetector f(6, 20 * kMinute);
  // A change every 4 minutes: 5 in any 20-minute window, for a day.
  for (std::int64_t t = 0; t < 24 * 60 * kMinute; t += 4 * kMinute) {
    CHECK_FALSE(f.record_change(kT0 + t));
    CHECK(f.changes_in_window(kT0 + t) == std::min<std::int64_t>(5, t / (4 * kMinute) + 1));
  }
}

TEST_CASE("flapping: a late change is ignored; N is clamped", "[alerts][flapping]") {
  FlapDetector f(2, 10 * kMinute);
  f.record_change(kT0 + 5 * kMinute);
  f.record_change(kT0 + 6 * kMinute);
  CHECK_FALSE(f.record_change(kT0 + kMinute));  // older than the newest: ignored
  CHECK(f.changes_in_window(kT0 + 6 * kMinute) == 2);
  CHECK(f.record_change(kT0 + 6 * kMinute));  // the same time counts: 3 > 2
  FlapDetector big(100, kMinute);             // clamped to kMaxChanges
  for (int i = 0; i < FlapDetector::kMaxChanges; ++i) CHECK_FALSE(big.record_change(kT0 + i));
  CHECK(big.record_change(kT0 + 100));
}

TEST_CASE("flapping: 144 bytes per alert", "[alerts][flapping]") {
  STATIC_REQUIRE(sizeof(FlapDetector) <= 144);
}
