// The live feed's clients: attach and detach, the protocol's messages (auth, subscribe,
// unsubscribe, resume, ping), and the periodic check of tokens and slow clients.
#include "detail/live_hub.hpp"

#include <boost/json/array.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>
#include <netpulse/core/random.hpp>

namespace netpulse::api::detail {

namespace {

constexpr std::string_view kTopicNames[kTopicCount] = {"alerts",     "incidents", "devices",
                                                       "interfaces", "checks",    "series",
                                                       "dashboards", "events",    "notifications"};

std::optional<Topic> parse_topic(std::string_view name) {
  for (std::size_t i = 0; i < kTopicCount; ++i) {
    if (kTopicNames[i] == name) return static_cast<Topic>(i);
  }
  return std::nullopt;
}

auth::Permission permission_for(Topic t) {
  switch (t) {
    case Topic::kAlerts:
    case Topic::kIncidents:
      return auth::Permission::kAlertsRead;
    case Topic::kSeries:
      return auth::Permission::kMetricsRead;
    case Topic::kDashboards:
      return auth::Permission::kDashboardsRead;
    case Topic::kNotifications:
      return auth::Permission::kSelf;
    default:
      return auth::Permission::kDevicesRead;
  }
}

boost::json::object error_message(std::string_view code, std::string message,
                                  std::string_view field = {}) {
  boost::json::object o{{"type", "error"}, {"code", code}, {"message", std::move(message)}};
  if (!field.empty()) o["field"] = field;
  return o;
}

}  // namespace

LiveHub::LiveHub(const LiveOptions& options, boost::asio::any_io_executor loop, core::EventBus& bus,
                 auth::AuthService& auth, const core::Clock& clock, core::MetricsRegistry& metrics,
                 tsdb::Store* store)
    : options_(options),
      loop_(std::move(loop)),
      bus_(bus),
      auth_(auth),
      clock_(clock),
      store_(store),
      epoch_(core::random_hex(8)),
      check_timer_(loop_),
      clients_gauge_(metrics.gauge("netpulse_live_clients", "Clients of the live feed.")),
      sent_counter_(metrics.counter("netpulse_live_messages_sent_total",
                                    "Messages queued to live feed clients.")),
      coalesced_counter_(
          metrics.counter("netpulse_live_messages_coalesced_total",
                          "Series updates replaced by a newer one before a slow client got them.")),
      slow_counter_(metrics.counter("netpulse_live_disconnected_slow_total",
                                    "Live feed clients disconnected for staying behind.")) {
  subscribe_bus();
  arm_check();
}

LiveHub::~LiveHub() {
  check_timer_.cancel();
}

LiveStats LiveHub::stats() const {
  auto s = stats_;
  s.clients = clients_.size();
  s.sequence = seq_;
  return s;
}

void LiveHub::close_all() {
  check_timer_.cancel();
  auto clients = std::move(clients_);
  clients_.clear();
  for (auto& [id, c] : clients) {
    if (auto t = c.transport.lock()) t->close(kCloseGoingAway, "the server is shutting down");
  }
  series_followers_ = 0;
  clients_gauge_.set(0);
}

std::optional<std::uint64_t> LiveHub::attach(std::weak_ptr<LiveTransport> transport) {
  if (clients_.size() >= options_.max_clients) return std::nullopt;
  const auto id = ++next_id_;
  Client c;
  c.transport = std::move(transport);
  c.connected_at = clock_.steady_now();
  clients_.emplace(id, std::move(c));
  clients_gauge_.set(static_cast<double>(clients_.size()));
  return id;
}

void LiveHub::detach(std::uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  // Only a client that followed series is in the followers cache.
  if (!it->second.selectors.empty()) {
    --series_followers_;
    followers_.clear();
  }
  clients_.erase(it);
  clients_gauge_.set(static_cast<double>(clients_.size()));
}

void LiveHub::drop(std::uint64_t id, Client& c, std::uint16_t code, std::string reason) {
  if (auto t = c.transport.lock()) t->close(code, std::move(reason));
  detach(id);
}

void LiveHub::reply(Client& c, boost::json::object msg) {
  if (auto t = c.transport.lock()) {
    t->send(std::make_shared<const std::string>(core::to_json_text(msg)));
  }
}

void LiveHub::on_message(std::uint64_t id, std::string_view text) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& c = it->second;
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 8;
  auto v = core::parse_json(text, ec, opts);
  const auto* msg = !ec && v.is_object() ? &v.as_object() : nullptr;
  const auto* type = msg && msg->contains("type") && msg->at("type").is_string()
                         ? &msg->at("type").get_string()
                         : nullptr;
  if (!type) {
    // A client that speaks something else is not one of ours.
    return drop(id, c, kCloseBadMessage,
                ec ? "not JSON: " + ec.message() : "a message is a JSON object with a \"type\"");
  }
  if (*type == "auth") return authenticate(id, c, *msg);
  if (!c.principal) {
    return drop(id, c, kCloseUnauthenticated,
                "authenticate first: {\"type\":\"auth\",\"token\":\"<access token>\"}");
  }
  if (*type == "subscribe") return subscribe(c, *msg, true);
  if (*type == "unsubscribe") return subscribe(c, *msg, false);
  if (*type == "resume") return resume(c, *msg);
  if (*type == "ping") return reply(c, {{"type", "pong"}});
  reply(c, error_message("INVALID_INPUT",
                         fmt::format("unknown message type \"{}\" (auth, subscribe, unsubscribe, "
                                     "resume, ping)",
                                     std::string_view(*type).substr(0, 64)),
                         "type"));
}

