// Private bit-level append and read primitives for the chunk codec. Bits are packed most
// significant first: the first bit written is bit 7 of byte 0. The state lives in the caller (a
// byte string plus a count of free bits, or a byte view plus a bit position) so that the public
// ChunkEncoder/ChunkDecoder can hold it without exposing this header.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netpulse::tsdb::detail {

// Appends the low `width` bits of `bits` (0 <= width <= 64) to `bytes`, most significant first.
// `free_bits` is the number of unused low bits in the last byte of `bytes` (0..7); it is updated.
// Unused bits are always zero, so the last byte is zero-padded at any moment.
inline void put_bits(std::string& bytes, int& free_bits, std::uint64_t bits, int width) {
  while (width > 0) {
    if (free_bits == 0) {
      bytes.push_back('\0');
      free_bits = 8;
    }
    const int take = std::min(width, free_bits);
    const std::uint64_t piece = (bits >> (width - take)) & ((std::uint64_t{1} << take) - 1);
    const auto last = static_cast<unsigned char>(bytes.back());
    bytes.back() = static_cast<char>(last | static_cast<unsigned>(piece << (free_bits - take)));
    free_bits -= take;
    width -= take;
  }
}

// The number of bits of `bytes` not yet read from `bit_pos`.
inline std::size_t bits_left(std::string_view bytes, std::size_t bit_pos) noexcept {
  const std::size_t total = bytes.size() * 8;
  return bit_pos >= total ? 0 : total - bit_pos;
}

// Reads `width` bits (0 <= width <= 64) from `bytes` at `bit_pos`, most significant first, into
// `out` and advances `bit_pos`. Returns false, leaving both untouched, if fewer than `width` bits
// remain: every read is bounds-checked here so callers never index past the end.
inline bool get_bits(std::string_view bytes, std::size_t& bit_pos, int width,
                     std::uint64_t& out) noexcept {
  if (width < 0 || static_cast<std::size_t>(width) > bits_left(bytes, bit_pos)) return false;
  std::uint64_t value = 0;
  std::size_t pos = bit_pos;
  while (width > 0) {
    const int offset = static_cast<int>(pos % 8);
    const int avail = 8 - offset;
    const int take = std::min(width, avail);
    const auto byte = static_cast<unsigned>(static_cast<unsigned char>(bytes[pos / 8]));
    const unsigned piece = (byte >> (avail - take)) & ((1u << take) - 1);
    value = (value << take) | piece;
    pos += static_cast<std::size_t>(take);
    width -= take;
  }
  out = value;
  bit_pos = pos;
  return true;
}

}  // namespace netpulse::tsdb::detail
