// The notifier: makes sure the right people hear of an alert, once, and keep hearing until
// someone owns it. It learns of alerts only through the alert engine's events (AlertChanged),
// routes them through the organization's notification policies (notify/policy.hpp), groups and
// escalates them (src/notify/detail/dispatcher.hpp), renders them per channel kind
// (message templates) and delivers them at least once through the outbox
// (src/notify/detail/outbox.hpp): written to SQLite before the first attempt, retried with
// back-off, dead-lettered, re-sent after a crash. docs/notify.md describes all of it.
//
// Channel secrets are sealed at rest with the credentials key (core::SecretBox) and never
// returned; outbound requests go through the outbound address policy (core::HttpClient).
//
// Threads: every call and callback is on the event loop; open() blocks (start-up only).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/notify/contacts.hpp>
#include <netpulse/notify/oncall.hpp>
#include <netpulse/notify/policy.hpp>

namespace netpulse::notify {

template <class T>
using Callback = std::function<void(core::Result<T>)>;

// The SMTP relay (server configuration: every email channel uses it). No host: no email.
struct SmtpRelay {
  std::string host;
  std::uint16_t port = 587;
  std::string tls = "starttls";  // "none", "starttls", "tls"
  std::string username;
  std::string password;
  std::string from;
  std::string ca_file;
  std::int64_t timeout_ms = 30'000;  // each SMTP step
};

// A user as the notifier needs to know them (the auth module's users, seen through the
// directory app wires in; the notifier does not depend on auth).
struct DirectoryUser {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string email;
  std::string role;  // "admin", "operator", "viewer", "api_user"
  bool enabled = true;
};

// Where the notifier looks users up. Called on the loop; each must be quick (an indexed read).
struct UserDirectory {
  // The user of that organization, or none (no such user, or another organization's).
  std::function<std::optional<DirectoryUser>(std::int64_t org_id, std::int64_t user_id)> find;
  // Every user of the organization (at most a few thousand), in id order.
  std::function<std::vector<DirectoryUser>(std::int64_t org_id)> members;
};

struct NotifierOptions {
  std::string data_dir;      // the credentials key lives there
  std::string external_url;  // the web UI's base for links, "http://127.0.0.1:8080"
  int max_attempts = 8;
  std::int64_t retry_base_ms = 5'000;
  std::int64_t retry_max_ms = 3'600'000;
  int channel_concurrency = 4;  // attempts in flight per channel
  int total_concurrency = 64;   // attempts in flight in all
  std::int64_t http_timeout_ms = 10'000;
  int unhealthy_after = 3;       // consecutive failed attempts that mark a channel failing
  std::int64_t tick_ms = 1'000;  // the dispatcher's and the outbox's clock
  // How long an acknowledgement link in a message stays valid.
  std::int64_t ack_link_ttl_s = 86'400;
  SmtpRelay smtp;
  // Users for user and schedule targets, contact methods and admin notices. Unset: no user
  // exists (policies naming users are refused; nobody gets in-app notices).
  UserDirectory users;
  std::size_t inapp_keep_per_user = 1'000;  // newest in-app notifications kept per user
  // The alerts open when the notifier starts (app: the alert engine's). The dispatcher picks
  // them up again with what the delivery log says went out about them: one that went out goes
  // on repeating, escalating and gets its resolved message; one that never went out (raised
  // within group_wait before a restart) goes out now. Unset: nothing is picked up.
  std::function<std::vector<alerts::Alert>()> open_alerts;
};

// A channel as the API shows it: its settings with the secrets redacted ({"set": true}).
struct Channel {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string kind;  // "email", "webhook", "pagerduty", ... (docs/notify-channels.md)
  bool enabled = true;
  boost::json::object settings;
  // Health: "ok", "failing" (unhealthy_after failed attempts in a row) or "unknown" (never used).
  std::string health = "unknown";
  int consecutive_failures = 0;
  std::string last_error;
  std::optional<std::int64_t> last_success_at;  // Unix ms
  std::optional<std::int64_t> last_failure_at;
  std::int64_t created_at = 0;  // Unix s
  std::int64_t updated_at = 0;
};

struct ChannelInput {
  std::string name;
  std::string kind;
  bool enabled = true;
  boost::json::object settings;  // secrets included
};

struct ChannelPatch {
  std::optional<std::string> name;
  std::optional<bool> enabled;
  std::optional<boost::json::object> settings;  // merged: an omitted secret keeps its value
};

// What "send test" got back from the remote.
struct TestResult {
  bool delivered = false;
  std::optional<int> remote_status;
  std::string detail;  // the remote's answer (trimmed) or the error
  std::int64_t latency_ms = 0;
};

struct StoredPolicy {
  Policy policy;
  std::int64_t created_at = 0;  // Unix s
  std::int64_t updated_at = 0;
};

// One row of the delivery log.
struct NotificationAttempt {
  int attempt = 0;
  std::int64_t started_at = 0;  // Unix ms
  std::int64_t latency_ms = 0;
  std::string outcome;  // "delivered", "retry", "failed"
  std::optional<int> remote_status;
  std::string detail;
};

struct Notification {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t channel_id = 0;
  std::string channel_name;
  std::optional<std::int64_t> policy_id;
  std::optional<std::int64_t> recipient_user;
  std::string kind;  // "firing", "resolved", "acknowledged", "escalation", "digest", "test"
  std::string severity;
  std::string title;
  std::string status;  // "pending", "sending", "delivered", "dead", "cancelled"
  int attempts = 0;
  int sends_unsure = 0;
  std::int64_t next_attempt_at = 0;
  std::optional<int> last_status;
  std::string last_error;
  std::int64_t created_at = 0;  // Unix ms
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> delivered_at;
  std::vector<std::int64_t> alert_ids;
  std::vector<NotificationAttempt> attempt_log;  // filled by get_notification only
};

struct NotificationFilter {
  std::optional<std::int64_t> alert_id;
  std::optional<std::int64_t> channel_id;
  std::optional<std::string> status;
};

// A message in a user's in-app inbox.
struct InappNotification {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t user_id = 0;
  std::string kind;  // a message kind ("firing", ...), or "channel_failing", "nobody_on_call"
  std::string severity;
  std::string title;
  std::string text;
  std::optional<std::int64_t> alert_id;
  std::int64_t created_at = 0;  // Unix ms
  std::optional<std::int64_t> read_at;
};

// On the bus once in-app messages are committed, one per message: the live feed tells the user
// (its "notifications" topic), who then reads /api/v1/me/notifications.
struct InappAdded {
  std::int64_t org_id = 0;
  std::int64_t user_id = 0;
  std::string kind;
  std::string severity;
  std::string title;
  std::optional<std::int64_t> alert_id;
};

struct StoredSchedule {
  OncallSchedule schedule;
  std::int64_t created_at = 0;  // Unix s
  std::int64_t updated_at = 0;
};

// Who is on call now and next.
struct OncallNow {
  std::int64_t at = 0;                  // Unix ms: the notifier's clock
  std::optional<std::int64_t> user_id;  // none: nobody
  std::optional<std::int64_t> until;    // when the current shift ends (within the next 90 days)
  std::vector<OncallShift> next;        // the shifts of the next 14 days, the current one first
};

// What an acknowledgement link acknowledges, and as whom (docs/notify.md, "Acknowledgement
// links"). Its signature is the only credential: the organization is the one it was signed for.
struct AckLink {
  std::int64_t org_id = 0;
  std::vector<std::int64_t> alert_ids;  // ascending; at most 20
  // A link sent to a user acknowledges as that user; one sent to a channel (a Slack room, an
  // email list) as "<channel name> (link)", with no user.
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> channel_id;
  std::string actor_name;       // "<channel name> (link)" for a channel; "" for a user
  std::int64_t expires_at = 0;  // Unix s
};

struct NotifierStats {
  std::uint64_t alert_events = 0, dispatches = 0, enqueued = 0, delivered = 0, retried = 0,
                dead = 0, resent_after_restart = 0;
  std::uint64_t inapp_written = 0;
  // User or schedule targets that reached nobody (no such user, nobody on call, no method).
  std::uint64_t unreachable_targets = 0;
  std::size_t queued = 0, in_flight = 0, failing_channels = 0;
};

class Notifier {
 public:
  // Loads channels and policies, resumes the outbox (what was pending or being sent when the
  // process stopped goes out again), subscribes to AlertChanged and starts the tick. Reads (or,
  // at the first open, creates) the acknowledgement links' key, <data_dir>/ack_link.key (0600);
  // kConfigError when it cannot, or when group or others may read it.
  static core::Result<std::unique_ptr<Notifier>> open(const NotifierOptions& options,
                                                      const core::Env& env, db::Database& db,
                                                      core::OutboundPolicy policy);
  virtual ~Notifier() = default;

