// The live feed's fan-out: bus events become one serialized message each, shared by every
// client that follows it (the Beast chat example's shared_ptr<const std::string>), kept in the
// resume ring; samples of followed series go out as they arrive, the newest per series winning
// for a client that is behind.
#include <fmt/format.h>

#include <netpulse/alerts/types.hpp>
#include <netpulse/core/json.hpp>
#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/devices/types.hpp>
#include <netpulse/notify/notifier.hpp>

#include "detail/alert_json.hpp"
#include "detail/device_json.hpp"
#include "detail/live_hub.hpp"

namespace netpulse::api::detail {

void LiveHub::subscribe_bus() {
  subscriptions_.push_back(bus_.subscribe<alerts::AlertChanged>([this](const auto& e) {
    auto data = alert_json(e.alert);
    data["transition"] = e.transition;
    publish(Topic::kAlerts, "alert", e.org_id, e.alert.device_id.value_or(0), std::move(data));
  }));
  subscriptions_.push_back(bus_.subscribe<alerts::IncidentChanged>([this](const auto& e) {
    publish(Topic::kIncidents, "incident", e.org_id, e.incident.root_device_id.value_or(0),
            incident_json(e.incident));
  }));
  subscriptions_.push_back(bus_.subscribe<devices::DeviceStatusChanged>([this](const auto& e) {
    publish(Topic::kDevices, "device_status", e.org_id, e.device_id,
            boost::json::object{{"device_id", e.device_id},
                                {"from", devices::device_status_name(e.from)},
                                {"to", devices::device_status_name(e.to)},
                                {"at", core::format_rfc3339_seconds(e.at)}});
  }));
  subscriptions_.push_back(bus_.subscribe<devices::DeviceChanged>([this](const auto& e) {
    using Kind = devices::DeviceChanged::Kind;
    publish(Topic::kDevices, "device_changed", e.org_id, e.device_id,
            boost::json::object{{"device_id", e.device_id},
                                {"change", e.kind == Kind::kCreated   ? "created"
                                           : e.kind == Kind::kDeleted ? "deleted"
                                                                      : "updated"}});
  }));
  subscriptions_.push_back(bus_.subscribe<devices::InterfaceStatusChanged>([this](const auto& e) {
    publish(Topic::kInterfaces, "interface_status", e.org_id, e.device_id,
            boost::json::object{{"device_id", e.device_id},
                                {"if_index", e.if_index},
                                {"name", e.name},
                                {"from", e.from},
                                {"to", e.to},
                                {"admin", e.admin},
                                {"at", core::format_rfc3339_seconds(e.at)}});
  }));
  subscriptions_.push_back(bus_.subscribe<devices::ServiceCheckChanged>([this](const auto& e) {
    publish(Topic::kChecks, "check", e.org_id, e.device_id,
            boost::json::object{{"device_id", e.device_id},
                                {"check_id", e.check_id},
                                {"name", e.name},
                                {"kind", devices::service_kind_name(e.kind)},
                                {"passing", e.passing},
                                {"error", e.error},
                                {"at", core::format_rfc3339_seconds(e.at)}});
  }));
  subscriptions_.push_back(bus_.subscribe<dashboards::DashboardChanged>([this](const auto& e) {
    publish(Topic::kDashboards, "dashboard", e.org_id, 0,
            boost::json::object{
                {"id", e.id}, {"version", e.version}, {"deleted", e.deleted}, {"by", e.by}});
  }));
  subscriptions_.push_back(bus_.subscribe<devices::DeviceEventRecorded>([this](const auto& e) {
    // As the event log's API shows it, less the id: the event is not written yet.
    auto data = event_json(e.event);
    data.erase("id");
    publish(Topic::kEvents, "event", e.event.org_id, e.event.device_id.value_or(0),
            std::move(data));
  }));
  subscriptions_.push_back(bus_.subscribe<notify::InappAdded>([this](const auto& e) {
    publish(
        Topic::kNotifications, "notification", e.org_id, 0,
        boost::json::object{{"kind", e.kind},
                            {"severity", e.severity},
                            {"title", e.title},
                            {"alert_id", e.alert_id ? boost::json::value(*e.alert_id) : nullptr}},
        e.user_id);
  }));
  if (store_) {
    subscriptions_.push_back(bus_.subscribe<tsdb::SamplesAppended>(
        [this](const tsdb::SamplesAppended& e) { on_samples(e); }));
  }
}

bool LiveHub::follows(const Client& c, Topic topic, std::int64_t org_id, std::int64_t device_id,
                      std::int64_t user_id) const {
  if (!c.principal || c.principal->org_id != org_id || !c.topics[static_cast<int>(topic)]) {
    return false;
  }
  if (topic == Topic::kNotifications) return user_id != 0 && c.principal->user_id == user_id;
  const bool per_device = topic == Topic::kDevices || topic == Topic::kInterfaces ||
                          topic == Topic::kChecks || topic == Topic::kEvents;
  return !per_device || c.device_filter.empty() || c.device_filter.contains(device_id);
}

void LiveHub::publish(Topic topic, std::string_view type, std::int64_t org_id,
                      std::int64_t device_id, boost::json::value data, std::int64_t user_id) {
  const auto seq = ++seq_;
  boost::json::object msg{{"type", type}, {"seq", seq}, {"data", std::move(data)}};
  auto text = std::make_shared<const std::string>(core::to_json_text(msg));
  ring_.push_back({seq, org_id, topic, device_id, user_id, text});
  while (ring_.size() > options_.resume_ring) {
    ring_floor_ = ring_.front().seq;
    ring_.pop_front();
  }
  std::vector<std::uint64_t> recipients;
  for (auto& [id, c] : clients_) {
    if (follows(c, topic, org_id, device_id, user_id)) recipients.push_back(id);
  }
  for (auto id : recipients) {
    if (auto it = clients_.find(id); it != clients_.end()) deliver(id, it->second, text);
  }
}

void LiveHub::deliver(std::uint64_t id, Client& c, const LiveText& text) {
  auto t = c.transport.lock();
  if (!t) return;
  if (t->queued() >= options_.max_queue) {
    count_slow();
    return drop(id, c, kCloseTooSlow,
                fmt::format("too slow: {} messages behind; reconnect and resume", t->queued()));
  }
  send(*t, text);
}

void LiveHub::send(LiveTransport& t, const LiveText& text) {
  t.send(text);
  ++stats_.sent;
  sent_counter_.inc();
}

void LiveHub::count_slow() {
  ++stats_.disconnected_slow;
  slow_counter_.inc();
}

const LiveHub::Followers& LiveHub::followers_of(std::int64_t org_id, tsdb::SeriesId series) {
  if (auto it = followers_.find(series); it != followers_.end()) return it->second;
  Followers f;
  if (const auto* key = store_->key_of(series)) {
    for (auto& [id, c] : clients_) {
      if (!c.principal || c.principal->org_id != org_id || c.selectors.empty()) continue;
      for (const auto& sel : c.selectors) {
        if (sel.matches(*key)) {
          f.clients.push_back(id);
          break;
        }
      }
    }
    if (!f.clients.empty()) {
      boost::json::object labels;
      for (const auto& [name, value] : key->labels) labels[name] = value;
      f.key = fmt::format(R"("id":{},"metric":{},"labels":{})", series,
                          core::to_json_text(boost::json::value(key->metric)),
                          core::to_json_text(labels));
    }
  }
  return followers_.emplace(series, std::move(f)).first->second;
}

void LiveHub::on_samples(const tsdb::SamplesAppended& e) {
  if (series_followers_ == 0) return;
  // Bounded: the cache is rebuilt from scratch if it grows past what the store could hold.
  if (followers_.size() > 4'000'000) followers_.clear();
  const auto room = options_.max_queue / 2;
  for (const auto& s : e.samples) {
    const auto& f = followers_of(e.org_id, s.series);
    if (f.clients.empty()) continue;
    const auto seq = ++seq_;
    auto text = std::make_shared<const std::string>(
        fmt::format(R"({{"type":"sample","seq":{},"data":{{{},"t":{},"v":{}}}}})", seq, f.key,
                    s.sample.t, core::to_json_text(boost::json::value(s.sample.v))));
    for (auto id : f.clients) {
      auto it = clients_.find(id);
      if (it == clients_.end()) continue;
      Client& c = it->second;
      auto t = c.transport.lock();
      if (!t) continue;
      if (c.waiting.empty() && t->queued() < room) {
        send(*t, text);
        continue;
      }
      // Behind: the newest value per series waits for room.
      auto [w, fresh] = c.waiting.try_emplace(s.series, text);
      if (!fresh) {
        w->second = text;
        ++stats_.coalesced;
        coalesced_counter_.inc();
      }
      if (!c.behind_since) c.behind_since = clock_.steady_now();
    }
  }
}

void LiveHub::on_drained(std::uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.waiting.empty()) return;
  flush_waiting(it->second);
}

void LiveHub::flush_waiting(Client& c) {
  auto t = c.transport.lock();
  if (!t) return;
  const auto room = options_.max_queue / 2;
  auto it = c.waiting.begin();
  while (it != c.waiting.end() && t->queued() < room) {
    send(*t, it->second);
    it = c.waiting.erase(it);
  }
  if (c.waiting.empty()) c.behind_since.reset();
}

}  // namespace netpulse::api::detail
