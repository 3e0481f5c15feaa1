// bench/chunk_size — the chunk encoding's bytes per sample on 24 h of 60 s data, in both value
// encodings and as sealed (compact_chunk), for the datasets of the size budgets (see
// docs/format/chunk.md). The budgets themselves are checked by tests/unit/tsdb/chunk_test.cpp;
// this prints the whole table. Run by bench/tsdb_micro.sh; exits 1 if a chunk does not round-trip.
#include <cstdio>
#include <random>
#include <vector>

#include <netpulse/tsdb/chunk.hpp>

#include "support/chunk_series.hpp"

using netpulse::tsdb::ChunkEncoding;
using netpulse::tsdb::Sample;
using netpulse::tsdb::Timestamp;
namespace test = netpulse::test;

namespace {

constexpr Timestamp kMinute = 60'000;
constexpr std::size_t kDaySamples = 1440;
constexpr std::size_t kSealEvery = 120;

std::vector<Timestamp> day_times(Timestamp jitter_ms, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return test::jittered_times(kDaySamples, kMinute, jitter_ms, rng);
}

std::vector<Sample> steady_counter(double bytes_per_s, Timestamp jitter_ms) {
  std::mt19937_64 rng(11);
  const auto times = day_times(jitter_ms, 10);
  return test::counter_series(times, 1.1e12, bytes_per_s, rng);
}

bool failed = false;

void row(const char* name, const std::vector<Sample>& samples) {
  const auto xor_only = test::bytes_per_sample(samples, kSealEvery, ChunkEncoding::kXorFloat);
  const auto chosen = test::bytes_per_sample(samples, kSealEvery);
  const auto sealed =
      test::bytes_per_sample(samples, kSealEvery, ChunkEncoding::kIntegerDelta, true);
  if (!xor_only || !chosen || !sealed) {
    std::printf("%-52s a chunk did not round-trip\n", name);
    failed = true;
    return;
  }
  std::printf("%-52s %9.3f %9.3f %9.3f\n", name, *xor_only, *chosen, *sealed);
}

}  // namespace

int main() {
  std::mt19937_64 rng(13);
  std::printf("24 h at 60 s = %zu samples, sealed every %zu samples (%zu chunks); bytes/sample\n",
              kDaySamples, kSealEvery, kDaySamples / kSealEvery);
  std::printf("%-52s %9s %9s %9s\n", "dataset", "XOR only", "chosen", "sealed");
  for (double rate : {1e2, 8e3, 1e5, 1.25e6, 1.25e8}) {
    char name[80];
    std::snprintf(name, sizeof name, "(a) counter %.3g B/s, jitter +-100 ms", rate);
    row(name, steady_counter(rate, 100));
  }
  for (double rate : {1e2, 8e3, 1.25e8}) {
    char name[80];
    std::snprintf(name, sizeof name, "(a) counter %.3g B/s, exact 60 s", rate);
    row(name, steady_counter(rate, 0));
  }
  row("(b) constant gauge, exact 60 s", test::constant_series(day_times(0, 12), 1.0));
  row("(b) constant gauge, jitter +-100 ms", test::constant_series(day_times(100, 12), 1.0));
  row("(c) 2-decimal random walk, exact 60 s", test::random_walk_2dp(day_times(0, 14), 21.5, rng));
  row("(c) 2-decimal random walk, jitter +-100 ms",
      test::random_walk_2dp(day_times(100, 14), 21.5, rng));
  row("(c) 2-decimal random walk, jitter +-2 s",
      test::random_walk_2dp(day_times(2'000, 14), 21.5, rng));
  std::uniform_int_distribution<int> load(0, 100);
  std::vector<Sample> cpu;
  for (Timestamp t : day_times(0, 15)) cpu.push_back({t, static_cast<double>(load(rng))});
  row("CPU % as integers (hrProcessorLoad), exact 60 s", cpu);
  return failed ? 1 : 0;
}
