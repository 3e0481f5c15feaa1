// Selector parsing (tables of valid and invalid text with their exact messages), matching
// semantics (missing labels, anchored regexes, __name__), limits and the to_string round trip.
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/selector.hpp>

using netpulse::core::Errc;
using netpulse::tsdb::Matcher;
using netpulse::tsdb::MatchOp;
using netpulse::tsdb::Selector;
using netpulse::tsdb::SeriesKey;

namespace {

Selector parse_ok(std::string_view text) {
  auto parsed = Selector::parse(text);
  INFO("text: " << text);
  if (!parsed) FAIL("unexpected error: " << parsed.error().message);
  return std::move(parsed).value();
}

std::string many_matchers(int count) {
  std::string text = "up{";
  for (int i = 0; i < count; ++i) text += "l" + std::to_string(i) + "=\"v\",";
  return text + "}";
}

}  // namespace

TEST_CASE("selector: valid text parses to its canonical form", "[tsdb][selector]") {
  struct Case {
    std::string text;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"up", "up"},
      {"  up  ", "up"},
      {"up{}", "up"},
      {"up{job=\"api\"}", "up{job=\"api\"}"},
      {"up{job='api'}", "up{job=\"api\"}"},
      {"up{job=\"api\",}", "up{job=\"api\"}"},
      {"up { job = \"api\" ,\n instance != \"a:1\" , }", "up{job=\"api\",instance!=\"a:1\"}"},
      {"http_requests_total{code=~\"5..\",method!~\"GET|HEAD\"}",
       "http_requests_total{code=~\"5..\",method!~\"GET|HEAD\"}"},
      {"ns:metric:rate5m{_a1=\"b\"}", "ns:metric:rate5m{_a1=\"b\"}"},
      {"{__name__=\"up\"}", "up"},
      {"{job=\"x\", __name__=\"up\"}", "up{job=\"x\"}"},
      {"{__name__=~\"up|down\"}", "{__name__=~\"up|down\"}"},
      {"{__name__!=\"up\", job=\"x\"}", "{__name__!=\"up\",job=\"x\"}"},
      {"{__name__=\"a\", __name__=\"b\"}", "{__name__=\"a\",__name__=\"b\"}"},
      {"{a=~\".+\"}", "{a=~\".+\"}"},
      {"{a!=\"\"}", "{a!=\"\"}"},
      {"{a=\"\", b=\"x\"}", "{a=\"\",b=\"x\"}"},
      {"{a!~\"\"}", "{a!~\"\"}"},
      {R"(x{a="q\"q\\n\n\t"})", R"(x{a="q\"q\\n\n\t"})"},
      {R"(x{a='it\'s "ok"'})", R"(x{a="it's \"ok\""})"},
      {R"(x{a="\u00e9\u20AC"})", "x{a=\"\xc3\xa9\xe2\x82\xac\"}"},
      {R"(x{a="a\rb\u0001"})", R"(x{a="a\rb\u0001"})"},
      {R"(x{a=~"\\d+\\.\\d+"})", R"(x{a=~"\\d+\\.\\d+"})"},
      {many_matchers(32), ""},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    const Selector s = parse_ok(c.text);
    if (!c.canonical.empty()) CHECK(s.to_string() == c.canonical);
  }
}

TEST_CASE("selector: metric() and matchers() expose the parsed parts", "[tsdb][selector]") {
  const Selector s = parse_ok("up{job=\"api\", code=~\"5..\"}");
  REQUIRE(s.metric().has_value());
  CHECK(*s.metric() == "up");
  REQUIRE(s.matchers().size() == 2);
  CHECK(s.matchers()[0].name == "job");
  CHECK(s.matchers()[0].op == MatchOp::kEqual);
  CHECK(s.matchers()[0].value == "api");
  CHECK(s.matchers()[1].name == "code");
  CHECK(s.matchers()[1].op == MatchOp::kRegex);
  CHECK(s.matchers()[1].value == "5..");

  const Selector hoisted = parse_ok("{__name__=\"up\", job=\"api\"}");
  CHECK(hoisted.metric() == std::optional<std::string>("up"));
  REQUIRE(hoisted.matchers().size() == 1);
  CHECK(hoisted.matchers()[0].name == "job");

  const Selector regex_name = parse_ok("{__name__=~\"up\"}");
  CHECK_FALSE(regex_name.metric().has_value());
  CHECK(regex_name.matchers().size() == 1);
}

