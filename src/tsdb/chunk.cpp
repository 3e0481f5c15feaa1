// The chunk codec: ChunkEncoder packs samples into the Gorilla-style bit layout described in
// docs/format/chunk.md, ChunkDecoder/decode_chunk read it back. Timestamps are stored as
// delta-of-delta in zig-zag form with four variable-width buckets sized for millisecond data
// polled every 10-60 s; values either as the XOR with the previous value's IEEE-754 bits or, in
// integer mode, as the zig-zagged delta-of-delta of the integer values in buckets sized for
// counters. Timestamp and integer arithmetic is done modulo 2^64 on unsigned integers, so any
// int64 timestamps round-trip and corrupt input can never cause signed overflow; the decoder
// bounds-checks every read and rejects anything the encoder would not have produced.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>

#include <netpulse/tsdb/chunk.hpp>

#include "detail/bitstream.hpp"

namespace netpulse::tsdb {

namespace detail {

constexpr std::size_t kPrefixBytes = 3;  // encoding byte, then the uint16 count
constexpr std::size_t kHeaderBytes = kPrefixBytes + 8 + 8;

// Delta-of-delta buckets: a control prefix of `n` one-bits (n = 1..N-1) followed by a zero bit for
// n < N-1, then widths[n] bits of the zig-zagged value. Prefix '0' alone means a dod of 0.
constexpr std::array<int, 5> kDodWidths = {0, 10, 14, 18, 64};          // timestamps (ms)
constexpr std::array<int, 6> kValueDodWidths = {0, 8, 16, 24, 36, 64};  // integer values

constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

constexpr int kLeadingBits = 5;     // leading-zero count, capped at 31
constexpr int kMeaningfulBits = 6;  // meaningful-bit count 1..64, 64 stored as 0
constexpr int kMaxLeading = (1 << kLeadingBits) - 1;

constexpr std::uint64_t zigzag(std::int64_t n) noexcept {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}

constexpr std::int64_t unzigzag(std::uint64_t z) noexcept {
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

// Writes `dod` (any value modulo 2^64) zig-zagged into the first bucket of `widths` that holds it.
template <std::size_t N>
void put_dod(std::string& bytes, int& free_bits, std::uint64_t dod,
             const std::array<int, N>& widths) {
  if (dod == 0) {
    put_bits(bytes, free_bits, 0, 1);
    return;
  }
  const std::uint64_t zz = zigzag(static_cast<std::int64_t>(dod));
  for (std::size_t ones = 1; ones < N; ++ones) {
    const int width = widths[ones];
    if (width < 64 && zz >= (std::uint64_t{1} << width)) continue;
    // `ones` one-bits, then a terminating zero unless this is the last bucket.
    const bool last_bucket = ones + 1 == N;
    const std::uint64_t prefix = ((std::uint64_t{1} << ones) - 1) << (last_bucket ? 0 : 1);
    const int ones_bits = static_cast<int>(ones);
    put_bits(bytes, free_bits, prefix, last_bucket ? ones_bits : ones_bits + 1);
    put_bits(bytes, free_bits, zz, width);
    return;
  }
}

// Reads a dod written by put_dod with the same `widths`. Returns false if the input ends first.
template <std::size_t N>
bool get_dod(std::string_view bytes, std::size_t& bit_pos, const std::array<int, N>& widths,
             std::uint64_t& dod) noexcept {
  std::size_t ones = 0;
  while (ones + 1 < N) {
    std::uint64_t bit = 0;
    if (!get_bits(bytes, bit_pos, 1, bit)) return false;
    if (bit == 0) break;
    ++ones;
  }
  dod = 0;
  if (ones == 0) return true;
  std::uint64_t zz = 0;
  if (!get_bits(bytes, bit_pos, widths[ones], zz)) return false;
  dod = static_cast<std::uint64_t>(unzigzag(zz));
  return true;
}

}  // namespace detail

bool is_integer_value(double v) noexcept {
  constexpr auto kMax = static_cast<double>(detail::kMaxExactInteger);
  // The range test is false for NaN; -0.0 is an integer numerically but would decode as +0.0.
  return v >= -kMax && v <= kMax && std::trunc(v) == v && !(v == 0.0 && std::signbit(v));
}

ChunkEncoder::ChunkEncoder(ChunkEncoding preferred)
    : bytes_(detail::kPrefixBytes, '\0'),
      allow_integer_(preferred == ChunkEncoding::kIntegerDelta) {
  bytes_[0] = static_cast<char>(ChunkEncoding::kXorFloat);
}

core::Result<void> ChunkEncoder::append(Sample sample) {
  if (full()) return core::invalid_field("t", "chunk is full (65535 samples)");
  if (!std::isfinite(sample.v)) return core::invalid_field("v", "must be a finite number");
  if (count_ > 0 && sample.t <= last_t_) {
    return core::invalid_field("t", "must be greater than the previous timestamp in the chunk");
  }
  if (count_ == 0) {
    encoding_ = allow_integer_ && is_integer_value(sample.v) ? ChunkEncoding::kIntegerDelta
                                                             : ChunkEncoding::kXorFloat;
  } else if (encoding_ == ChunkEncoding::kIntegerDelta && !is_integer_value(sample.v)) {
    transcode_to_xor();
  }
  put_sample(sample);
  return core::ok();
}

void ChunkEncoder::put_sample(Sample sample) {
  if (count_ == 0) {
    bytes_[0] = static_cast<char>(encoding_);
    detail::put_bits(bytes_, free_bits_, static_cast<std::uint64_t>(sample.t), 64);
    detail::put_bits(bytes_, free_bits_, std::bit_cast<std::uint64_t>(sample.v), 64);
    first_t_ = sample.t;
    last_value_bits_ = std::bit_cast<std::uint64_t>(sample.v);
    if (encoding_ == ChunkEncoding::kIntegerDelta) {
      last_int_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(sample.v));
    }
  } else {
    put_timestamp(sample.t);
    if (encoding_ == ChunkEncoding::kIntegerDelta) {
      put_integer_value(sample.v);
    } else {
      put_value(sample.v);
    }
  }
  last_t_ = sample.t;
  ++count_;
  bytes_[1] = static_cast<char>(count_ >> 8);
  bytes_[2] = static_cast<char>(count_ & 0xff);
}

// Re-encodes the samples so far in XOR mode. The chunk holds at most 65535 samples (normally
// ~120), and this happens at most once per chunk, on its first non-integer value.
void ChunkEncoder::transcode_to_xor() {
  auto samples = decode_chunk(bytes_);
  // The encoder's own bytes always decode; a failure here is a bug in this file, and carrying on
  // would silently drop samples.
  if (!samples) std::abort();
  *this = ChunkEncoder(ChunkEncoding::kXorFloat);
  for (const Sample& s : *samples) put_sample(s);
}

void ChunkEncoder::put_timestamp(Timestamp t) {
  const std::uint64_t delta = static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(last_t_);
  const std::uint64_t dod = delta - last_delta_;
  last_delta_ = delta;
  detail::put_dod(bytes_, free_bits_, dod, detail::kDodWidths);
}

void ChunkEncoder::put_integer_value(double v) {
  const auto value = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
  const std::uint64_t delta = value - last_int_;
  const std::uint64_t dod = delta - last_int_delta_;
  last_int_ = value;
  last_int_delta_ = delta;
  detail::put_dod(bytes_, free_bits_, dod, detail::kValueDodWidths);
}

void ChunkEncoder::put_value(double v) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(v);
  const std::uint64_t x = bits ^ last_value_bits_;
  last_value_bits_ = bits;
  if (x == 0) {
    detail::put_bits(bytes_, free_bits_, 0b0, 1);
    return;
  }
  const int leading = std::min(std::countl_zero(x), detail::kMaxLeading);
  const int trailing = std::countr_zero(x);
  if (has_window_ && leading >= window_leading_ && trailing >= window_trailing_) {
    detail::put_bits(bytes_, free_bits_, 0b10, 2);
    detail::put_bits(bytes_, free_bits_, x >> window_trailing_,
                     64 - window_leading_ - window_trailing_);
    return;
  }
  const int meaningful = 64 - leading - trailing;
  detail::put_bits(bytes_, free_bits_, 0b11, 2);
  detail::put_bits(bytes_, free_bits_, static_cast<std::uint64_t>(leading), detail::kLeadingBits);
  detail::put_bits(bytes_, free_bits_, static_cast<std::uint64_t>(meaningful & 63),
                   detail::kMeaningfulBits);
  detail::put_bits(bytes_, free_bits_, x >> trailing, meaningful);
  window_leading_ = leading;
  window_trailing_ = trailing;
  has_window_ = true;
}

