// Notification policies: which alerts go to whom, how they are grouped into messages, how each
// severity is delivered (at once, in a digest, or only recorded), and who is told next when
// nobody acknowledges. An organization's policies are tried in `position` order; the first that
// matches takes the alert and, unless its `continue` is set, stops the walk — Alertmanager's
// routing tree flattened to one level.
//
// Pure: no I/O, no clock. The JSON shape and the semantics (grouping, digest and record modes,
// escalation, quiet hours) are in docs/notify-routing.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/alerts/silence.hpp>
#include <netpulse/core/result.hpp>

namespace re2 {
class RE2;
}

namespace netpulse::notify {

// How alerts of one severity are delivered.
enum class DeliveryMode : std::uint8_t {
  kImmediate,  // a message per group, after group_wait_s (then every group_interval_s)
  kDigest,     // batched into one message per digest_interval_s
  kRecord,     // recorded in the delivery log (and shown in the UI), never sent
};
std::string_view delivery_mode_name(DeliveryMode m) noexcept;  // "immediate", "digest", "record"
std::optional<DeliveryMode> parse_delivery_mode(std::string_view name) noexcept;

// Whom a message goes to: a channel (email list, webhook, Slack...), a user (by their contact
// methods), or whoever an on-call schedule names at the time.
struct PolicyTarget {
  enum class Kind : std::uint8_t { kChannel, kUser, kSchedule };
  Kind kind = Kind::kChannel;
  std::int64_t id = 0;  // a positive channel, user or schedule id

  friend bool operator==(const PolicyTarget&, const PolicyTarget&) = default;
};

// After `after_s` seconds without an acknowledgement since the group's first message, its
// targets are notified too (MessageKind::kEscalation).
struct EscalationStep {
  std::int64_t after_s = 0;           // 60 .. 7 days; strictly increasing along the steps
  std::vector<PolicyTarget> targets;  // 1..20

  friend bool operator==(const EscalationStep&, const EscalationStep&) = default;
};

// A policy's own message templates for one channel family and severity: Mustache texts over a
// message's named fields (docs/notify-routing.md, "Message templates"). "" is "not given": that
// part comes from the family's "default" set of the policy, else from the built-in templates.
struct MessageTemplateTexts {
  std::string title;  // email: the subject; chat: the heading; paging: the summary
  std::string text;   // email, chat: the body; paging: the details; sms: the whole SMS
  std::string html;   // email only: the HTML body

  friend bool operator==(const MessageTemplateTexts&, const MessageTemplateTexts&) = default;
};

// By channel family ("email", "chat", "sms", "paging"; a kind's family is in
// docs/notify-channels.md), then by severity ("critical", "warning", "info") or "default".
using PolicyTemplates = std::map<std::string, std::map<std::string, MessageTemplateTexts>>;

inline constexpr std::size_t kMaxPolicyTemplateBytes = 65'536;  // all of a policy's texts

// A label condition: alerts' matcher (name, op, value) with its expression compiled once by
// policy_from_json / compile_matchers. Equality looks at the matcher only.
struct PolicyLabelMatcher {
  alerts::LabelMatcher matcher;
  std::shared_ptr<const re2::RE2> regex;  // for =~ and !~; nullptr: compiled at each match

  friend bool operator==(const PolicyLabelMatcher& a, const PolicyLabelMatcher& b) {
    return a.matcher == b.matcher;
  }
};

// What a policy takes. Every criterion that is given must hold (AND across criteria); a list
// holds when it contains the alert's value (OR within it). No criteria: every alert.
struct PolicyMatch {
  std::vector<std::string> severities;     // "info", "warning", "critical"
  std::vector<PolicyLabelMatcher> labels;  // at most 32, one per label name
  std::vector<std::int64_t> rule_ids;      // each list at most 1,000 items
  std::vector<std::int64_t> device_ids;    // the alert's device
  std::vector<std::string> groups;         // one of the device's groups, by name
  std::vector<std::string> tags;           // one of the device's tags

