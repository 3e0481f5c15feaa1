// Line protocol parser: valid lines of every field type and escape, Telegraf-like lines,
// precision conversion, and tables of hostile lines that must yield one issue and no crash.
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::tsdb {
namespace {

constexpr Timestamp kNow = 1'721'199'945'123;

ParseResult parse(std::string_view body, Precision precision = Precision::kNanoseconds,
                  const ParseLimits& limits = {}) {
  return parse_line_protocol(body, precision, kNow, limits);
}

ParsedSample sample(std::string metric, LabelSet labels, Timestamp t, double v) {
  return ParsedSample{SeriesKey{std::move(metric), std::move(labels)}, Sample{t, v}};
}

}  // namespace

TEST_CASE("line protocol: parses every field type to one sample per field", "[tsdb][lp]") {
  struct Case {
    std::string line;
    double value;
  };
  const std::vector<Case> cases = {
      {"m value=1.5", 1.5},
      {"m value=-2", -2},
      {"m value=1e3", 1000},
      {"m value=1.5E-3", 0.0015},
      {"m value=.5", 0.5},
      {"m value=12i", 12},
      {"m value=-12i", -12},
      {"m value=12u", 12},
      {"m value=t", 1},
      {"m value=T", 1},
      {"m value=true", 1},
      {"m value=True", 1},
      {"m value=TRUE", 1},
      {"m value=f", 0},
      {"m value=F", 0},
      {"m value=false", 0},
      {"m value=False", 0},
      {"m value=FALSE", 0},
      {"m value=9007199254740993i", 9007199254740992.0},  // beyond 2^53: nearest double
      {"m value=18446744073709551615u", 18446744073709551615.0},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const ParseResult r = parse(c.line);
    REQUIRE(r.issues.empty());
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0] == sample("m", {}, kNow, c.value));
  }
}

TEST_CASE("line protocol: maps measurement, fields and tags to metrics and labels", "[tsdb][lp]") {
  const ParseResult r =
      parse("cpu,host=web-01,cpu=cpu0 usage_idle=98.2,usage_user=1.1 1721199945000000000\n");
  REQUIRE(r.issues.empty());
  const LabelSet labels = {{"cpu", "cpu0"}, {"host", "web-01"}};  // sorted
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[0] == sample("cpu_usage_idle", labels, 1721199945000, 98.2));
  CHECK(r.samples[1] == sample("cpu_usage_user", labels, 1721199945000, 1.1));
}

TEST_CASE("line protocol: parses Telegraf-like real lines", "[tsdb][lp]") {
  struct Case {
    std::string line;
    Precision precision;
    std::vector<ParsedSample> expected;
  };
  const std::vector<Case> cases = {
      {"net,host=r1,interface=eth0 bytes_recv=123456789i 1721199945000000000",
       Precision::kNanoseconds,
       {sample("net_bytes_recv", {{"host", "r1"}, {"interface", "eth0"}}, 1721199945000,
               123456789)}},
      {"ifHCInOctets,host=dev1,ifName=eth0 value=12345 1721199945",
       Precision::kSeconds,
       {sample("ifHCInOctets", {{"host", "dev1"}, {"ifName", "eth0"}}, 1721199945000, 12345)}},
      {"mem,host=web-01 available=6.1e9,used_percent=23.5,active=1i 1721199945000000000",
       Precision::kNanoseconds,
       {sample("mem_available", {{"host", "web-01"}}, 1721199945000, 6.1e9),
        sample("mem_used_percent", {{"host", "web-01"}}, 1721199945000, 23.5),
        sample("mem_active", {{"host", "web-01"}}, 1721199945000, 1)}},
      {"system,host=web-01 load1=0.5,uptime=3600u",
       Precision::kNanoseconds,
       {sample("system_load1", {{"host", "web-01"}}, kNow, 0.5),
        sample("system_uptime", {{"host", "web-01"}}, kNow, 3600)}},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const ParseResult r = parse(c.line, c.precision);
    REQUIRE(r.issues.empty());
    CHECK(r.samples == c.expected);
  }
}

TEST_CASE("line protocol: unescapes and sanitizes names", "[tsdb][lp]") {
  struct Case {
    std::string line;
    ParsedSample expected;
  };
  const std::vector<Case> cases = {
      {R"(net.bytes value=1 1)", sample("net_bytes", {}, 1, 1)},
      {R"(my\ meas\,x value=1 1)", sample("my_meas_x", {}, 1, 1)},
      {R"(m,ta\ g\,k\=y=v\ a\,l\=ue value=1 1)", sample("m", {{"ta_g_k_y", "v a,l=ue"}}, 1, 1)},
      {R"(m,k=a\\b value=1 1)", sample("m", {{"k", R"(a\b)"}}, 1, 1)},
      {R"(m,k=a\xb value=1 1)", sample("m", {{"k", R"(a\xb)"}}, 1, 1)},
      {R"(m,k=a=b value=1 1)", sample("m", {{"k", "a=b"}}, 1, 1)},
      {R"(m f\ 1\,x\=y=2 1)", sample("m_f_1_x_y", {}, 1, 2)},
      {R"(1m,1k=v value=1 1)", sample("_1m", {{"_1k", "v"}}, 1, 1)},
      {R"(m:sub,host.name=h used.pct=1 1)", sample("m:sub_used_pct", {{"host_name", "h"}}, 1, 1)},
      {"m,k=v\xc3\xa9 value=1 1", sample("m", {{"k", "v\xc3\xa9"}}, 1, 1)},
      {"m\xc3\xa9 value=1 1", sample("m__", {}, 1, 1)},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const ParseResult r = parse(c.line, Precision::kMilliseconds);
    REQUIRE(r.issues.empty());
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0] == c.expected);
  }
}