ChunkDecoder::ChunkDecoder(std::string_view bytes) : bytes_(bytes) {
  std::uint64_t count = 0;
  if (bytes_.size() >= detail::kPrefixBytes && detail::get_bits(bytes_, bit_pos_, 8, encoding_) &&
      detail::get_bits(bytes_, bit_pos_, 16, count)) {
    count_ = static_cast<std::size_t>(count);
    if (encoding_ == static_cast<std::uint64_t>(ChunkEncoding::kPacked)) parse_packed();
  }
}

bool ChunkDecoder::fail(std::string message) {
  if (!error_) {
    error_.emplace(core::Errc::kDatabaseError, "corrupt chunk: " + std::move(message),
                   boost::json::object{{"bit_offset", bit_pos_}});
  }
  return false;
}

bool ChunkDecoder::next() {
  if (error_) return false;
  if (bytes_.size() < detail::kPrefixBytes) return fail("shorter than the 3-byte header");
  if (encoding_ != static_cast<std::uint64_t>(ChunkEncoding::kXorFloat) &&
      encoding_ != static_cast<std::uint64_t>(ChunkEncoding::kIntegerDelta) &&
      encoding_ != static_cast<std::uint64_t>(ChunkEncoding::kPacked)) {
    return fail("unknown encoding " + std::to_string(encoding_));
  }
  if (encoding_ == static_cast<std::uint64_t>(ChunkEncoding::kPacked)) {
    if (!packed_problem_.empty()) return fail(packed_problem_);
    if (decoded_ == count_) return false;
    if (!read_packed()) return false;
    ++decoded_;
    return true;
  }
  if (decoded_ == count_) {
    check_trailer();  // only an empty chunk gets here unchecked; afterwards this is a no-op
    return false;
  }
  const bool ok = decoded_ == 0 ? read_first() : read_timestamp() && read_value();
  if (!ok) return false;
  ++decoded_;
  return decoded_ < count_ || check_trailer();
}

