// Device failures over the topology: after any change to an organization's open device_down
// alerts, the failed devices are correlated (topology.hpp) into roots and what they cut off.
// A root's device_down alert is the root alert of an incident; every other open alert on a
// device the root cuts off (its down / unreachable alert, its interface, check, no-data and
// threshold alerts) and every other alert on the root device itself becomes a symptom: linked to
// the root (symptom_of, incident_id), visible, and marked so the notifier does not send it.
//
// A root whose device is only *unreachable* (its parents were down) is not a failure of its own
// once its parents are back: its alert resolves ("parents reachable again"), and the correlation
// runs again without it, until no such root is left — so when a core comes back, the devices
// behind it resolve at once rather than each becoming a root of its own until the next poll.
// A former symptom that still fails for its own reasons (status down) becomes a root alert.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

Topology& EngineImpl::topology(std::int64_t org_id) {
  auto it = topologies_.find(org_id);
  if (it != topologies_.end() && !topology_stale_.contains(org_id)) return it->second;
  std::vector<DeviceLinks> links;
  for (auto& d : inventory_.all_enabled()) {
    if (d.org_id == org_id) links.push_back({d.id, d.parents});
  }
  topology_stale_.erase(org_id);
  auto& t = topologies_[org_id];
  t.rebuild(links);
  return t;
}

