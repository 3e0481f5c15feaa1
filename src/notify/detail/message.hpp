// The message the notifier sends: one notification for one target, already routed, grouped and
// rendered — what every channel kind turns into its own request (an email, a webhook body, a
// PagerDuty event, an SMS...). Built by the notifier from alerts; read by the channel payload
// builders (payloads.hpp) and the SMTP sender. Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpulse::notify::detail {

// One alert as a message carries it.
struct MessageAlert {
  std::int64_t id = 0;
  std::int64_t rule_id = 0;
  std::string rule_name;
  std::string status;    // "firing", "acknowledged", "resolved"
  std::string severity;  // "info", "warning", "critical"
  std::string subject;   // the engine's subject key ("device", "if:3", a series key...)
  std::optional<std::int64_t> device_id;
  std::string device_name;
  std::map<std::string, std::string> labels;       // the series' and the rule's labels
  std::map<std::string, std::string> annotations;  // summary, description, runbook_url
  double value = 0;
  std::optional<double> threshold;
  std::int64_t started_at = 0;  // when the condition began
  std::optional<std::int64_t> fired_at;
  std::optional<std::int64_t> resolved_at;
  std::string acknowledged_by;  // the user's name or email, "" when not acknowledged
  std::int64_t impact = 0;      // a root alert: devices behind it
  std::string fingerprint;      // stable per (org, rule, subject): 16 hex digits
  std::string url;              // the alert in the web UI
};

// What the message is about.
enum class MessageKind {
  kFiring,        // new alerts (or a repeat of still-firing ones)
  kResolved,      // the alerts resolved
  kAcknowledged,  // someone owns them (chat and paging channels say so; email/SMS do not)
  kEscalation,    // unacknowledged after a step's delay: the next step's targets
  kDigest,        // the batched warnings of a digest interval
  kTest,          // a channel's "send test"
};
std::string_view message_kind_name(MessageKind k) noexcept;  // "firing", "resolved", ...

struct Message {
  std::int64_t org_id = 0;
  std::int64_t notification_id = 0;  // the outbox row: stable across retries
  MessageKind kind = MessageKind::kFiring;
  std::string severity;  // the highest of the alerts
  std::string receiver;  // the policy's name (Alertmanager's "receiver")
  // Stable per (policy, group labels): PagerDuty's dedup_key, Opsgenie's alias.
  std::string group_key;
  std::map<std::string, std::string> group_labels;   // the labels the policy groups by
  std::map<std::string, std::string> common_labels;  // labels every alert shares
  std::map<std::string, std::string> common_annotations;
  std::vector<MessageAlert> alerts;
  // Rendered by the policy's (or the default) templates for this channel kind and severity.
  std::string title;         // a subject line, a chat heading, an SMS's whole text
  std::string text;          // the plain-text body
  std::string html;          // the HTML body (email)
  std::string ack_url;       // signed, expiring, single-use, for this recipient; "" for none
  std::string external_url;  // the web UI's base, "https://netpulse.isp.example"
  // A user's address, phone or chat id when the message pages a user through their contact
  // methods: sent there instead of the channel's configured "to" / "chat_id"; "" for none.
  std::string recipient;
  std::int64_t created_at = 0;
};

}  // namespace netpulse::notify::detail