bool ChunkDecoder::read_first() {
  std::uint64_t t = 0;
  std::uint64_t v = 0;
  if (!detail::get_bits(bytes_, bit_pos_, 64, t) || !detail::get_bits(bytes_, bit_pos_, 64, v)) {
    return fail("header truncated");
  }
  const double value = std::bit_cast<double>(v);
  if (!std::isfinite(value)) return fail("first value is not finite");
  if (encoding_ == static_cast<std::uint64_t>(ChunkEncoding::kIntegerDelta)) {
    if (!is_integer_value(value)) return fail("first value of an integer chunk is not an integer");
    last_int_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(value));
  }
  current_ = Sample{static_cast<Timestamp>(t), value};
  last_value_bits_ = v;
  return true;
}

bool ChunkDecoder::read_timestamp() {
  std::uint64_t dod = 0;
  if (!detail::get_dod(bytes_, bit_pos_, detail::kDodWidths, dod)) {
    return fail("timestamp truncated");
  }
  last_delta_ += dod;
  const auto t = static_cast<Timestamp>(static_cast<std::uint64_t>(current_.t) + last_delta_);
  if (t <= current_.t) return fail("timestamps not strictly increasing");
  current_.t = t;
  return true;
}

bool ChunkDecoder::read_value() {
  return encoding_ == static_cast<std::uint64_t>(ChunkEncoding::kIntegerDelta)
             ? read_integer_value()
             : read_xor_value();
}

