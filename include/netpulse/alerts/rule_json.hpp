// A rule as JSON: the body of POST/PUT /api/v1/alert-rules and the form rules are stored in. The
// shape (docs/alerts.md):
//   {"name": "CPU high", "kind": "threshold", "selector": "cpu_usage{host=\"web-01\"}",
//    "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 60,
//    "severity": "critical", "scope": {"device_ids": [], "group_ids": [], "tags": []},
//    "labels": {}, "annotations": {"summary": "{device} CPU at {value} %"}, "enabled": true}
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/alerts/rule.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::alerts {

// Reads a rule (without id and org_id) and validates it (validate_rule). kInvalidInput naming the
// field: a missing name or kind, a value of the wrong type, an unknown field (a typo must not pass
// silently), then whatever validate_rule refuses. Defaults: severity "warning", for_s 0, enabled
// true; a kind's parameter objects take their documented defaults for fields left out.
core::Result<Rule> rule_from_json(const boost::json::value& body);

// The rule as rule_from_json reads it, plus "id" (when set). rule_from_json(rule_to_json(r)) == r
// for every valid rule, ids aside.
boost::json::object rule_to_json(const Rule& rule);

}  // namespace netpulse::alerts
