// parse_json(): the documents boost::json::parse() builds, with every double the nearest one to
// its text, and the same errors.
#include <charconv>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/json.hpp>

using netpulse::core::parse_json;

namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("json: doubles are the nearest to their text, where Boost.JSON 1.81 is one ulp off",
          "[core][json]") {
  // Each of these comes out one ulp off through boost::json::parse() in Boost 1.81.
  for (const char* text : {"1.2345678901234567e-300", "5.409760742964738e+124",
                           "1.3927926388013963e-143", "-2.128409656321987e-239"}) {
    INFO(text);
    boost::system::error_code ec;
    auto v = parse_json(std::string("[") + text + "]", ec);
    REQUIRE(!ec);
    REQUIRE(v.as_array().at(0).is_double());
    double expected = 0;
    std::from_chars(text, text + std::strlen(text), expected);
    CHECK(same_bits(v.as_array().at(0).as_double(), expected));
  }
  // Shortest round-trip text of random doubles reads back bit for bit.
  std::mt19937_64 rng(42);
  int wrong = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::uint64_t bits = rng();
    double x = 0;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x)) continue;
    char buf[64];
    auto end = std::to_chars(buf, buf + sizeof buf, x).ptr;
    boost::system::error_code ec;
    auto v = parse_json(std::string_view(buf, static_cast<std::size_t>(end - buf)), ec);
    if (ec || !v.is_number() || !same_bits(v.to_number<double>(), x)) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("json: everything else is as boost::json::parse() makes it", "[core][json]") {
  for (const char* text :
       {R"({"a":[1,-2,18446744073709551615,0.5,true,false,null,"s\u00e9"],"b":{}})", "[]", "-0.0",
        " 42 ", R"("x")", "1e400"}) {
    INFO(text);
    boost::system::error_code ec1, ec2;
    auto ours = parse_json(text, ec1);
    auto theirs = boost::json::parse(text, ec2);
    CHECK(ec1 == ec2);
    CHECK(boost::json::serialize(ours) == boost::json::serialize(theirs));
  }
  for (const char* text : {"", "{", "[1,]", "{} x", "[1] [2]", "\"\xff\"", "01", "nul"}) {
    INFO(text);
    boost::system::error_code ec1, ec2;
    auto ours = parse_json(text, ec1);
    boost::json::parse(text, ec2);
    CHECK(ec1);
    CHECK(ec1 == ec2);
    CHECK(ours.is_null());
  }
  boost::json::parse_options shallow;
  shallow.max_depth = 3;
  boost::system::error_code ec;
  CHECK(!parse_json("[[[1]]]", ec, shallow).is_null());
  CHECK(!ec);
  parse_json("[[[[1]]]]", ec, shallow);
  CHECK(ec == boost::json::error::too_deep);
}