bool ChunkDecoder::read_integer_value() {
  std::uint64_t dod = 0;
  if (!detail::get_dod(bytes_, bit_pos_, detail::kValueDodWidths, dod)) {
    return fail("value truncated");
  }
  last_int_delta_ += dod;
  last_int_ += last_int_delta_;
  const auto value = static_cast<std::int64_t>(last_int_);
  if (value < -detail::kMaxExactInteger || value > detail::kMaxExactInteger) {
    return fail("integer value beyond +-2^53");
  }
  current_.v = static_cast<double>(value);
  return true;
}

bool ChunkDecoder::read_xor_value() {
  std::uint64_t control = 0;
  if (!detail::get_bits(bytes_, bit_pos_, 1, control)) return fail("value truncated");
  if (control == 0) {
    current_.v = std::bit_cast<double>(last_value_bits_);
    return true;
  }
  if (!detail::get_bits(bytes_, bit_pos_, 1, control)) return fail("value truncated");
  if (control == 1) {
    std::uint64_t leading = 0;
    std::uint64_t meaningful = 0;
    if (!detail::get_bits(bytes_, bit_pos_, detail::kLeadingBits, leading) ||
        !detail::get_bits(bytes_, bit_pos_, detail::kMeaningfulBits, meaningful)) {
      return fail("value truncated");
    }
    if (meaningful == 0) meaningful = 64;
    if (leading + meaningful > 64) return fail("XOR window wider than 64 bits");
    window_leading_ = static_cast<int>(leading);
    window_trailing_ = static_cast<int>(64 - leading - meaningful);
    has_window_ = true;
  } else if (!has_window_) {
    return fail("XOR window reused before one was set");
  }
  std::uint64_t x = 0;
  if (!detail::get_bits(bytes_, bit_pos_, 64 - window_leading_ - window_trailing_, x)) {
    return fail("value truncated");
  }
  last_value_bits_ ^= x << window_trailing_;
  current_.v = std::bit_cast<double>(last_value_bits_);
  if (!std::isfinite(current_.v)) return fail("value is not finite");
  return true;
}

bool ChunkDecoder::check_trailer() {
  const std::size_t left = detail::bits_left(bytes_, bit_pos_);
  if (left >= 8) return fail("data after the last sample");
  std::uint64_t padding = 0;
  if (!detail::get_bits(bytes_, bit_pos_, static_cast<int>(left), padding) || padding != 0) {
    return fail("non-zero padding after the last sample");
  }
  return true;
}

// --- encoding 3: packed columns (docs/format/chunk.md, "Encoding 3") ---------------------------

namespace detail {

constexpr double kPow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

void put_varint(std::string& o, std::uint64_t v) {
  while (v >= 0x80) {
    o.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  o.push_back(static_cast<char>(v));
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Reads a LEB128 varint of at most 10 bytes whose value fits 64 bits.
bool get_varint(std::string_view in, std::size_t& pos, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos >= in.size()) return false;
    const auto b = static_cast<unsigned char>(in[pos++]);
    if (i == 9 && b > 1) return false;  // bits beyond 64
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      out = v;
      return true;
    }
  }
  return false;
}

// v == m / 10^k exactly (bit for bit), |m| <= 2^53.
bool scaled_integer(double v, int k, std::int64_t& m) {
  const double x = v * kPow10[k];
  constexpr auto kMax = static_cast<double>(kMaxExactInteger);
  if (!(x >= -kMax && x <= kMax)) return false;
  m = std::llround(x);
  return std::bit_cast<std::uint64_t>(static_cast<double>(m) / kPow10[k]) ==
         std::bit_cast<std::uint64_t>(v);
}

