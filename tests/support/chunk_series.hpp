// Realistic sample series for the chunk encoding's size checks (tests/unit/tsdb/chunk_test.cpp)
// and its size report (bench/chunk_size.cpp): poll times with jitter, ifHCInOctets-like counters,
// two-decimal gauges, constants, and the bytes per sample the encoder spends on them. Header-only
// and free of Catch, so a bench program can use it.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <netpulse/tsdb/chunk.hpp>

namespace netpulse::test {

// 2023-11-14, a realistic epoch-ms timestamp: where every series here starts.
inline constexpr tsdb::Timestamp kSeriesStart = 1'700'000'000'000;

// Equality that tells -0.0 from 0.0 and compares values by their IEEE-754 bit patterns.
inline bool same_bits(const std::vector<tsdb::Sample>& a, const std::vector<tsdb::Sample>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t ||
        std::bit_cast<std::uint64_t>(a[i].v) != std::bit_cast<std::uint64_t>(b[i].v)) {
      return false;
    }
  }
  return true;
}

// Poll times every `interval` ms from kSeriesStart, each off by a uniform jitter in
// [-jitter, +jitter] ms.
inline std::vector<tsdb::Timestamp> jittered_times(std::size_t n, tsdb::Timestamp interval,
                                                   tsdb::Timestamp jitter, std::mt19937_64& rng) {
  std::uniform_int_distribution<tsdb::Timestamp> offset(-jitter, jitter);
  std::vector<tsdb::Timestamp> times;
  for (std::size_t i = 0; i < n; ++i) {
    times.push_back(kSeriesStart + static_cast<tsdb::Timestamp>(i) * interval + offset(rng));
  }
  return times;
}

// An ifHCInOctets-like counter: an integer that grows by `bytes_per_s` (wobbling by +-2%) times
// the real time between polls, so poll jitter shows up in the increments as it does on a device.
inline std::vector<tsdb::Sample> counter_series(const std::vector<tsdb::Timestamp>& times,
                                                double start, double bytes_per_s,
                                                std::mt19937_64& rng) {
  std::uniform_real_distribution<double> wobble(0.98, 1.02);
  std::vector<tsdb::Sample> out;
  double value = start;
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (i > 0) {
      const double seconds = static_cast<double>(times[i] - times[i - 1]) / 1000.0;
      value += std::floor(bytes_per_s * wobble(rng) * seconds);
    }
    out.push_back({times[i], value});
  }
  return out;
}

// A gauge with two decimals (temperature, latency in ms) doing a random walk.
inline std::vector<tsdb::Sample> random_walk_2dp(const std::vector<tsdb::Timestamp>& times,
                                                 double start, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> step_cents(-50, 50);
  std::vector<tsdb::Sample> out;
  long long cents = std::llround(start * 100);
  for (tsdb::Timestamp t : times) {
    out.push_back({t, static_cast<double>(cents) / 100.0});
    cents += step_cents(rng);
  }
  return out;
}

inline std::vector<tsdb::Sample> constant_series(const std::vector<tsdb::Timestamp>& times,
                                                 double value) {
  std::vector<tsdb::Sample> out;
  for (tsdb::Timestamp t : times) out.push_back({t, value});
  return out;
}

// Bytes per sample of `samples` cut into chunks of `per_chunk`, as the encoder writes them or,
// with `compact`, as the store keeps them once sealed (compact_chunk). nullopt when a sample is
// refused or a chunk does not decode to exactly its samples.
inline std::optional<double> bytes_per_sample(
    const std::vector<tsdb::Sample>& samples, std::size_t per_chunk,
    tsdb::ChunkEncoding preferred = tsdb::ChunkEncoding::kIntegerDelta, bool compact = false) {
  std::size_t total = 0;
  for (std::size_t begin = 0; begin < samples.size(); begin += per_chunk) {
    const std::size_t end = std::min(samples.size(), begin + per_chunk);
    const std::vector<tsdb::Sample> part(samples.begin() + static_cast<std::ptrdiff_t>(begin),
                                         samples.begin() + static_cast<std::ptrdiff_t>(end));
    tsdb::ChunkEncoder encoder(preferred);
    for (const tsdb::Sample& s : part) {
      if (!encoder.append(s)) return std::nullopt;
    }
    std::string bytes(encoder.bytes());
    if (compact) bytes = tsdb::compact_chunk(bytes);
    auto decoded = tsdb::decode_chunk(bytes);
    if (!decoded || !same_bits(*decoded, part)) return std::nullopt;
    total += bytes.size();
  }
  return static_cast<double>(total) / static_cast<double>(samples.size());
}

}  // namespace netpulse::test