TEST_CASE("line protocol: converts every precision to milliseconds, flooring", "[tsdb][lp]") {
  struct Case {
    std::string name;
    std::int64_t raw;
    Timestamp expected_ms;
  };
  const std::vector<Case> cases = {
      {"ns", 1721199945123999999, 1721199945123},
      {"n", 1721199945123999999, 1721199945123},
      {"us", 1721199945123999, 1721199945123},
      {"u", 1721199945123999, 1721199945123},
      {"ms", 1721199945123, 1721199945123},
      {"s", 1721199945, 1721199945000},
      {"m", 28686665, 1721199900000},
      {"h", 478111, 1721199600000},
      {"ns", 0, 0},
      {"ns", 999999, 0},
  };
  for (const auto& c : cases) {
    INFO(c.name << " " << c.raw);
    const auto precision = parse_precision(c.name);
    REQUIRE(precision.has_value());
    const ParseResult r = parse("m value=1 " + std::to_string(c.raw), *precision);
    REQUIRE(r.issues.empty());
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0].sample.t == c.expected_ms);
  }
}

TEST_CASE("line protocol: refuses unknown precision names", "[tsdb][lp]") {
  for (const char* name : {"", "NS", "sec", "mss", "d", "µs", "x"}) {
    INFO(name);
    CHECK_FALSE(parse_precision(name).has_value());
  }
}

TEST_CASE("line protocol: skips comments, blank lines, and tolerates CRLF and padding",
          "[tsdb][lp]") {
  const ParseResult r = parse(
      "# a comment\r\n\r\n   \n\tm value=1 1000000\r\n  # indented comment\n  m value=2 2000000  "
      "\n",
      Precision::kNanoseconds);
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[0] == sample("m", {}, 1, 1));
  CHECK(r.samples[1] == sample("m", {}, 2, 2));
}

TEST_CASE("line protocol: uses now for lines without a timestamp", "[tsdb][lp]") {
  const ParseResult r = parse("m value=1\nm value=2 \n");
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[0].sample.t == kNow);
  CHECK(r.samples[1].sample.t == kNow);
}

TEST_CASE("line protocol: refuses hostile lines with one issue naming the part", "[tsdb][lp]") {
  struct Case {
    std::string line;
    std::string field;
    std::string reason_part;
  };
  const std::vector<Case> cases = {
      {"m", "line", "missing field set"},
      {"m ", "line", "missing field set"},
      {"m,k=v", "line", "missing field set"},
      {" value=1", "line", "missing field set"},  // leading blanks are trimmed, no field set
      {",k=v value=1", "measurement", "missing measurement"},
      {"m value", "field:value", "without '='"},
      {"m value=", "field:value", "missing field value"},
      {"m =1", "field", "empty field key"},
      {"m value=1,", "field", "empty field key"},
      {"m value=1,,x=2", "field", "empty field key"},
      {"m,k value=1", "tag:k", "without '='"},
      {"m,=v value=1", "tag", "empty tag key"},
      {"m,k= value=1", "tag:k", "empty label value"},
      {"m,__name__=x value=1", "tag:__name__", "reserved"},
      {"m,k=a,k=b value=1", "tag:k", "duplicate tag key"},
      {"m,a.b=1,a_b=2 value=1", "tag:a_b", "duplicate tag key"},
      {"m value=1,value=2", "field:value", "duplicate field"},
      {"m a.b=1,a_b=2", "field:a_b", "duplicate field"},
      {"m value=\"unterminated", "field:value", "unterminated string"},
      {"m value=\"esc\\\"aped", "field:value", "unterminated string"},
      {"m value=NaN", "field:value", "NaN"},
      {"m value=nan", "field:value", "NaN"},
      {"m value=inf", "field:value", "infinity"},
      {"m value=-Infinity", "field:value", "infinity"},
      {"m value=1e400", "field:value", "out of range"},
      {"m value=1e-400", "field:value", "out of range"},
      {"m value=+1", "field:value", "invalid number"},
      {"m value=0x10", "field:value", "invalid number"},
      {"m value=1.5i", "field:value", "invalid integer"},
      {"m value=i", "field:value", "invalid integer"},
      {"m value=99999999999999999999i", "field:value", "64 bits"},
      {"m value=-1u", "field:value", "invalid unsigned"},
      {"m value=99999999999999999999u", "field:value", "64 bits"},
      {"m value=yes", "field:value", "invalid number"},
      {"m value=1 12ab", "timestamp", "not an integer"},
      {"m value=1 1.5", "timestamp", "not an integer"},
      {"m value=1 1 2", "timestamp", "not an integer"},
      {"m value=1 -1", "timestamp", "before 1970"},
      {"m value=1 123456789012345678901234567890", "timestamp", "out of range"},
      {"m\\", "measurement", "backslash"},
      {"m,k\\", "tag", "backslash"},
      {"m,k=v\\", "tag:k", "backslash"},
      {"m value\\", "field", "backslash"},
      {"m,k=\xff\xfe value=1", "tag:k", "UTF-8"},
      {"m,k=\xc0\xaf value=1", "tag:k", "UTF-8"},          // overlong '/'
      {"m,k=\xed\xa0\x80 value=1", "tag:k", "UTF-8"},      // surrogate
      {"m,k=\xf4\x90\x80\x80 value=1", "tag:k", "UTF-8"},  // above U+10FFFF
      {"m,k=v\xc3 value=1", "tag:k", "UTF-8"},             // truncated sequence
      {std::string("m,k=a\0b value=1", 15), "line", "NUL"},
      {"m,k=v\"x value=1", "", ""},  // a quote in a tag value is an ordinary byte (accepted)
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const ParseResult r = parse(c.line);
    if (c.field.empty()) {
      CHECK(r.issues.empty());
      continue;
    }
    CHECK(r.samples.empty());
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 1);
    CHECK(r.issues[0].field == c.field);
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains(c.reason_part));
  }
}

