// What the alert engine keeps and tells: alerts (one per rule × subject while open), their
// history and comments, incidents (a root alert with its symptoms), stored rules, and the
// events the notifier and the live feed consume (AlertChanged, IncidentChanged).
//
// An alert's *subject* is what the rule fired on, as a stable text key within the rule: the
// series key for the sample kinds (threshold, anomaly, forecast, no_data), "device" for
// device_down, "if:<ifIndex>" for interface_down, "check:<id>" (and "tls:<id>") for
// check_failing, "trap:<trap OID>[:<ifIndex>]" for trap rules — each with the device id beside
// it. Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/alerts/rule.hpp>

namespace netpulse::alerts {

// pending → firing → acknowledged → resolved (pending may also go straight to resolved: the
// condition cleared before the for-duration passed; such alerts are kept with their history).
enum class AlertStatus : std::uint8_t { kPending, kFiring, kAcknowledged, kResolved };
std::string_view alert_status_name(AlertStatus s) noexcept;  // "pending", ...
std::optional<AlertStatus> parse_alert_status(std::string_view name) noexcept;

struct Alert {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t rule_id = 0;  // 0 once the rule is deleted (the alert keeps rule_name)
  std::string rule_name;
  RuleKind kind = RuleKind::kThreshold;
  std::string subject;
  AlertStatus status = AlertStatus::kPending;
  Severity severity = Severity::kWarning;
  std::optional<std::int64_t> device_id;
  std::string device_name;
  std::map<std::string, std::string> labels;       // the series' labels and the rule's
  std::map<std::string, std::string> annotations;  // rendered
  double value = 0;                                // the value that last changed its state
  std::optional<double> threshold;
  std::int64_t started_at = 0;  // when the condition began (pending)
  std::optional<std::int64_t> fired_at;
  std::optional<std::int64_t> acknowledged_by;  // user id
  std::string acknowledged_by_name;
  std::optional<std::int64_t> acknowledged_at;
  std::string ack_note;
  std::optional<std::int64_t> resolved_at;
  std::optional<std::int64_t> resolved_by;  // user id; none when the engine resolved it
  std::string resolve_reason;
  std::optional<std::int64_t> incident_id;
  std::optional<std::int64_t> symptom_of;  // the root alert's id
  std::int64_t impact = 0;                 // on a root: devices behind it
  bool silenced = false;                   // by a silence, a maintenance window or the device
  bool flapping = false;
  std::int64_t updated_at = 0;

  bool open() const noexcept { return status != AlertStatus::kResolved; }
};

// One transition of an alert, with who caused it ("engine" for the engine).
struct AlertHistoryEntry {
  std::int64_t at = 0;
  std::string from;  // status names; "" for the first entry
  std::string to;
  std::optional<std::int64_t> actor_id;
  std::string actor;  // "engine", or the user's email
  std::string note;
  double value = 0;
};

struct AlertComment {
  std::int64_t id = 0;
  std::int64_t alert_id = 0;
  std::int64_t at = 0;
  std::optional<std::int64_t> author_id;
  std::string author;
  std::string text;
};

struct AlertDetail {
  Alert alert;
  std::vector<AlertHistoryEntry> history;
  std::vector<AlertComment> comments;
};

enum class IncidentStatus : std::uint8_t { kOpen, kResolved };
std::string_view incident_status_name(IncidentStatus s) noexcept;  // "open", "resolved"

struct Incident {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t root_alert_id = 0;
  std::optional<std::int64_t> root_device_id;
  std::string title;
  IncidentStatus status = IncidentStatus::kOpen;
  std::int64_t symptom_count = 0;   // devices with symptom alerts (the root device not counted)
  std::int64_t symptom_alerts = 0;  // the symptom alerts themselves (a device may have several)
  std::int64_t impact = 0;          // devices behind the root
  std::vector<std::int64_t> impacted_devices;
  std::int64_t opened_at = 0;
  std::optional<std::int64_t> resolved_at;
  std::int64_t updated_at = 0;
};

struct IncidentDetail {
  Incident incident;
  std::optional<Alert> root;
  std::vector<Alert> symptoms;
};

// A rule as stored: the rule and its bookkeeping. `builtin` names a default rule ("device_down",
// ...) an organization got on its first start.
struct StoredRule {
  Rule rule;
  std::string builtin;
  std::int64_t created_at = 0;  // Unix seconds
  std::int64_t updated_at = 0;
};

// What a rule is doing now, for the API: series or subjects it tracks, alerts open, and for an
// anomaly rule the baselines still learning (it stays quiet for them until their warm-up).
struct RuleStatus {
  std::size_t subjects = 0;
  std::size_t pending = 0;
  std::size_t firing = 0;
  std::size_t warming_up = 0;
};

struct AlertFilter {
  std::vector<AlertStatus> statuses;  // empty: all
  std::vector<Severity> severities;
  std::optional<std::int64_t> device_id;
  std::optional<std::int64_t> group_id;
  std::optional<std::string> tag;
  std::optional<std::int64_t> rule_id;
  std::optional<std::int64_t> incident_id;
  std::optional<std::int64_t> since;  // started_at ≥ since (Unix ms)
  bool open_only = false;             // status is not resolved
};

// --- events (EventBus, loop thread) ------------------------------------------------------------

// Every transition of an alert, published once the transition is committed to the database (so
// a crash never lets a consumer act on a transition that is then lost and made again).
// `transition` names it: "pending", "firing", "acknowledged", "resolved", "symptom" (it became
// a symptom of another alert), "root" (it stopped being one: its root resolved and it still
// fails), "silenced", "unsilenced", "flapping", "settled", "commented".
struct AlertChanged {
  std::int64_t org_id = 0;
  Alert alert;
  std::string transition;
};

// An incident opened, changed (symptoms or impact) or resolved.
struct IncidentChanged {
  std::int64_t org_id = 0;
  Incident incident;
};

}  // namespace netpulse::alerts