// One column: frame of reference (every entry in `width` bits above the smallest) or the
// delta-of-delta buckets of `widths`, whichever is smaller. plan() sizes both without writing.
struct ColumnPlan {
  bool bucketed = false;
  std::int64_t base = 0;
  int width = 0;                 // frame of reference: bits per entry
  std::size_t bucket_bytes = 0;  // buckets: the payload's length
  std::size_t bytes = 0;         // the whole column, mode byte included
};

template <std::size_t N>
ColumnPlan plan_column(const std::vector<std::uint64_t>& xs, const std::array<int, N>& widths) {
  ColumnPlan p;
  if (xs.empty()) return p;
  p.base = static_cast<std::int64_t>(xs[0]);
  for (auto x : xs) p.base = std::min(p.base, static_cast<std::int64_t>(x));
  std::uint64_t spread = 0;
  for (auto x : xs) spread = std::max(spread, x - static_cast<std::uint64_t>(p.base));
  p.width = static_cast<int>(std::bit_width(spread));
  const std::size_t for_bytes =
      1 + varint_size(zigzag(p.base)) + 1 + (xs.size() * static_cast<std::size_t>(p.width) + 7) / 8;
  std::size_t bucket_bits = 0;
  for (auto x : xs) {
    if (x == 0) {
      bucket_bits += 1;
      continue;
    }
    const std::uint64_t zz = zigzag(static_cast<std::int64_t>(x));
    for (std::size_t ones = 1; ones < N; ++ones) {
      if (widths[ones] < 64 && zz >= (std::uint64_t{1} << widths[ones])) continue;
      bucket_bits += ones + (ones + 1 == N ? 0 : 1) + static_cast<std::size_t>(widths[ones]);
      break;
    }
  }
  p.bucket_bytes = (bucket_bits + 7) / 8;
  const std::size_t bucketed_bytes = 1 + varint_size(p.bucket_bytes) + p.bucket_bytes;
  p.bucketed = bucketed_bytes < for_bytes;
  p.bytes = p.bucketed ? bucketed_bytes : for_bytes;
  return p;
}

template <std::size_t N>
void put_column(std::string& o, const std::vector<std::uint64_t>& xs, const ColumnPlan& p,
                const std::array<int, N>& widths) {
  if (xs.empty()) return;
  int free_bits = 0;
  if (p.bucketed) {
    o.push_back(1);
    put_varint(o, p.bucket_bytes);
    for (auto x : xs) put_dod(o, free_bits, x, widths);
    return;
  }
  o.push_back(0);
  put_varint(o, zigzag(p.base));
  o.push_back(static_cast<char>(p.width));
  for (auto x : xs) put_bits(o, free_bits, x - static_cast<std::uint64_t>(p.base), p.width);
}

