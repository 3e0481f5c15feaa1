// The per-second rate of a counter (src/alerts/counter_rate.cpp): steady counting, 32- and 64-bit
// wraps, resets, gaps, and the samples it must ignore.
#include <cmath>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/alerts/counter_rate.hpp>

using netpulse::alerts::CounterRate;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;  // 2027-01-15, a Unix-ms time of today's size
constexpr double kTwo32 = 4294967296.0;
constexpr double kTwo53 = 9007199254740992.0;
constexpr double kTwo64 = 18446744073709551616.0;

struct Sample {
  std::int64_t at_s;  // seconds after kT0
  double value;
  std::optional<double> rate;  // what observe() must return for it
};

void run(CounterRate& c, const std::vector<Sample>& samples) {
  for (const auto& s : samples) {
    INFO("t=" << s.at_s << " s, value " << s.value);
    const auto r = c.observe(kT0 + s.at_s * 1000, s.value);
    REQUIRE(r.has_value() == s.rate.has_value());
    if (r) CHECK(*r == *s.rate);  // exact: every case is chosen to be exact in doubles
  }
}

}  // namespace

TEST_CASE("counter rate: table of counters, wraps and resets", "[alerts][rate]") {
  struct Case {
    const char* name;
    std::vector<Sample> samples;
  };
  const std::vector<Case> cases{
      {"steady", {{0, 1000, {}}, {10, 2000, 100}, {20, 3000, 100}, {30, 3500, 50}}},
      {"flat", {{0, 7, {}}, {60, 7, 0}}},
      {"32-bit wrap", {{0, 4294967000, {}}, {10, 200, (296.0 + 200) / 10}}},
      {"32-bit wrap from the top", {{0, kTwo32 - 1, {}}, {1, 0, 1}}},
      {"64-bit wrap", {{0, kTwo64 - 4096, {}}, {4, 1024, (4096.0 + 1024) / 4}}},
      {"reset to 0", {{0, 500000, {}}, {10, 0, 0}, {20, 100, 10}}},
      {"reset to a small value", {{0, 1000, {}}, {10, 30, 3}}},
      // 3e9 -> 100 could be either; the half-range rule calls it a wrap (documented).
      {"32-bit: a drop from above 2^31 reads as a wrap",
       {{0, 3e9, {}}, {2, 100, (kTwo32 - 3e9 + 100) / 2}}},
      // Above 2^32 the counter is a Counter64: a drop is a reset unless it is near 2^64.
      {"64-bit counter reset", {{0, 5e12, {}}, {10, 2000, 200}}},
      {"counter above 2^53 moves in steps of 2",
       {{0, kTwo53 - 10, {}}, {10, kTwo53 + 90, 10}, {20, kTwo53 + 290, 20}}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      CounterRate rate;
      run(rate, c.samples);
    }
  }
}

TEST_CASE("counter rate: late, duplicate and bad samples are ignored", "[alerts][rate]") {
  CounterRate c;
  run(c, {{0, 100, {}},
          {10, 200, 10},
          {10, 900, {}},    // duplicate time: ignored, the state keeps 200 at 10 s
          {5, 150, {}},     // late: ignored
          {20, 300, 10}});  // still measured from 200 at 10 s
  CHECK_FALSE(c.observe(kT0 + 30'000, std::nan("")));
  CHECK_FALSE(c.observe(kT0 + 31'000, INFINITY));
  CHECK_FALSE(c.observe(kT0 + 32'000, -1));
  // The bad samples left no trace: the next rate is from 300 at 20 s.
  CHECK(c.observe(kT0 + 40'000, 500) == 10);
}

TEST_CASE("counter rate: a gap longer than max_gap gives no rate and re-primes", "[alerts][rate]") {
  CounterRate c(60'000);
  CHECK_FALSE(c.primed());
  run(c, {{0, 0, {}},
          {60, 600, 10},      // exactly max_gap: still a rate
          {121, 1210, {}},    // 61 s: a gap, only primes
          {131, 1310, 10}});  // measured from the re-primed sample
  CHECK(c.primed());
}

TEST_CASE("counter rate: 24 bytes per series", "[alerts][rate]") {
  STATIC_REQUIRE(sizeof(CounterRate) <= 24);
}
