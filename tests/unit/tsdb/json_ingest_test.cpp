// The JSON ingest parser: good samples in every shape, a table of refused samples naming the
// field, bodies refused whole (not JSON, not samples, too deep, over the sample cap, a sample too
// big), the same result whatever the pieces the body arrives in, and the memory it takes.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/ingest_parse.hpp>

namespace netpulse::tsdb {
namespace {

constexpr Timestamp kNow = 1'721'199'945'123;

JsonParseResult parse(std::string_view body, std::size_t max_samples = 1000,
                      const ParseLimits& limits = {}, Precision precision = Precision::kSeconds) {
  return parse_json_samples(body, precision, kNow, limits, max_samples, 7);
}

// Samples of a result as (metric, labels, t, v), decoded through the unkeyed line protocol
// parser's view: the keys must equal what parse_line_protocol makes for the same series.
std::string key_of(std::string_view line) {
  auto r = parse_line_protocol(line, Precision::kMilliseconds, kNow, {}, 7);
  REQUIRE(r.batch.size() == 1);
  return std::string(r.batch.key(0));
}

}  // namespace

TEST_CASE("json ingest: an object or an array of them become keyed samples", "[tsdb][json]") {
  auto one = parse(R"({"metric_name":"cpu","value":1.5,"timestamp":1721199945,
                       "tags":{"host":"a","dc":"x"}})");
  REQUIRE_FALSE(one.error);
  CHECK(one.issues.empty());
  REQUIRE(one.batch.size() == 1);
  CHECK(one.batch.key(0) == key_of("cpu,dc=x,host=a value=1.5 1"));
  CHECK(one.batch.sample(0) == Sample{1'721'199'945'000, 1.5});
  CHECK(one.sample_indexes == std::vector<std::size_t>{0});

  auto many = parse(R"([{"metric_name":"a","value":1},
                        {"metric_name":"b","value":2,"timestamp":null,"tags":null},
                        {"metric_name":"c","value":3,"type":"counter","unit":"bytes"}])");
  REQUIRE_FALSE(many.error);
  REQUIRE(many.batch.size() == 3);
  CHECK(many.batch.sample(0) == Sample{kNow, 1});
  CHECK(many.batch.sample(1) == Sample{kNow, 2});
  REQUIRE(many.metadata.size() == 1);
  CHECK(many.metadata[0].metric == "c");
  CHECK(many.metadata[0].type == MetricType::kCounter);
  CHECK(many.metadata[0].unit == "bytes");

  CHECK(parse("[]").batch.empty());
  CHECK_FALSE(parse(" [ ] \n").error);
  // Numbers are read exactly (the double nearest to the text).
  auto exact = parse(R"({"metric_name":"x","value":1.2345678901234567e-300})");
  REQUIRE(exact.batch.size() == 1);
  CHECK(exact.batch.sample(0).v == 1.2345678901234567e-300);
}

TEST_CASE("json ingest: timestamps in every precision", "[tsdb][json]") {
  struct Case {
    Precision precision;
    std::string ts;
    Timestamp ms;
  };
  const std::vector<Case> cases = {
      {Precision::kSeconds, "1721199945", 1'721'199'945'000},
      {Precision::kSeconds, "1721199945.5", 1'721'199'945'500},
      {Precision::kMilliseconds, "1721199945123", 1'721'199'945'123},
      {Precision::kMicroseconds, "1721199945123456", 1'721'199'945'123},
      {Precision::kNanoseconds, "1721199945123456789", 1'721'199'945'123},
      {Precision::kMinutes, "2", 120'000},
      {Precision::kHours, "1", 3'600'000},
  };
  for (const auto& c : cases) {
    INFO(c.ts);
    auto r =
        parse(R"({"metric_name":"m","value":1,"timestamp":)" + c.ts + "}", 10, {}, c.precision);
    REQUIRE(r.batch.size() == 1);
    CHECK(r.batch.sample(0).t == c.ms);
  }
}

TEST_CASE("json ingest: a bad sample is one issue naming its index and field", "[tsdb][json]") {
  struct Case {
    std::string sample;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"(1)", "sample"},
      {R"("text")", "sample"},
      {R"([1])", "sample"},
      {R"({"value":1})", "metric_name"},
      {R"({"metric_name":1,"value":1})", "metric_name"},
      {R"({"metric_name":"9x","value":1})", "metric_name"},
      {R"({"metric_name":"m"})", "value"},
      {R"({"metric_name":"m","value":"1"})", "value"},
      {R"({"metric_name":"m","value":1,"timestamp":"now"})", "timestamp"},
      {R"({"metric_name":"m","value":1,"timestamp":1e300})", "timestamp"},
      {R"({"metric_name":"m","value":1,"tags":[]})", "tags"},
      {R"({"metric_name":"m","value":1,"tags":{"__x":"v"}})", "tags.__x"},
      {R"({"metric_name":"m","value":1,"tags":{"k":1}})", "tags.k"},
      {R"({"metric_name":"m","value":1,"tags":{"k":""}})", "tags.k"},
      {R"({"metric_name":"m","value":1,"type":"histogram"})", "type"},
      {R"({"metric_name":"m","value":1,"unit":7})", "unit"},
      {R"({"metric_name":"m","value":1,"extra":true})", "extra"},
  };
  for (const auto& c : cases) {
    INFO(c.sample);
    auto r = parse(R"([{"metric_name":"ok","value":1},)" + c.sample + "]");
    REQUIRE_FALSE(r.error);
    CHECK(r.batch.size() == 1);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 1);
    CHECK(r.issues[0].field == c.field);
  }
}

