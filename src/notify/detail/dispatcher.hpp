// The dispatcher: what to send, to whom and when, from the alert engine's transitions. A pure
// state machine — time is passed in, nothing is sent here: tick(now) returns the messages due
// (Dispatch), which the notifier expands into channels, renders and writes to the outbox.
//
// An alert reaches the policies the notifier's router gives it (first match or continue). Under
// a policy, alerts share a *group* by the policy's group_by labels (notify::group_key):
//
// - A new group waits group_wait, then its firing alerts go out as ONE message; alerts that join
//   a group that has sent wait until group_interval after its last message. A storm of 500
//   alerts in 10 s under one policy is one message per group, not 500.
// - Per severity the policy says: immediate (as above), digest (collected and sent as one digest
//   message every digest_interval), or record (never sent; the alert is visible in the UI).
// - Still firing and unacknowledged, a group's alerts go out again every repeat_interval.
// - Escalation: an alert that went out and is not acknowledged after step k's after_ms (counted
//   from its first message) goes to step k's targets too; each step once. Acknowledgement or
//   resolution stops it at once.
// - Resolution: an alert that went out firing gets a resolved message, to every target that was
//   told it fired (escalation steps included), after group_wait; whether it is silenced or in
//   maintenance by then does not matter (Alertmanager's issue #2754). An alert that never went
//   out resolves quietly.
// - Acknowledgement: an acknowledged message to the policy's targets and everyone told of the
//   firing (every channel kind gets it: chat, email and SMS say "ACK" and who owns it, paging
//   channels acknowledge their incident).
// - Never sent: a symptom (its root is open: the root's message counts it), a silenced alert
//   (recorded, not notified), a flapping alert (held; when it settles, one message of where it
//   stands: firing, or resolved if it went out before).
//
// Fingerprints and group keys are stable: the same alert or group always maps to the same key.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <netpulse/alerts/types.hpp>
#include <netpulse/notify/policy.hpp>

#include "message.hpp"

namespace netpulse::notify::detail {

using Target = PolicyTarget;

// The labels a policy sees of an alert: its own, plus `alertname` (the rule's name), `severity`
// and `device` (its device's name, when it has one). Routing, grouping and the messages all use
// these, so a policy's default group_by ["alertname"] groups by rule.
std::map<std::string, std::string> policy_labels(const alerts::Alert& a);

// Targets in a set (who was told of an alert).
struct TargetLess {
  bool operator()(const Target& a, const Target& b) const noexcept {
    return a.kind != b.kind ? a.kind < b.kind : a.id < b.id;
  }
};
using TargetSet = std::set<Target, TargetLess>;

// The policies an alert goes to, in order (first match or continue: notify::route()).
using Router = std::function<std::vector<Policy>(const alerts::Alert&)>;

// One message to send.
struct Dispatch {
  std::int64_t org_id = 0;
  std::int64_t policy_id = 0;
  std::string policy_name;
  MessageKind kind = MessageKind::kFiring;
  std::string group_key;
  std::map<std::string, std::string> group_labels;
  std::vector<alerts::Alert> alerts;
  std::vector<Target> targets;
  int escalation_step = -1;  // kEscalation: which step
};

// What the delivery log says went out about an open alert under one policy, before a restart
// (Dispatcher::restore).
struct SentBefore {
  std::int64_t policy_id = 0;
  std::int64_t first_sent_ms = 0;  // its first firing message
  std::int64_t last_sent_ms = 0;   // the last message about it (firing or escalation)
  std::optional<std::int64_t> last_escalation_ms;  // the last escalation message, if any
  std::vector<Target> told;  // everyone a firing or escalation message reached
};

struct DispatcherStats {
  std::uint64_t transitions = 0, dispatches = 0, alerts_sent = 0;
  std::uint64_t symptoms_held = 0, silenced_held = 0, flapping_held = 0, recorded_only = 0;
  std::size_t groups = 0, tracked_alerts = 0;
};

class Dispatcher {
 public:
  explicit Dispatcher(Router router);