std::optional<std::string> pack(const std::vector<Sample>& samples) {
  const std::size_t n = samples.size();
  if (n == 0 || n > kMaxChunkSamples) return std::nullopt;
  int k = 0;
  std::vector<std::uint64_t> m(n);
  for (;; ++k) {
    if (k == 16) return std::nullopt;
    bool all = true;
    for (std::size_t i = 0; i < n && all; ++i) {
      std::int64_t mi = 0;
      all = scaled_integer(samples[i].v, k, mi);
      m[i] = static_cast<std::uint64_t>(mi);
    }
    if (all) break;
  }
  std::string o;
  o.push_back(static_cast<char>(ChunkEncoding::kPacked));
  o.push_back(static_cast<char>(n >> 8));
  o.push_back(static_cast<char>(n & 0xff));
  o.push_back(static_cast<char>(k));
  put_varint(o, zigzag(samples[0].t));
  put_varint(o, zigzag(static_cast<std::int64_t>(m[0])));
  if (n == 1) return o;
  const auto t = [&](std::size_t i) { return static_cast<std::uint64_t>(samples[i].t); };
  put_varint(o, t(1) - t(0));
  std::vector<std::uint64_t> ts, d1, d2;
  for (std::size_t i = 2; i < n; ++i) ts.push_back((t(i) - t(i - 1)) - (t(i - 1) - t(i - 2)));
  for (std::size_t i = 1; i < n; ++i) d1.push_back(m[i] - m[i - 1]);
  for (std::size_t i = 1; i < d1.size(); ++i) d2.push_back(d1[i] - d1[i - 1]);
  // Order 1 (deltas) suits gauges and counters with a noisy rate, order 2 (delta-of-delta)
  // counters whose rate drifts: size both, write the smaller.
  const auto p1 = plan_column(d1, kValueDodWidths);
  const auto p2 = plan_column(d2, kValueDodWidths);
  const std::size_t head2 = varint_size(zigzag(static_cast<std::int64_t>(d1[0])));
  const bool second = head2 + p2.bytes < p1.bytes;
  o.push_back(second ? 2 : 1);
  if (second) put_varint(o, zigzag(static_cast<std::int64_t>(d1[0])));
  put_column(o, ts, plan_column(ts, kDodWidths), kDodWidths);
  if (second) {
    put_column(o, d2, p2, kValueDodWidths);
  } else {
    put_column(o, d1, p1, kValueDodWidths);
  }
  return o;
}

}  // namespace detail

std::string compact_chunk(std::string_view bytes) {
  auto samples = decode_chunk(bytes);
  if (!samples) return std::string(bytes);
  auto packed = detail::pack(*samples);
  if (packed && packed->size() < bytes.size()) return std::move(*packed);
  return std::string(bytes);
}

void ChunkDecoder::parse_packed() {
  std::size_t pos = detail::kPrefixBytes;
  auto problem = [&](const char* what) { packed_problem_ = what; };
  if (count_ == 0) return problem("packed chunk without samples");
  if (pos >= bytes_.size()) return problem("header truncated");
  const auto k = static_cast<unsigned char>(bytes_[pos++]);
  if (k > 15) return problem("decimal scale above 15");
  scale_ = detail::kPow10[k];
  std::uint64_t t0 = 0, m0 = 0;
  if (!detail::get_varint(bytes_, pos, t0) || !detail::get_varint(bytes_, pos, m0)) {
    return problem("header truncated");
  }
  current_.t = detail::unzigzag(t0);
  last_int_ = static_cast<std::uint64_t>(detail::unzigzag(m0));
  std::size_t value_entries = 0;
  if (count_ >= 2) {
    if (!detail::get_varint(bytes_, pos, first_delta_) || pos >= bytes_.size()) {
      return problem("header truncated");
    }
    order_ = static_cast<unsigned char>(bytes_[pos++]);
    if (order_ != 1 && order_ != 2) return problem("value order is neither 1 nor 2");
    if (order_ == 2) {
      std::uint64_t z = 0;
      if (!detail::get_varint(bytes_, pos, z)) return problem("header truncated");
      first_value_delta_ = static_cast<std::uint64_t>(detail::unzigzag(z));
    }
    value_entries = order_ == 1 ? count_ - 1 : count_ - 2;
  }
  const std::size_t entries[2] = {count_ >= 3 ? count_ - 2 : 0, value_entries};
  for (int c = 0; c < 2; ++c) {
    auto& col = columns_[c];
    col.entries = entries[c];
    if (col.entries == 0) continue;
    if (pos >= bytes_.size()) return problem("column truncated");
    const auto mode = static_cast<unsigned char>(bytes_[pos++]);
    std::uint64_t size = 0;
    if (mode == 1) {
      col.bucketed = true;
      if (!detail::get_varint(bytes_, pos, size)) return problem("column truncated");
    } else if (mode == 0) {
      std::uint64_t z = 0;
      if (!detail::get_varint(bytes_, pos, z) || pos >= bytes_.size()) {
        return problem("column truncated");
      }
      col.base = static_cast<std::uint64_t>(detail::unzigzag(z));
      col.width = static_cast<unsigned char>(bytes_[pos++]);
      if (col.width > 64) return problem("column width above 64 bits");
      size = (col.entries * static_cast<std::size_t>(col.width) + 7) / 8;
    } else {
      return problem("unknown column mode");
    }
    if (size > bytes_.size() - pos) return problem("column truncated");
    col.data = bytes_.substr(pos, static_cast<std::size_t>(size));
    pos += static_cast<std::size_t>(size);
    if (!col.bucketed) {
      // The padding after the last entry must be zero.
      std::size_t at = col.entries * static_cast<std::size_t>(col.width);
      std::uint64_t pad = 0;
      const auto left = static_cast<int>(detail::bits_left(col.data, at));
      if (!detail::get_bits(col.data, at, left, pad) || pad != 0) {
        return problem("non-zero padding in a column");
      }
    }
  }
  if (pos != bytes_.size()) return problem("data after the last column");
}