TEST_CASE("json ingest: bodies refused whole say why", "[tsdb][json]") {
  struct Case {
    std::string body;
    core::Errc code;
  };
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::vector<Case> cases = {
      {"", core::Errc::kMalformedJson},
      {"[", core::Errc::kMalformedJson},
      {R"([{"metric_name":"m","value":1})", core::Errc::kMalformedJson},
      {"{} {}", core::Errc::kMalformedJson},
      {"[] x", core::Errc::kMalformedJson},
      {"nul", core::Errc::kMalformedJson},
      {deep, core::Errc::kMalformedJson},
      {"1", core::Errc::kInvalidInput},
      {R"("samples")", core::Errc::kInvalidInput},
      {"null", core::Errc::kInvalidInput},
      {"true", core::Errc::kInvalidInput},
  };
  for (const auto& c : cases) {
    INFO(c.body.substr(0, 40));
    auto r = parse(c.body);
    REQUIRE(r.error);
    CHECK(r.error->code == c.code);
  }
}

TEST_CASE("json ingest: parsing stops at the sample cap", "[tsdb][json]") {
  JsonSampleParser parser(Precision::kSeconds, kNow, {}, 3, 1);
  CHECK(parser.write(R"([{"metric_name":"m","value":1},{"metric_name":"m","value":2},)"));
  CHECK(parser.write(R"({"metric_name":"m","value":3},)"));
  // The fourth sample is one too many: refused at once; what follows is not even looked at.
  CHECK_FALSE(parser.write(R"({"metric_name":"m","value":4},)"));
  CHECK_FALSE(parser.write("this is not JSON"));
  auto r = parser.take();
  REQUIRE(r.error);
  CHECK(r.error->code == core::Errc::kPayloadTooLarge);
  CHECK(r.error->message.find("at most 3 samples") != std::string::npos);
}

TEST_CASE("json ingest: one sample may not take more than its memory budget", "[tsdb][json]") {
  ParseLimits limits;
  limits.max_json_sample_bytes = 64 << 10;
  std::string tags;
  for (int i = 0; i < 60; ++i) {
    tags += std::string(i ? "," : "") + R"("t)" + std::to_string(i) + R"(":")" +
            std::string(2000, 'x') + R"(")";
  }
  auto r = parse(
      R"([{"metric_name":"m","value":1},{"metric_name":"m","value":1,"tags":{)" + tags + "}}]", 10,
      limits);
  REQUIRE(r.error);
  CHECK(r.error->code == core::Errc::kPayloadTooLarge);
  CHECK(r.error->message.find("sample 1") != std::string::npos);
  // Within the budget, the same shape is a sample like any other (its value then refused).
  auto ok =
      parse(R"({"metric_name":"m","value":1,"tags":{"k":")" + std::string(2000, 'x') + R"("}})");
  CHECK_FALSE(ok.error);
  CHECK(ok.issues.size() == 1);  // longer than the 1024-byte label value limit
}

