// CSV parser: header rules, RFC 4180 quoting, timestamps in seconds, and tables of bad records
// that must yield one issue each with the right line and column.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/ingest_parse.hpp>

namespace netpulse::tsdb {
namespace {

ParsedSample sample(std::string metric, LabelSet labels, Timestamp t, double v) {
  return ParsedSample{SeriesKey{std::move(metric), std::move(labels)}, Sample{t, v}};
}

}  // namespace

TEST_CASE("csv: parses records with label columns sorted by name", "[tsdb][csv]") {
  const ParseResult r = parse_csv(
      "metric,value,timestamp,ifName,host\n"
      "ifHCInOctets,12345,1721199945,eth0,dev1\n"
      "ifHCOutOctets,1.5e3,1721199945.250,eth1,dev1\n",
      {});
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[0] ==
        sample("ifHCInOctets", {{"host", "dev1"}, {"ifName", "eth0"}}, 1721199945000, 12345));
  CHECK(r.samples[1] ==
        sample("ifHCOutOctets", {{"host", "dev1"}, {"ifName", "eth1"}}, 1721199945250, 1500));
}

TEST_CASE("csv: parses the example of docs/format/ingest.md", "[tsdb][csv]") {
  const ParseResult r = parse_csv(
      "metric,value,timestamp,host,ifName\n"
      "ifHCInOctets,12345,1721199945,dev1,eth0\n"
      "ifHCOutOctets,1.5e3,1721199945.250,dev1,\"eth1\"\n"
      "sysUpTime,360000,1721199945,dev1,\n",
      {});
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 3);
  CHECK(r.samples[0] ==
        sample("ifHCInOctets", {{"host", "dev1"}, {"ifName", "eth0"}}, 1721199945000, 12345));
  CHECK(r.samples[1] ==
        sample("ifHCOutOctets", {{"host", "dev1"}, {"ifName", "eth1"}}, 1721199945250, 1500));
  CHECK(r.samples[2] == sample("sysUpTime", {{"host", "dev1"}}, 1721199945000, 360000));
}

TEST_CASE("csv: a header without records yields nothing", "[tsdb][csv]") {
  const ParseResult r = parse_csv("metric,value,timestamp,host\n", {});
  CHECK(r.samples.empty());
  CHECK(r.issues.empty());
}

TEST_CASE("csv: header names are case-insensitive and tag columns are optional", "[tsdb][csv]") {
  const ParseResult r = parse_csv("Metric,VALUE,TimeStamp\r\nup,1,0\r\n", {});
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 1);
  CHECK(r.samples[0] == sample("up", {}, 0, 1));
}

TEST_CASE("csv: RFC 4180 quoting, CRLF, blank lines and empty tag cells", "[tsdb][csv]") {
  const ParseResult r = parse_csv(
      "metric,value,timestamp,descr,host\r\n"
      "\"up\",\"1\",\"10\",\"a, \"\"quoted\"\" one\",h1\r\n"
      "\r\n"
      "up,2,20,\"two\nlines\",\r\n"
      "up,3,30,,\"\"\n"
      "up,4,40,x,h4",
      {});
  REQUIRE(r.issues.empty());
  REQUIRE(r.samples.size() == 4);
  CHECK(r.samples[0] == sample("up", {{"descr", "a, \"quoted\" one"}, {"host", "h1"}}, 10000, 1));
  CHECK(r.samples[1] == sample("up", {{"descr", "two\nlines"}}, 20000, 2));
  CHECK(r.samples[2] == sample("up", {}, 30000, 3));
  CHECK(r.samples[3] == sample("up", {{"descr", "x"}, {"host", "h4"}}, 40000, 4));
}

TEST_CASE("csv: timestamps are Unix seconds kept to the millisecond", "[tsdb][csv]") {
  struct Case {
    std::string cell;
    Timestamp expected_ms;
  };
  const std::vector<Case> cases = {
      {"0", 0},
      {"1721199945", 1721199945000},
      {"1721199945.1", 1721199945100},
      {"1721199945.12", 1721199945120},
      {"1721199945.123", 1721199945123},
      {"1721199945.1239", 1721199945123},  // digits past the millisecond are dropped
      {"9223372036854775.807", 9223372036854775807},
  };
  for (const auto& c : cases) {
    INFO(c.cell);
    const ParseResult r = parse_csv("metric,value,timestamp\nm,1," + c.cell + "\n", {});
    REQUIRE(r.issues.empty());
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0].sample.t == c.expected_ms);
  }
}

TEST_CASE("csv: refuses a bad header with one issue and no samples", "[tsdb][csv]") {
  const std::vector<std::string> bodies = {
      "",
      "\n",
      "metric,value\nm,1\n",
      "value,metric,timestamp\n1,m,0\n",
      "metric,value,time\nm,1,0\n",
      "metric,value,timestamp,__name__\nm,1,0,x\n",
      "metric,value,timestamp,host.name\nm,1,0,x\n",
      "metric,value,timestamp,host,host\nm,1,0,a,b\n",
      "metric,value,timestamp,\nm,1,0,\n",
      "\"metric,value,timestamp\nm,1,0\n",
      "metric,value,timestamp\"x\"\nm,1,0\n",
  };
  for (const auto& body : bodies) {
    INFO(body);
    const ParseResult r = parse_csv(body, {});
    CHECK(r.samples.empty());
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 1);
    CHECK(r.issues[0].field == "header");
  }
}

