// The dashboard every organization is given: what NetPulse's own pollers measure (ICMP round-trip
// time and loss, interface traffic) and the devices' status, so a new install shows something
// useful before anyone builds a dashboard. It goes through parse_dashboard like any other.
#include <netpulse/core/json.hpp>

#include "detail/store_impl.hpp"

namespace netpulse::dashboards::detail {

namespace {

constexpr const char* kDefault = R"json({
  "name": "Network overview",
  "description": "Device status, latency, loss and the busiest interfaces. Edit it, or make your own.",
  "time_range": "6h",
  "panels": [
    {"id": "status", "title": "Device status", "kind": "status", "x": 0, "y": 0, "w": 6, "h": 4},
    {"id": "loss-now", "title": "Highest packet loss", "kind": "stat", "x": 6, "y": 0, "w": 3, "h": 4,
     "query": {"selector": "icmp_loss_pct", "group": "max"}, "unit": "percent",
     "thresholds": [{"value": 5, "severity": "warning"}, {"value": 20, "severity": "critical"}]},
    {"id": "rtt-now", "title": "Average round-trip time", "kind": "gauge", "x": 9, "y": 0, "w": 3, "h": 4,
     "query": {"selector": "icmp_rtt_avg_ms", "group": "avg"}, "unit": "ms", "min": 0, "max": 200,
     "thresholds": [{"value": 50, "severity": "warning"}, {"value": 150, "severity": "critical"}]},
    {"id": "rtt", "title": "Round-trip time (10 slowest)", "kind": "timeseries", "x": 0, "y": 4, "w": 6, "h": 6,
     "query": {"selector": "icmp_rtt_avg_ms", "topk": 10}, "unit": "ms"},
    {"id": "loss", "title": "Packet loss (10 worst)", "kind": "timeseries", "x": 6, "y": 4, "w": 6, "h": 6,
     "query": {"selector": "icmp_loss_pct", "topk": 10}, "unit": "percent"},
    {"id": "in", "title": "Busiest interfaces, in", "kind": "topn", "x": 0, "y": 10, "w": 6, "h": 6,
     "query": {"selector": "ifHCInOctets", "fn": "rate", "scale": 8, "topk": 10}, "unit": "bps"},
    {"id": "out", "title": "Busiest interfaces, out", "kind": "topn", "x": 6, "y": 10, "w": 6, "h": 6,
     "query": {"selector": "ifHCOutOctets", "fn": "rate", "scale": 8, "topk": 10}, "unit": "bps"}
  ]
})json";

}  // namespace

DashboardInput default_dashboard() {
  boost::system::error_code ec;
  auto body = core::parse_json(kDefault, ec);
  // The text above is fixed and tested (tests/unit/dashboards/document_test.cpp).
  auto input = parse_dashboard(body);
  if (ec || !input) return DashboardInput{"Network overview", "", "6h", {}, true, std::nullopt};
  input->is_default = true;
  return std::move(*input);
}

}  // namespace netpulse::dashboards::detail
