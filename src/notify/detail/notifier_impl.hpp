// The notifier's one class, declared once and implemented across files by concern:
//   notifier.cpp            open, the bus subscription, the tick, metrics, close
//   notifier_channels.cpp   channels: CRUD, sealed secrets, health, "send test"
//   notifier_policies.cpp   policies: CRUD, the router the dispatcher asks
//   notifier_dispatch.cpp   AlertChanged → dispatcher → messages rendered per channel → outbox
//   notifier_transport.cpp  the outbox's transport: each channel kind's delivery
//   notifier_log.cpp        the delivery log
//   notifier_people.cpp     users and schedules as targets: contact methods, quiet hours
//   notifier_inapp.cpp      the in-app inbox and the admins' notices
//   notifier_oncall.cpp     on-call schedules: CRUD, who is on call
//   notifier_ack.cpp        acknowledgement links: the URL in a message, inspect, redeem, purge
//   notifier_sql.cpp        the SQL of channels, policies and the log
//   notifier_people_sql.cpp the SQL of schedules, contacts and the in-app inbox
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/http_client.hpp>
#include <netpulse/core/io_thread.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/secret_box.hpp>
#include <netpulse/notify/notifier.hpp>

#include "ack_link.hpp"
#include "channels.hpp"
#include "dispatcher.hpp"
#include "message.hpp"
#include "message_template.hpp"
#include "outbox.hpp"
#include "smtp_client.hpp"

namespace netpulse::notify::detail {

// A channel as the notifier keeps it: the API's view and its settings with the secrets.
struct ChannelRecord {
  Channel view;  // settings redacted
  ChannelSettings settings;
};

// The outbox rows of a user's email name this pseudo channel: the server's SMTP relay
// ([notify.smtp]), which every email channel uses too. Channel ids from the database are
// positive, so it never names a real channel.
inline constexpr std::int64_t kRelayChannelId = 0;
inline constexpr std::string_view kRelayChannelName = "smtp relay";

// A row of a user's in-app inbox, to write.
struct NewInapp {
  std::int64_t org_id = 0;
  std::int64_t user_id = 0;
  std::string kind;
  std::string severity;
  std::string title;
  std::string text;
  std::optional<std::int64_t> alert_id;
};

// A policy's templates for a family and severity, shared with the renders under way (the
// built-in ones are never freed; a policy's live until the policies change and the last render
// using them is done).
using TemplatesPtr = std::shared_ptr<const TemplateSet>;

// A message to render and the row it becomes: an outbox row (complete but for its severity,
// title and message) or an in-app row (but for its severity, title and text).
struct PendingRender {
  Message message;  // the dispatch's, with its ack link and recipient set
  TemplatesPtr templates;
  ChannelFamily family = ChannelFamily::kChat;
  std::optional<NewNotification> outbox;
  std::optional<NewInapp> inapp;
};

// What the dispatcher's turns write, in one transaction: the outbox rows and the in-app rows,
// once the messages to render (to_render) have been rendered into them (render_pending).
struct DeliveryBatch {
  std::vector<NewNotification> outbox;
  std::vector<NewInapp> inapp;
  std::vector<PendingRender> to_render;
  bool empty() const { return outbox.empty() && inapp.empty() && to_render.empty(); }
};

// Renders `b.to_render` into outbox and in-app rows, in order (any thread: templates and
// messages are values; notifier_dispatch.cpp).
void render_pending(DeliveryBatch& b);

class NotifierImpl final : public Notifier {
 public:
  NotifierImpl(const NotifierOptions& options, const core::Env& env, db::Database& db,
               core::OutboundPolicy policy, std::string key, std::string ack_key);
  ~NotifierImpl() override;

  core::Result<void> start();

