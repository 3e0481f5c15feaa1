// The alerts module's records as JSON (detail/alert_json.hpp). docs/alerts.md shows each shape.
#include "detail/alert_json.hpp"

#include <netpulse/alerts/rule_json.hpp>
#include <netpulse/core/clock.hpp>

#include "detail/routes.hpp"

namespace netpulse::api::detail {

namespace {

boost::json::object string_map(const std::map<std::string, std::string>& m) {
  boost::json::object o;
  for (auto& [k, v] : m) o[k] = v;
  return o;
}

}  // namespace

boost::json::value time_ms(std::int64_t ms) {
  return boost::json::value(core::format_rfc3339(core::SystemTime(std::chrono::milliseconds(ms))));
}

boost::json::value time_ms(const std::optional<std::int64_t>& ms) {
  return ms ? time_ms(*ms) : boost::json::value(nullptr);
}

boost::json::object alert_json(const alerts::Alert& a) {
  boost::json::object o{
      {"id", a.id},
      {"rule_id", a.rule_id == 0 ? boost::json::value(nullptr) : boost::json::value(a.rule_id)},
      {"rule_name", a.rule_name},
      {"kind", alerts::rule_kind_name(a.kind)},
      {"subject", a.subject},
      {"status", alerts::alert_status_name(a.status)},
      {"severity", alerts::severity_name(a.severity)},
      {"device_id", opt(a.device_id)},
      {"device_name", a.device_name},
      {"labels", string_map(a.labels)},
      {"annotations", string_map(a.annotations)},
      {"value", a.value},
      {"threshold", a.threshold ? boost::json::value(*a.threshold) : boost::json::value(nullptr)},
      {"started_at", time_ms(a.started_at)},
      {"fired_at", time_ms(a.fired_at)},
      {"acknowledged_by", opt(a.acknowledged_by)},
      {"acknowledged_by_name", a.acknowledged_by_name},
      {"acknowledged_at", time_ms(a.acknowledged_at)},
      {"ack_note", a.ack_note},
      {"resolved_at", time_ms(a.resolved_at)},
      {"resolved_by", opt(a.resolved_by)},
      {"resolve_reason", a.resolve_reason},
      {"incident_id", opt(a.incident_id)},
      {"symptom_of", opt(a.symptom_of)},
      {"silenced", a.silenced},
      {"flapping", a.flapping},
      {"updated_at", time_ms(a.updated_at)}};
  // The impact is a root's: a symptom or a lone alert shows none.
  if (a.impact > 0 || (a.incident_id && !a.symptom_of)) o["impact"] = a.impact;
  return o;
}

boost::json::object comment_json(const alerts::AlertComment& c) {
  return {{"id", c.id},          {"alert_id", c.alert_id},
          {"at", time_ms(c.at)}, {"author_id", opt(c.author_id)},
          {"author", c.author},  {"text", c.text}};
}

boost::json::object alert_detail_json(const alerts::AlertDetail& d) {
  auto o = alert_json(d.alert);
  boost::json::array history;
  for (auto& h : d.history) {
    history.push_back(boost::json::object{
        {"at", time_ms(h.at)},
        {"from", h.from.empty() ? boost::json::value(nullptr) : boost::json::value(h.from)},
        {"to", h.to},
        {"actor_id", opt(h.actor_id)},
        {"actor", h.actor},
        {"note", h.note},
        {"value", h.value}});
  }
  o["history"] = std::move(history);
  boost::json::array comments;
  for (auto& c : d.comments) comments.push_back(comment_json(c));
  o["comments"] = std::move(comments);
  return o;
}

boost::json::object incident_json(const alerts::Incident& i) {
  boost::json::array impacted;
  for (auto d : i.impacted_devices) impacted.push_back(d);
  return {{"id", i.id},
          {"root_alert_id", i.root_alert_id},
          {"root_device_id", opt(i.root_device_id)},
          {"title", i.title},
          {"status", alerts::incident_status_name(i.status)},
          {"symptom_count", i.symptom_count},
          {"symptom_alerts", i.symptom_alerts},
          {"impact", i.impact},
          {"impacted_devices", std::move(impacted)},
          {"opened_at", time_ms(i.opened_at)},
          {"resolved_at", time_ms(i.resolved_at)},
          {"updated_at", time_ms(i.updated_at)}};
}

boost::json::object incident_detail_json(const alerts::IncidentDetail& d) {
  auto o = incident_json(d.incident);
  o["root"] = d.root ? boost::json::value(alert_json(*d.root)) : boost::json::value(nullptr);
  boost::json::array symptoms;
  for (auto& a : d.symptoms) symptoms.push_back(alert_json(a));
  o["symptoms"] = std::move(symptoms);
  return o;
}

boost::json::object stored_rule_json(const alerts::StoredRule& r,
                                     const alerts::RuleStatus* status) {
  auto o = alerts::rule_to_json(r.rule);
  o["id"] = r.rule.id;
  o["builtin"] = r.builtin.empty() ? boost::json::value(nullptr) : boost::json::value(r.builtin);
  o["created_at"] = core::format_rfc3339_seconds(r.created_at);
  o["updated_at"] = core::format_rfc3339_seconds(r.updated_at);
  if (status) {
    o["status"] = boost::json::object{{"subjects", status->subjects},
                                      {"pending", status->pending},
                                      {"firing", status->firing},
                                      {"warming_up", status->warming_up}};
  }
  return o;
}

boost::json::object backtest_json(const alerts::BacktestResult& r) {
  boost::json::array events;
  for (auto& e : r.events) {
    events.push_back(boost::json::object{{"at", time_ms(e.at)},
                                         {"transition", e.transition},
                                         {"subject", e.subject},
                                         {"labels", string_map(e.labels)},
                                         {"value", e.value}});
  }
  return {{"start", time_ms(r.start)}, {"end", time_ms(r.end)},       {"series", r.series},
          {"samples", r.samples},      {"events", std::move(events)}, {"truncated", r.truncated}};
}

}  // namespace netpulse::api::detail