TEST_CASE("csv: refuses bad records with the line and column, keeping the good ones",
          "[tsdb][csv]") {
  struct Case {
    std::string record;
    std::string field;
    std::string reason_part;
  };
  const std::vector<Case> cases = {
      {"m,1", "row", "expected 4 cells, got 2"},
      {"m,1,0,h,extra", "row", "expected 4 cells, got 5"},
      {"net.bytes,1,0,h", "metric", "metric name"},
      {",1,0,h", "metric", "metric name"},
      {"m,,0,h", "value", "missing value"},
      {"m,abc,0,h", "value", "not a number"},
      {"m,1 ,0,h", "value", "not a number"},
      {"m,NaN,0,h", "value", "NaN"},
      {"m,inf,0,h", "value", "infinity"},
      {"m,1e400,0,h", "value", "out of range"},
      {"m,1,,h", "timestamp", "missing"},
      {"m,1,-5,h", "timestamp", "before 1970"},
      {"m,1,1e9,h", "timestamp", "Unix seconds"},
      {"m,1,12.,h", "timestamp", "Unix seconds"},
      {"m,1,.5,h", "timestamp", "Unix seconds"},
      {"m,1,1.2.3,h", "timestamp", "Unix seconds"},
      {"m,1,99999999999999999999,h", "timestamp", "out of range"},
      {"m,1,9223372036854776,h", "timestamp", "out of range"},
      {"m,1,0,\xff", "host", "UTF-8"},
      {std::string("m,1,0,a\0b", 9), "host", "NUL"},
      {"m,1,0,a\"b", "row", "quote inside an unquoted cell"},
      {"m,1,0,\"a\"b", "row", "text after a closing quote"},
      {"m,1,0," + std::string(1025, 'x'), "host", "limit"},
  };
  for (const auto& c : cases) {
    INFO(c.record);
    const ParseResult r =
        parse_csv("metric,value,timestamp,host\nok,1,0,h\n" + c.record + "\nok,2,0,h\n", {});
    CHECK(r.samples.size() == 2);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 3);
    CHECK(r.issues[0].field == c.field);
    CHECK_THAT(r.issues[0].reason, Catch::Matchers::Contains(c.reason_part));
  }
}

TEST_CASE("csv: line numbers count the lines inside quoted cells", "[tsdb][csv]") {
  const ParseResult r = parse_csv(
      "metric,value,timestamp,descr\n"
      "m,1,0,\"a\nb\nc\"\n"
      "m,bad,0,x\n",
      {});
  CHECK(r.samples.size() == 1);
  REQUIRE(r.issues.size() == 1);
  CHECK(r.issues[0].line == 5);
}

TEST_CASE("csv: an unterminated quote ends the body with one issue", "[tsdb][csv]") {
  const ParseResult r = parse_csv("metric,value,timestamp,h\nm,1,0,x\nm,2,0,\"open\nm,3,0,x\n", {});
  CHECK(r.samples.size() == 1);
  REQUIRE(r.issues.size() == 1);
  CHECK(r.issues[0] == ParseIssue{3, "row", "unterminated quoted cell"});
}

TEST_CASE("csv: enforces record count, record size and label column limits", "[tsdb][csv]") {
  ParseLimits limits;
  limits.max_lines = 3;  // header + 2 records
  const ParseResult many =
      parse_csv("metric,value,timestamp\nm,1,0\nm,2,0\nm,3,0\nm,4,0\n", limits);
  CHECK(many.samples.size() == 2);
  REQUIRE(many.issues.size() == 1);
  CHECK(many.issues[0].line == 4);
  CHECK(many.truncated);
  CHECK_FALSE(parse_csv("metric,value,timestamp\nm,1,0\n", limits).truncated);

  ParseLimits narrow;
  narrow.max_line_bytes = 22;  // the header's size
  const ParseResult wide =
      parse_csv("metric,value,timestamp\nm,1,0\nm,1,00000000000000000000000\n", narrow);
  CHECK(wide.samples.size() == 1);
  REQUIRE(wide.issues.size() == 1);
  CHECK(wide.issues[0].line == 3);

  ParseLimits roomy;
  roomy.max_line_bytes = 2 << 20;
  const ParseResult commas =
      parse_csv("metric,value,timestamp\nm,1,0" + std::string(1'000'000, ',') + "\n", roomy);
  REQUIRE(commas.issues.size() == 1);
  CHECK(commas.issues[0].reason == "expected 3 cells, got 1000003");

  std::string header = "metric,value,timestamp";
  for (int i = 0; i < 10'000; ++i) header += ",l" + std::to_string(i);
  const ParseResult labels = parse_csv(header + "\n", {});
  REQUIRE(labels.issues.size() == 1);
  CHECK_THAT(labels.issues[0].reason, Catch::Matchers::Contains("more than 64"));
}

}  // namespace netpulse::tsdb

namespace netpulse::tsdb {

TEST_CASE("csv: random mutations of a valid body never crash", "[tsdb][csv]") {
  const std::string seed =
      "metric,value,timestamp,descr,host\r\n\"up\",\"1\",10,\"a, \"\"q\"\"\",h1\r\nup,2,20.5,x,\n";
  using namespace std::string_view_literals;
  constexpr std::string_view kAlphabet = ",\"\r\n.-e9a\0\xff"sv;
  std::mt19937 rng(4180);  // fixed seed: reproducible
  for (int round = 0; round < 5'000; ++round) {
    std::string body = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % body.size();
      const char c = kAlphabet[rng() % kAlphabet.size()];
      if (rng() % 2 == 0) {
        body[at] = c;
      } else {
        body.insert(at, 1, c);
      }
    }
    INFO(body);
    const ParseResult r = parse_csv(body, {});
    const auto lines = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n')) + 1;
    CHECK(r.samples.size() + r.issues.size() <= lines);
    for (const ParsedSample& s : r.samples) {
      CHECK(valid_metric_name(s.key.metric));
      CHECK(std::is_sorted(s.key.labels.begin(), s.key.labels.end()));
    }
  }
}

}  // namespace netpulse::tsdb
