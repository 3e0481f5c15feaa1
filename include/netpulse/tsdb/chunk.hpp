// A Gorilla-style compressed chunk of samples (Pelkonen et al., VLDB 2015, adapted to millisecond
// timestamps): delta-of-delta timestamps, and values either XOR-compressed as IEEE-754 bits or, for
// integer-valued series (counters), as delta-of-delta of the integers; packed MSB-first.
// The byte layout is specified in docs/format/chunk.md. The codec is pure: no I/O, no clock, no
// locking; an encoder or decoder object may be used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

// The most samples one chunk can hold (the header stores the count as a uint16).
inline constexpr std::size_t kMaxChunkSamples = 65535;

// The value encodings a chunk can use, stored in its first byte.
enum class ChunkEncoding : std::uint8_t {
  kXorFloat = 1,      // XOR of consecutive IEEE-754 bit patterns (any finite double)
  kIntegerDelta = 2,  // delta-of-delta of integer values with |v| <= 2^53 (never -0.0)
  kPacked = 3,        // sealed chunks only (compact_chunk): columns of decimal-scaled integers
};

// True when `v` can be stored in ChunkEncoding::kIntegerDelta: an integer of magnitude at most
// 2^53 (so exactly representable) other than -0.0.
bool is_integer_value(double v) noexcept;

// Builds one chunk by appending samples in strictly increasing time order. The chunk starts in
// integer mode if the first value qualifies (is_integer_value); the first later value that does not
// qualify transcodes the samples so far to XOR mode, which then holds for the rest of the chunk.
class ChunkEncoder {
 public:
  // An empty chunk: bytes() is the 3-byte header, encoding kXorFloat and count 0. With
  // `preferred` = kXorFloat the encoder never uses integer mode (for comparisons and tests).
  explicit ChunkEncoder(ChunkEncoding preferred = ChunkEncoding::kIntegerDelta);

  // Appends `sample`. Fails with Errc::kInvalidInput, leaving the chunk unchanged, if the chunk
  // already holds kMaxChunkSamples samples, if `sample.t` is not greater than last_t(), or if
  // `sample.v` is NaN or infinite (the format cannot tell such a value from corruption).
  core::Result<void> append(Sample sample);

  // The number of samples appended so far.
  std::size_t size() const noexcept { return count_; }

  // True when no more samples can be appended.
  bool full() const noexcept { return count_ == kMaxChunkSamples; }

  // The encoded chunk so far, decodable at any moment (the header count is kept current). The view
  // points into this encoder and is invalidated by the next append() or by destroying it.
  std::string_view bytes() const noexcept { return bytes_; }

  // The value encoding the chunk currently uses.
  ChunkEncoding encoding() const noexcept { return encoding_; }

  // The first and last timestamps appended; 0 while the chunk is empty.
  Timestamp first_t() const noexcept { return first_t_; }
  Timestamp last_t() const noexcept { return last_t_; }

 private:
  void put_sample(Sample sample);
  void put_timestamp(Timestamp t);
  void put_value(double v);
  void put_integer_value(double v);
  void transcode_to_xor();

  std::string bytes_;
  ChunkEncoding encoding_ = ChunkEncoding::kXorFloat;
  bool allow_integer_ = true;
  int free_bits_ = 0;  // unused low bits in the last byte of bytes_
  std::size_t count_ = 0;
  Timestamp first_t_ = 0;
  Timestamp last_t_ = 0;
  std::uint64_t last_delta_ = 0;  // last_t_ minus the timestamp before it, modulo 2^64
  std::uint64_t last_value_bits_ = 0;
  int window_leading_ = 0;  // the XOR window ('10' encoding) last written with '11'
  int window_trailing_ = 0;
  bool has_window_ = false;
  std::uint64_t last_int_ = 0;        // integer mode: the last value as int64, modulo 2^64
  std::uint64_t last_int_delta_ = 0;  // integer mode: last value minus the one before, modulo 2^64
};

// Streams the samples of one encoded chunk without allocating. Usage:
//   ChunkDecoder decoder(bytes);
//   while (decoder.next()) use(decoder.sample());
//   if (decoder.error()) fail(*decoder.error());
// Corrupt or truncated input ends the stream with an error (Errc::kDatabaseError); no read ever
// goes past the end of `bytes`. The decoder does not copy `bytes`: they must outlive it.
class ChunkDecoder {
 public:
  // Reads the header of `bytes`; a malformed header is reported by the first next().
  explicit ChunkDecoder(std::string_view bytes);

  // The sample count the header announces (0 if the header itself is unreadable).
  std::size_t size() const noexcept { return count_; }

  // Decodes the next sample. Returns false at the end of the chunk or on corruption; error() tells
  // which. After false, further calls keep returning false.
  bool next();

  // The sample decoded by the last successful next().
  const Sample& sample() const noexcept { return current_; }

  // Set once the input is found to be corrupt; empty on a clean end.
  const std::optional<core::Error>& error() const noexcept { return error_; }

 private:
  bool fail(std::string message);
  bool read_first();
  bool read_timestamp();
  bool read_value();
  bool read_xor_value();
  bool read_integer_value();
  bool check_trailer();
  void parse_packed();
  bool read_packed();
  bool read_column(int column, std::uint64_t& out);

  std::string_view bytes_;
  std::uint64_t encoding_ = 0;
  std::size_t bit_pos_ = 0;
  std::size_t count_ = 0;
  std::size_t decoded_ = 0;
  Sample current_;
  std::uint64_t last_delta_ = 0;
  std::uint64_t last_value_bits_ = 0;
  int window_leading_ = 0;
  int window_trailing_ = 0;
  bool has_window_ = false;
  std::uint64_t last_int_ = 0;
  std::uint64_t last_int_delta_ = 0;
  // kPacked: the header fields and, per column (0 timestamps, 1 values), where it is and how it
  // is coded; `packed_problem_` names what is wrong with a malformed header.
  struct PackedColumn {
    std::string_view data;  // the column's bytes
    std::size_t bit_pos = 0;
    std::size_t entries = 0;
    bool bucketed = false;   // delta-of-delta buckets; else frame of reference:
    std::uint64_t base = 0;  // ... entry = base + width-bit offset (modulo 2^64)
    int width = 0;
  };
  PackedColumn columns_[2];
  std::uint64_t first_delta_ = 0;
  std::uint64_t first_value_delta_ = 0;
  int order_ = 1;
  double scale_ = 1;
  std::string packed_problem_;
  std::optional<core::Error> error_;
};

// Re-encodes a complete chunk for storage: in ChunkEncoding::kPacked when every value is a decimal
// m / 10^k (k <= 15, |m| <= 2^53, bit-exact) and that is smaller, else the input unchanged (also
// when `bytes` do not decode). Packed chunks are read by ChunkDecoder like any other; they cannot
// be appended to (rebuild an encoder from decode_chunk()). Costs one decode and two passes over
// the samples: meant for sealing, not for every append.
std::string compact_chunk(std::string_view bytes);

// Decodes a whole chunk. Fails with Errc::kDatabaseError if `bytes` is truncated, has trailing
// data, or holds anything an encoder would not have written (an unknown encoding, non-increasing
// timestamps, NaN/Inf, an integer-mode value outside +-2^53).
core::Result<std::vector<Sample>> decode_chunk(std::string_view bytes);

}  // namespace netpulse::tsdb
