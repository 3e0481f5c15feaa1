// The Gorilla-style chunk codec: bit-exact round trips on realistic monitoring data, the documented
// byte layout, refusal of inputs the format cannot hold, a table of corruptions that must end in an
// error (or a different result) and never in undefined behaviour, and the bytes/sample it achieves.
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/chunk.hpp>

#include "tsdb/detail/bitstream.hpp"

using netpulse::core::Errc;
using netpulse::tsdb::ChunkDecoder;
using netpulse::tsdb::ChunkEncoder;
using netpulse::tsdb::decode_chunk;
using netpulse::tsdb::kMaxChunkSamples;
using netpulse::tsdb::Sample;
using netpulse::tsdb::Timestamp;

namespace {

constexpr Timestamp kMinute = 60'000;
constexpr Timestamp kDay = 86'400'000;
constexpr Timestamp kStart = 1'700'000'000'000;  // 2023-11-14, a realistic epoch-ms timestamp

std::uint64_t bits_of(double v) {
  return std::bit_cast<std::uint64_t>(v);
}

// Equality that tells -0.0 from 0.0 and compares values by their IEEE-754 bit patterns.
bool same_bits(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t || bits_of(a[i].v) != bits_of(b[i].v)) return false;
  }
  return true;
}

std::string encode(const std::vector<Sample>& samples) {
  ChunkEncoder encoder;
  for (const Sample& s : samples) {
    auto appended = encoder.append(s);
    REQUIRE(appended);
  }
  return std::string(encoder.bytes());
}

std::vector<Sample> stream_decode(std::string_view bytes) {
  std::vector<Sample> out;
  ChunkDecoder decoder(bytes);
  while (decoder.next()) out.push_back(decoder.sample());
  REQUIRE_FALSE(decoder.error());
  return out;
}

// Encodes, decodes both ways and requires the exact same timestamps and value bits back.
void require_round_trip(const std::vector<Sample>& samples) {
  const std::string bytes = encode(samples);
  auto decoded = decode_chunk(bytes);
  REQUIRE(decoded);
  CHECK(same_bits(*decoded, samples));
  CHECK(same_bits(stream_decode(bytes), samples));
}

// Poll times every `interval` ms, each off by a uniform jitter in [-jitter, +jitter] ms.
std::vector<Timestamp> jittered_times(std::size_t n, Timestamp interval, Timestamp jitter,
                                      std::mt19937_64& rng) {
  std::uniform_int_distribution<Timestamp> offset(-jitter, jitter);
  std::vector<Timestamp> times;
  for (std::size_t i = 0; i < n; ++i) {
    times.push_back(kStart + static_cast<Timestamp>(i) * interval + offset(rng));
  }
  return times;
}

