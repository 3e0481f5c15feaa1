// Fuzz target: an alert rule's JSON body (alerts::rule_from_json, after Boost.JSON). A refusal
// names a field; an accepted rule survives rule_to_json and back unchanged.
#include <boost/json/parse.hpp>

#include <netpulse/alerts/rule_json.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(alert_rule) {
  boost::system::error_code ec;
  auto body = boost::json::parse(fuzz::as_text(data, size), ec);
  if (ec) return 0;
  auto rule = alerts::rule_from_json(body);
  if (!rule) {
    const auto* field = rule.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  auto again = alerts::rule_from_json(alerts::rule_to_json(*rule));
  if (!again) fuzz::fail("rule_to_json of an accepted rule is refused: " + again.error().message);
  if (!(*again == *rule)) fuzz::fail("rule_from_json(rule_to_json(r)) differs from r");
  return 0;
}
