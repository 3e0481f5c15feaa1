// Fuzz target: InfluxDB line protocol (tsdb::parse_line_protocol, both overloads). The first
// byte picks the precision; the rest is the body. Checks that the keyed parse (what the ingest
// routes use) and the plain parse agree sample for sample, and that every sample's labels are
// sorted and unique, as the store expects.
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
  return 0;
}
