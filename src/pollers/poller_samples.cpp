// Building and storing the poller's samples: the labels every device's samples carry (label
// values from the network sanitised), one sample per figure, the SNMP run's samples staged until
// the run ends, and the append to the store (partial mode: one refused sample does not lose the
// rest; failures are logged, not retried). Metric names and labels are listed in docs/pollers.md.
#include <algorithm>
#include <iterator>

#include "detail/poller_impl.hpp"

namespace netpulse::pollers::detail {

std::string label_value(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw.substr(0, 128)) {
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

tsdb::AppendSample PollerImpl::sample(std::string metric, tsdb::LabelSet labels, std::int64_t t_ms,
                                      double v) {
  tsdb::AppendSample s;
  s.key.metric = std::move(metric);
  std::sort(labels.begin(), labels.end());
  s.key.labels = std::move(labels);
  s.sample.t = t_ms;
  s.sample.v = v;
  return s;
}

tsdb::AppendSample PollerImpl::sorted_sample(std::string_view metric, const tsdb::LabelSet& sorted,
                                             std::int64_t t_ms, double v) {
  tsdb::AppendSample s;
  s.key.metric = metric;
  s.key.labels = sorted;
  s.sample.t = t_ms;
  s.sample.v = v;
  return s;
}

void PollerImpl::stage(DeviceState& st, std::vector<tsdb::AppendSample>&& batch) {
  if (st.snmp_batch.empty()) {
    st.snmp_batch = std::move(batch);
  } else {
    std::move(batch.begin(), batch.end(), std::back_inserter(st.snmp_batch));
  }
}

tsdb::LabelSet PollerImpl::device_labels(const devices::Device& d) {
  return {{"device", label_value(d.name)}, {"device_id", std::to_string(d.id)}};
}

void PollerImpl::append(std::int64_t org_id, std::vector<tsdb::AppendSample> batch) {
  if (batch.empty()) return;
  store_.append(org_id, std::move(batch), tsdb::AppendMode::kPartial,
                [this, alive = std::weak_ptr<bool>(alive_)](core::Result<tsdb::AppendResult> r) {
                  if (alive.expired()) return;
                  if (!r) {
                    log_.warn("pollers", "samples not stored: {}", r.error().message);
                  } else if (!r->refused.empty()) {
                    log_.debug("pollers", "{} sample(s) refused, first: {}", r->refused.size(),
                               r->refused.front().message);
                  }
                });
}

}  // namespace netpulse::pollers::detail
