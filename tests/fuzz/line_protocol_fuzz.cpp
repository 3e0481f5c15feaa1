// Fuzz target: InfluxDB line protocol (tsdb::parse_line_protocol, both overloads, and the
// LineProtocolParser that ingest feeds as a gzip body inflates). The first byte picks the
// precision; the rest is the body. Checks that the keyed parse (what the ingest routes use) and
// the plain parse agree sample for sample, that every sample's labels are sorted and unique, as
// the store expects, and that the body written in three pieces, cut where the input says, gives
// the whole body's samples, issues and truncation.
#include <cstdint>
#include <string>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "support/fuzz_target.hpp"
#include "tsdb/detail/series_key.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(line_protocol) {
  if (size == 0) return 0;
  static constexpr tsdb::Precision kPrecisions[] = {
      tsdb::Precision::kNanoseconds, tsdb::Precision::kMicroseconds, tsdb::Precision::kMilliseconds,
      tsdb::Precision::kSeconds,     tsdb::Precision::kMinutes,      tsdb::Precision::kHours,
  };
  const auto precision = kPrecisions[data[0] % 6];
  const auto body = fuzz::as_text(data + 1, size - 1);
  tsdb::ParseLimits limits;
  limits.max_lines = 1000;
  limits.max_key_bytes = 1 << 20;
  const tsdb::Timestamp now = 1'767'225'600'000;

  auto plain = tsdb::parse_line_protocol(body, precision, now, limits);
  auto keyed = tsdb::parse_line_protocol(body, precision, now, limits, 7);
  if (plain.issues != keyed.issues) fuzz::fail("plain and keyed parses disagree on the issues");
  if (plain.truncated != keyed.truncated)
    fuzz::fail("plain and keyed parses disagree on truncation");
  if (plain.samples.size() != keyed.batch.size()) {
    fuzz::fail("plain and keyed parses disagree on the sample count");
  }
  if (plain.sample_lines != keyed.sample_lines) fuzz::fail("sample lines disagree");
  for (std::size_t i = 0; i < plain.samples.size(); ++i) {
    const auto& s = plain.samples[i];
    if (!(s.sample == keyed.batch.sample(i))) fuzz::fail("sample values disagree");
    if (tsdb::detail::encode_series_key(7, s.key) != keyed.batch.key(i)) {
      fuzz::fail("series keys disagree");
    }
    if (!tsdb::valid_metric_name(s.key.metric)) fuzz::fail("a sample with an invalid metric name");
    for (std::size_t j = 1; j < s.key.labels.size(); ++j) {
      if (!(s.key.labels[j - 1].first < s.key.labels[j].first)) {
        fuzz::fail("labels not sorted and unique");
      }
    }
  }

  tsdb::LineProtocolParser pieces(precision, now, limits, 1'000'000, 7);
  const std::size_t a = (std::size_t{data[0]} * 131 + size) % (body.size() + 1);
  const std::size_t b = a + (body.size() - a) / 2;
  pieces.write(body.substr(0, a));
  pieces.write(body.substr(a, b - a));
  pieces.write(body.substr(b));
  auto cut = pieces.take();
  if (cut.error) fuzz::fail("the piecewise parse refused a body the whole parse did not");
  if (cut.issues != keyed.issues) fuzz::fail("pieces and whole disagree on the issues");
  if (cut.truncated != keyed.truncated) fuzz::fail("pieces and whole disagree on truncation");
  if (cut.sample_lines != keyed.sample_lines) fuzz::fail("pieces and whole: sample lines");
  if (cut.batch.size() != keyed.batch.size()) fuzz::fail("pieces and whole: sample count");
  for (std::size_t i = 0; i < cut.batch.size(); ++i) {
    if (cut.batch.key(i) != keyed.batch.key(i) || !(cut.batch.sample(i) == keyed.batch.sample(i))) {
      fuzz::fail("pieces and whole disagree on a sample");
    }
  }
  return 0;
}