// Each row checks one rule of the InfluxDB line protocol reference (v2 "Line protocol", sections
// "Special Characters", "Escaping backslashes", "Data types and format", "Quotes", "Comments"),
// quoted in `rule`. `expected` empty and `issue_field` empty: the line stores nothing and is not
// an error.
TEST_CASE("line protocol: every escaping rule of the reference, row by row", "[tsdb][lp]") {
  struct Case {
    std::string rule;
    std::string line;
    std::vector<ParsedSample> expected;
    std::string issue_field;  // "" when the line must not be refused
  };
  const std::vector<Case> cases = {
      {"Measurement | Comma, Space", R"(my\,meas\ x value=1 1)", {sample("my_meas_x", {}, 1, 1)}},
      {"Measurement: '=' is not an escape character there, the backslash stays",
       R"(m\=x value=1 1)",
       {sample("m__x", {}, 1, 1)}},
      {"Tag key | Comma, Equals Sign, Space",
       R"(m,t\ k\,e\=y=v value=1 1)",
       {sample("m", {{"t_k_e_y", "v"}}, 1, 1)}},
      {"Tag value | Comma, Equals Sign, Space",
       R"(m,k=a\ b\,c\=d value=1 1)",
       {sample("m", {{"k", "a b,c=d"}}, 1, 1)}},
      {"Field key | Comma, Equals Sign, Space",
       R"(m f\ a\,b\=c=1 1)",
       {sample("m_f_a_b_c", {}, 1, 1)}},
      {"Field value | Double quote, Backslash (an escaped quote does not end the string)",
       R"(m s="say \"hi\", then go",v=2 1)",
       {sample("m_v", {}, 1, 2)}},
      {"Field value | Double quote, Backslash (an escaped backslash before the closing quote)",
       R"(m s="C:\\",v=3 1)",
       {sample("m_v", {}, 1, 3)}},
      {"You do not need to escape other special characters",
       R"(m,k=a"b'c value=1 1)",
       {sample("m", {{"k", R"(a"b'c)"}}, 1, 1)}},
      {"Emojis",
       "m,k=\xf0\x9f\x8d\xad value=1 1",
       {sample("m", {{"k", "\xf0\x9f\x8d\xad"}}, 1, 1)}},
      {R"(Escaping backslashes: `\` is interpreted as `\`)",
       R"(m,k=a\b value=1 1)",
       {sample("m", {{"k", R"(a\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: `\\` is interpreted as `\`)",
       R"(m,k=a\\b value=1 1)",
       {sample("m", {{"k", R"(a\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: `\\\` is interpreted as `\\`)",
       R"(m,k=a\\\b value=1 1)",
       {sample("m", {{"k", R"(a\\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: `\\\\` is interpreted as `\\`)",
       R"(m,k=a\\\\b value=1 1)",
       {sample("m", {{"k", R"(a\\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: `\\\\\` is interpreted as `\\\`)",
       R"(m,k=a\\\\\b value=1 1)",
       {sample("m", {{"k", R"(a\\\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: `\\\\\\` is interpreted as `\\\`)",
       R"(m,k=a\\\\\\b value=1 1)",
       {sample("m", {{"k", R"(a\\\b)"}}, 1, 1)}},
      {R"(Escaping backslashes: an escaped backslash, then an escaped space (issue 12's line))",
       R"(cpu,host=two\\\ words value=42 1)",
       {sample("cpu", {{"host", R"(two\ words)"}}, 1, 42)}},
      {R"(Escaping backslashes: an escaped backslash ends a tag value before a comma)",
       R"(m,k=a\\,j=b value=1 1)",
       {sample("m", {{"j", "b"}, {"k", R"(a\)"}}, 1, 1)}},
      {R"(Escaping backslashes: an escaped backslash, then an escaped comma)",
       R"(m,k=a\\\,b value=1 1)",
       {sample("m", {{"k", R"(a\,b)"}}, 1, 1)}},
      {R"(Escaping backslashes: in a tag key, before an escaped space)",
       R"(m,a\\\ b=v value=1 1)",
       {sample("m", {{"a__b", "v"}}, 1, 1)}},
      {"Quotes: measurement, tag keys and values accept quotes as part of the name or value",
       R"("m",k='v' value=1 1)",
       {sample("_m_", {{"k", "'v'"}}, 1, 1)}},
      {"Field value | Strings only: a string field is skipped, the others of the line stored",
       R"(system,host=h load1=0.5,uptime_format=" 1 day,  2:03",n_users=2i 1)",
       {sample("system_load1", {{"host", "h"}}, 1, 0.5),
        sample("system_n_users", {{"host", "h"}}, 1, 2)}},
      {"String: a line whose only fields are strings stores nothing and is not an error",
       R"(system,host=h uptime_format="1 day, 2:03" 1)",
       {}},
      {"Boolean: t, T, true, True, TRUE store as 1",
       "m a=t,b=T,c=true,d=True,e=TRUE 1",
       {sample("m_a", {}, 1, 1), sample("m_b", {}, 1, 1), sample("m_c", {}, 1, 1),
        sample("m_d", {}, 1, 1), sample("m_e", {}, 1, 1)}},
      {"Boolean: f, F, false, False, FALSE store as 0",
       "m a=f,b=F,c=false,d=False,e=FALSE 1",
       {sample("m_a", {}, 1, 0), sample("m_b", {}, 1, 0), sample("m_c", {}, 1, 0),
        sample("m_d", {}, 1, 0), sample("m_e", {}, 1, 0)}},
      {"Integer: minimum -9223372036854775808i",
       "m value=-9223372036854775808i 1",
       {sample("m", {}, 1, -9223372036854775808.0)}},
      {"Integer: maximum 9223372036854775807i",
       "m value=9223372036854775807i 1",
       {sample("m", {}, 1, 9223372036854775807.0)}},
      {"Integer: one past the maximum is refused",
       "m value=9223372036854775808i 1",
       {},
       "field:value"},
      {"UInteger: minimum 0u", "m value=0u 1", {sample("m", {}, 1, 0)}},
      {"UInteger: maximum 18446744073709551615u",
       "m value=18446744073709551615u 1",
       {sample("m", {}, 1, 18446744073709551615.0)}},
      {"UInteger: negative is refused", "m value=-1u 1", {}, "field:value"},
      {"Float: scientific notation",
       "m value=-1.234456e+78 1",
       {sample("m", {}, 1, -1.234456e+78)}},
      {"Float: 1 is a float", "m value=1 1", {sample("m", {}, 1, 1)}},
      {"Do not quote boolean field values: quoted, it is a string (skipped)",
       R"(m value="true" 1)",
       {}},
      {"Comments: # at the beginning of a line", "# m value=1 1", {}},
      {"Naming: a tag key may not start with __ (NetPulse reserves it)",
       "m,__x=v value=1 1",
       {},
       "tag:__x"},
  };
  for (const auto& c : cases) {
    INFO(c.rule << "\n" << c.line);
    const ParseResult r = parse(c.line, Precision::kMilliseconds);
    CHECK(r.samples == c.expected);
    if (c.issue_field.empty()) {
      CHECK(r.issues.empty());
    } else {
      REQUIRE(r.issues.size() == 1);
      CHECK(r.issues[0].field == c.issue_field);
    }
  }
}

TEST_CASE("line protocol: a newline inside a quoted string field does not end the line",
          "[tsdb][lp]") {
  // "Line protocol does not support the newline character \n in tag or field values": InfluxDB
  // keeps reading a quoted string to its closing quote, so must we, or the rest of the string
  // would be read as a line of its own and refused.
  const ParseResult r =
      parse("m note=\"first\nsecond, x=1 2\",v=1 1\nm v=2 2\n", Precision::kMilliseconds);
  CHECK(r.issues.empty());
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[0] == sample("m_v", {}, 1, 1));
  CHECK(r.samples[1] == sample("m_v", {}, 2, 2));
  CHECK(r.sample_lines == std::vector<std::size_t>{1, 3});  // where each record starts

  // An unterminated string runs to the end of the body: one issue on the line it started.
  const ParseResult open =
      parse("m v=1 1\nm s=\"never closed,v=2 2\nm v=3 3\n", Precision::kMilliseconds);
  REQUIRE(open.issues.size() == 1);
  CHECK(open.issues[0].line == 2);
  CHECK(open.issues[0].reason.find("unterminated") != std::string::npos);
  CHECK(open.samples.size() == 1);
}

TEST_CASE("line protocol: string fields are counted as skipped", "[tsdb][lp]") {
  const ParseResult r = parse(
      "system,host=h load1=0.5,uptime_format=\"1 day\",os=\"linux\" 1\n"
      "system,host=h uptime_format=\"2 days\" 2\n"
      "system,host=h bad=\"x\",oops 3\n");
  CHECK(r.samples.size() == 1);
  CHECK(r.issues.size() == 1);  // the third line is refused: its strings do not count
  CHECK(r.skipped_strings == 3);
}

TEST_CASE("line protocol: a record ends at a newline outside quoted strings", "[tsdb][lp]") {
  struct Case {
    std::string body;
    std::size_t end;
  };
  const std::vector<Case> cases = {
      {"m v=1\nm v=2", 5},
      {"m v=1", 5},
      {"m s=\"a\nb\" 1\nm v=2", 11},
      {"m s=\"a\\\"\nb\" 1\nx", 13},      // an escaped quote does not close the string
      {"m s=\"a\\\\\"\nm v=2", 9},        // an escaped backslash before the closing quote
      {"m,k=\"a v=1\nm v=2", 10},         // a quote in a tag value is an ordinary byte
      {"m v=1 \"x\ny", 8},                // ... and so in the timestamp
      {"m s=\"never closed\nm v=2", 23},  // unterminated: the rest of the body
      {"# s=\"x\nm v=2", 6},              // a comment ends at its newline
      {"m\\\nv=1", 2},                    // a backslash does not escape a newline
  };
  for (const auto& c : cases) {
    INFO(c.body);
    CHECK(line_protocol_record_end(c.body, 0) == c.end);
  }
}

TEST_CASE("line protocol: names must be UTF-8 without control characters", "[tsdb][lp]") {
  struct Case {
    std::string line;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"m\xff value=1 1", "measurement"},  {"m\xc3 value=1 1", "measurement"},
      {"m\x01x value=1 1", "measurement"}, {"m\x7fx value=1 1", "measurement"},
      {"m\tx value=1 1", "measurement"},   {"m,k\xfe=v value=1 1", "tag:k?"},
      {"m,k\x02=v value=1 1", "tag:k?"},   {"m f\xed\xa0\x80=1 1", "field:f???"},
      {"m f\x1b=1 1", "field:f?"},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const ParseResult r = parse(c.line);
    CHECK(r.samples.empty());
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].field == c.field);
  }
  // Valid UTF-8 beyond ASCII is accepted in names (and sanitized to [a-zA-Z0-9_:]).
  const ParseResult ok = parse("temp\xc3\xa9rature,sal\xc3\xa9=\xc3\xa9t\xc3\xa9 value=1 1");
  CHECK(ok.issues.empty());
  CHECK(ok.samples.size() == 1);
}

TEST_CASE("line protocol: a timestamp that overflows once converted is refused", "[tsdb][lp]") {
  for (const char* p : {"s", "m", "h"}) {
    INFO(p);
    const ParseResult r = parse("m value=1 9223372036854775807", *parse_precision(p));
    CHECK(r.samples.empty());
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].field == "timestamp");
  }
  const ParseResult max_ns = parse("m value=1 9223372036854775807", Precision::kNanoseconds);
  REQUIRE(max_ns.samples.size() == 1);
  CHECK(max_ns.samples[0].sample.t == 9223372036854);
}

TEST_CASE("line protocol: every truncation of a valid line either parses or yields one issue",
          "[tsdb][lp]") {
  const std::string full =
      R"(cpu\ x,host=web\,01,cpu=cpu0 usage_idle=98.2,count=3i,ok=true,n=4u 1721199945000000000)";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const std::string line = full.substr(0, n);
    INFO(line);
    const ParseResult r = parse(line);
    CHECK(r.issues.size() + (r.samples.empty() ? 0 : 1) <= 1);
    if (!r.issues.empty()) CHECK(r.issues[0].line == 1);
    if (n == full.size()) CHECK(r.samples.size() == 4);
  }
}

TEST_CASE("line protocol: random mutations of valid lines never crash and stay accounted for",
          "[tsdb][lp]") {
  const std::vector<std::string> seeds = {
      R"(cpu\ x,host=web\,01,cpu=cpu0 usage_idle=98.2,count=3i,ok=true,n=4u 1721199945000000000)",
      R"(m,k=v value="s\"x",other=1 5)",
      "ifHCInOctets,host=dev1,ifName=eth0 value=12345 1721199945",
  };
  using namespace std::string_view_literals;
  constexpr std::string_view kAlphabet = ",= \\\"\r\n#\0\xff\xc3iu.e-tf9"sv;
  std::mt19937 rng(20240717);  // fixed seed: reproducible
  for (int round = 0; round < 5'000; ++round) {
    std::string line = seeds[static_cast<std::size_t>(round) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !line.empty(); ++e) {
      const std::size_t at = rng() % line.size();
      const char c = kAlphabet[rng() % kAlphabet.size()];
      switch (rng() % 3) {
        case 0:
          line[at] = c;
          break;
        case 1:
          line.insert(at, 1, c);
          break;
        default:
          line.erase(at, 1);
      }
    }
    INFO(line);
    const ParseResult r = parse(line);
    for (const ParseIssue& issue : r.issues) CHECK(issue.line >= 1);
    for (const ParsedSample& s : r.samples) {
      CHECK(valid_metric_name(s.key.metric));
      for (const Label& l : s.key.labels) {
        CHECK(valid_label_name(l.first));
        CHECK(valid_utf8(l.second));
      }
    }
  }
}

TEST_CASE("line protocol: reports the right line numbers and keeps the good lines", "[tsdb][lp]") {
  const ParseResult r = parse(
      "# header\n"
      "m value=1 1000000\n"
      "m value=NaN 2000000\n"
      "\n"
      "m value=3 3000000\r\n"
      "m,k=v\n"
      "m value=5 5000000");
  CHECK(r.samples.size() == 3);
  REQUIRE(r.issues.size() == 2);
  CHECK(r.issues[0] == ParseIssue{3, "field:value", "NaN is not accepted"});
  CHECK(r.issues[1].line == 6);
  CHECK(r.issues[1].field == "line");
}

TEST_CASE("line protocol: enforces the size limits", "[tsdb][lp]") {
  SECTION("a 1 MB tag value is refused by the line limit, a long one by the value limit") {
    const ParseResult huge = parse("m,k=" + std::string(1 << 20, 'a') + " value=1");
    REQUIRE(huge.issues.size() == 1);
    CHECK(huge.issues[0].field == "line");
    CHECK(huge.samples.empty());

    const ParseResult big = parse("m,k=" + std::string(1025, 'a') + " value=1");
    REQUIRE(big.issues.size() == 1);
    CHECK(big.issues[0].field == "tag:k");
    CHECK_THAT(big.issues[0].reason, Catch::Matchers::Contains("limit"));

    const ParseResult fits = parse("m,k=" + std::string(1024, 'a') + " value=1");
    CHECK(fits.issues.empty());
  }
  SECTION("10,000 tags are refused past max_labels") {
    std::string line = "m";
    for (int i = 0; i < 10'000; ++i) line += ",k" + std::to_string(i) + "=v";
    line += " value=1";
    ParseLimits limits;
    limits.max_line_bytes = 1 << 20;
    const ParseResult r = parse(line, Precision::kNanoseconds, limits);
    REQUIRE(r.issues.size() == 1);
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains("more than 64 tags"));
  }
  SECTION("exactly max_labels tags are accepted") {
    std::string line = "m";
    for (int i = 0; i < 64; ++i) line += ",k" + std::to_string(100 + i) + "=v";
    const ParseResult r = parse(line + " value=1");
    REQUIRE(r.issues.empty());
    CHECK(r.samples[0].key.labels.size() == 64);
  }
  SECTION("too many fields are refused") {
    std::string line = "m f0=1";
    for (int i = 1; i < 300; ++i) line += ",f" + std::to_string(i) + "=1";
    const ParseResult r = parse(line);
    REQUIRE(r.issues.size() == 1);
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains("more than 256 fields"));
  }
  SECTION("lines beyond max_lines stop parsing with one issue") {
    ParseLimits limits;
    limits.max_lines = 10;
    std::string body;
    for (int i = 0; i < 100'000; ++i) body += "m value=1\n";
    const ParseResult r = parse(body, Precision::kNanoseconds, limits);
    CHECK(r.samples.size() == 10);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 11);
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains("more than 10 lines"));
    CHECK(r.truncated);
    CHECK_FALSE(parse("m value=1\n", Precision::kNanoseconds, limits).truncated);
  }
  SECTION("a body whose keys would outgrow max_key_bytes stops with one issue") {
    // Every field of a line carries all of its tags: wide tags times many fields is the one way
    // a line protocol body asks for far more memory than its own size.
    std::string line = "m";
    for (int i = 0; i < 60; ++i) line += ",t" + std::to_string(i) + "=" + std::string(1000, 'v');
    line += " f0=1";
    for (int i = 1; i < 200; ++i) line += ",f" + std::to_string(i) + "=1";
    std::string body;
    for (int i = 0; i < 8; ++i) body += line + " " + std::to_string(i + 1) + "\n";
    REQUIRE(body.size() < 600'000);
    const KeyedParseResult r = parse_line_protocol(body, Precision::kNanoseconds, kNow, {}, 1);
    // 200 samples of ~60 kB of key per line, 12 MB: the sixth line would pass 64 MiB.
    CHECK(r.batch.size() == 5 * 200);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 6);
    CHECK(r.issues[0].field == "line");
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains("series keys would take more than"));
    CHECK(r.truncated);
    ParseLimits roomy;
    roomy.max_key_bytes = std::size_t{1} << 30;
    const KeyedParseResult all = parse_line_protocol(body, Precision::kNanoseconds, kNow, roomy, 1);
    CHECK(all.batch.size() == 8 * 200);
    CHECK(all.issues.empty());
    CHECK_FALSE(all.truncated);
  }
  SECTION("issue names from hostile keys are short and printable") {
    const ParseResult r = parse("m " + std::string(500, '\x01') + "=x");
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].field == "field:" + std::string(64, '?') + "...");
    CHECK(r.issues[0].field.find('\x01') == std::string::npos);
  }
}

TEST_CASE("line protocol: keyed parse gives the keys make_keyed_batch gives its samples",
          "[tsdb][lp]") {
  // Escapes, names to sanitize, unsorted tags, several fields, a refused line in between.
  const std::string body =
      "if\\ stats,z=1,a=x\\ y,host=core-1 value=1,in\\ octets=2i,out.bytes=3u 1000000000\n"
      "1m,b\\=c=d\\,e value=4 2000000000\n"
      "bad line\n"
      "cpu:total,cpu=0 usage=0.5,value=1\n"
      "m,tag=\xc3\xa9t\xc3\xa9 value=-0.25 3000000000\n";
  for (std::int64_t org : {std::int64_t{1}, std::int64_t{-7}, std::int64_t{1} << 40}) {
    INFO(org);
    const KeyedParseResult keyed =
        parse_line_protocol(body, Precision::kNanoseconds, kNow, {}, org);
    const ParseResult plain = parse(body);
    REQUIRE(keyed.batch.size() == plain.samples.size());
    CHECK(keyed.batch.size() == 7);
    CHECK(keyed.sample_lines == plain.sample_lines);
    CHECK(keyed.issues == plain.issues);
    REQUIRE(keyed.issues.size() == 1);
    CHECK(keyed.issues[0].line == 3);
    const KeyedBatch expected = make_keyed_batch(org, plain.samples);
    for (std::size_t i = 0; i < keyed.batch.size(); ++i) {
      INFO(i);
      CHECK(keyed.batch.key(i) == expected.key(i));
      CHECK(keyed.batch.hash(i) == expected.hash(i));
      CHECK(keyed.batch.sample(i) == plain.samples[i].sample);
    }
  }
  const ParseResult plain = parse(body);
  CHECK(plain.samples[0] ==
        sample("if_stats", {{"a", "x y"}, {"host", "core-1"}, {"z", "1"}}, 1000, 1));
  CHECK(plain.samples[1].key.metric == "if_stats_in_octets");
  CHECK(plain.samples[2].key.metric == "if_stats_out_bytes");
  CHECK(plain.samples[3] == sample("_1m", {{"b_c", "d,e"}}, 2000, 4));
}

TEST_CASE("keyed batch: keys, hashes and samples survive appending batches", "[tsdb][lp]") {
  KeyedBatch a;
  a.push("k1", Sample{1, 1.5});
  a.push("", Sample{2, 2.5});
  a.push("key three", Sample{3, 3.5});
  KeyedBatch b;
  b.push("k4", Sample{4, 4.5});
  b.push("k1", Sample{5, 5.5});
  a.append(std::move(b));
  CHECK(b.empty());
  REQUIRE(a.size() == 5);
  const std::vector<std::string> keys = {"k1", "", "key three", "k4", "k1"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO(i);
    CHECK(a.key(i) == keys[i]);
    CHECK(a.hash(i) == std::hash<std::string_view>{}(keys[i]));
    CHECK(a.sample(i) == Sample{static_cast<Timestamp>(i + 1), static_cast<double>(i) + 1.5});
  }
  KeyedBatch empty;
  empty.append(std::move(a));
  CHECK(empty.size() == 5);
  CHECK(empty.key(2) == "key three");
}

namespace {

// Parses `body` cut into pieces at `cuts` (ascending offsets) with LineProtocolParser.
KeyedParseResult parse_in_pieces(std::string_view body, const std::vector<std::size_t>& cuts,
                                 const ParseLimits& limits, std::size_t max_samples,
                                 std::size_t* peak_carry = nullptr) {
  LineProtocolParser parser(Precision::kNanoseconds, kNow, limits, max_samples, 1);
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    parser.write(body.substr(from, cut - from));
    from = cut;
  }
  parser.write(body.substr(from));
  if (peak_carry) *peak_carry = parser.peak_carry_bytes();
  return parser.take();
}

// Everything a keyed result says, for comparing two of them.
void check_same(const KeyedParseResult& got, const KeyedParseResult& want) {
  REQUIRE(got.batch.size() == want.batch.size());
  for (std::size_t i = 0; i < want.batch.size(); ++i) {
    INFO("sample " << i);
    CHECK(got.batch.key(i) == want.batch.key(i));
    CHECK(got.batch.sample(i) == want.batch.sample(i));
  }
  CHECK(got.issues == want.issues);
  CHECK(got.sample_lines == want.sample_lines);
  CHECK(got.truncated == want.truncated);
  CHECK(got.skipped_strings == want.skipped_strings);
  REQUIRE(got.error.has_value() == want.error.has_value());
  if (want.error) CHECK(got.error->message == want.error->message);
}

}  // namespace

TEST_CASE("line protocol: a body cut into pieces at any byte parses as the whole body",
          "[tsdb][lp]") {
  ParseLimits small;  // so short bodies reach the line limits too
  small.max_line_bytes = 40;
  ParseLimits few;
  few.max_lines = 4;
  ParseLimits keys;
  keys.max_key_bytes = 100;
  struct Case {
    std::string what;
    std::string body;
    ParseLimits limits;
    std::size_t max_samples = std::numeric_limits<std::size_t>::max();
  };
  const std::vector<Case> cases = {
      {"plain lines", "cpu,host=a value=1 1000\ncpu,host=b value=2 2000\nmem used=3i 3000\n", {}},
      {"no final newline", "m value=1 1\nm value=2 2", {}},
      {"CRLF, blanks, comments and padding",
       "# c\r\n\r\n   \n\tm value=1 1\r\n  # indented\n  m value=2 2  \n",
       {}},
      {"escapes at every place",
       "if\\ stats,z=1,a=x\\ y,b\\=c=d\\,e value=1,in\\ octets=2i 1000000000\n"
       "m,k=two\\\\\\ words value=42 1\n",
       {}},
      {"a string with newlines, escaped quotes and a backslash before a newline",
       "m note=\"first\nsecond, x=1 2\",v=1 1\nm s=\"a\\\"\nb\\\n\",v=2 2\nm v=3 3\n",
       {}},
      {"strings skipped and a string-only line",
       "system,host=h load1=0.5,uptime_format=\"1 day\",os=\"linux\" 1\n"
       "system,host=h uptime_format=\"2 days\" 2\n",
       {}},
      {"a backslash before a newline ends the line", "m\\\nv=1\nm v=2 2\n", {}},
      {"a quote in a tag value or a timestamp is an ordinary byte",
       "m,k=\"a v=1\nm v=1 \"x\ny v=2\n",
       {}},
      {"refused lines keep their numbers",
       "m value=1 1\nm value=NaN 2\n\nm,k=v\nm value=\"open\n",
       {}},
      {"an unterminated string runs to the end",
       "m v=1 1\nm s=\"never closed,v=2 2\nm v=3 3\n",
       {}},
      {"NUL bytes", std::string("m,k=a") + '\0' + "b value=1\nm value=2\n", {}},
      {"lines over the line limit, strings with newlines among them",
       "m value=1 1\nm,k=" + std::string(60, 'v') + " value=2 2\nm s=\"" + std::string(30, 'x') +
           "\n" + std::string(30, 'y') + "\" v=3 3\nm value=4 4\n" + std::string(50, 'z'),
       small},
      {"a comment over the line limit", "# " + std::string(80, '#') + "\nm value=1 1\n", small},
      {"stops past max_lines", "m value=1\n\n# c\nm value=2\nm value=3\nm value=4\n", few},
      {"stops past max_lines inside a string",
       "m value=1\nm s=\"a\nb\nc\",value=2\nm value=3\nm value=4\n", few},
      {"stops at the key budget", "m,k=aaaaaaaaaa a=1,b=2\nm,k=bbbbbbbbbb a=1,b=2\nm c=1\n", keys},
      {"stops past max_samples", "m a=1,b=2\nm a=1,b=2\nm a=1,b=2\nm a=1,b=2\n", {}, 5},
  };
  for (const auto& c : cases) {
    INFO(c.what << ": " << c.body);
    const KeyedParseResult whole = parse_in_pieces(c.body, {}, c.limits, c.max_samples);
    for (std::size_t cut = 0; cut <= c.body.size(); ++cut) {
      INFO("cut at " << cut);
      check_same(parse_in_pieces(c.body, {cut}, c.limits, c.max_samples), whole);
    }
    std::vector<std::size_t> every_byte(c.body.size());
    std::iota(every_byte.begin(), every_byte.end(), std::size_t{0});
    INFO("one byte at a time");
    check_same(parse_in_pieces(c.body, every_byte, c.limits, c.max_samples), whole);
  }
}

TEST_CASE("line protocol: a record carried between pieces is kept only up to the line limit",
          "[tsdb][lp]") {
  // A 2 MiB line between good ones, fed as gzip inflates it (64 KiB pieces): the same single
  // issue as for the whole body, while the parser never holds more than the line limit of it.
  const std::string body = "m value=1 1\nm,k=" + std::string(2 << 20, 'v') + " value=2 2\nm s=\"" +
                           std::string(1 << 20, '\n') + "\",value=3 3\nm value=4 4\n";
  std::vector<std::size_t> cuts;
  for (std::size_t at = 64 << 10; at < body.size(); at += 64 << 10) cuts.push_back(at);
  ParseLimits limits;
  limits.max_lines = 2 << 20;  // the string's newlines are lines
  std::size_t peak = 0;
  const KeyedParseResult pieces =
      parse_in_pieces(body, cuts, limits, std::numeric_limits<std::size_t>::max(), &peak);
  check_same(pieces, parse_line_protocol(body, Precision::kNanoseconds, kNow, limits, 1));
  REQUIRE(pieces.issues.size() == 2);
  CHECK(pieces.issues[0] == ParseIssue{2, "line", "line longer than 65536 bytes"});
  CHECK(pieces.issues[1] == ParseIssue{3, "line", "line longer than 65536 bytes"});
  CHECK(pieces.sample_lines == std::vector<std::size_t>{1, (1 << 20) + 4});
  CHECK(peak <= limits.max_line_bytes);
  CHECK(peak > 0);
}

TEST_CASE("line protocol: parsing stops at the first line past the sample cap", "[tsdb][lp]") {
  // Every field of a line is a sample: the line cap alone would let 200,000 lines of 256 fields
  // ask for 51 million samples.
  const std::string body = "m a=1,b=2,c=3\nm a=4,b=5,c=6\nm a=7,b=8,c=9\nm value=1\n";
  LineProtocolParser parser(Precision::kNanoseconds, kNow, {}, 5, 1);
  CHECK_FALSE(parser.write(body));
  CHECK_FALSE(parser.write("m value=2\n"));  // ignored
  const KeyedParseResult r = parser.take();
  REQUIRE(r.error.has_value());
  CHECK(r.error->code == core::Errc::kPayloadTooLarge);
  CHECK(r.error->message ==
        "at most 5 samples per request; this one has more (parsing stopped at line 2)");
  CHECK_FALSE(r.truncated);
  LineProtocolParser exact(Precision::kNanoseconds, kNow, {}, 6, 1);
  CHECK(exact.write("m a=1,b=2,c=3\nm a=4,b=5,c=6\n"));
  const KeyedParseResult fits = exact.take();
  CHECK_FALSE(fits.error.has_value());
  CHECK(fits.batch.size() == 6);
}

TEST_CASE("line protocol: empty body yields nothing", "[tsdb][lp]") {
  const ParseResult r = parse("");
  CHECK(r.samples.empty());
  CHECK(r.issues.empty());
}

TEST_CASE("names: metric and label name rules", "[tsdb][names]") {
  CHECK(valid_metric_name("cpu_usage:rate5m"));
  CHECK(valid_metric_name(":x"));
  CHECK(valid_metric_name("_x"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK_FALSE(valid_metric_name("1x"));
  CHECK_FALSE(valid_metric_name("net.bytes"));
  CHECK(valid_label_name("ifName"));
  CHECK(valid_label_name("_x"));
  CHECK_FALSE(valid_label_name("__x"));
  CHECK_FALSE(valid_label_name("a:b"));
  CHECK_FALSE(valid_label_name("1a"));
  CHECK_FALSE(valid_label_name(""));
  CHECK(sanitize_metric_name("net.bytes") == "net_bytes");
  CHECK(sanitize_metric_name("9x") == "_9x");
  CHECK(sanitize_label_name("a:b") == "a_b");
  CHECK(sanitize_label_name("") == "");
}

TEST_CASE("names: normalize_labels sorts and refuses duplicates", "[tsdb][names]") {
  const auto sorted = normalize_labels({{"b", "2"}, {"a", "1"}});
  REQUIRE(sorted.has_value());
  CHECK(*sorted == LabelSet{{"a", "1"}, {"b", "2"}});
  const auto dup = normalize_labels({{"b", "2"}, {"a", "1"}, {"b", "3"}});
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == core::Errc::kInvalidInput);
}

}  // namespace netpulse::tsdb