// An ifHCInOctets-like counter: an integer that grows by `bytes_per_s` (wobbling by +-2%) times
// the real time between polls, so poll jitter shows up in the increments as it does on a device.
std::vector<Sample> counter_series(const std::vector<Timestamp>& times, double start,
                                   double bytes_per_s, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> wobble(0.98, 1.02);
  std::vector<Sample> out;
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
std::vector<Sample> random_walk_2dp(const std::vector<Timestamp>& times, double start,
                                    std::mt19937_64& rng) {
  std::uniform_int_distribution<int> step_cents(-50, 50);
  std::vector<Sample> out;
  long long cents = std::llround(start * 100);
  for (Timestamp t : times) {
    out.push_back({t, static_cast<double>(cents) / 100.0});
    cents += step_cents(rng);
  }
  return out;
}

std::vector<Sample> constant_series(const std::vector<Timestamp>& times, double value) {
  std::vector<Sample> out;
  for (Timestamp t : times) out.push_back({t, value});
  return out;
}

// Total encoded size when `samples` are sealed into chunks of `per_chunk`, in bytes per sample.
double bytes_per_sample(const std::vector<Sample>& samples, std::size_t per_chunk) {
  std::size_t total = 0;
  for (std::size_t begin = 0; begin < samples.size(); begin += per_chunk) {
    const std::size_t end = std::min(samples.size(), begin + per_chunk);
    const std::vector<Sample> part(samples.begin() + static_cast<std::ptrdiff_t>(begin),
                                   samples.begin() + static_cast<std::ptrdiff_t>(end));
    const std::string bytes = encode(part);
    auto decoded = decode_chunk(bytes);
    REQUIRE(decoded);
    REQUIRE(same_bits(*decoded, part));
    total += bytes.size();
  }
  return static_cast<double>(total) / static_cast<double>(samples.size());
}

// Builds a byte string bit by bit, for hand-made chunks in the layout tests.
struct BitString {
  std::string bytes;
  int free_bits = 0;
  BitString& put(std::uint64_t value, int width) {
    netpulse::tsdb::detail::put_bits(bytes, free_bits, value, width);
    return *this;
  }
  BitString& put(std::string_view ones_and_zeros) {
    for (char c : ones_and_zeros) put(c == '1' ? 1 : 0, 1);
    return *this;
  }
};

// The header of a hand-made chunk: count, then first sample t=1000, v=1.0.
BitString header(std::uint64_t count) {
  BitString b;
  b.put(count, 16).put(1000, 64).put(bits_of(1.0), 64);
  return b;
}

// A 120-sample chunk that exercises every timestamp bucket and every value encoding.
std::vector<Sample> mixed_samples() {
  std::mt19937_64 rng(7);
  std::vector<Sample> out;
  Timestamp t = kStart;
  double v = 1e12;
  const Timestamp gaps[] = {kMinute, kMinute, kMinute + 137, kMinute - 2'000, 2 * kMinute,
                            kMinute, kDay,    1'000,         kMinute + 40};
  for (int i = 0; i < 120; ++i) {
    t += gaps[static_cast<std::size_t>(i) % std::size(gaps)];
    if (i % 5 != 0) v += std::floor(std::uniform_real_distribution<double>(0, 6e7)(rng));
    out.push_back({t, i % 17 == 3 ? -0.0 : v});
  }
  return out;
}

}  // namespace

TEST_CASE("chunk: an empty chunk is a 2-byte header and decodes to no samples", "[tsdb][chunk]") {
  ChunkEncoder encoder;
  CHECK(encoder.size() == 0);
  CHECK(encoder.bytes() == std::string_view("\0\0", 2));
  auto decoded = decode_chunk(encoder.bytes());
  REQUIRE(decoded);
  CHECK(decoded->empty());
  ChunkDecoder decoder(encoder.bytes());
  CHECK(decoder.size() == 0);
  CHECK_FALSE(decoder.next());
  CHECK_FALSE(decoder.error());
}

TEST_CASE("chunk: a single sample is stored as count, raw timestamp and raw value bits",
          "[tsdb][chunk]") {
  ChunkEncoder encoder;
  REQUIRE(encoder.append({0x0102030405060708, 1.0}));
  const std::string expected(
      "\x00\x01"
      "\x01\x02\x03\x04\x05\x06\x07\x08"
      "\x3f\xf0\x00\x00\x00\x00\x00\x00",
      18);
  CHECK(encoder.bytes() == expected);
  CHECK(encoder.first_t() == 0x0102030405060708);
  CHECK(encoder.last_t() == 0x0102030405060708);
  require_round_trip({{0x0102030405060708, 1.0}});
}

TEST_CASE("chunk: the second sample is written in the documented bit layout", "[tsdb][chunk]") {
  ChunkEncoder encoder;
  REQUIRE(encoder.append({1000, 1.0}));
  REQUIRE(encoder.append({1000 + kMinute, 1.0}));
  // First delta 60000 as dod from 0: zig-zag 120000 needs 17 bits -> '1110' + 18 bits; then '0'
  // for an unchanged value; zero padding to the byte.
  const std::string expected = header(2).put("1110").put(120000, 18).put("0").bytes;
  CHECK(encoder.bytes() == expected);
  CHECK(encoder.bytes().substr(18) == std::string_view("\xe7\x53\x00", 3));
}

TEST_CASE("chunk: the header count is patched as samples are appended", "[tsdb][chunk]") {
  ChunkEncoder encoder;
  std::vector<Sample> appended;
  for (int i = 0; i < 300; ++i) {
    const Sample s{kStart + i * kMinute, static_cast<double>(i % 7)};
    REQUIRE(encoder.append(s));
    appended.push_back(s);
    const auto* raw = reinterpret_cast<const unsigned char*>(encoder.bytes().data());
    REQUIRE((raw[0] << 8 | raw[1]) == i + 1);
    auto decoded = decode_chunk(encoder.bytes());
    REQUIRE(decoded);
    REQUIRE(same_bits(*decoded, appended));
  }
  CHECK(encoder.size() == 300);
  CHECK(encoder.first_t() == kStart);
  CHECK(encoder.last_t() == kStart + 299 * kMinute);
}

TEST_CASE("chunk: a 64-bit counter with 60 s jittered timestamps round-trips bit-exactly",
          "[tsdb][chunk]") {
  std::mt19937_64 rng(1);
  const auto times = jittered_times(120, kMinute, 2'000, rng);
  require_round_trip(counter_series(times, 3.4e12, 1.25e8, rng));  // a busy 1 Gb/s port
  require_round_trip(counter_series(times, 1e6, 100.0, rng));      // an idle port
}

TEST_CASE("chunk: counters near and above 2^53 round-trip bit-exactly", "[tsdb][chunk]") {
  const double two53 = 9007199254740992.0;
  std::vector<Sample> samples;
  const double values[] = {two53 - 3,    two53 - 1,    two53,
                           two53 + 2,    two53 + 4096, 18446744073709549568.0,  // ~2^64
                           1.8446744e19, 0.0,          4294967295.0,            // 32-bit wrap
                           4294967296.0};
  Timestamp t = kStart;
  for (double v : values) samples.push_back({t += kMinute, v});
  require_round_trip(samples);
}

TEST_CASE("chunk: a 2-decimal random-walk gauge and CPU percentages round-trip bit-exactly",
          "[tsdb][chunk]") {
  std::mt19937_64 rng(2);
  const auto times = jittered_times(500, kMinute, 2'000, rng);
  require_round_trip(random_walk_2dp(times, 21.5, rng));
  std::uniform_real_distribution<double> cpu(0.0, 100.0);
  std::vector<Sample> cpu_samples;
  for (Timestamp t : times) cpu_samples.push_back({t, std::round(cpu(rng) * 100) / 100});
  require_round_trip(cpu_samples);
  std::vector<Sample> cpu_raw;  // full-precision ratios, e.g. computed from tick counters
  for (Timestamp t : times) cpu_raw.push_back({t, cpu(rng)});
  require_round_trip(cpu_raw);
}

TEST_CASE("chunk: a constant series round-trips and costs little", "[tsdb][chunk]") {
  std::vector<Timestamp> times;
  for (int i = 0; i < 120; ++i) times.push_back(kStart + i * kMinute);
  const auto samples = constant_series(times, 1.0);
  require_round_trip(samples);
  // 18-byte header, 22 bits for the first delta, then 2 bits per sample.
  CHECK(encode(samples).size() == 18 + (22 + 1 + 118 * 2 + 7) / 8);
}

TEST_CASE("chunk: irregular gaps from one millisecond to days round-trip", "[tsdb][chunk]") {
  const Timestamp gaps[] = {1,    2,          1'000,    59'000,      61'000,     5 * kMinute,
                            kDay, 1,          3 * kDay, kMinute,     kMinute,    30'000,
                            1,    400 * kDay, kMinute,  kMinute + 1, kMinute - 1};
  std::vector<Sample> samples;
  Timestamp t = kStart;
  double v = 0;
  for (Timestamp gap : gaps) samples.push_back({t += gap, v += 1.5});
  require_round_trip(samples);
}

TEST_CASE("chunk: timestamps anywhere in the int64 range round-trip, including huge gaps",
          "[tsdb][chunk]") {
  const Timestamp lo = std::numeric_limits<Timestamp>::min();
  const Timestamp hi = std::numeric_limits<Timestamp>::max();
  require_round_trip({{lo, 1.0}, {lo + 1, 2.0}, {0, 3.0}, {hi - 1, 4.0}, {hi, 5.0}});
  require_round_trip({{lo, 1.0}, {hi, 2.0}});
  require_round_trip({{-kDay, -1.0}, {-1, -2.0}, {0, -3.0}});
}

TEST_CASE("chunk: negative values, signed zeros, denormals and extremes keep their bits",
          "[tsdb][chunk]") {
  const double values[] = {-0.0,
                           0.0,
                           -0.0,
                           -0.0,
                           -1.5,
                           -273.15,
                           std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::denorm_min(),
                           DBL_MIN / 2,
                           DBL_MIN,
                           DBL_MAX,
                           -DBL_MAX,
                           DBL_EPSILON,
                           1e-300,
                           0.1,
                           0.30000000000000004,
                           -1e300};
  std::vector<Sample> samples;
  Timestamp t = kStart;
  for (double v : values) samples.push_back({t += kMinute, v});
  require_round_trip(samples);
  auto decoded = decode_chunk(encode(samples));
  REQUIRE(decoded);
  CHECK(std::signbit((*decoded)[0].v));
  CHECK_FALSE(std::signbit((*decoded)[1].v));
}

TEST_CASE("chunk: NaN and infinite values are refused and leave the chunk unchanged",
          "[tsdb][chunk]") {
  ChunkEncoder encoder;
  const double refused[] = {
      std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::signaling_NaN(), std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity()};
  for (double v : refused) {
    auto first = encoder.append({kStart, v});
    REQUIRE_FALSE(first);
    CHECK(first.error().code == Errc::kInvalidInput);
  }
  CHECK(encoder.size() == 0);
  REQUIRE(encoder.append({kStart, 2.0}));
  const std::string before(encoder.bytes());
  for (double v : refused) {
    auto later = encoder.append({kStart + kMinute, v});
    REQUIRE_FALSE(later);
    CHECK(later.error().code == Errc::kInvalidInput);
    CHECK(later.error().details.at("field").as_string() == "v");
  }
  CHECK(encoder.bytes() == before);
  CHECK(encoder.size() == 1);
}

TEST_CASE("chunk: out-of-order and duplicate timestamps are refused", "[tsdb][chunk]") {
  ChunkEncoder encoder;
  REQUIRE(encoder.append({kStart, 1.0}));
  REQUIRE(encoder.append({kStart + kMinute, 2.0}));
  const std::string before(encoder.bytes());
  for (Timestamp t : {kStart + kMinute, kStart, kStart + 1, Timestamp{0}}) {
    auto appended = encoder.append({t, 3.0});
    REQUIRE_FALSE(appended);
    CHECK(appended.error().code == Errc::kInvalidInput);
    CHECK(appended.error().details.at("field").as_string() == "t");
  }
  CHECK(encoder.bytes() == before);
  CHECK(encoder.last_t() == kStart + kMinute);
  REQUIRE(encoder.append({kStart + kMinute + 1, 3.0}));
}

TEST_CASE("chunk: holds 65535 samples and refuses the next one", "[tsdb][chunk]") {
  std::mt19937_64 rng(3);
  const auto times = jittered_times(kMaxChunkSamples, 10'000, 500, rng);
  const auto samples = counter_series(times, 1e9, 5e4, rng);
  ChunkEncoder encoder;
  for (const Sample& s : samples) REQUIRE(encoder.append(s));
  CHECK(encoder.full());
  auto overflow = encoder.append({times.back() + 10'000, 1.0});
  REQUIRE_FALSE(overflow);
  CHECK(overflow.error().code == Errc::kInvalidInput);
  CHECK(encoder.bytes().substr(0, 2) == std::string_view("\xff\xff", 2));
  auto decoded = decode_chunk(encoder.bytes());
  REQUIRE(decoded);
  CHECK(same_bits(*decoded, samples));
}

TEST_CASE("chunk: a chunk truncated at any byte offset is an error", "[tsdb][chunk][corrupt]") {
  const std::string bytes = encode(mixed_samples());
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    INFO("truncated to " << len << " of " << bytes.size() << " bytes");
    auto decoded = decode_chunk(std::string_view(bytes).substr(0, len));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == Errc::kDatabaseError);
  }
}

TEST_CASE("chunk: a flipped bit anywhere gives an error or different samples, never UB",
          "[tsdb][chunk][corrupt]") {
  const auto original = mixed_samples();
  const std::string bytes = encode(original);
  auto check_decodes_safely = [&](const std::string& corrupt) {
    auto decoded = decode_chunk(corrupt);
    if (!decoded) {
      CHECK(decoded.error().code == Errc::kDatabaseError);
      return;
    }
    CHECK_FALSE(same_bits(*decoded, original));
    for (std::size_t i = 1; i < decoded->size(); ++i) {
      CHECK((*decoded)[i].t > (*decoded)[i - 1].t);
      CHECK(std::isfinite((*decoded)[i].v));
    }
  };
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string corrupt = bytes;
    corrupt[bit / 8] = static_cast<char>(corrupt[bit / 8] ^ (0x80 >> (bit % 8)));
    INFO("bit " << bit);
    check_decodes_safely(corrupt);
  }
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<std::size_t> pick(0, bytes.size() * 8 - 1);
  for (int round = 0; round < 2'000; ++round) {
    std::string corrupt = bytes;
    for (int flips = 0; flips < 2 + round % 6; ++flips) {
      const std::size_t bit = pick(rng);
      corrupt[bit / 8] = static_cast<char>(corrupt[bit / 8] ^ (0x80 >> (bit % 8)));
    }
    if (corrupt == bytes) continue;
    INFO("round " << round);
    check_decodes_safely(corrupt);
  }
}

TEST_CASE("chunk: random bytes never decode out of bounds", "[tsdb][chunk][corrupt]") {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t len = 0; len < 64; ++len) {
    for (int round = 0; round < 50; ++round) {
      std::string garbage;
      for (std::size_t i = 0; i < len; ++i) garbage.push_back(static_cast<char>(byte(rng)));
      auto decoded = decode_chunk(garbage);
      if (!decoded) CHECK(decoded.error().code == Errc::kDatabaseError);
    }
  }
}

TEST_CASE("chunk: header counts and trailers that disagree with the data are errors",
          "[tsdb][chunk][corrupt]") {
  const std::string bytes = encode(mixed_samples());  // 120 samples
  auto with_count = [&](unsigned count) {
    std::string b = bytes;
    b[0] = static_cast<char>(count >> 8);
    b[1] = static_cast<char>(count & 0xff);
    return b;
  };
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case cases[] = {
      {"count one larger than the data", with_count(121)},
      {"count 65535 on a 120-sample chunk", with_count(65535)},
      {"count one smaller leaves data behind", with_count(119)},
      {"count 0 with data behind the header", with_count(0)},
      {"a trailing zero byte", bytes + std::string(1, '\0')},
      {"a trailing non-zero byte", bytes + "\x01"},
      {"a single byte", std::string(1, '\0')},
      {"a count of 1 without the first sample", std::string("\x00\x01", 2)},
      {"the first sample cut short", header(1).bytes.substr(0, 17)},
      {"a first value that is NaN",
       BitString{}.put(1, 16).put(0, 64).put(0x7ff8ULL << 48, 64).bytes},
      {"a first value that is +Inf",
       BitString{}.put(1, 16).put(0, 64).put(0x7ffULL << 52, 64).bytes},
      {"non-zero padding bits", header(2).put("0").put("0").put("000001").bytes},
      {"a zero delta (repeated timestamp)", header(2).put("0").put("0").bytes},
      {"a negative delta", header(2).put("10").put(3, 10).put("0").bytes},
      {"an XOR window reused before one was set", header(2).put("0").put("10").bytes},
      {"an XOR window wider than 64 bits",
       header(2).put("0").put("11").put(31, 5).put(40, 6).put(0, 40).bytes},
      {"an XOR that makes the value NaN",
       header(2).put("0").put("11").put(1, 5).put(12, 6).put(0x801, 12).bytes},
      {"an XOR that makes the value +Inf",
       header(2).put("0").put("11").put(1, 5).put(1, 6).put(1, 1).bytes},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto decoded = decode_chunk(c.bytes);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == Errc::kDatabaseError);
    CHECK(decoded.error().message.rfind("corrupt chunk: ", 0) == 0);
    ChunkDecoder decoder(c.bytes);
    while (decoder.next()) {
    }
    CHECK(decoder.error());
    CHECK_FALSE(decoder.next());
  }
}

TEST_CASE("chunk: the streaming decoder stops at the first corrupt sample", "[tsdb][chunk]") {
  // Two good samples, then a '10' window reuse with no window set.
  const std::string bytes = header(3).put("1110").put(120000, 18).put("0").put("0").put("10").bytes;
  ChunkDecoder decoder(bytes);
  REQUIRE(decoder.size() == 3);
  REQUIRE(decoder.next());
  CHECK(decoder.sample() == Sample{1000, 1.0});
  REQUIRE(decoder.next());
  CHECK(decoder.sample() == Sample{1000 + kMinute, 1.0});
  CHECK_FALSE(decoder.next());
  REQUIRE(decoder.error());
  CHECK(decoder.error()->code == Errc::kDatabaseError);
}

namespace {

// The 24 h, 60 s datasets of docs/format/chunk.md: 1440 samples sealed every 120 samples.
constexpr std::size_t kDaySamples = 1440;
constexpr std::size_t kSealEvery = 120;

std::vector<Timestamp> day_times(Timestamp jitter_ms, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return jittered_times(kDaySamples, kMinute, jitter_ms, rng);
}

double steady_counter_bps(double bytes_per_s, Timestamp jitter_ms) {
  std::mt19937_64 rng(11);
  const auto times = day_times(jitter_ms, 10);
  return bytes_per_sample(counter_series(times, 1.1e12, bytes_per_s, rng), kSealEvery);
}

}  // namespace

TEST_CASE("chunk: a constant gauge polled every 60 s costs at most 0.5 B/sample over 24 h",
          "[tsdb][chunk][size]") {
  CHECK(bytes_per_sample(constant_series(day_times(0, 12), 1.0), kSealEvery) <= 0.5);
}

// The size budget for counters (<= 2.0 B/sample) is NOT met by this format: XOR of a
// growing integer counter leaves ~14-30 meaningful bits per sample (5.16 B/sample measured for a
// steady counter with +-100 ms jitter; see docs/format/chunk.md). That is open work for issue 3
// (an integer delta-of-delta value encoding), reported by the hidden test below:
//   unit_tests "[.size]"
TEST_CASE("chunk: report bytes/sample for 24 h of 60 s data", "[.size]") {
  std::mt19937_64 rng(13);
  std::printf("24 h at 60 s = %zu samples, sealed every %zu samples (%zu chunks)\n", kDaySamples,
              kSealEvery, kDaySamples / kSealEvery);
  std::printf("%-58s %8s\n", "dataset", "B/sample");
  auto row = [](const char* name, double figure) { std::printf("%-58s %8.3f\n", name, figure); };
  for (double rate : {1e2, 8e3, 1e5, 1.25e6, 1.25e8}) {
    char name[80];
    std::snprintf(name, sizeof name, "(a) counter %.3g B/s, jitter +-100 ms", rate);
    row(name, steady_counter_bps(rate, 100));
  }
  row("(a) counter 8e+03 B/s, exact 60 s", steady_counter_bps(8e3, 0));
  row("(b) constant gauge, exact 60 s",
      bytes_per_sample(constant_series(day_times(0, 12), 1.0), kSealEvery));
  row("(b) constant gauge, jitter +-100 ms",
      bytes_per_sample(constant_series(day_times(100, 12), 1.0), kSealEvery));
  row("(c) 2-decimal random walk, exact 60 s",
      bytes_per_sample(random_walk_2dp(day_times(0, 14), 21.5, rng), kSealEvery));
  row("(c) 2-decimal random walk, jitter +-100 ms",
      bytes_per_sample(random_walk_2dp(day_times(100, 14), 21.5, rng), kSealEvery));
  row("(c) 2-decimal random walk, jitter +-2 s",
      bytes_per_sample(random_walk_2dp(day_times(2'000, 14), 21.5, rng), kSealEvery));
  std::uniform_int_distribution<int> load(0, 100);
  std::vector<Sample> cpu;
  for (Timestamp t : day_times(0, 15)) cpu.push_back({t, static_cast<double>(load(rng))});
  row("CPU % as integers (hrProcessorLoad), exact 60 s", bytes_per_sample(cpu, kSealEvery));
}
