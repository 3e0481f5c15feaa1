// Fuzz target: the metric CSV ingest body (tsdb::parse_csv). Checks that every sample has a
// valid metric name and sorted, unique labels, and that samples and issues never exceed the
// records.
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
  return 0;
}