  // channels (notifier_channels.cpp)
  core::Result<core::PageOf<Channel>> list_channels(core::OrgScope scope, core::Page page) override;
  core::Result<Channel> get_channel(core::OrgScope scope, std::int64_t id) override;
  void create_channel(core::OrgScope scope, ChannelInput input, Callback<Channel> done) override;
  void update_channel(core::OrgScope scope, std::int64_t id, ChannelPatch patch,
                      Callback<Channel> done) override;
  void delete_channel(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  void test_channel(core::OrgScope scope, std::int64_t id, Callback<TestResult> done) override;

  // policies (notifier_policies.cpp)
  core::Result<core::PageOf<StoredPolicy>> list_policies(core::OrgScope scope,
                                                         core::Page page) override;
  core::Result<StoredPolicy> get_policy(core::OrgScope scope, std::int64_t id) override;
  void create_policy(core::OrgScope scope, Policy policy, Callback<StoredPolicy> done) override;
  void replace_policy(core::OrgScope scope, std::int64_t id, Policy policy,
                      Callback<StoredPolicy> done) override;
  void delete_policy(core::OrgScope scope, std::int64_t id, Callback<void> done) override;

  // the delivery log (notifier_log.cpp)
  core::Result<core::PageOf<Notification>> list_notifications(core::OrgScope scope,
                                                              const NotificationFilter& filter,
                                                              core::Page page) override;
  core::Result<Notification> get_notification(core::OrgScope scope, std::int64_t id) override;
  void retry_notification(core::OrgScope scope, std::int64_t id, Callback<void> done) override;

  // on-call schedules (notifier_oncall.cpp)
  core::Result<core::PageOf<StoredSchedule>> list_schedules(core::OrgScope scope,
                                                            core::Page page) override;
  core::Result<StoredSchedule> get_schedule(core::OrgScope scope, std::int64_t id) override;
  void create_schedule(core::OrgScope scope, OncallSchedule schedule,
                       Callback<StoredSchedule> done) override;
  void replace_schedule(core::OrgScope scope, std::int64_t id, OncallSchedule schedule,
                        Callback<StoredSchedule> done) override;
  void delete_schedule(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  core::Result<OncallNow> oncall_now(core::OrgScope scope, std::int64_t id) override;

  // contact methods (notifier_people.cpp)
  core::Result<UserContacts> get_contacts(core::OrgScope scope, std::int64_t user_id) override;
  void put_contacts(core::OrgScope scope, std::int64_t user_id, UserContacts contacts,
                    Callback<UserContacts> done) override;

  // the in-app inbox (notifier_inapp.cpp)
  core::Result<core::PageOf<InappNotification>> list_inapp(core::OrgScope scope,
                                                           std::int64_t user_id, bool all,
                                                           core::Page page) override;
  void mark_inapp_read(core::OrgScope scope, std::int64_t user_id, std::int64_t id,
                       Callback<void> done) override;
  void mark_all_inapp_read(core::OrgScope scope, std::int64_t user_id,
                           Callback<std::int64_t> done) override;

  // acknowledgement links (notifier_ack.cpp)
  core::Result<AckLink> inspect_ack(std::string_view token) override;
  void redeem_ack(std::string_view token, Callback<AckLink> done) override;

  NotifierStats stats() const override;
  void apply_settings(const NotifierOptions& options) override;
  void close() override;

 private:
  // notifier.cpp
  // The open alerts (NotifierOptions::open_alerts) back into the dispatcher, with what the
  // delivery log says went out about them.
  core::Result<void> restore_dispatcher();
  void subscribe();
  void arm_tick();
  void update_gauges();
  std::size_t failing_channels() const;

  // notifier_channels.cpp
  core::Result<void> check_deliverable(ChannelKind kind) const;
  void note_attempt(const OutboxRow& row, const AttemptRecord& rec, bool dead);
  // A channel's health after an attempt: ok, or failing after unhealthy_after failures in a row
  // (logged, and the admins told through note_channel_health).
  void note_health(Channel& ch, const AttemptRecord& rec);

  // notifier_policies.cpp
  core::Result<void> check_targets(core::OrgScope scope, const Policy& p) const;
  void install_policy(const StoredPolicy& p);
  void rebuild_routing(std::int64_t org_id);
  std::vector<Policy> route_alert(const alerts::Alert& a) const;

  // notifier_dispatch.cpp
  void on_alert(const alerts::AlertChanged& e);
  // What is due is planned (deliver), rendered on the transport and written to the outbox.
  void run_dispatcher();
  void post_run();
  // Adds `d`'s message for each target channel to `batch` (to render); user and schedule
  // targets go to deliver_to_people.
  void deliver(const Dispatch& d, DeliveryBatch& batch);
  Message message_of(const Dispatch& d) const;
  // The templates `d`'s policy gives a channel family for a message of `severity`, over the
  // built-in ones (policy_template_set); the built-in ones when the policy is gone.
  TemplatesPtr templates_for(const Dispatch& d, ChannelFamily family,
                             std::string_view severity) const;
  // Renders the batch's messages on the transport thread, then writes it (write_to_outbox) on
  // the loop, batches in the order they came.
  void render_then_write(DeliveryBatch batch);
  void write_to_outbox(DeliveryBatch batch);

  // notifier_people.cpp
  std::optional<DirectoryUser> find_user(std::int64_t org_id, std::int64_t user_id) const;
  // Policy targets naming users and schedules: the org's, existing (field: "targets[0]").
  core::Result<void> check_person_target(core::OrgScope scope, const PolicyTarget& t,
                                         const std::string& field) const;
  // A user or schedule target of `d`: one outbox row per contact method of the user it names
  // (the schedule's: whoever is on call now), and the in-app row.
  void deliver_to_people(const Dispatch& d, const PolicyTarget& t, const Message& base,
                         const std::vector<std::int64_t>& alert_ids, DeliveryBatch& batch);
  // The user a schedule target pages for `d`: the one on call now, or for a resolution or an
  // acknowledgement the one its firing message paged.
  std::optional<std::int64_t> schedule_recipient(const Dispatch& d, std::int64_t schedule_id);
  void deliver_to_user(const Dispatch& d, const DirectoryUser& user, const Message& base,
                       const std::vector<std::int64_t>& alert_ids, DeliveryBatch& batch);
  core::Result<void> check_contacts(core::OrgScope scope, const UserContacts& c) const;
  // The channel record a row is sent through (a copy): the channel, or for the relay a
  // synthetic email channel.
  std::optional<ChannelRecord> channel_for(const OutboxRow& row) const;

  // notifier_inapp.cpp
  // Every enabled admin of the org gets the notice (in_app rows written now).
  void notify_admins(std::int64_t org_id, std::string kind, std::string severity, std::string title,
                     std::string text);
  void write_inapp(std::vector<NewInapp> rows);
  // In-app rows committed: counted, and each published as InappAdded.
  void inapp_committed(const std::vector<NewInapp>& rows);
  // The in_app channel's users: those listed, those of the roles listed, or every user.
  std::vector<DirectoryUser> inapp_channel_users(const ChannelRecord& channel) const;
  // A channel turning failing tells the org's admins (once per failure: not again until it has
  // delivered).
  void note_channel_health(const Channel& ch, const std::string& before);

  // notifier_ack.cpp
  // The acknowledgement link of `d`'s message for one recipient (a user, or else a channel:
  // pass 0 for the other), or "" when the message offers none: only firing, escalation and
  // digest messages carry one, for the alerts still open and unacknowledged (at most 20).
  std::string ack_url_for(const Dispatch& d, std::int64_t user_id, std::int64_t channel_id) const;
  // The link's claims made into what the face returns (the channel's name looked up).
  AckLink ack_link_of(const AckClaims& claims) const;
  // Forgets used links past their expiry (at most once every kAckPurgeEveryMs, from the tick).
  void purge_ack_uses();

  // notifier_transport.cpp
  // On the loop; `done` is called on the loop (never inline).
  void send(const OutboxRow& row, std::function<void(DeliveryOutcome)> done);
  // One attempt of `message` through `channel` ("send test"), like send().
  void deliver_now(const ChannelRecord& channel, Message message,
                   std::function<void(DeliveryOutcome)> done);
  // On the transport thread, `done` too: one attempt through the channel's kind.
  void transmit(const ChannelRecord& channel, Message message,
                std::function<void(DeliveryOutcome)> done);
  void send_http(const ChannelRecord& channel, Message message,
                 std::function<void(DeliveryOutcome)> done);
  void send_email(const ChannelRecord& channel, Message message,
                  std::function<void(DeliveryOutcome)> done);
  struct HttpRun;
  void send_next(std::shared_ptr<HttpRun> run);
  // A transport callback that runs `f` with its result on the loop, unless the notifier is gone
  // by then; the loop has outstanding work until it has run (io_context::run() does not return
  // with a delivery in flight).
  template <class F>
  auto on_loop(F f) {
    return [loop = boost::asio::prefer(loop_, boost::asio::execution::outstanding_work.tracked),
            alive = std::weak_ptr<const int>(life_), f = std::move(f)](auto result) mutable {
      auto tracked = loop;
      boost::asio::post(loop, [alive = std::move(alive), f = std::move(f),
                               result = std::move(result), tracked = std::move(tracked)]() mutable {
        if (!alive.expired()) f(std::move(result));
      });
    };
  }

  NotifierOptions o_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::EventBus& bus_;
  boost::asio::any_io_executor loop_;
  db::Database& db_;
  core::OutboundPolicy outbound_;
  core::SecretBox box_;
  // Deliveries go out on a thread of their own (the transport): a storm's connections, writes
  // and reads do not take turns on the loop ahead of the API. The clients live there; what they
  // answer comes back to the loop (on_loop).
  core::IoThread transport_{"np-notify-io", 10};
  std::unique_ptr<core::HttpClient> http_;
  std::unique_ptr<SmtpClient> smtp_;
  // o_.smtp as the transport thread sees it: apply_settings changes o_ on the loop and posts the
  // relay here, so neither thread reads what the other writes.
  SmtpRelay transport_smtp_;
  const std::string ack_key_;  // signs acknowledgement links (<data_dir>/ack_link.key)
  static constexpr std::int64_t kAckPurgeEveryMs = 600'000;
  std::int64_t ack_purged_at_ = 0;
  Dispatcher dispatcher_;
  std::unique_ptr<Outbox> outbox_;
  boost::asio::steady_timer tick_timer_;
  std::vector<core::EventBus::Subscription> subs_;

  std::map<std::int64_t, ChannelRecord> channels_;              // by id
  std::map<std::int64_t, std::vector<StoredPolicy>> policies_;  // by org, in routing order
  // The same, as route() takes them, without their templates: the router copies a policy for
  // every alert it routes; the templates are read from policies_ when a message is rendered.
  std::map<std::int64_t, std::vector<Policy>> routing_;
  // Policies' own templates, parsed: by "policy|family|severity"; cleared when policies change.
  mutable std::map<std::string, TemplatesPtr> template_cache_;
  std::map<std::int64_t, StoredSchedule> schedules_;  // by id
  struct ContactsRecord {
    std::int64_t org_id = 0;
    UserContacts contacts;
  };
  std::map<std::int64_t, ContactsRecord> contacts_;  // by user id; absent: the defaults
  // The user a schedule target's firing message paged, by "<group key>/<schedule id>", so its
  // resolution goes to the same person after a handover. Bounded: cleared when full.
  static constexpr std::size_t kMaxOncallTold = 10'000;
  std::map<std::string, std::int64_t> oncall_told_;
  // The SMTP relay's health as users' email sees it, by organization (it has no channel row).
  std::map<std::int64_t, Channel> relay_health_;
  // The users the dispatch being delivered has paged (deliver_to_people): each once.
  std::set<std::int64_t> paged_in_dispatch_;
  // Batches the outbox could not write yet, written again at the next tick.
  static constexpr std::size_t kMaxUnwrittenBatches = 10'000;
  std::deque<DeliveryBatch> unwritten_;
  // Dispatches due but not planned yet (a storm's), and whether a run is posted; those
  // planned but not handed to the transport to render yet (at most kRenderSlice dispatches).
  static constexpr std::size_t kRenderSlice = 64;
  static constexpr std::chrono::microseconds kRenderBudget{20};  // of planning per turn
  std::deque<Dispatch> to_render_;
  DeliveryBatch rendered_;
  std::size_t rendered_count_ = 0;
  // Batches handed to the transport to render, oldest first, until they are written.
  std::deque<std::shared_ptr<DeliveryBatch>> rendering_;
  bool run_posted_ = false;
  bool closed_ = false;
  NotifierStats stats_;
  std::shared_ptr<const int> life_ = std::make_shared<const int>(0);

  core::Counter* m_dispatches_ = nullptr;
  core::Counter* m_attempts_delivered_ = nullptr;
  core::Counter* m_attempts_retry_ = nullptr;
  core::Counter* m_attempts_failed_ = nullptr;
  std::atomic<std::size_t> g_queued_{0}, g_in_flight_{0}, g_failing_{0};
};

// The outbox row of `d`'s message for one channel, all but what rendering fills in
// (notifier_dispatch.cpp).
NewNotification outbox_row(const Dispatch& d, std::int64_t channel_id,
                           std::string_view channel_name,
                           const std::vector<std::int64_t>& alert_ids);
// `channel` addressed to `recipient` (a user's address, phone or chat id) instead of its own
// recipients; unchanged for "" (notifier_people.cpp).
void address_to(ChannelRecord& channel, const std::string& recipient);
// The in-app row of a dispatch for one user, to render as a chat message with the policy's
// chat templates (notifier_people.cpp).
PendingRender inapp_row(const Dispatch& d, std::int64_t user_id, const Message& base,
                        TemplatesPtr chat_templates, const std::vector<std::int64_t>& alert_ids);

// One page of an organization's items, in their order: `at(i)` gives the i-th of `count`.
template <class T, class At>
core::PageOf<T> page_of(std::size_t count, core::Page page, At&& at) {
  core::PageOf<T> out;
  out.total = static_cast<std::int64_t>(count);
  const auto from = static_cast<std::size_t>(std::max(0, page.page - 1) * page.per_page);
  for (std::size_t i = from; i < count && i < from + static_cast<std::size_t>(page.per_page); ++i) {
    out.items.push_back(at(i));
  }
  return out;
}

// SQL (notifier_sql.cpp). Secrets are sealed by the caller; `secrets` is the sealed blob or "".
struct ChannelRow {
  Channel view;  // settings: the public part as stored
  std::string sealed_secrets;
};
// Runs a write on a table whose names are UNIQUE per organization: a clash is kConflict naming
// the field ("a schedule named 'x' exists already").
core::Result<void> run_named(db::Statement& st, std::string_view what, const std::string& name);
core::Result<std::vector<ChannelRow>> load_channels(db::Connection& c);
// What the delivery log says went out about each of `alert_ids` (firing and escalation
// messages), by alert id and then policy, for the dispatcher's restore.
core::Result<std::map<std::int64_t, std::vector<SentBefore>>> load_sent_before(
    db::Connection& c, const std::vector<std::int64_t>& alert_ids);
core::Result<std::int64_t> insert_channel(db::Connection& c, const ChannelRow& row);
core::Result<void> update_channel_row(db::Connection& c, const ChannelRow& row);
core::Result<void> delete_channel_row(db::Connection& c, std::int64_t org_id, std::int64_t id);
core::Result<void> save_channel_health(db::Connection& c, const Channel& ch);
core::Result<std::vector<StoredPolicy>> load_policies(db::Connection& c);
core::Result<std::int64_t> insert_policy(db::Connection& c, const StoredPolicy& p);
core::Result<void> update_policy_row(db::Connection& c, const StoredPolicy& p);
core::Result<void> delete_policy_row(db::Connection& c, std::int64_t org_id, std::int64_t id);
core::Result<core::PageOf<Notification>> query_notifications(db::Connection& c, std::int64_t org_id,
                                                             const NotificationFilter& filter,
                                                             core::Page page);
core::Result<Notification> query_notification(db::Connection& c, std::int64_t org_id,
                                              std::int64_t id);

// SQL of schedules, contacts and the inbox (notifier_people_sql.cpp).
core::Result<std::vector<StoredSchedule>> load_schedules(db::Connection& c);
core::Result<std::int64_t> insert_schedule(db::Connection& c, const StoredSchedule& s);
core::Result<void> update_schedule_row(db::Connection& c, const StoredSchedule& s);
core::Result<void> delete_schedule_row(db::Connection& c, std::int64_t org_id, std::int64_t id);
// A user_contacts row; one whose body no longer reads is logged by the caller and skipped.
struct ContactsRow {
  std::int64_t user_id = 0;
  std::int64_t org_id = 0;
  std::string body;
};
core::Result<std::vector<ContactsRow>> load_contacts(db::Connection& c);
core::Result<void> save_contacts(db::Connection& c, std::int64_t org_id, std::int64_t user_id,
                                 const std::string& body, std::int64_t now_s);
// Inserts the rows, then keeps the newest `keep` of each user they touch.
core::Result<void> insert_inapp(db::Connection& c, const std::vector<NewInapp>& rows,
                                std::int64_t now_ms, std::size_t keep);
core::Result<core::PageOf<InappNotification>> query_inapp(db::Connection& c, std::int64_t org_id,
                                                          std::int64_t user_id, bool all,
                                                          core::Page page);
// How many rows were marked (0: none of the user's, or already read).
core::Result<std::int64_t> mark_inapp(db::Connection& c, std::int64_t org_id, std::int64_t user_id,
                                      std::optional<std::int64_t> id, std::int64_t now_ms);

}  // namespace netpulse::notify::detail