  // --- channels -----------------------------------------------------------------------------
  virtual core::Result<core::PageOf<Channel>> list_channels(core::OrgScope scope,
                                                            core::Page page) = 0;
  virtual core::Result<Channel> get_channel(core::OrgScope scope, std::int64_t id) = 0;
  // kInvalidInput naming the field (settings.url, kind...), kOutboundDenied for a URL naming a
  // refused address, kConflict for a name already taken.
  virtual void create_channel(core::OrgScope scope, ChannelInput input, Callback<Channel> done) = 0;
  virtual void update_channel(core::OrgScope scope, std::int64_t id, ChannelPatch patch,
                              Callback<Channel> done) = 0;
  virtual void delete_channel(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  // Sends a test message now (not through the outbox) and reports the remote's answer.
  virtual void test_channel(core::OrgScope scope, std::int64_t id, Callback<TestResult> done) = 0;

  // --- policies -------------------------------------------------------------------------------
  virtual core::Result<core::PageOf<StoredPolicy>> list_policies(core::OrgScope scope,
                                                                 core::Page page) = 0;
  virtual core::Result<StoredPolicy> get_policy(core::OrgScope scope, std::int64_t id) = 0;
  // Targets must name the organization's channels (and users / schedules).
  virtual void create_policy(core::OrgScope scope, Policy policy, Callback<StoredPolicy> done) = 0;
  virtual void replace_policy(core::OrgScope scope, std::int64_t id, Policy policy,
                              Callback<StoredPolicy> done) = 0;
  virtual void delete_policy(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;

  // --- the delivery log -----------------------------------------------------------------------
  virtual core::Result<core::PageOf<Notification>> list_notifications(
      core::OrgScope scope, const NotificationFilter& filter, core::Page page) = 0;
  virtual core::Result<Notification> get_notification(core::OrgScope scope, std::int64_t id) = 0;
  // A dead letter goes out again.
  virtual void retry_notification(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;

  // --- on-call schedules ------------------------------------------------------------------------
  virtual core::Result<core::PageOf<StoredSchedule>> list_schedules(core::OrgScope scope,
                                                                    core::Page page) = 0;
  virtual core::Result<StoredSchedule> get_schedule(core::OrgScope scope, std::int64_t id) = 0;
  // kInvalidInput naming the field for a user that is not the organization's
  // (rotation.users[i], overrides[i].user_id); kConflict for a name already taken.
  virtual void create_schedule(core::OrgScope scope, OncallSchedule schedule,
                               Callback<StoredSchedule> done) = 0;
  virtual void replace_schedule(core::OrgScope scope, std::int64_t id, OncallSchedule schedule,
                                Callback<StoredSchedule> done) = 0;
  // kConflict naming the policy that pages the schedule.
  virtual void delete_schedule(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  virtual core::Result<OncallNow> oncall_now(core::OrgScope scope, std::int64_t id) = 0;

  // --- users' contact methods ----------------------------------------------------------------
  // The user's contacts (defaults when never set). kUserNotFound for a user not of the org.
  virtual core::Result<UserContacts> get_contacts(core::OrgScope scope, std::int64_t user_id) = 0;
  // kInvalidInput naming the field for a channel that is not the org's or not of the method's
  // kind (sms.channel_id, telegram.channel_id).
  virtual void put_contacts(core::OrgScope scope, std::int64_t user_id, UserContacts contacts,
                            Callback<UserContacts> done) = 0;

  // --- the in-app inbox ----------------------------------------------------------------------
  // The user's in-app notifications, newest first; unread only unless `all`.
  virtual core::Result<core::PageOf<InappNotification>> list_inapp(core::OrgScope scope,
                                                                   std::int64_t user_id, bool all,
                                                                   core::Page page) = 0;
  // kNotFound for a notification that is not the user's.
  virtual void mark_inapp_read(core::OrgScope scope, std::int64_t user_id, std::int64_t id,
                               Callback<void> done) = 0;
  // How many were marked.
  virtual void mark_all_inapp_read(core::OrgScope scope, std::int64_t user_id,
                                   Callback<std::int64_t> done) = 0;

  // --- acknowledgement links -------------------------------------------------------------------
  // What `token` would acknowledge, without using it up. kTokenInvalid (forged, damaged, not
  // ours), kTokenExpired, or kConflict with details {"reason": "used"} once it has been redeemed.
  virtual core::Result<AckLink> inspect_ack(std::string_view token) = 0;
  // Uses the link up: its nonce is recorded (one INSERT; of two redeems racing, one wins) and its
  // claims returned; the same errors as inspect_ack. The caller then acknowledges the alerts.
  virtual void redeem_ack(std::string_view token, Callback<AckLink> done) = 0;

  virtual NotifierStats stats() const = 0;
  // The settings that may change while it runs (Admin → Settings): external_url, smtp,
  // unhealthy_after and ack_link_ttl_s are taken from `options`, the rest is ignored. A message
  // already being sent keeps the relay it started with.
  virtual void apply_settings(const NotifierOptions& options) = 0;
  // Stops the tick and the outbox; attempts in flight finish. Idempotent.
  virtual void close() = 0;
};

}  // namespace netpulse::notify