TEST_CASE("selector: invalid text is refused with the offset and what was expected",
          "[tsdb][selector]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string kEverything =
      "expected at least one matcher that does not match the empty string";
  const std::string long_regex = "up{a=~\"" + std::string(257, 'a') + "\"}";
  const std::vector<Case> cases = {
      {"", "at 0: expected a metric name or '{'"},
      {"   ", "at 3: expected a metric name or '{'"},
      {"1up", "at 0: expected a metric name or '{'"},
      {"{}", "at 0: " + kEverything},
      {" {a=\"\"}", "at 1: " + kEverything},
      {"{a=~\".*\"}", "at 0: " + kEverything},
      {"{a!~\".+\"}", "at 0: " + kEverything},
      {"{a=\"\", b=~\"x|\"}", "at 0: " + kEverything},
      {"up{", "at 3: expected a label name or '}'"},
      {"{a=\"b\"", "at 6: expected ',' or '}'"},
      {"up{a=\"b\"", "at 8: expected ',' or '}'"},
      {"up{a=\"b\"\n", "at 9: expected ',' or '}'"},
      {"up}", "at 2: expected '{' or end of selector"},
      {"up{a=\"b\"}}", "at 9: expected end of selector"},
      {"up{a=\"b\"}{c=\"d\"}", "at 9: expected end of selector"},
      {"up{a=\"b\",,}", "at 9: expected a label name or '}'"},
      {"up{,}", "at 3: expected a label name or '}'"},
      {"up{=\"b\"}", "at 3: expected a label name or '}'"},
      {"up{1a=\"b\"}", "at 3: expected a label name or '}'"},
      {"up{a}", "at 4: expected '=', '!=', '=~' or '!~'"},
      {"up{a:b=\"c\"}", "at 4: expected '=', '!=', '=~' or '!~'"},
      {"up{a ~= \"c\"}", "at 5: expected '=', '!=', '=~' or '!~'"},
      {"up{a==\"b\"}", "at 5: expected a quoted string"},
      {"up{a=b}", "at 5: expected a quoted string"},
      {"up{a=\"b\" c=\"d\"}", "at 9: expected ',' or '}'"},
      {R"(up{a="b\x"})", "at 7: invalid escape (expected \\\" \\' \\\\ \\n \\t \\r or \\uXXXX)"},
      {"up{a=\"b", "at 5: unterminated string"},
      {"up{a='b\"}", "at 5: unterminated string"},
      {"up{a=\"b\\", "at 5: unterminated string"},
      {"up{a=\"x\ny\"}", "at 7: control character in string (use an escape)"},
      {R"(up{a="\u12"})", "at 6: expected 4 hex digits after \\u"},
      {R"(up{a="\u12)", "at 6: expected 4 hex digits after \\u"},
      {R"(up{a="\ud800"})", "at 6: surrogate code point in \\u escape"},
      {R"(up{a="\u0000"})", "at 6: NUL (\\u0000) in string"},
      {"up{__name__=\"x\"}", "at 3: metric name set twice (bare name and __name__ matcher)"},
      {"up{a=\"b\",__name__=~\"x\"}",
       "at 9: metric name set twice (bare name and __name__ matcher)"},
      {std::string("up{a=\"b\0\"}", 10), "at 7: NUL byte in selector"},
      {std::string("up\0", 3), "at 2: NUL byte in selector"},
      {long_regex, "at 6: regex longer than 256 bytes"},
      {"up{" + std::string(5000, ' ') + "}", "at 4096: selector longer than 4096 bytes"},
      {many_matchers(33), "at 249: more than 32 matchers"},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text.substr(0, 80));
    const auto parsed = Selector::parse(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::kInvalidInput);
    CHECK(parsed.error().message == "selector: " + c.message);
  }
}

