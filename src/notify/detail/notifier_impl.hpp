// The notifier's one class, declared once and implemented across files by concern:
//   notifier.cpp            open, the bus subscription, the tick, metrics, close
//   notifier_channels.cpp   channels: CRUD, sealed secrets, health, "send test"
//   notifier_policies.cpp   policies: CRUD, the router the dispatcher asks
//   notifier_dispatch.cpp   AlertChanged → dispatcher → messages rendered per channel → outbox
//   notifier_transport.cpp  the outbox's transport: each channel kind's delivery
//   notifier_log.cpp        the delivery log
//   notifier_ack.cpp        acknowledgement links: the URL in a message, inspect, redeem, purge
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

#include "ack_link.hpp"
#include "channels.hpp"
#include "dispatcher.hpp"
#include "message.hpp"
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

  // acknowledgement links (notifier_ack.cpp)
  core::Result<AckLink> inspect_ack(std::string_view token) override;
  void redeem_ack(std::string_view token, Callback<AckLink> done) override;

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
  void run_dispatcher();
  // Renders `d` for each target channel and adds the notifications to `batch`.
  void deliver(const Dispatch& d, std::vector<NewNotification>& batch);
  Message message_of(const Dispatch& d) const;
  void write_to_outbox(std::vector<NewNotification> batch);

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
  const std::string ack_key_;  // signs acknowledgement links (<data_dir>/ack_link.key)
  static constexpr std::int64_t kAckPurgeEveryMs = 600'000;
  std::int64_t ack_purged_at_ = 0;
  Dispatcher dispatcher_;
  std::unique_ptr<Outbox> outbox_;
  boost::asio::steady_timer tick_timer_;
  std::vector<core::EventBus::Subscription> subs_;

  std::map<std::int64_t, ChannelRecord> channels_;              // by id
  std::map<std::int64_t, std::vector<StoredPolicy>> policies_;  // by org, in routing order
  std::map<std::int64_t, std::vector<Policy>> routing_;         // the same, as route() takes them
  // Batches the outbox could not write yet, written again at the next tick.
  static constexpr std::size_t kMaxUnwrittenBatches = 10'000;
  std::deque<std::vector<NewNotification>> unwritten_;
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
