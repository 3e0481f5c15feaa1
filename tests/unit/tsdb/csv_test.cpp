// CSV parser: header rules, RFC 4180 quoting, timestamps in seconds, and tables of bad records
// that must yield one issue each with the right line and column.
#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/store.hpp>

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

namespace {

// Parses `body` cut into pieces at `cuts` (ascending offsets) with CsvParser.
KeyedParseResult parse_in_pieces(std::string_view body, const std::vector<std::size_t>& cuts,
                                 const ParseLimits& limits, std::size_t* peak_carry = nullptr) {
  CsvParser parser(limits, 1);
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
  REQUIRE(got.error.has_value() == want.error.has_value());
  if (want.error) CHECK(got.error->message == want.error->message);
}

}  // namespace

TEST_CASE("csv: a body cut into pieces at any byte parses as the whole body", "[tsdb][csv]") {
  ParseLimits few;
  few.max_lines = 3;
  ParseLimits narrow;
  narrow.max_line_bytes = 30;
  struct Case {
    std::string what;
    std::string body;
    ParseLimits limits;
  };
  const std::vector<Case> cases = {
      {"labels in any order",
       "metric,value,timestamp,ifName,host\nifHCInOctets,12345,1721199945,eth0,dev1\n"
       "ifHCOutOctets,1.5e3,1721199945.250,eth1,dev1\n",
       {}},
      {"RFC 4180 quoting, CRLF, blank lines, empty cells, no final newline",
       "metric,value,timestamp,descr,host\r\n\"up\",\"1\",\"10\",\"a, \"\"quoted\"\" one\",h1\r\n"
       "\r\n\nup,2,20,\"two\nlines\",\r\nup,3,30,,\"\"\nup,4,40,x,h4",
       {}},
      {"a final CR", "metric,value,timestamp\nm,1,0\r", {}},
      {"a CR inside a cell", "metric,value,timestamp,h\nm,1,0,a\rb\nm,2,0,c\n", {}},
      {"bad records keep their lines",
       "metric,value,timestamp,host\nok,1,0,h\nm,1\nm,1,0,a\"b\nm,1,0,\"a\"b\nnet.bytes,1,0,h\n"
       "m,x,0,h\nm,1,-5,h\nm,1,0,\"a\nb\nc\"\nm,bad,0,x\nok,2,0,h\n",
       {}},
      {"an unterminated quote ends the body",
       "metric,value,timestamp,h\nm,1,0,x\nm,2,0,\"open\nm,3,0,x\n",
       {}},
      {"a bad header", "metric,value,time\nm,1,0\n", {}},
      {"a header with a quote problem", "metric,value,timestamp\"x\"\nm,1,0\n", {}},
      {"a header only", "metric,value,timestamp,host", {}},
      {"a blank first line", "\nmetric,value,timestamp\nm,1,0\n", {}},
      {"stops past max_lines", "metric,value,timestamp\nm,1,0\n\nm,2,0\nm,3,0\nm,4,0\n", few},
      {"records over the line limit",
       "metric,value,timestamp,h\nm,1,0,\"" + std::string(20, 'x') + "\n" + std::string(20, 'y') +
           "\"\nm,2,0,h\n",
       narrow},
  };
  for (const auto& c : cases) {
    INFO(c.what << ": " << c.body);
    const KeyedParseResult whole = parse_in_pieces(c.body, {}, c.limits);
    for (std::size_t cut = 0; cut <= c.body.size(); ++cut) {
      INFO("cut at " << cut);
      check_same(parse_in_pieces(c.body, {cut}, c.limits), whole);
    }
    std::vector<std::size_t> every_byte(c.body.size());
    std::iota(every_byte.begin(), every_byte.end(), std::size_t{0});
    INFO("one byte at a time");
    check_same(parse_in_pieces(c.body, every_byte, c.limits), whole);
  }
  // The keyed samples are parse_csv()'s.
  const std::string body = "metric,value,timestamp,b,a\nm,1,2,x,y\nn,3,4,,z\n";
  const ParseResult plain = parse_csv(body, {});
  const KeyedParseResult keyed = parse_csv(body, {}, 1);
  REQUIRE(plain.samples.size() == 2);
  const KeyedBatch expected = make_keyed_batch(1, plain.samples);
  REQUIRE(keyed.batch.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(keyed.batch.key(i) == expected.key(i));
    CHECK(keyed.batch.hash(i) == expected.hash(i));
    CHECK(keyed.batch.sample(i) == plain.samples[i].sample);
  }
}

TEST_CASE("csv: a record carried between pieces may grow to 16 line limits", "[tsdb][csv]") {
  ParseLimits limits;
  limits.max_line_bytes = 100;  // so 1,600 bytes may be carried
  const std::string head = "metric,value,timestamp,descr\nm,1,0,ok\n";
  std::vector<std::size_t> cuts;
  const auto pieces_of = [&](const std::string& body) {
    cuts.clear();
    for (std::size_t at = 64; at < body.size(); at += 64) cuts.push_back(at);
  };

  // Up to the bound: the issue the whole body gives, and the rest still parses.
  const std::string long_ok =
      head + "m,2,0,\"" + std::string(700, 'x') + "\n" + std::string(700, 'y') + "\"\nm,3,0,ok\n";
  pieces_of(long_ok);
  std::size_t peak = 0;
  const KeyedParseResult ok = parse_in_pieces(long_ok, cuts, limits, &peak);
  check_same(ok, parse_in_pieces(long_ok, {}, limits));
  REQUIRE(ok.issues.size() == 1);
  CHECK(ok.issues[0] == ParseIssue{3, "row", "record longer than 100 bytes"});
  CHECK(ok.batch.size() == 2);
  CHECK(peak <= 16 * limits.max_line_bytes + 64);

  // Past it: parsing stops with an error naming the record's line, holding no more than the
  // bound and a piece, whatever the record's length (a gzip bomb without a newline).
  const std::string too_long = head + "m,2,0,\"" + std::string(1 << 20, 'x') + "\"\nm,3,0,ok\n";
  pieces_of(too_long);
  CsvParser parser(limits, 1);
  bool stopped = false;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    if (!parser.write(std::string_view(too_long).substr(from, cut - from))) {
      stopped = true;
      break;
    }
    from = cut;
  }
  CHECK(stopped);
  CHECK(from < 2000);
  CHECK(parser.peak_carry_bytes() <= 16 * limits.max_line_bytes + 64);
  const KeyedParseResult refused = parser.take();
  REQUIRE(refused.error.has_value());
  CHECK(refused.error->code == core::Errc::kPayloadTooLarge);
  CHECK(refused.error->message ==
        "the record on line 3 is longer than 1600 bytes; parsing stopped there");
  CHECK(refused.batch.size() == 1);
  // The same body in one piece is parsed as before: the record is an issue of its line.
  const KeyedParseResult whole = parse_in_pieces(too_long, {}, limits);
  CHECK_FALSE(whole.error.has_value());
  REQUIRE(whole.issues.size() == 1);
  CHECK(whole.issues[0] == ParseIssue{3, "row", "record longer than 100 bytes"});
}

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
