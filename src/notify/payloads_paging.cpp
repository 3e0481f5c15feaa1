// Paging payloads: PagerDuty's Events API v2 and Opsgenie's Alert API. Both deduplicate on the
// message's group key (PagerDuty's dedup_key, Opsgenie's alias), so a repeat updates the open
// incident, and an acknowledgement or a resolution in NetPulse acknowledges or closes it there.
#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <netpulse/core/random.hpp>

#include "detail/payload_builders.hpp"
#include "detail/payload_text.hpp"

namespace netpulse::notify::detail {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue";
constexpr std::string_view kOpsgenieUrl = "https://api.opsgenie.com/v2/alerts";
constexpr std::string_view kClient = "NetPulse";

// `key` when it fits `max` bytes, else its SHA-256 in hex (64 characters): still stable per
// group, and never cut into a key another group could share.
std::string bounded_key(std::string_view key, std::size_t max) {
  auto valid = valid_utf8(key);
  if (valid.size() <= max && !valid.empty()) return valid;
  return core::to_hex(core::sha256(key));
}

std::string summary_of(const Message& m, std::size_t max) {
  auto summary = display_text(m.title, true);
  if (summary.empty() && !m.alerts.empty())
    summary = display_text(m.alerts.front().rule_name, true);
  if (summary.empty()) summary = "NetPulse notification";
  return truncate_utf8(summary, max);
}

// The affected system as PagerDuty's "source" and Opsgenie's "entity" want it: the device, the
// subject, or NetPulse itself.
std::string source_of(const Message& m) {
  if (!m.alerts.empty()) {
    const auto& a = m.alerts.front();
    if (!a.device_name.empty()) return display_text(a.device_name, true);
    if (!a.subject.empty()) return display_text(a.subject, true);
  }
  return std::string(kClient);
}

std::string pagerduty_severity(std::string_view s) {
  if (s == "critical" || s == "warning" || s == "info") return std::string(s);
  return "error";
}

std::string opsgenie_priority(std::string_view s) {
  if (s == "critical") return "P1";
  if (s == "warning") return "P3";
  if (s == "info") return "P5";
  return "P3";
}

object alert_details(const MessageAlert& a) {
  object labels;
  for (const auto& [k, v] : a.labels) labels[valid_utf8(k)] = valid_utf8(v);
  return object{
      {"rule", valid_utf8(a.rule_name)},
      {"status", valid_utf8(a.status)},
      {"severity", valid_utf8(a.severity)},
      {"device", valid_utf8(a.device_name)},
      {"subject", valid_utf8(a.subject)},
      {"value", std::isfinite(a.value) ? value(a.value) : value(nullptr)},
      {"labels", std::move(labels)},
      {"url", valid_utf8(a.url)},
  };
}

}  // namespace

Requests build_pagerduty(const ChannelSettings& channel, const Message& message) {
  const auto url = setting_or(channel, "url", kPagerDutyUrl);
  object event{
      {"routing_key", secret_of(channel, "routing_key")},
      {"dedup_key", bounded_key(message.group_key, 255)},
  };
  switch (message.kind) {
    case MessageKind::kResolved:
      event["event_action"] = "resolve";
      return std::vector<core::HttpRequest>{json_post(url, event)};
    case MessageKind::kAcknowledged:
      event["event_action"] = "acknowledge";
      return std::vector<core::HttpRequest>{json_post(url, event)};
    default:
      event["event_action"] = "trigger";
      break;
  }
  const MessageAlert* first = message.alerts.empty() ? nullptr : &message.alerts.front();
  array alerts;
  for (const auto& a : message.alerts) alerts.emplace_back(alert_details(a));
  const auto when =
      first != nullptr ? first->fired_at.value_or(first->started_at) : message.created_at;
  object payload{
      {"summary", summary_of(message, 1024)},
      {"source", source_of(message)},
      {"severity", pagerduty_severity(message.severity)},
      {"timestamp", rfc3339_ms(when)},
      {"component", first != nullptr ? valid_utf8(first->subject) : std::string()},
      {"group", valid_utf8(message.receiver)},
      {"class", first != nullptr ? valid_utf8(first->rule_name) : std::string(kClient)},
      {"custom_details", object{{"text", valid_utf8(message.text)},
                                {"kind", message_kind_name(message.kind)},
                                {"alert_count", message.alerts.size()},
                                {"alerts", std::move(alerts)}}},
  };
  event["payload"] = std::move(payload);
  array links;
  if (const auto link = subject_url(message); !link.empty())
    links.emplace_back(object{{"href", valid_utf8(link)}, {"text", "Open in NetPulse"}});
  event["links"] = std::move(links);
  event["client"] = kClient;
  if (!message.external_url.empty()) event["client_url"] = valid_utf8(message.external_url);
  return std::vector<core::HttpRequest>{json_post(url, event)};
}

Requests build_opsgenie(const ChannelSettings& channel, const Message& message) {
  const auto base = setting_or(channel, "url", kOpsgenieUrl);
  const auto alias = bounded_key(message.group_key, 512);
  core::HttpRequest request;
  if (message.kind == MessageKind::kResolved || message.kind == MessageKind::kAcknowledged) {
    const bool close = message.kind == MessageKind::kResolved;
    object body{{"source", kClient}, {"note", truncate_utf8(display_text(message.title), 25000)}};
    if (!close && !message.alerts.empty() && !message.alerts.front().acknowledged_by.empty())
      body["user"] = truncate_utf8(display_text(message.alerts.front().acknowledged_by, true), 100);
    request = json_post(base + "/" + path_segment_encode(alias) +
                            (close ? "/close" : "/acknowledge") + "?identifierType=alias",
                        body);
  } else {
    array tags{"netpulse", value(valid_utf8(message.severity))};
    if (const auto* extra = channel.settings.if_contains("tags");
        extra != nullptr && extra->is_array())
      for (const auto& t : extra->get_array())
        if (tags.size() < 20) tags.emplace_back(t);
    object details{{"receiver", truncate_utf8(display_text(message.receiver, true), 1000)},
                   {"kind", message_kind_name(message.kind)},
                   {"alerts", std::to_string(message.alerts.size())}};
    for (const auto& [k, v] : message.group_labels)
      details[truncate_utf8(valid_utf8(k), 100)] = truncate_utf8(valid_utf8(v), 1000);
    if (const auto link = subject_url(message); !link.empty()) details["url"] = valid_utf8(link);
    object body{
        {"message", summary_of(message, 130)},
        {"alias", alias},
        {"description", truncate_utf8(valid_utf8(message.text), 15000)},
        {"tags", std::move(tags)},
        {"details", std::move(details)},
        {"entity", truncate_utf8(source_of(message), 512)},
        {"source", kClient},
        {"priority", opsgenie_priority(message.severity)},
    };
    if (const auto* responders = channel.settings.if_contains("responders"))
      body["responders"] = *responders;
    request = json_post(base, body);
  }
  request.headers.emplace_back("Authorization", "GenieKey " + secret_of(channel, "api_key"));
  return std::vector<core::HttpRequest>{std::move(request)};
}

}  // namespace netpulse::notify::detail
