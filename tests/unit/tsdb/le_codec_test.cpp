// The tsdb's little-endian codec (src/tsdb/detail/le_codec.hpp): the exact bytes each field is
// written as (they are on disk, in the append log, the head snapshot and the rollup blocks, so
// they must never change), the reader getting them back, and the reader's refusal of short input.
#include "tsdb/detail/le_codec.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <zlib.h>

#include "tsdb/detail/append_log.hpp"

namespace detail = netpulse::tsdb::detail;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out.push_back(static_cast<char>(x));
  return out;
}

}  // namespace

TEST_CASE("le codec: every field's bytes, least significant first", "[tsdb][le_codec]") {
  std::string out;
  detail::put_u8(out, 0xab);
  CHECK(out == bytes({0xab}));
  out.clear();
  detail::put_u32(out, 0x01020304);
  CHECK(out == bytes({0x04, 0x03, 0x02, 0x01}));
  out.clear();
  detail::put_u64(out, 0x0102030405060708);
  CHECK(out == bytes({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}));
  out.clear();
  detail::put_i64(out, -2);
  CHECK(out == bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  out.clear();
  detail::put_f64(out, 1.0);  // 0x3ff0000000000000
  CHECK(out == bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  out.clear();
  detail::put_bytes(out, "hi");
  CHECK(out == bytes({2, 0, 0, 0, 'h', 'i'}));

  char p[8];
  detail::store_le(p, std::uint32_t{0xdeadbeef});
  CHECK(std::string(p, 4) == bytes({0xef, 0xbe, 0xad, 0xde}));
  CHECK(detail::load_le<std::uint32_t>(p) == 0xdeadbeef);
}

TEST_CASE("le codec: the reader gets back what was put, and fails past the end",
          "[tsdb][le_codec]") {
  std::string out;
  detail::put_u8(out, 7);
  detail::put_u32(out, 123456);
  detail::put_i64(out, -1'790'000'000'000);
  detail::put_f64(out, -0.0);
  detail::put_bytes(out, "key");
  detail::LeReader rd{out};
  CHECK(rd.u8() == 7);
  CHECK(rd.u32() == 123456);
  CHECK(rd.i64() == -1'790'000'000'000);
  const double z = rd.f64();
  CHECK((z == 0.0 && std::signbit(z)));
  CHECK(rd.bytes() == "key");
  CHECK(rd.ok);
  CHECK(rd.pos == out.size());
  CHECK(rd.u8() == 0);
  CHECK_FALSE(rd.ok);

  // A length that runs past the end: no bytes, and the reader stays failed.
  const std::string short_input = bytes({5, 0, 0, 0, 'a'});
  detail::LeReader bad{short_input};
  CHECK(bad.bytes().empty());
  CHECK_FALSE(bad.ok);
  CHECK(bad.u32() == 0);
}

TEST_CASE("le codec: an append log record's header", "[tsdb][le_codec]") {
  std::string out;
  detail::append_log_record(out, detail::LogRecordType::kSamples, "abc");
  REQUIRE(out.size() == detail::kLogHeaderBytes + 3);
  CHECK(out.substr(0, 4) == bytes({3, 0, 0, 0}));
  const std::string crc_input = bytes({2}) + "abc";
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(crc_input.data()), crc_input.size()));
  CHECK(detail::load_le<std::uint32_t>(out.data() + 4) == crc);
  CHECK(out[8] == 2);
  CHECK(out.substr(9) == "abc");
}