void EngineImpl::correlate(std::int64_t org_id, std::int64_t at_ms) {
  auto& topo = topology(org_id);
  // The failed devices: one device_down alert each (the oldest when several rules apply).
  auto device_down_alerts = [&] {
    std::map<std::int64_t, std::int64_t> out;  // device → its device_down alert
    for (auto& [id, oa] : open_) {
      const auto& a = oa.alert;
      if (a.org_id != org_id || a.kind != RuleKind::kDeviceDown || !a.device_id) continue;
      auto [it, fresh] = out.try_emplace(*a.device_id, id);
      if (!fresh && open_.at(it->second).alert.started_at > a.started_at) it->second = id;
    }
    return out;
  };
  Correlation corr;
  // Up to one pass per level of the topology: each pass resolves the unreachable roots.
  for (int pass = 0; pass < 64; ++pass) {
    const auto root_alert_of = device_down_alerts();
    std::vector<FailedDevice> failed;
    failed.reserve(root_alert_of.size());
    for (auto& [device, id] : root_alert_of) {
      failed.push_back({device, open_.at(id).alert.started_at});
    }
    corr = topo.correlate(failed);
    std::vector<std::int64_t> stale_roots;
    for (auto& g : corr.incidents()) {
      auto d = device_facts(org_id, g.root_device_id);
      if (d && d->status == devices::DeviceStatus::kUnreachable) {
        stale_roots.push_back(root_alert_of.at(g.root_device_id));
      }
    }
    if (stale_roots.empty()) break;
    for (auto id : stale_roots) clear(id, 0, at_ms, "parents reachable again");
  }

  // Each root group: its root alert, its incident, its symptoms.
  const auto root_alert_by_device = device_down_alerts();
  struct Link {
    std::optional<std::int64_t> symptom_of;
    std::optional<std::int64_t> incident_id;
    std::int64_t impact = 0;
  };
  std::unordered_map<std::int64_t, Link> want;  // alert id → its links
  std::unordered_set<std::int64_t> live_incidents;
  for (auto& g : corr.incidents()) {
    auto ra = root_alert_by_device.find(g.root_device_id);
    if (ra == root_alert_by_device.end()) continue;
    const auto root_id = ra->second;
    auto& root = open_.at(root_id).alert;
    // The root's incident: the one it already has, or a new one.
    Incident* inc = nullptr;
    // (A former symptom carries its old root's incident: that one is not its own.)
    if (root.incident_id) {
      if (auto it = incidents_.find(*root.incident_id);
          it != incidents_.end() && it->second.root_alert_id == root_id) {
        inc = &it->second;
      }
    }
    if (!inc) {
      Incident fresh;
      fresh.id = next_incident_id_++;
      fresh.org_id = org_id;
      fresh.root_alert_id = root_id;
      fresh.root_device_id = g.root_device_id;
      fresh.opened_at = at_ms;
      inc = &incidents_.emplace(fresh.id, fresh).first->second;
    }
    const auto impact = static_cast<std::int64_t>(g.impact);
    std::set<std::int64_t> devices(g.impacted.begin(), g.impacted.end());
    devices.insert(g.root_device_id);
    // Symptoms are counted by device (55 devices behind a dead core are 55 symptoms, whatever
    // number of alerts each has); the alerts are counted too.
    std::set<std::int64_t> symptom_devices;
    std::int64_t symptom_alerts = 0;
    for (auto& [id, oa] : open_) {
      const auto& a = oa.alert;
      if (a.org_id != org_id || !a.device_id || id == root_id) continue;
      if (!devices.contains(*a.device_id)) continue;
      want[id] = Link{root_id, inc->id, 0};
      ++symptom_alerts;
      if (*a.device_id != g.root_device_id) symptom_devices.insert(*a.device_id);
    }
    const auto symptoms = static_cast<std::int64_t>(symptom_devices.size());
    want[root_id] = Link{std::nullopt, inc->id, impact};
    auto title =
        fmt::format("{} down", root.device_name.empty() ? fmt::format("device {}", g.root_device_id)
                                                        : root.device_name);
    if (impact > 0) title += fmt::format(" — {} device(s) behind it", impact);
    if (inc->symptom_count != symptoms || inc->symptom_alerts != symptom_alerts ||
        inc->impact != impact || inc->title != title || inc->impacted_devices != g.impacted ||
        inc->updated_at == 0) {
      inc->symptom_count = symptoms;
      inc->symptom_alerts = symptom_alerts;
      inc->impact = impact;
      inc->impacted_devices = g.impacted;
      inc->title = std::move(title);
      inc->updated_at = at_ms;
      dirty_incidents_.push_back(inc->id);
    }
    live_incidents.insert(inc->id);
  }

  // Apply the links; an alert no longer under a root becomes its own again.
  for (auto& [id, oa] : open_) {
    auto& a = oa.alert;
    if (a.org_id != org_id) continue;
    Link w;
    if (auto it = want.find(id); it != want.end()) w = it->second;
    if (a.symptom_of == w.symptom_of && a.incident_id == w.incident_id && a.impact == w.impact) {
      continue;
    }
    const bool became_symptom = w.symptom_of && a.symptom_of != w.symptom_of;
    const bool became_own = !w.symptom_of && a.symptom_of;
    a.symptom_of = w.symptom_of;
    a.incident_id = w.incident_id;
    a.impact = w.impact;
    a.updated_at = at_ms;
    const auto status = std::string(alert_status_name(a.status));
    if (became_symptom) {
      change(id, "symptom", status, fmt::format("symptom of alert {}", *w.symptom_of));
    } else if (became_own) {
      change(id, "root", status, "its root resolved; it still fails");
    } else if (!dirty_.contains(id)) {
      // Its incident or impact changed. (An alert already changed in this turn carries the new
      // links in the snapshot its changes are published with: no separate "updated".)
      change(id, "updated", status, fmt::format("impact {}", w.impact));
      dirty_[id].back().history.reset();
    }
  }

  // Incidents whose root is gone (resolved, or now a symptom of another) resolve.
  std::vector<std::int64_t> done;
  for (auto& [id, inc] : incidents_) {
    if (inc.org_id == org_id && !live_incidents.contains(id)) done.push_back(id);
  }
  for (auto id : done) {
    auto inc = std::move(incidents_.at(id));
    incidents_.erase(id);
    inc.status = IncidentStatus::kResolved;
    inc.resolved_at = at_ms;
    inc.updated_at = at_ms;
    closed_incidents_[id] = std::move(inc);
    dirty_incidents_.push_back(id);
  }
  topology_dirty_.erase(org_id);  // the alerts resolved above were taken into account
}

}  // namespace netpulse::alerts::detail
