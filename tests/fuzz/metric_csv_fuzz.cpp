// Fuzz target: the metric CSV ingest body (tsdb::parse_csv, and the CsvParser that ingest feeds
// as a gzip body inflates). Checks that every sample has a valid metric name and sorted, unique
// labels, and that the keyed parse of the body written in three pieces, cut where the input says,
// gives the whole body's samples, issues and truncation.
#include <string>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(metric_csv) {
  tsdb::ParseLimits limits;
  limits.max_lines = 1000;
  auto r = tsdb::parse_csv(fuzz::as_text(data, size), limits);
  if (r.samples.size() != r.sample_lines.size()) fuzz::fail("sample_lines not parallel to samples");
  for (const auto& s : r.samples) {
    if (!tsdb::valid_metric_name(s.key.metric)) fuzz::fail("a sample with an invalid metric name");
    for (std::size_t j = 1; j < s.key.labels.size(); ++j) {
      if (!(s.key.labels[j - 1].first < s.key.labels[j].first)) {
        fuzz::fail("labels not sorted and unique");
      }
    }
  }

  const auto body = fuzz::as_text(data, size);
  const auto whole = tsdb::parse_csv(body, limits, 7);
  if (whole.batch.size() != r.samples.size()) fuzz::fail("plain and keyed parses: sample count");
  tsdb::CsvParser pieces(limits, 7);
  const std::size_t a = size == 0 ? 0 : (std::size_t{data[0]} * 131 + size) % (size + 1);
  const std::size_t b = a + (size - a) / 2;
  pieces.write(body.substr(0, a));
  pieces.write(body.substr(a, b - a));
  pieces.write(body.substr(b));
  auto cut = pieces.take();
  // Only a record past the carry bound (16 x max_line_bytes, far beyond any fuzz input) may be
  // refused whole by the piecewise parser.
  if (cut.error) fuzz::fail("the piecewise parse refused the body: " + cut.error->message);
  if (cut.issues != whole.issues) fuzz::fail("pieces and whole disagree on the issues");
  if (cut.truncated != whole.truncated) fuzz::fail("pieces and whole disagree on truncation");
  if (cut.batch.size() != whole.batch.size()) fuzz::fail("pieces and whole: sample count");
  for (std::size_t i = 0; i < cut.batch.size(); ++i) {
    if (cut.batch.key(i) != whole.batch.key(i) || !(cut.batch.sample(i) == whole.batch.sample(i))) {
      fuzz::fail("pieces and whole disagree on a sample");
    }
  }
  return 0;
}