TEST_CASE("json ingest: a string too long to keep is an issue of its sample", "[tsdb][json]") {
  // Not kept while parsed (so it costs no memory), it refuses its sample, naming where it was;
  // the other samples still count.
  const std::string huge(1'000'000, 'x');
  struct Case {
    std::string sample;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"metric_name":"m","value":1,"tags":{"k":")" + huge + R"("}})", "tags.k"},
      {R"({"metric_name":")" + huge + R"(","value":1})", "metric_name"},
      {R"({")" + huge + R"(":1,"metric_name":"m","value":1})", "key"},
      {R"(")" + huge + R"(")", "sample"},
  };
  for (const auto& c : cases) {
    INFO(c.field);
    JsonSampleParser parser(Precision::kSeconds, kNow, {}, 10, 7);
    const std::string body =
        R"([{"metric_name":"a","value":1},)" + c.sample + R"(,{"metric_name":"b","value":2}])";
    for (std::size_t at = 0; at < body.size(); at += 4096) {
      REQUIRE(parser.write(std::string_view(body).substr(at, 4096)));
    }
    // Bounded by the limits, not by the string: the document and the value stack each stay
    // within max_json_sample_bytes.
    CHECK(parser.peak_sample_bytes() <= 2 * ParseLimits{}.max_json_sample_bytes);
    auto r = parser.take();
    REQUIRE_FALSE(r.error);
    CHECK(r.batch.size() == 2);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 1);
    CHECK(r.issues[0].field == c.field);
  }
}

TEST_CASE("json ingest: the pieces a body arrives in do not change the result", "[tsdb][json]") {
  std::string body = "[";
  for (int i = 0; i < 200; ++i) {
    if (i) body += ",";
    body += R"({"metric_name":"m_)" + std::to_string(i % 7) + R"(","value":)" +
            std::to_string(i * 0.25) + R"(,"timestamp":)" + std::to_string(1'700'000'000 + i) +
            R"(,"tags":{"host":"h)" + std::to_string(i % 3) + R"(","if":"eth\u0030"}})";
    if (i == 50) body += R"(,{"metric_name":"bad"})";
  }
  body += "]";
  auto whole = parse(body);
  REQUIRE_FALSE(whole.error);
  REQUIRE(whole.batch.size() == 200);
  for (std::size_t piece : {1, 2, 7, 64, 4096}) {
    INFO("pieces of " << piece);
    JsonSampleParser parser(Precision::kSeconds, kNow, {}, 1000, 7);
    for (std::size_t at = 0; at < body.size(); at += piece) {
      REQUIRE(parser.write(std::string_view(body).substr(at, piece)));
    }
    auto r = parser.take();
    REQUIRE_FALSE(r.error);
    REQUIRE(r.batch.size() == whole.batch.size());
    for (std::size_t i = 0; i < r.batch.size(); ++i) {
      CHECK(r.batch.key(i) == whole.batch.key(i));
      CHECK(r.batch.sample(i) == whole.batch.sample(i));
    }
    CHECK(r.issues == whole.issues);
    CHECK(r.sample_indexes == whole.sample_indexes);
  }
}

TEST_CASE("json ingest: a refused body gets the same answer wherever it is cut", "[tsdb][json]") {
  // Found by the json_ingest fuzz target: a string document with a bad escape was MALFORMED_JSON
  // whole but INVALID_INPUT ("must be a sample object...") when cut inside the string.
  const std::vector<std::string> bodies = {
      R"("\ricS\ud800\u000alse)",
      R"("a string document")",
      R"("unterminated)",
      R"(  "\ud800")",
      "12345",
      "true",
      R"([{"metric_name":"m","value":1},"\ud800x"])",
      R"({"metric_name":"m","value":"\ud800"})",
      R"([1,2,"x"])",
      "{\"metric_name\":",
      "[[[[[[[[[[1]]]]]]]]]]",
  };
  for (const auto& body : bodies) {
    const auto whole = parse(body);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      INFO(body << " cut at " << cut);
      JsonSampleParser parser(Precision::kSeconds, kNow, {}, 1000, 7);
      parser.write(std::string_view(body).substr(0, cut));
      parser.write(std::string_view(body).substr(cut));
      const auto r = parser.take();
      REQUIRE(r.error.has_value() == whole.error.has_value());
      // The code, not the message: Boost.JSON words an escape cut in two differently.
      if (whole.error) CHECK(r.error->code == whole.error->code);
      CHECK(r.batch.size() == whole.batch.size());
      CHECK(r.issues == whole.issues);
    }
  }
}

