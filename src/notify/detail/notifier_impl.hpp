// The notifier's one class, declared once and implemented across files by concern:
//   notifier.cpp            open, the bus subscription, the tick, metrics, close
//   notifier_channels.cpp   channels: CRUD, sealed secrets, health, "send test"
//   notifier_policies.cpp   policies: CRUD, the router the dispatcher asks
//   notifier_dispatch.cpp   AlertChanged → dispatcher → messages rendered per channel → outbox
//   notifier_transport.cpp  the outbox's transport: each channel kind's delivery
//   notifier_log.cpp        the delivery log
//   notifier_sql.cpp        the SQL of channels, policies and the log
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/http_client.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/secret_box.hpp>
#include <netpulse/notify/notifier.hpp>

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

class NotifierImpl final : public Notifier {
 public:
  NotifierImpl(const NotifierOptions& options, const core::Env& env, db::Database& db,
               core::OutboundPolicy policy, std::string key);
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

  NotifierStats stats() const override;
  void close() override;

 private:
  // notifier.cpp
  void subscribe();
  void arm_tick();
  void update_gauges();
  std::size_t failing_channels() const;

  // notifier_channels.cpp
  core::Result<void> check_deliverable(ChannelKind kind) const;
  void note_attempt(const OutboxRow& row, const AttemptRecord& rec, bool dead);

  // notifier_policies.cpp
  core::Result<void> check_targets(core::OrgScope scope, const Policy& p) const;
  void install_policy(const StoredPolicy& p);
  void rebuild_routing(std::int64_t org_id);
  std::vector<Policy> route_alert(const alerts::Alert& a) const;

  // notifier_dispatch.cpp
  void on_alert(const alerts::AlertChanged& e);
  // What is due goes to the outbox, kRenderSlice dispatches per turn of the loop.
  void run_dispatcher();
  void post_run();
  // Renders `d` for each target channel and adds the notifications to `batch`.
  void deliver(const Dispatch& d, std::vector<NewNotification>& batch);
  Message message_of(const Dispatch& d) const;
  // The templates `d`'s policy gives a channel family for a message of `severity`, over the
  // built-in ones (policy_template_set); the built-in ones when the policy is gone.
  const TemplateSet& templates_for(const Dispatch& d, ChannelFamily family,
                                   std::string_view severity) const;
  void write_to_outbox(std::vector<NewNotification> batch);

  // notifier_transport.cpp
  void send(const OutboxRow& row, std::function<void(DeliveryOutcome)> done);
  // One attempt through the channel's kind (the outbox's and "send test"'s).
  void deliver_now(const ChannelRecord& channel, Message message,
                   std::function<void(DeliveryOutcome)> done);
  void send_http(const ChannelRecord& channel, Message message,
                 std::function<void(DeliveryOutcome)> done);
  void send_email(const ChannelRecord& channel, Message message,
                  std::function<void(DeliveryOutcome)> done);
  struct HttpRun;
  void send_next(std::shared_ptr<HttpRun> run);

  NotifierOptions o_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::EventBus& bus_;
  boost::asio::any_io_executor loop_;
  db::Database& db_;
  core::OutboundPolicy outbound_;
  core::SecretBox box_;
  core::HttpClient http_;
  SmtpClient smtp_;
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
  mutable std::map<std::string, TemplateSet> template_cache_;
  // Batches the outbox could not write yet, written again at the next tick.
  static constexpr std::size_t kMaxUnwrittenBatches = 10'000;
  std::deque<std::vector<NewNotification>> unwritten_;
  // Dispatches due but not rendered yet (a storm's), and whether a run is posted.
  static constexpr std::size_t kRenderSlice = 256;
  std::deque<Dispatch> to_render_;
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

// SQL (notifier_sql.cpp). Secrets are sealed by the caller; `secrets` is the sealed blob or "".
struct ChannelRow {
  Channel view;  // settings: the public part as stored
  std::string sealed_secrets;
};
core::Result<std::vector<ChannelRow>> load_channels(db::Connection& c);
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

}  // namespace netpulse::notify::detail
