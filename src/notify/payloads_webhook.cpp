// Webhook payloads: NetPulse's own JSON (format "netpulse") and Alertmanager's webhook format
// version 4 (format "alertmanager"), so that a receiver written for Alertmanager works as it is.
// Both are signed Stripe-style when the channel has a secret: X-NetPulse-Signature carries the
// time and an HMAC-SHA256 of "<time>.<body>", so a receiver can refuse a replayed delivery.
#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <netpulse/core/random.hpp>

#include "detail/payload_builders.hpp"
#include "detail/payload_text.hpp"
#include "detail/payloads.hpp"

namespace netpulse::notify::detail {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Go's zero time.Time as Alertmanager writes it for an alert that has not ended.
constexpr std::string_view kOpenEnd = "0001-01-01T00:00:00Z";

object string_map(const std::map<std::string, std::string>& labels) {
  object out;
  for (const auto& [k, v] : labels) out[valid_utf8(k)] = valid_utf8(v);
  return out;
}

value optional_time(const std::optional<std::int64_t>& ms) {
  return ms ? value(rfc3339_ms(*ms)) : value(nullptr);
}

// JSON has no NaN or infinity: such a value is null.
value number(double v) {
  return std::isfinite(v) ? value(v) : value(nullptr);
}

object netpulse_alert(const MessageAlert& a) {
  object o;
  o["id"] = a.id;
  o["rule_id"] = a.rule_id;
  o["rule_name"] = valid_utf8(a.rule_name);
  o["status"] = valid_utf8(a.status);
  o["severity"] = valid_utf8(a.severity);
  o["subject"] = valid_utf8(a.subject);
  o["device_id"] = a.device_id ? value(*a.device_id) : value(nullptr);
  o["device_name"] = valid_utf8(a.device_name);
  o["labels"] = string_map(a.labels);
  o["annotations"] = string_map(a.annotations);
  o["value"] = number(a.value);
  o["threshold"] = a.threshold ? number(*a.threshold) : value(nullptr);
  o["started_at"] = rfc3339_ms(a.started_at);
  o["fired_at"] = optional_time(a.fired_at);
  o["resolved_at"] = optional_time(a.resolved_at);
  o["acknowledged_by"] = valid_utf8(a.acknowledged_by);
  o["impact"] = a.impact;
  o["fingerprint"] = valid_utf8(a.fingerprint);
  o["url"] = valid_utf8(a.url);
  return o;
}

value netpulse_body(const Message& m) {
  array alerts;
  for (const auto& a : m.alerts) alerts.emplace_back(netpulse_alert(a));
  return object{
      {"version", "1"},
      {"kind", message_kind_name(m.kind)},
      {"notification_id", m.notification_id},
      {"severity", valid_utf8(m.severity)},
      {"receiver", valid_utf8(m.receiver)},
      {"group_key", valid_utf8(m.group_key)},
      {"group_labels", string_map(m.group_labels)},
      {"common_labels", string_map(m.common_labels)},
      {"common_annotations", string_map(m.common_annotations)},
      {"title", valid_utf8(m.title)},
      {"text", valid_utf8(m.text)},
      {"ack_url", valid_utf8(m.ack_url)},
      {"external_url", valid_utf8(m.external_url)},
      {"created_at", rfc3339_ms(m.created_at)},
      {"alerts", std::move(alerts)},
  };
}

bool alert_resolved(const MessageAlert& a) {
  return a.resolved_at.has_value() || a.status == "resolved";
}

// An alert's labels as Alertmanager's receivers expect them: its own, plus alertname (the
// rule), severity and device, which NetPulse keeps in fields of their own.
std::map<std::string, std::string> alertmanager_labels(const MessageAlert& a) {
  auto labels = a.labels;
  labels["alertname"] = a.rule_name;
  labels["severity"] = a.severity;
  if (!a.device_name.empty()) labels["device"] = a.device_name;
  return labels;
}

value alertmanager_body(const Message& m) {
  array alerts;
  bool all_resolved = !m.alerts.empty();
  std::optional<std::map<std::string, std::string>> common;  // labels every alert shares
  for (const auto& a : m.alerts) {
    const bool resolved = alert_resolved(a);
    all_resolved = all_resolved && resolved;
    auto labels = alertmanager_labels(a);
    if (!common) {
      common = labels;
    } else {
      std::erase_if(*common, [&](const auto& kv) {
        const auto it = labels.find(kv.first);
        return it == labels.end() || it->second != kv.second;
      });
    }
    const auto ends =
        resolved ? value(rfc3339_ms(a.resolved_at.value_or(m.created_at))) : value(kOpenEnd);
    alerts.emplace_back(object{
        {"status", resolved ? "resolved" : "firing"},
        {"labels", string_map(labels)},
        {"annotations", string_map(a.annotations)},
        {"startsAt", rfc3339_ms(a.started_at)},
        {"endsAt", ends},
        {"generatorURL", valid_utf8(a.url)},
        {"fingerprint", valid_utf8(a.fingerprint)},
    });
  }
  return object{
      {"version", "4"},
      {"groupKey", valid_utf8(m.group_key)},
      {"truncatedAlerts", 0},
      {"status", all_resolved ? "resolved" : "firing"},
      {"receiver", valid_utf8(m.receiver)},
      {"groupLabels", string_map(m.group_labels)},
      {"commonLabels", string_map(common.value_or(m.common_labels))},
      {"commonAnnotations", string_map(m.common_annotations)},
      {"externalURL", valid_utf8(m.external_url)},
      {"alerts", std::move(alerts)},
  };
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view body,
                              std::int64_t unix_seconds) {
  const auto t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(".").append(body);
  return "t=" + t + ",v1=" + core::to_hex(core::hmac_sha256(secret, signed_text));
}

Requests build_webhook(const ChannelSettings& channel, const Message& message,
                       std::int64_t now_ms) {
  const bool alertmanager = setting_or(channel, "format", "netpulse") == "alertmanager";
  auto request = json_post(setting_or(channel, "url", ""),
                           alertmanager ? alertmanager_body(message) : netpulse_body(message));
  request.method = setting_or(channel, "method", "POST");
  request.headers.emplace_back("X-NetPulse-Event", message_kind_name(message.kind));
  request.headers.emplace_back("X-NetPulse-Delivery", std::to_string(message.notification_id));
  if (const auto secret = secret_of(channel, "secret"); !secret.empty()) {
    const auto seconds = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    request.headers.emplace_back("X-NetPulse-Signature",
                                 webhook_signature(secret, request.body, seconds));
  }
  add_custom_headers(channel, request);
  return std::vector<core::HttpRequest>{std::move(request)};
}

}  // namespace netpulse::notify::detail