bool ChunkDecoder::read_column(int column, std::uint64_t& out) {
  auto& col = columns_[column];
  if (col.bucketed) {
    const bool ok = column == 0
                        ? detail::get_dod(col.data, col.bit_pos, detail::kDodWidths, out)
                        : detail::get_dod(col.data, col.bit_pos, detail::kValueDodWidths, out);
    if (!ok) return fail("column truncated");
    return true;
  }
  std::uint64_t offset = 0;
  if (!detail::get_bits(col.data, col.bit_pos, col.width, offset)) return fail("column truncated");
  out = col.base + offset;
  return true;
}

bool ChunkDecoder::read_packed() {
  if (decoded_ > 0) {
    if (decoded_ == 1) {
      last_delta_ = first_delta_;
    } else {
      std::uint64_t dod = 0;
      if (!read_column(0, dod)) return false;
      last_delta_ += dod;
    }
    const auto t = static_cast<Timestamp>(static_cast<std::uint64_t>(current_.t) + last_delta_);
    if (t <= current_.t) return fail("timestamps not strictly increasing");
    current_.t = t;
    std::uint64_t x = 0;
    if (order_ == 1) {
      if (!read_column(1, x)) return false;
      last_int_ += x;
    } else {
      if (decoded_ == 1) {
        last_int_delta_ = first_value_delta_;
      } else {
        if (!read_column(1, x)) return false;
        last_int_delta_ += x;
      }
      last_int_ += last_int_delta_;
    }
  }
  const auto m = static_cast<std::int64_t>(last_int_);
  if (m < -detail::kMaxExactInteger || m > detail::kMaxExactInteger) {
    return fail("integer value beyond +-2^53");
  }
  current_.v = static_cast<double>(m) / scale_;
  if (decoded_ + 1 == count_) {
    // Bucketed columns end within their last byte, padded with zeros.
    for (auto& col : columns_) {
      if (!col.bucketed) continue;
      const std::size_t left = detail::bits_left(col.data, col.bit_pos);
      std::uint64_t pad = 0;
      if (left >= 8) return fail("data after the last entry of a column");
      if (!detail::get_bits(col.data, col.bit_pos, static_cast<int>(left), pad) || pad != 0) {
        return fail("non-zero padding in a column");
      }
    }
  }
  return true;
}

core::Result<std::vector<Sample>> decode_chunk(std::string_view bytes) {
  ChunkDecoder decoder(bytes);
  // Each sample after the first takes at least 2 bits, so a lying header count cannot make us
  // reserve more than the input could possibly hold.
  const std::size_t bits = bytes.size() * 8;
  const std::size_t possible =
      bits <= detail::kHeaderBytes * 8 ? 1 : 1 + (bits - detail::kHeaderBytes * 8) / 2;
  std::vector<Sample> samples;
  samples.reserve(std::min(decoder.size(), possible));
  while (decoder.next()) samples.push_back(decoder.sample());
  if (decoder.error()) return *decoder.error();
  return samples;
}

}  // namespace netpulse::tsdb