TEST_CASE("json ingest: a sample near its budget gets one answer wherever it is cut",
          "[tsdb][json]") {
  // Found by the json_ingest fuzz target: with a 4 KiB sample budget, a 1,887-byte key cut in
  // two made the value stack grow in two steps (old and new buffers at once) past the cap, so
  // the body was 413 in pieces and 400 (truncated JSON) whole. The budget is now charged for
  // what is pushed, not for what the stack allocates.
  ParseLimits limits;
  limits.max_json_sample_bytes = 4096;
  const std::string key(1887, 'k'), long_key(3000, 'k'), too_long(4200, 'k');
  std::string many_ones;
  for (int i = 0; i < 300; ++i) many_ones += "1,";
  const std::vector<std::string> bodies = {
      "{\"" + key,                                                 // truncated in the key
      R"({"metric_name":"m","value":1,")" + long_key + R"(":2})",  // fits: an issue
      R"({"metric_name":"m","value":1,"tags":{"k":")" + long_key + R"("}})",  // fits
      R"({"metric_name":"m","value":1,")" + too_long + R"(":2})",             // over: 413
      R"({"metric_name":"m","value":1,"a":[)" + many_ones + "1]}",            // 300 values: 413
      // Over the budget in its first part, but a control character later makes it 400 whole:
      // a part is never charged, the whole string is (found by the fuzzer too).
      R"({"metric_name":")" + std::string(5000, 'x') + "\x01\"}",
  };
  for (const auto& body : bodies) {
    const auto whole = tsdb::parse_json_samples(body, Precision::kSeconds, kNow, limits, 1000, 7);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      INFO(body.substr(0, 40) << "... cut at " << cut);
      JsonSampleParser parser(Precision::kSeconds, kNow, limits, 1000, 7);
      parser.write(std::string_view(body).substr(0, cut));
      parser.write(std::string_view(body).substr(cut));
      const auto r = parser.take();
      REQUIRE(r.error.has_value() == whole.error.has_value());
      if (whole.error) CHECK(r.error->code == whole.error->code);
      CHECK(r.batch.size() == whole.batch.size());
      CHECK(r.issues == whole.issues);
    }
  }
  // The cases mean what they say: the first is truncated, the fourth over the budget.
  auto first = tsdb::parse_json_samples(bodies[0], Precision::kSeconds, kNow, limits, 1000, 7);
  REQUIRE(first.error);
  CHECK(first.error->code == core::Errc::kMalformedJson);
  auto over = tsdb::parse_json_samples(bodies[3], Precision::kSeconds, kNow, limits, 1000, 7);
  REQUIRE(over.error);
  CHECK(over.error->code == core::Errc::kPayloadTooLarge);
  auto fits = tsdb::parse_json_samples(bodies[2], Precision::kSeconds, kNow, limits, 1000, 7);
  CHECK_FALSE(fits.error);
  auto bad = tsdb::parse_json_samples(bodies[5], Precision::kSeconds, kNow, limits, 1000, 7);
  REQUIRE(bad.error);
  CHECK(bad.error->code == core::Errc::kMalformedJson);
}

TEST_CASE("json ingest: a number's text costs no memory past 4 KiB", "[tsdb][json]") {
  // A gzip body can inflate to megabytes of digits; they arrive in parts and are not kept.
  const std::string body = R"({"metric_name":"m","value":1.)" + std::string(2'000'000, '0') + "}";
  JsonSampleParser parser(Precision::kSeconds, kNow, {}, 10, 7);
  for (std::size_t at = 0; at < body.size(); at += 65536) {
    REQUIRE(parser.write(std::string_view(body).substr(at, 65536)));
  }
  auto r = parser.take();
  REQUIRE_FALSE(r.error);
  REQUIRE(r.batch.size() == 1);
  CHECK(r.batch.sample(0).v == 1.0);
}

TEST_CASE("json ingest: the parser's memory does not grow with the body", "[tsdb][json]") {
  // 20,000 samples through the parser in 64 KiB pieces (what gzip inflation hands it): the
  // largest document it ever holds is one sample's, whatever the body's size.
  std::string body = "[";
  for (int i = 0; i < 20'000; ++i) {
    if (i) body += ",";
    body += R"({"metric_name":"ifHCInOctets","value":12345678,"tags":{"host":"switch-)" +
            std::to_string(i / 48) + R"(","ifName":"ge-0/0/)" + std::to_string(i % 48) + R"("}})";
  }
  body += "]";
  JsonSampleParser parser(Precision::kSeconds, kNow, {}, 200'000, 7);
  for (std::size_t at = 0; at < body.size(); at += 64 << 10) {
    REQUIRE(parser.write(std::string_view(body).substr(at, 64 << 10)));
  }
  REQUIRE(parser.finish());
  std::printf("json ingest: %zu body bytes, peak sample document %zu bytes\n", body.size(),
              parser.peak_sample_bytes());
  CHECK(parser.peak_sample_bytes() < 8192);
  auto r = parser.take();
  CHECK(r.batch.size() == 20'000);
}

}  // namespace netpulse::tsdb