TEST_CASE("selector: regexes RE2 refuses are invalid input", "[tsdb][selector]") {
  for (const char* text :
       {"up{a=~\"(\"}", "up{a=~\"[a-\"}", "up{a=~\"a{2,1}\"}", R"(up{a=~"(a)\\1"})", "up{a=~\"*\"}",
        "up{a=~\"(?=x)\"}", "up{a=~\"(?<!x)y\"}"}) {
    INFO("text: " << text);
    const auto parsed = Selector::parse(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::kInvalidInput);
    CHECK_THAT(parsed.error().message, Catch::StartsWith("selector: at 6: invalid regex: "));
  }
  // An escaped paren or one inside a class is not a look-around group.
  CHECK(Selector::parse(R"(up{a=~"\\(?=x"})"));
  CHECK(Selector::parse(R"(up{a=~"[(]?=x"})"));
}

TEST_CASE("selector: regexes follow Prometheus (RE2): dot matches newline, inline flags work",
          "[tsdb][selector]") {
  CHECK(parse_ok("{a=~\"x.y\"}").matches(SeriesKey{"m", {{"a", "x\ny"}}}));
  CHECK(parse_ok("{a=~\"(?i)ETH.*\"}").matches(SeriesKey{"m", {{"a", "eth0"}}}));
  CHECK_FALSE(parse_ok("{a=~\"eth[0-9]\"}").matches(SeriesKey{"m", {{"a", "eth10"}}}));
  CHECK(parse_ok("{a=~\"eth[0-9]+|lo\"}").matches(SeriesKey{"m", {{"a", "lo"}}}));
}

TEST_CASE("selector: a regex of exactly the limit is accepted", "[tsdb][selector]") {
  CHECK(Selector::parse("up{a=~\"" + std::string(256, 'a') + "\"}"));
  const std::string at_limit = "up{a=\"" + std::string(4096 - 8, 'v') + "\"}";
  REQUIRE(at_limit.size() == 4096);
  CHECK(Selector::parse(at_limit));
}

TEST_CASE("selector: a missing label matches as the empty string", "[tsdb][selector]") {
  const SeriesKey key{"up", {{"job", "api"}}};
  CHECK(parse_ok("up{zone=\"\"}").matches(key));
  CHECK_FALSE(parse_ok("up{zone!=\"\"}").matches(key));
  CHECK(parse_ok("up{zone=~\"eu|\"}").matches(key));
  CHECK_FALSE(parse_ok("up{zone=~\"eu\"}").matches(key));
  CHECK(parse_ok("up{zone!~\"eu\"}").matches(key));
  CHECK(parse_ok("up{zone!=\"eu\"}").matches(key));
  CHECK_FALSE(parse_ok("up{job=\"\"}").matches(key));
}

TEST_CASE("selector: regexes are fully anchored", "[tsdb][selector]") {
  const auto with_a = [](std::string value) { return SeriesKey{"m", {{"a", std::move(value)}}}; };
  const Selector b = parse_ok("m{a=~\"b\"}");
  CHECK(b.matches(with_a("b")));
  CHECK_FALSE(b.matches(with_a("abc")));
  CHECK_FALSE(b.matches(with_a("ab")));
  CHECK_FALSE(b.matches(with_a("bc")));

  const Selector alternation = parse_ok("m{a=~\"b|c\"}");
  CHECK(alternation.matches(with_a("c")));
  CHECK_FALSE(alternation.matches(with_a("bc")));

  CHECK(parse_ok("m{a=~\"a.*\"}").matches(with_a("abc")));
  CHECK(parse_ok("m{a!~\"b\"}").matches(with_a("abc")));
  CHECK_FALSE(parse_ok("m{a!~\"a.c\"}").matches(with_a("abc")));
  CHECK(parse_ok(R"(m{a=~"\\d+\\.\\d+"})").matches(with_a("10.5")));
  CHECK_FALSE(parse_ok(R"(m{a=~"\\d+\\.\\d+"})").matches(with_a("10x5")));
}

TEST_CASE("selector: metric name and __name__ matchers", "[tsdb][selector]") {
  const SeriesKey up{"up", {{"job", "api"}, {"zone", "eu"}}};
  const SeriesKey requests{"http_requests_total", {{"job", "api"}}};
  CHECK(parse_ok("up").matches(up));
  CHECK_FALSE(parse_ok("up").matches(requests));
  CHECK(parse_ok("{__name__=\"up\"}").matches(up));
  CHECK(parse_ok("{__name__=~\"http_.*\"}").matches(requests));
  CHECK_FALSE(parse_ok("{__name__=~\"http_.*\"}").matches(up));
  CHECK(parse_ok("{__name__!=\"up\", job=\"api\"}").matches(requests));
  CHECK_FALSE(parse_ok("{__name__!=\"up\", job=\"api\"}").matches(up));
  CHECK(parse_ok("up{job=\"api\",zone=~\"e.\"}").matches(up));
  CHECK_FALSE(parse_ok("up{job=\"api\",zone=~\"us\"}").matches(up));
  // Labels need not be sorted for matching.
  const SeriesKey unsorted{"up", {{"zone", "eu"}, {"job", "api"}}};
  CHECK(parse_ok("up{job=\"api\",zone=\"eu\"}").matches(unsorted));
}

TEST_CASE("selector: matching long values is linear, not catastrophic", "[tsdb][selector]") {
  const Selector nested = parse_ok("{a=~\"(a*)*b\"}");
  CHECK_FALSE(nested.matches(SeriesKey{"m", {{"a", std::string(5000, 'a')}}}));
  const Selector any = parse_ok("{a=~\"x.*y\"}");
  CHECK(any.matches(SeriesKey{"m", {{"a", "x" + std::string(100000, 'z') + "y"}}}));
}

TEST_CASE("selector: Matcher::make compiles regexes and refuses bad ones", "[tsdb][selector]") {
  auto good = Matcher::make("a", MatchOp::kRegex, "x+");
  REQUIRE(good);
  CHECK(good->matches("xxx"));
  CHECK_FALSE(good->matches("xy"));
  const auto bad = Matcher::make("a", MatchOp::kNotRegex, "(");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::StartsWith("selector: invalid regex: "));
  // Equality ops take the value literally.
  auto literal = Matcher::make("a", MatchOp::kEqual, "(");
  REQUIRE(literal);
  CHECK(literal->matches("("));
}

TEST_CASE("selector: to_string round-trips through parse", "[tsdb][selector]") {
  for (const std::string text :
       {"up", "up{job=\"api\",instance!=\"a:1\"}", "{__name__=~\"up|down\",a!~\"\"}",
        R"(x{a='it\'s "q"\\\n\t\r\u0007',b=~"\\d+"})", "{__name__=\"a\",__name__=\"b\"}",
        "m{a=\"\\u00e9\"}"}) {
    INFO("text: " << text);
    const Selector s = parse_ok(text);
    const std::string canonical = s.to_string();
    const Selector again = parse_ok(canonical);
    CHECK(again == s);
    CHECK(again.to_string() == canonical);
  }

  // Every byte value but NUL survives quoting: controls as \uXXXX, bytes >= 0x80 raw.
  std::string every_byte;
  std::string text = "m{a=\"";
  for (int c = 1; c < 256; ++c) {
    every_byte += static_cast<char>(c);
    if (c == '"' || c == '\\') {
      text += '\\';
      text += static_cast<char>(c);
    } else if (c == '\n' || c == '\t' || c == '\r') {
      text += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      text += std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xF];
    } else {
      text += static_cast<char>(c);
    }
  }
  text += "\"}";
  const Selector s = parse_ok(text);
  REQUIRE(s.matchers().size() == 1);
  CHECK(s.matchers()[0].value == every_byte);
  CHECK(s.to_string() == text);
  CHECK(parse_ok(s.to_string()) == s);
}

// Found by the selector fuzz target: `{__name__="u'"}` was hoisted into metric() though "u'" is
// no metric name, so to_string() printed the bare `u'`, which does not parse.
TEST_CASE("selector: a __name__ value that is not a metric name stays a matcher",
          "[tsdb][selector]") {
  const Selector quote = parse_ok("{__name__=\"u'\"}");
  CHECK_FALSE(quote.metric());
  REQUIRE(quote.matchers().size() == 1);
  CHECK(quote.to_string() == "{__name__=\"u'\"}");
  CHECK(parse_ok(quote.to_string()) == quote);
  CHECK(quote.matches(SeriesKey{"u'", {}}));
  CHECK_FALSE(quote.matches(SeriesKey{"u", {}}));

  const Selector digit = parse_ok("{__name__=\"1up\", a=\"b\"}");
  CHECK(digit.to_string() == "{__name__=\"1up\",a=\"b\"}");
  CHECK(parse_ok(digit.to_string()) == digit);

  // An empty name selects every series without a name matcher that excludes "": refused.
  CHECK_FALSE(Selector::parse("{__name__=\"\"}"));
}
