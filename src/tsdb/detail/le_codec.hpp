// The one little-endian codec of the tsdb's own byte formats: the append log's record header and
// payloads (docs/format/append_log.md), the head snapshot (docs/format/head_snapshot.md) and the
// rollup block's stream lengths (docs/format/rollup_block.md). Integers are written least
// significant byte first whatever the host; doubles as their IEEE-754 bit pattern, as a u64. A
// length-prefixed byte string is a u32 length then the bytes.
//
// The Gorilla chunk (bitstream.hpp, docs/format/chunk.md) and the series key (series_key.hpp) are
// big-endian on purpose and do not use this.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace netpulse::tsdb::detail {

// Writes `v` into p[0, sizeof v), least significant byte first. On a little-endian host (x86-64,
// arm64) this is one copy; the byte loop is for the others.
template <std::unsigned_integral U>
inline void store_le(char* p, U v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

// Reads a U from p[0, sizeof(U)), least significant byte first.
template <std::unsigned_integral U>
inline U load_le(const char* p) noexcept {
  U v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i)
      v |= static_cast<U>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

inline void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  store_le(b, v);
  out.append(b, 4);
}
inline void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  store_le(b, v);
  out.append(b, 8);
}
inline void put_i64(std::string& out, std::int64_t v) {
  put_u64(out, static_cast<std::uint64_t>(v));
}
inline void put_f64(std::string& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}
// A u32 length, then the bytes.
inline void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

// Reads the fields put_* wrote, in order. A read past the end sets `ok` to false and yields 0 (or
// an empty view); every later read does the same, so a caller checks `ok` once after a group.
struct LeReader {
  std::string_view in;
  std::size_t pos = 0;
  bool ok = true;

  bool need(std::size_t n) {
    if (!ok || in.size() - pos < n) ok = false;
    return ok;
  }
  template <class U>
  U get() {
    if (!need(sizeof(U))) return 0;
    const U v = load_le<U>(in.data() + pos);
    pos += sizeof(U);
    return v;
  }
  std::uint8_t u8() { return get<std::uint8_t>(); }
  std::uint32_t u32() { return get<std::uint32_t>(); }
  std::int64_t i64() { return static_cast<std::int64_t>(get<std::uint64_t>()); }
  double f64() { return std::bit_cast<double>(get<std::uint64_t>()); }
  // A u32 length, then that many bytes (a view into `in`).
  std::string_view bytes() {
    const auto n = u32();
    if (!need(n)) return {};
    auto v = in.substr(pos, n);
    pos += n;
    return v;
  }
};

}  // namespace netpulse::tsdb::detail
