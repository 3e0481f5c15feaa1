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

TEST_CASE("json: to_json_text writes numbers as people and parsers expect them", "[core][json]") {
  using netpulse::core::to_json_text;
  const boost::json::value v = {{"util", 92.5},
                                {"ts", 1700000000.0},
                                {"small", 1e-7},
                                {"big", 1e300},
                                {"neg", -0.25},
                                {"int", -42},
                                {"u", 18446744073709551615ULL},
                                {"zero", 0.0},
                                {"nan", std::nan("")},
                                {"inf", HUGE_VAL}};
  CHECK(to_json_text(v) ==
        R"({"util":92.5,"ts":1700000000,"small":1e-07,"big":1e+300,"neg":-0.25,"int":-42,)"
        R"("u":18446744073709551615,"zero":0,"nan":null,"inf":null})");
  CHECK(to_json_text(boost::json::value(0.1)) == "0.1");
  CHECK(to_json_text(boost::json::value(-0.0)) == "-0.0");
  CHECK(to_json_text(boost::json::value(0.000001)) == "0.000001");
  CHECK(to_json_text(boost::json::value(123456789012345680000.0)) ==
        "123456789012345683968");  // plain, exact
  CHECK(to_json_text(boost::json::value(1e21)) == "1e+21");
  CHECK(to_json_text(boost::json::value(-1.7976931348623157e308)) == "-1.7976931348623157e+308");
  CHECK(to_json_text(boost::json::value(5e-324)) == "5e-324");
  CHECK(to_json_text(boost::json::value(1.0 / 3)) == "0.3333333333333333");
  CHECK(to_json_text(boost::json::array{}) == "[]");
  CHECK(to_json_text(boost::json::object{}) == "{}");
  // Every finite double reads back bit for bit.
  std::mt19937_64 rng(7);
  int wrong = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::uint64_t bits = rng();
    double x = 0;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x)) continue;
    boost::system::error_code ec;
    if (i == 0) x = -0.0;
    auto back = parse_json(to_json_text(boost::json::array{x}), ec);
    if (ec || !same_bits(back.as_array().at(0).to_number<double>(), x)) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("json: to_json_text escapes strings as boost::json::serialize does", "[core][json]") {
  using netpulse::core::to_json_text;
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  all.push_back('\0');
  for (const std::string& s : {std::string(), std::string("plain"), std::string("a\"b\\c\n\t\x01"),
                               std::string("caf\xc3\xa9 \xe2\x82\xac"), all}) {
    const boost::json::value v = {{"k" + s, s}, {"list", {s, 1, true, nullptr}}};
    CHECK(to_json_text(v) == boost::json::serialize(v));
  }
  // Documents without doubles come out as Boost.JSON writes them.
  for (const char* text : {R"({"a":[1,-2,18446744073709551615,true,false,null,"s\u00e9"],"b":{}})",
                           "[]", R"("x")", R"([[[{"deep":[{}]}]]])"}) {
    auto v = boost::json::parse(text);
    CHECK(to_json_text(v) == boost::json::serialize(v));
  }
}