void LiveHub::authenticate(std::uint64_t id, Client& c, const boost::json::object& msg) {
  const auto* token = msg.if_contains("token");
  if (!token || !token->is_string() || token->get_string().empty() ||
      token->get_string().size() > 4096) {
    return drop(id, c, kCloseUnauthenticated, "auth needs \"token\": an access token");
  }
  auto principal = auth_.authenticate(std::string_view(token->get_string()));
  if (!principal) return drop(id, c, kCloseUnauthenticated, principal.error().message);
  // A refreshed token must be the same caller's: a connection never changes hands.
  if (c.principal && (c.principal->user_id != principal->user_id ||
                      c.principal->api_key_id != principal->api_key_id ||
                      c.principal->org_id != principal->org_id)) {
    return drop(id, c, kCloseForbidden, "a new token must be the same user's");
  }
  const bool first = !c.principal;
  c.principal = std::move(principal).value();
  c.token = std::string(token->get_string());
  if (!first) return reply(c, {{"type", "reauthenticated"}});
  reply(c, {{"type", "ready"},
            {"epoch", epoch_},
            {"seq", seq_},
            {"org_id", c.principal->org_id},
            {"user_id", c.principal->user_id},
            {"topics", boost::json::array(std::begin(kTopicNames), std::end(kTopicNames))}});
}

void LiveHub::subscribe(Client& c, const boost::json::object& msg, bool add) {
  const bool had_series = !c.selectors.empty();
  std::vector<Topic> topics;
  if (const auto* t = msg.if_contains("topics")) {
    if (!t->is_array() || t->get_array().size() > kTopicCount * 2) {
      return reply(
          c, error_message("INVALID_INPUT", "topics must be an array of topic names", "topics"));
    }
    for (const auto& name : t->get_array()) {
      auto topic = name.is_string() ? parse_topic(name.get_string()) : std::nullopt;
      if (!topic) {
        return reply(c, error_message("INVALID_INPUT",
                                      "unknown topic: alerts, incidents, devices, interfaces, "
                                      "checks, series, dashboards, events or notifications",
                                      "topics"));
      }
      if (add && !c.principal->can(permission_for(*topic))) {
        return reply(c, error_message("INSUFFICIENT_PERMISSIONS",
                                      fmt::format("your role lacks {} for the topic {}",
                                                  auth::permission_name(permission_for(*topic)),
                                                  kTopicNames[static_cast<int>(*topic)]),
                                      "topics"));
      }
      topics.push_back(*topic);
    }
  }
  std::unordered_set<std::int64_t> devices;
  if (const auto* d = msg.if_contains("device_ids"); d && add) {
    if (!d->is_array() || d->get_array().size() > 10'000) {
      return reply(
          c, error_message("INVALID_INPUT", "device_ids must be an array of at most 10000 ids",
                           "device_ids"));
    }
    for (const auto& v : d->get_array()) {
      if (!v.is_int64() || v.get_int64() <= 0) {
        return reply(c, error_message("INVALID_INPUT", "device_ids must be positive integers",
                                      "device_ids"));
      }
      devices.insert(v.get_int64());
    }
  }
  std::vector<tsdb::Selector> selectors;
  if (const auto* s = msg.if_contains("series"); s && add) {
    if (!store_) {
      return reply(c, error_message("INVALID_INPUT", "this server has no series", "series"));
    }
    if (!c.principal->can(auth::Permission::kMetricsRead)) {
      return reply(c, error_message("INSUFFICIENT_PERMISSIONS",
                                    "your role lacks metrics:read for series", "series"));
    }
    if (!s->is_array() || c.selectors.size() + s->get_array().size() > 100) {
      return reply(
          c, error_message("INVALID_INPUT",
                           "series must be an array of selectors, at most 100 in all", "series"));
    }
    for (const auto& text : s->get_array()) {
      auto sel = text.is_string() ? tsdb::Selector::parse(text.get_string())
                                  : core::Result<tsdb::Selector>(core::Error(
                                        core::Errc::kInvalidInput, "a selector is a string"));
      if (!sel) return reply(c, error_message("INVALID_INPUT", sel.error().message, "series"));
      selectors.push_back(std::move(sel).value());
    }
  }
  // Everything checked: apply.
  for (auto t : topics) c.topics[static_cast<int>(t)] = add;
  if (add) {
    if (!devices.empty()) c.device_filter = std::move(devices);
    for (auto& sel : selectors) c.selectors.push_back(std::move(sel));
    if (!selectors.empty()) c.topics[static_cast<int>(Topic::kSeries)] = true;
  } else if (!c.topics[static_cast<int>(Topic::kSeries)]) {
    c.selectors.clear();
    c.waiting.clear();
  }
  if (msg.contains("device_ids") && !add) c.device_filter.clear();
  if (had_series && c.selectors.empty()) --series_followers_;
  if (!had_series && !c.selectors.empty()) ++series_followers_;
  // The followers cache depends on the selectors only.
  if (!selectors.empty() || had_series != !c.selectors.empty()) followers_.clear();
  boost::json::array now;
  for (std::size_t i = 0; i < kTopicCount; ++i) {
    if (c.topics[i]) now.emplace_back(kTopicNames[i]);
  }
  reply(c, {{"type", "subscribed"},
            {"topics", std::move(now)},
            {"series", c.selectors.size()},
            {"device_ids", c.device_filter.size()}});
}