  friend bool operator==(const PolicyMatch&, const PolicyMatch&) = default;
};

struct Policy {
  std::int64_t id = 0;      // set by the store; 0 before
  std::int64_t org_id = 0;  // set by the API from the caller's organization
  std::string name;         // 1..200 bytes; the messages' "receiver"
  bool enabled = true;
  std::int64_t position = 0;  // routing order, lowest first; 0 .. 1,000,000
  PolicyMatch match;
  // Alertmanager's `continue`: false stops routing at this policy when it matches.
  bool continue_matching = false;
  // The labels whose values split alerts into groups (one message thread each). Default
  // ["alertname"] — the notifier gives every alert an `alertname` label, its rule's name. ["..."]
  // groups by every label (each distinct label set is its own group); [] puts every alert of
  // the policy in one group. At most 32 names.
  std::vector<std::string> group_by = {"alertname"};
  std::int64_t group_wait_s = 30;           // 0 .. 3,600: wait for more alerts before the first
  std::int64_t group_interval_s = 300;      // 1 .. 86,400: between messages about a changed group
  std::int64_t repeat_interval_s = 14'400;  // 0 (never repeat) or 60 .. 30 days
  std::int64_t digest_interval_s = 900;     // 0 (digest mode sends as immediate) or 60 .. 86,400
  DeliveryMode critical_mode = DeliveryMode::kImmediate;
  DeliveryMode warning_mode = DeliveryMode::kDigest;
  DeliveryMode info_mode = DeliveryMode::kRecord;
  // Whom the first message goes to, at most 20. None: the alert is taken (and recorded) but
  // nobody is told — with continue false, Alertmanager's "null receiver" that stops routing.
  std::vector<PolicyTarget> targets;
  std::vector<EscalationStep> escalation;  // at most 10 steps
  // Whether this policy's messages reach users inside their quiet hours. Critical ones always
  // do (overrides_quiet_hours()).
  bool override_quiet_hours = false;
  // The policy's own templates; none given: the built-in ones.
  PolicyTemplates templates;

  friend bool operator==(const Policy&, const Policy&) = default;
};

inline constexpr std::size_t kMaxEscalationSteps = 10;
inline constexpr std::size_t kMaxPolicyTargets = 20;
inline constexpr std::size_t kMaxLabelMatchers = 32;

// What routing looks at in an alert. Non-owning: the map and spans must outlive the call.
struct AlertFacts {
  std::string_view severity;                                   // "info", "warning", "critical"
  const std::map<std::string, std::string>* labels = nullptr;  // nullptr: none
  std::int64_t rule_id = 0;
  std::optional<std::int64_t> device_id;
  std::span<const std::string> device_groups;  // the device's group names
  std::span<const std::string> device_tags;
};

// Checks a policy as it is saved: kInvalidInput naming the first offending field ("name",
// "match.severity", "match.labels.ifName", "group_by", "group_wait_s", "modes.warning",
// "targets[1]", "escalation[2].after_s", "templates.sms.critical.text", ...). Regular expressions
// must compile; each template must parse and name only a message's fields, a part only where its
// family has it (html: email; title: not sms), at most kMaxPolicyTemplateBytes in all.
core::Result<void> validate_policy(const Policy& policy);

// Compiles the =~ and !~ expressions of match.labels that are not compiled yet (a Policy built in
// code); matches() then runs no compilation. Expressions that do not compile stay nullptr.
void compile_matchers(Policy& policy);

// Reads a policy (id and org_id are server-set: accepted and ignored) and validates it, its
// expressions compiled. kInvalidInput naming the field: a wrong type, an unknown field, then
// whatever validate_policy refuses. match.labels maps a label name to a value (equality) or to
// {"op": "=~", "value": "xe-.*"}; targets are {"channel_id": n}, {"user_id": n} or
// {"schedule_id": n}; modes is {"critical": "immediate", "warning": "digest", "info": "record"}
// (each optional); templates is {"chat": {"critical": {"title": "...", "text": "..."},
// "default": {...}}, "sms": {...}} (each level optional, a given text not empty).
core::Result<Policy> policy_from_json(const boost::json::value& body);

// The policy as policy_from_json reads it, plus id when set. policy_from_json(to_json(p)) == p
// for every policy it returned, id and org_id aside.
boost::json::object to_json(const Policy& policy);

// Whether an enabled policy takes the alert (PolicyMatch says how each criterion is tested;
// a label the alert lacks reads as "", as in silences). A disabled policy matches nothing.
bool matches(const Policy& policy, const AlertFacts& alert);

// The policies that take the alert, in routing order: `policies` sorted by position (then by
// id, then as given), each enabled one that matches taken, stopping after the first taken one
// whose continue_matching is false. Pointers into `policies`.
std::vector<const Policy*> route(const std::vector<Policy>& policies, const AlertFacts& alert);

// The labels the alert is grouped by under the policy: group_by's names the alert has (a name it
// lacks is left out, as Alertmanager does), every label for ["..."], none for [].
std::map<std::string, std::string> group_labels(const Policy& policy,
                                                const std::map<std::string, std::string>& labels);

// A stable key for the alert's group under the policy: 16 hex digits of a 64-bit FNV-1a hash of
// the policy's id (its name while the id is 0) and the group labels. The same on every run and
// every build; PagerDuty's dedup_key and Opsgenie's alias.
std::string group_key(const Policy& policy, const std::map<std::string, std::string>& labels);

// How an alert of `severity` is delivered under the policy: its mode for the severity (an
// unknown severity as info), kDigest with digest_interval_s 0 read as kImmediate.
DeliveryMode delivery_mode(const Policy& policy, std::string_view severity) noexcept;

// Whether a message of `severity` from the policy is sent inside a user's quiet hours: always
// for critical, otherwise when the policy says so.
bool overrides_quiet_hours(const Policy& policy, std::string_view severity) noexcept;

}  // namespace netpulse::notify
