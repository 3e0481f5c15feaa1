// The alerts module's records as the API shows them (alert_json.cpp).
#pragma once

#include <boost/json/object.hpp>

#include <netpulse/alerts/engine.hpp>

namespace netpulse::api::detail {

// Unix milliseconds as RFC 3339 with milliseconds, or null.
boost::json::value time_ms(std::int64_t ms);
boost::json::value time_ms(const std::optional<std::int64_t>& ms);

boost::json::object alert_json(const alerts::Alert& a);
boost::json::object alert_detail_json(const alerts::AlertDetail& d);
boost::json::object comment_json(const alerts::AlertComment& c);
boost::json::object incident_json(const alerts::Incident& i);
boost::json::object incident_detail_json(const alerts::IncidentDetail& d);
// A stored rule: the rule's body plus id, builtin, created_at, updated_at; with `status` when
// given (what the rule tracks now).
boost::json::object stored_rule_json(const alerts::StoredRule& r,
                                     const alerts::RuleStatus* status = nullptr);
boost::json::object backtest_json(const alerts::BacktestResult& r);

}  // namespace netpulse::api::detail
