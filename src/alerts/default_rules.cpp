// The rules every organization gets on its first start, so that a new install alerts with no
// configuration. Written as the JSON an operator would POST (and read back through
// rule_from_json, so they pass the same validation); each is an ordinary rule afterwards, which
// an operator may edit, disable or delete — a deleted one does not come back.
#include "detail/default_rules.hpp"

#include <boost/json.hpp>

#include <netpulse/alerts/rule_json.hpp>

namespace netpulse::alerts::detail {

namespace {

struct Builtin {
  const char* key;
  const char* body;
};

// clang-format off
constexpr Builtin kBuiltins[] = {
    {"device_down", R"json({"name": "Device down", "kind": "device_down", "for_s": 0,
      "severity": "critical",
      "annotations": {"summary": "{device} is down"}})json"},
    {"interface_down", R"json({"name": "Interface down", "kind": "interface_down", "for_s": 0,
      "severity": "warning",
      "annotations": {"summary": "{device} {labels.ifName} is down (admin up)"}})json"},
    {"link_utilization", R"json({"name": "Link utilization above 90 %", "kind": "threshold",
      "selector": "ifUtilizationPct",
      "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 600,
      "severity": "warning",
      "annotations": {"summary": "{device} {labels.ifName} at {value} % of its speed"}})json"},
    {"packet_loss", R"json({"name": "Packet loss above 20 %", "kind": "threshold",
      "selector": "icmp_loss_pct",
      "condition": {"fn": "value", "op": ">", "value": 20, "clear": 10}, "for_s": 300,
      "severity": "warning",
      "annotations": {"summary": "{device} loses {value} % of pings"}})json"},
    {"cpu_high", R"json({"name": "CPU above 90 %", "kind": "threshold",
      "selector": "hrProcessorLoad",
      "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 900,
      "severity": "warning",
      "annotations": {"summary": "{device} CPU {labels.cpu} at {value} %"}})json"},
    {"storage_forecast", R"json({"name": "Storage full within 7 days", "kind": "forecast",
      "selector": "hrStorageUsedPct{type=\"disk\"}",
      "condition": {"fn": "value", "op": ">=", "value": 100},
      "forecast": {"window_s": 259200, "horizon_s": 604800}, "for_s": 3600,
      "severity": "warning",
      "annotations": {"summary": "{device} {labels.storage} is {value} % full and filling"}})json"},
    {"tls_expiry", R"json({"name": "TLS certificate expires within 14 days", "kind": "threshold",
      "selector": "tls_cert_expiry_days",
      "condition": {"fn": "value", "op": "<", "value": 14, "clear": 15}, "for_s": 0,
      "severity": "warning",
      "annotations": {"summary": "{device} check {labels.check}: certificate expires in {value} days"}})json"},
    {"check_failing", R"json({"name": "Service check failing", "kind": "check_failing", "for_s": 0,
      "severity": "critical",
      "annotations": {"summary": "{device} check {labels.check} fails"}})json"},
    {"snmp_no_data", R"json({"name": "No SNMP data", "kind": "no_data", "selector": "sysUpTime",
      "for_s": 0, "severity": "warning",
      "annotations": {"summary": "{device} has sent no SNMP data for 3 polling intervals"}})json"},
};
// clang-format on

}  // namespace

std::vector<DefaultRule> default_rules() {
  std::vector<DefaultRule> out;
  for (const auto& b : kBuiltins) {
    auto rule = rule_from_json(boost::json::parse(b.body));
    // The table is ours: a rule that does not read back is a bug the unit test catches.
    if (rule) out.push_back({b.key, std::move(*rule)});
  }
  return out;
}

std::size_t default_rule_count() noexcept {
  return std::size(kBuiltins);
}

}  // namespace netpulse::alerts::detail
