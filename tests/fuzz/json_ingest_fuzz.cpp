// Fuzz target: the JSON metric ingest parser (tsdb::JsonSampleParser, what POST /api/v1/metrics
// feeds as the body arrives or inflates). Beyond "no crash" it checks the parser's promise that
// the pieces a body comes in do not matter: the body parsed whole and the same body written in two
// pieces, cut where the input says, give the same samples, keys, issues and verdict. The route
// around it (content type, gzip, the store append) is reached by the http target.
#include <string>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

constexpr tsdb::Timestamp kNow = 1767225600000;
constexpr std::size_t kMaxSamples = 500;
constexpr std::int64_t kOrg = 1;

void same(const tsdb::JsonParseResult& whole, const tsdb::JsonParseResult& pieces) {
  if (whole.error.has_value() != pieces.error.has_value()) {
    fuzz::fail("a body refused whole or in pieces, not both");
  }
  if (whole.error) {
    if (whole.error->code != pieces.error->code) {
      fuzz::fail("refused with other codes in pieces: \"" + whole.error->message + "\" whole, \"" +
                 pieces.error->message + "\" in pieces");
    }
    return;
  }
  if (whole.batch.size() != pieces.batch.size()) fuzz::fail("other sample count in pieces");
  for (std::size_t i = 0; i < whole.batch.size(); ++i) {
    if (whole.batch.key(i) != pieces.batch.key(i)) fuzz::fail("another series key in pieces");
    const auto a = whole.batch.sample(i), b = pieces.batch.sample(i);
    if (a.t != b.t || !(a.v == b.v || (a.v != a.v && b.v != b.v))) {
      fuzz::fail("another sample in pieces");
    }
  }
  if (whole.issues != pieces.issues) fuzz::fail("other issues in pieces");
  if (whole.sample_indexes != pieces.sample_indexes) fuzz::fail("other sample indexes in pieces");
  if (whole.metadata.size() != pieces.metadata.size()) fuzz::fail("other metadata in pieces");
}

}  // namespace

NETPULSE_FUZZ_TARGET(json_ingest) {
  const auto body = fuzz::as_text(data, size);
  tsdb::ParseLimits limits;
  limits.max_lines = kMaxSamples;
  limits.max_json_sample_bytes = 4096;  // small, so the fuzzer reaches the bound
  const auto whole =
      tsdb::parse_json_samples(body, tsdb::Precision::kSeconds, kNow, limits, kMaxSamples, kOrg);

  tsdb::JsonSampleParser parser(tsdb::Precision::kSeconds, kNow, limits, kMaxSamples, kOrg);
  const std::size_t cut = size == 0 ? 0 : (std::size_t{data[0]} * 131 + size) % (size + 1);
  parser.write(body.substr(0, cut));
  parser.write(body.substr(cut));
  same(whole, parser.take());
  return 0;
}