  void on_alert(const alerts::AlertChanged& e, std::int64_t now_ms);
  // At start-up, an alert open before the restart, with what went out about it (`sent`, any
  // policy's). Under a policy it went out by, it is tracked as sent: it repeats and escalates
  // from its first message on (the steps due by the last escalation message count as sent; a
  // step that fell due while the server was down goes out at the next tick) and gets its
  // resolved message. Under any other policy (or none went out) it is taken as a transition:
  // firing goes out after group_wait as usual.
  void restore(const alerts::Alert& a, const std::vector<SentBefore>& sent, std::int64_t now_ms);
  // Everything due at `now_ms`, in the order it became due.
  std::vector<Dispatch> tick(std::int64_t now_ms);
  // When tick() will next have something to do, if ever.
  std::optional<std::int64_t> next_due() const;
  // Forget an organization (deleted).
  void forget_org(std::int64_t org_id);

  DispatcherStats stats() const;

  // A stable 16-hex-digit key of an alert (org, rule, subject). A group's key is the policy's
  // (notify::group_key).
  static std::string fingerprint(const alerts::Alert& a);

 private:
  // What was sent about one alert under one policy.
  struct Sent {
    TargetSet told;  // every target a firing message reached
    std::int64_t first_sent_ms = 0;
    int next_step = 0;  // the next escalation step
    bool acknowledged = false;
  };
  struct Group {
    std::int64_t org_id = 0;
    Policy policy;  // as it stood at the group's last alert
    std::string key;
    std::map<std::string, std::string> labels;
    std::map<std::int64_t, alerts::Alert> firing;    // firing, not yet acknowledged/resolved
    std::set<std::int64_t> new_firing;               // to go out in the next message
    std::map<std::int64_t, alerts::Alert> resolved;  // to go out as resolved
    std::map<std::int64_t, alerts::Alert> acked;     // to go out as acknowledged
    std::map<std::int64_t, alerts::Alert> digest;    // warnings for the next digest
    std::map<std::int64_t, Sent> sent;               // by alert id
    std::optional<std::int64_t> flush_at;            // the next group message
    std::optional<std::int64_t> digest_at;
    std::int64_t last_sent_ms = 0;
    std::int64_t last_repeat_ms = 0;
    std::optional<std::int64_t> scheduled;  // its entry in schedule_
  };

  Group& group_for(const alerts::Alert& a, const Policy& p);
  // Applies one transition; the keys of the groups it changed go to `touched`.
  void transition(const alerts::AlertChanged& e, std::int64_t now,
                  std::vector<std::string>& touched);
  void fire(Group& g, const alerts::Alert& a, std::int64_t now);
  void resolve(Group& g, const alerts::Alert& a, std::int64_t now);
  void acknowledge(Group& g, const alerts::Alert& a, std::int64_t now);
  void withdraw(Group& g, std::int64_t alert_id);  // silenced, symptom, flapping: not sent
  void schedule_flush(Group& g, std::int64_t now);
  void flush(Group& g, std::int64_t now, std::vector<Dispatch>& out);
  void escalate(Group& g, std::int64_t now, std::vector<Dispatch>& out);
  std::optional<std::int64_t> next_due(const Group& g) const;
  // After a group changed: its entry in schedule_ follows its next due time, and a group with
  // nothing left to send or track is dropped.
  void reschedule(const std::string& key);
  void process(Group& g, std::int64_t now, std::vector<Dispatch>& out);
  Dispatch make(const Group& g, MessageKind kind) const;

  Router router_;
  std::map<std::string, Group> groups_;  // by group key
  // Each group with something due, by due time: tick() visits the due ones only, so an event
  // costs the same with 5 or 5,000 groups open.
  std::set<std::pair<std::int64_t, std::string>> schedule_;
  // The groups an alert is in (it may match several policies), by alert id.
  std::map<std::int64_t, std::set<std::string>> alert_groups_;
  std::set<std::int64_t> flapping_;  // held alerts
  DispatcherStats stats_;
};

}  // namespace netpulse::notify::detail
