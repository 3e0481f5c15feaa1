// The notifier's life: open (channels and policies loaded, the outbox resumed), the bus
// subscription, the tick that drives the dispatcher, the metrics, close.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/key_file.hpp>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify {

core::Result<std::unique_ptr<Notifier>> Notifier::open(const NotifierOptions& options,
                                                       const core::Env& env, db::Database& db,
                                                       core::OutboundPolicy policy) {
  // The same key as the SNMP credentials: one file to back up with the database.
  auto key =
      core::load_or_create_key_file(options.data_dir + "/credentials.key", core::kSecretKeyBytes);
  if (!key) return key.error();
  // Acknowledgement links have a key of their own: one leaked or rotated leaves the other.
  auto ack_key =
      core::load_or_create_key_file(options.data_dir + "/ack_link.key", detail::kAckKeyBytes);
  if (!ack_key) return ack_key.error();
  auto n = std::make_unique<detail::NotifierImpl>(options, env, db, std::move(policy),
                                                  std::move(*key), std::move(*ack_key));
  if (auto ok = n->start(); !ok) return ok.error();
  return std::unique_ptr<Notifier>(std::move(n));
}

}  // namespace netpulse::notify

namespace netpulse::notify::detail {

NotifierImpl::NotifierImpl(const NotifierOptions& options, const core::Env& env, db::Database& db,
                           core::OutboundPolicy policy, std::string key, std::string ack_key)
    : o_(options),
      clock_(env.clock),
      log_(env.log),
      bus_(env.bus),
      loop_(env.loop),
      db_(db),
      outbound_(policy),
      box_(std::move(key)),
      http_(std::make_unique<core::HttpClient>(transport_.executor(), env.clock, policy)),
      smtp_(std::make_unique<SmtpClient>(transport_.executor(), env.clock)),
      transport_smtp_(options.smtp),
      ack_key_(std::move(ack_key)),
      dispatcher_([this](const alerts::Alert& a) { return route_alert(a); }),
      tick_timer_(env.loop) {
  OutboxOptions oo;
  oo.max_attempts = o_.max_attempts;
  oo.base_delay = std::chrono::milliseconds(o_.retry_base_ms);
  oo.max_delay = std::chrono::milliseconds(o_.retry_max_ms);
  oo.per_channel_concurrency = o_.channel_concurrency;
  oo.total_concurrency = o_.total_concurrency;
  outbox_ = std::make_unique<Outbox>(
      oo, clock_, log_, db_, loop_,
      [this](const OutboxRow& row, std::function<void(DeliveryOutcome)> done) {
        send(row, std::move(done));
      },
      [this](const OutboxRow& row, const AttemptRecord& rec, bool dead) {
        note_attempt(row, rec, dead);
      });
  auto& m = env.metrics;
  m_dispatches_ = &m.counter("netpulse_notify_messages_total",
                             "Messages the dispatcher decided to send (one per policy group).");
  m_attempts_delivered_ = &m.counter("netpulse_notify_attempts_total",
                                     "Delivery attempts by outcome.", {{"outcome", "delivered"}});
  m_attempts_retry_ = &m.counter("netpulse_notify_attempts_total", "Delivery attempts by outcome.",
                                 {{"outcome", "retry"}});
  m_attempts_failed_ = &m.counter("netpulse_notify_attempts_total", "Delivery attempts by outcome.",
                                  {{"outcome", "failed"}});
  m.gauge_fn("netpulse_notify_outbox_queued", "Notifications waiting for an attempt.",
             [this] { return static_cast<double>(g_queued_.load()); });
  m.gauge_fn("netpulse_notify_outbox_in_flight", "Delivery attempts under way.",
             [this] { return static_cast<double>(g_in_flight_.load()); });
  m.gauge_fn("netpulse_notify_channels_failing",
             "Channels whose last attempts all failed (unhealthy).",
             [this] { return static_cast<double>(g_failing_.load()); });
}

NotifierImpl::~NotifierImpl() {
  close();
}

core::Result<void> NotifierImpl::start() {
  auto channels = db_.read([](db::Connection& c) { return load_channels(c); });
  if (!channels) return channels.error();
  for (auto& row : *channels) {
    auto kind = parse_channel_kind(row.view.kind);
    if (!kind) {
      log_.error("notify", "channel {} has an unknown kind '{}': ignored", row.view.id,
                 row.view.kind);
      continue;
    }
    ChannelRecord rec;
    rec.settings.kind = *kind;
    rec.settings.settings = row.view.settings;
    if (!row.sealed_secrets.empty()) {
      auto opened =
          box_.open(row.sealed_secrets, fmt::format("notify-channel:{}", row.view.org_id));
      if (!opened) {
        log_.error("notify", "channel {}: its secrets do not open ({}); it cannot send",
                   row.view.id, opened.error().message);
      } else {
        boost::system::error_code ec;
        auto v = boost::json::parse(*opened, ec);
        if (!ec && v.is_object()) {
          for (auto& [k, s] : v.get_object()) {
            if (s.is_string()) rec.settings.secrets[std::string(k)] = std::string(s.get_string());
          }
        }
      }
    }
    rec.view = std::move(row.view);
    rec.view.settings = redacted_settings(rec.settings);
    rec.view.health = rec.view.consecutive_failures >= o_.unhealthy_after ? "failing"
                      : rec.view.last_success_at                          ? "ok"
                                                                          : "unknown";
    channels_.emplace(rec.view.id, std::move(rec));
  }
  auto policies = db_.read([](db::Connection& c) { return load_policies(c); });
  if (!policies) return policies.error();
  // Schedules before policies: a policy's schedule targets name them.
  auto schedules = db_.read([](db::Connection& c) { return load_schedules(c); });
  if (!schedules) return schedules.error();
  for (auto& s : *schedules) schedules_.emplace(s.schedule.id, std::move(s));
  for (auto& p : *policies) install_policy(p);
  auto contacts = db_.read([](db::Connection& c) { return load_contacts(c); });
  if (!contacts) return contacts.error();
  for (const auto& row : *contacts) {
    boost::system::error_code ec;
    auto v = boost::json::parse(row.body, ec);
    auto c = ec ? core::Result<UserContacts>(core::invalid_field("body", "not JSON"))
                : contacts_from_json(v);
    if (!c) {
      log_.error("notify", "user {}'s contact methods do not read back ({}): defaults used",
                 row.user_id, c.error().message);
      continue;
    }
    contacts_[row.user_id] = ContactsRecord{row.org_id, std::move(*c)};
  }
  if (auto ok = outbox_->start(); !ok) return ok;
  if (auto ok = restore_dispatcher(); !ok) return ok;
  subscribe();
  arm_tick();
  update_gauges();
  return core::ok();
}

core::Result<void> NotifierImpl::restore_dispatcher() {
  if (!o_.open_alerts) return core::ok();
  const auto open = o_.open_alerts();
  if (open.empty()) return core::ok();
  std::vector<std::int64_t> ids;
  ids.reserve(open.size());
  for (const auto& a : open) ids.push_back(a.id);
  auto sent = db_.read([&](db::Connection& c) { return load_sent_before(c, ids); });
  if (!sent) return sent.error();
  const auto now = clock_.unix_millis();
  std::size_t told = 0;
  for (const auto& a : open) {
    auto it = sent->find(a.id);
    if (it != sent->end()) ++told;
    dispatcher_.restore(a, it != sent->end() ? it->second : std::vector<SentBefore>{}, now);
  }
  log_.info("notify", "picked up {} open alert(s), {} of them notified before the restart",
            open.size(), told);
  return core::ok();
}

void NotifierImpl::subscribe() {
  subs_.push_back(
      bus_.subscribe<alerts::AlertChanged>([this](const alerts::AlertChanged& e) { on_alert(e); }));
  subs_.push_back(bus_.subscribe<core::OrgDeleted>([this](const core::OrgDeleted& e) {
    std::erase_if(channels_, [&](const auto& kv) { return kv.second.view.org_id == e.org_id; });
    policies_.erase(e.org_id);
    routing_.erase(e.org_id);
    std::erase_if(schedules_,
                  [&](const auto& kv) { return kv.second.schedule.org_id == e.org_id; });
    std::erase_if(contacts_, [&](const auto& kv) { return kv.second.org_id == e.org_id; });
    dispatcher_.forget_org(e.org_id);
  }));
}

void NotifierImpl::arm_tick() {
  if (closed_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(o_.tick_ms));
  tick_timer_.async_wait(
      [this, alive = std::weak_ptr<const int>(life_)](boost::system::error_code ec) {
        if (ec || alive.expired() || closed_) return;
        run_dispatcher();
        purge_ack_uses();
        update_gauges();
        arm_tick();
      });
}

void NotifierImpl::update_gauges() {
  const auto s = outbox_->stats();
  g_queued_ = s.queued;
  g_in_flight_ = s.in_flight;
  g_failing_ = failing_channels();
}

std::size_t NotifierImpl::failing_channels() const {
  return static_cast<std::size_t>(
      std::count_if(channels_.begin(), channels_.end(),
                    [](const auto& kv) { return kv.second.view.health == "failing"; }));
}

NotifierStats NotifierImpl::stats() const {
  auto s = stats_;
  const auto o = outbox_->stats();
  s.enqueued = o.enqueued;
  s.delivered = o.delivered;
  s.retried = o.retried;
  s.dead = o.dead;
  s.resent_after_restart = o.resent_after_restart;
  s.queued = o.queued;
  s.in_flight = o.in_flight;
  s.failing_channels = failing_channels();
  return s;
}

void NotifierImpl::apply_settings(const NotifierOptions& options) {
  o_.external_url = options.external_url;
  o_.unhealthy_after = options.unhealthy_after;
  o_.ack_link_ttl_s = options.ack_link_ttl_s;
  o_.smtp = options.smtp;
  transport_.post([this, smtp = options.smtp] { transport_smtp_ = smtp; });
}

void NotifierImpl::close() {
  if (closed_) return;
  closed_ = true;
  subs_.clear();
  tick_timer_.cancel();
  // The clients die on their thread (deliveries in flight are abandoned there: sent again after
  // the restart), then it ends. The batches handed to it to render were rendered before that
  // (one thread, in order); they and the one being gathered are written before the outbox
  // closes.
  transport_.run_sync([this] {
    http_.reset();
    smtp_.reset();
  });
  transport_.stop();
  for (auto& batch : std::exchange(rendering_, {})) write_to_outbox(std::move(*batch));
  if (!rendered_.empty()) {
    render_pending(rendered_);
    write_to_outbox(std::exchange(rendered_, {}));
  }
  outbox_->close();
}

}  // namespace netpulse::notify::detail