void LiveHub::resume(Client& c, const boost::json::object& msg) {
  const auto* epoch = msg.if_contains("epoch");
  const auto* seq = msg.if_contains("seq");
  if (!epoch || !epoch->is_string() || !seq || !seq->is_number()) {
    return reply(c, error_message("INVALID_INPUT",
                                  "resume needs \"epoch\" (from ready) and \"seq\" (the last "
                                  "message's)",
                                  "seq"));
  }
  boost::system::error_code ec;
  const auto last = seq->to_number<std::uint64_t>(ec);
  if (ec) return reply(c, error_message("INVALID_INPUT", "seq must be a whole number", "seq"));
  if (epoch->get_string() != epoch_) {
    return reply(c, {{"type", "reload"}, {"reason", "the server restarted: reload everything"}});
  }
  if (last > seq_) {
    return reply(c, {{"type", "reload"}, {"reason", "seq is ahead of the server"}});
  }
  if (last < ring_floor_) {
    return reply(c, {{"type", "reload"},
                     {"reason", "more was missed than the feed keeps: reload everything"}});
  }
  std::size_t count = 0;
  for (const auto& k : ring_) {
    if (k.seq <= last || !follows(c, k.topic, k.org_id, k.device_id, k.user_id)) continue;
    if (auto t = c.transport.lock()) t->send(k.text);
    ++count;
  }
  reply(c, {{"type", "resumed"}, {"from", last}, {"to", seq_}, {"count", count}});
}

void LiveHub::arm_check() {
  check_timer_.expires_after(options_.check_interval);
  check_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    check();
    arm_check();
  });
}

void LiveHub::check() {
  const auto now = clock_.steady_now();
  std::vector<std::pair<std::uint64_t, std::pair<std::uint16_t, std::string>>> to_drop;
  for (auto& [id, c] : clients_) {
    if (!c.principal) {
      if (now - c.connected_at >= options_.auth_timeout) {
        to_drop.push_back({id, {kCloseUnauthenticated, "no auth message in time"}});
      }
      continue;
    }
    // The token expired, was revoked (sign-out, password change) or its user disabled.
    if (auto p = auth_.authenticate(c.token); !p) {
      to_drop.push_back({id, {kCloseUnauthenticated, "session ended: " + p.error().message}});
      continue;
    }
    if (c.behind_since && now - *c.behind_since >= options_.max_behind) {
      to_drop.push_back({id, {kCloseTooSlow, "too slow: stayed behind; reconnect and resume"}});
    }
  }
  for (auto& [id, why] : to_drop) {
    auto it = clients_.find(id);
    if (it == clients_.end()) continue;
    if (why.first == kCloseTooSlow) count_slow();
    drop(id, it->second, why.first, std::move(why.second));
  }
}

}  // namespace netpulse::api::detail

namespace netpulse::api {

std::unique_ptr<LiveFeed> LiveFeed::create(const LiveOptions& options,
                                           boost::asio::any_io_executor loop, core::EventBus& bus,
                                           auth::AuthService& auth, const core::Clock& clock,
                                           core::MetricsRegistry& metrics, tsdb::Store* store) {
  return std::make_unique<detail::LiveHub>(options, std::move(loop), bus, auth, clock, metrics,
                                           store);
}

}  // namespace netpulse::api
