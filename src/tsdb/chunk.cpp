// The chunk codec: ChunkEncoder packs samples into the Gorilla-style bit layout described in
// docs/format/chunk.md, ChunkDecoder/decode_chunk read it back. Timestamps are stored as
// delta-of-delta in zig-zag form with four variable-width buckets sized for millisecond data
// polled every 10-60 s; values as the XOR with the previous value's IEEE-754 bits. Timestamp
// arithmetic is done modulo 2^64 on unsigned integers, so any int64 timestamps round-trip and
// corrupt input can never cause signed overflow; the decoder bounds-checks every read and rejects
// anything the encoder would not have produced.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <netpulse/tsdb/chunk.hpp>

#include "detail/bitstream.hpp"

namespace netpulse::tsdb {

namespace detail {

constexpr std::size_t kCountBytes = 2;
constexpr std::size_t kHeaderBytes = kCountBytes + 8 + 8;

// Delta-of-delta buckets: a control prefix of `n` one-bits (n = 1..4) followed by a zero bit for
// n < 4, then kDodWidths[n] bits of the zig-zagged value. Prefix '0' alone means a dod of 0.
constexpr std::array<int, 5> kDodWidths = {0, 10, 14, 18, 64};

constexpr int kLeadingBits = 5;     // leading-zero count, capped at 31
constexpr int kMeaningfulBits = 6;  // meaningful-bit count 1..64, 64 stored as 0
constexpr int kMaxLeading = (1 << kLeadingBits) - 1;

constexpr std::uint64_t zigzag(std::int64_t n) noexcept {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}

constexpr std::int64_t unzigzag(std::uint64_t z) noexcept {
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

}  // namespace detail

ChunkEncoder::ChunkEncoder() : bytes_(detail::kCountBytes, '\0') {}

core::Result<void> ChunkEncoder::append(Sample sample) {
  if (full()) return core::invalid_field("t", "chunk is full (65535 samples)");
  if (!std::isfinite(sample.v)) return core::invalid_field("v", "must be a finite number");
  if (count_ > 0 && sample.t <= last_t_) {
    return core::invalid_field("t", "must be greater than the previous timestamp in the chunk");
  }
  if (count_ == 0) {
    detail::put_bits(bytes_, free_bits_, static_cast<std::uint64_t>(sample.t), 64);
    detail::put_bits(bytes_, free_bits_, std::bit_cast<std::uint64_t>(sample.v), 64);
    first_t_ = sample.t;
    last_value_bits_ = std::bit_cast<std::uint64_t>(sample.v);
  } else {
    put_timestamp(sample.t);
    put_value(sample.v);
  }
  last_t_ = sample.t;
  ++count_;
  bytes_[0] = static_cast<char>(count_ >> 8);
  bytes_[1] = static_cast<char>(count_ & 0xff);
  return core::ok();
}

void ChunkEncoder::put_timestamp(Timestamp t) {
  const std::uint64_t delta = static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(last_t_);
  const std::uint64_t dod = delta - last_delta_;
  last_delta_ = delta;
  if (dod == 0) {
    detail::put_bits(bytes_, free_bits_, 0, 1);
    return;
  }
  const std::uint64_t zz = detail::zigzag(static_cast<std::int64_t>(dod));
  for (int ones = 1; ones < static_cast<int>(detail::kDodWidths.size()); ++ones) {
    const int width = detail::kDodWidths[static_cast<std::size_t>(ones)];
    if (width < 64 && zz >= (std::uint64_t{1} << width)) continue;
    // `ones` one-bits, then a terminating zero unless this is the last bucket.
    const bool last_bucket = ones + 1 == static_cast<int>(detail::kDodWidths.size());
    const std::uint64_t prefix = ((std::uint64_t{1} << ones) - 1) << (last_bucket ? 0 : 1);
    detail::put_bits(bytes_, free_bits_, prefix, last_bucket ? ones : ones + 1);
    detail::put_bits(bytes_, free_bits_, zz, width);
    return;
  }
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
  if (detail::get_bits(bytes_, bit_pos_, 16, count)) count_ = static_cast<std::size_t>(count);
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
  if (bytes_.size() < detail::kCountBytes) return fail("shorter than the 2-byte header");
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
  current_ = Sample{static_cast<Timestamp>(t), value};
  last_value_bits_ = v;
  return true;
}

bool ChunkDecoder::read_timestamp() {
  int ones = 0;
  const int max_ones = static_cast<int>(detail::kDodWidths.size()) - 1;
  while (ones < max_ones) {
    std::uint64_t bit = 0;
    if (!detail::get_bits(bytes_, bit_pos_, 1, bit)) return fail("timestamp truncated");
    if (bit == 0) break;
    ++ones;
  }
  std::uint64_t dod = 0;
  if (ones > 0) {
    std::uint64_t zz = 0;
    if (!detail::get_bits(bytes_, bit_pos_, detail::kDodWidths[static_cast<std::size_t>(ones)],
                          zz)) {
      return fail("timestamp truncated");
    }
    dod = static_cast<std::uint64_t>(detail::unzigzag(zz));
  }
  last_delta_ += dod;
  const auto t = static_cast<Timestamp>(static_cast<std::uint64_t>(current_.t) + last_delta_);
  if (t <= current_.t) return fail("timestamps not strictly increasing");
  current_.t = t;
  return true;
}

bool ChunkDecoder::read_value() {
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
