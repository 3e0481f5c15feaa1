// The event kinds: device status (device_down), interface status (interface_down), service
// checks (check_failing) and traps (trap). Each event is tested against the organization's
// enabled rules of its kind whose scope covers the device; an alert's subject names the device
// and what on it failed, so one rule keeps one alert per device, interface, check or trap.
#include <algorithm>
#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

bool failing_status(devices::DeviceStatus s) noexcept {
  return s == devices::DeviceStatus::kDown || s == devices::DeviceStatus::kUnreachable;
}

std::string device_subject(std::int64_t device_id) {
  return fmt::format("device:{}", device_id);
}

// The text of a trap varbind's value, as a pattern sees it.
std::string value_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "";
  return core::to_json_text(v);
}

// Whether `key` (an OID or an object name such as "ifName") names this varbind.
bool names_varbind(const boost::json::object& vb, const std::string& key) {
  auto oid = vb.if_contains("oid");
  if (oid && oid->is_string()) {
    const std::string_view o = oid->as_string();
    if (o == key || (o.size() > key.size() && o.starts_with(key) && o[key.size()] == '.')) {
      return true;
    }
  }
  auto name = vb.if_contains("name");
  if (name && name->is_string()) {
    const std::string_view n = name->as_string();
    return n == key || (n.size() > key.size() && n.starts_with(key) && n[key.size()] == '.');
  }
  return false;
}

}  // namespace

std::optional<DeviceFacts> EngineImpl::device_facts(std::int64_t org_id,
                                                    std::int64_t device_id) const {
  auto d = inventory_.get(core::OrgScope::trusted(org_id), device_id);
  if (!d) return std::nullopt;
  DeviceFacts f;
  f.id = d->id;
  f.name = d->name;
  f.type = std::string(devices::device_type_name(d->type));
  f.groups = d->groups;
  f.tags = d->tags;
  f.status = d->polled_status;
  f.maintenance = d->maintenance;
  return f;
}

void EngineImpl::device_condition(const CompiledRule& rule, const DeviceFacts& device, bool failing,
                                  double value, std::int64_t at_ms,
                                  std::map<std::string, std::string> labels,
                                  const std::string& subject, const std::string& clear_reason) {
  auto* open = find_open(rule.rule().id, subject);
  if (failing && !open) {
    labels["device"] = device.name;
    labels["device_id"] = std::to_string(device.id);
    raise(rule, subject, device.id, std::move(labels), value, at_ms, std::nullopt);
  } else if (!failing && open) {
    clear(open->alert.id, value, at_ms, clear_reason);
  } else if (failing && open) {
    // Still failing, maybe differently (down → unreachable): the alert shows what is true now,
    // saved and published as "updated" (not a status change: no history row).
    bool changed = false;
    for (auto& [k, v] : labels) {
      auto& mine = open->alert.labels[k];
      if (mine != v) {
        mine = v;
        changed = true;
      }
    }
    if (!changed) return;
    open->alert.updated_at = at_ms;
    render_annotations(open->alert);
    change(open->alert.id, "updated", std::string(alert_status_name(open->alert.status)), "");
    dirty_[open->alert.id].back().history.reset();
  }
}

void EngineImpl::on_device_status(const devices::DeviceStatusChanged& e) {
  auto org = orgs_.find(e.org_id);
  if (org == orgs_.end()) return;
  auto device = device_facts(e.org_id, e.device_id);
  if (!device) return;
  const auto at_ms = e.at * 1000;
  const bool failing = failing_status(device->status);
  for (auto& rule : org->second.by_kind[static_cast<std::size_t>(RuleKind::kDeviceDown)]) {
    if (!in_scope(rule->rule(), &*device)) continue;
    device_condition(*rule, *device, failing, failing ? 0 : 1, at_ms,
                     {{"status", std::string(devices::device_status_name(device->status))}},
                     device_subject(device->id), "device up");
  }
  // Maintenance on or off: every open alert of the device is silenced or not.
  for (auto& [id, oa] : open_) {
    if (oa.alert.org_id == e.org_id && oa.alert.device_id == e.device_id) update_silenced(oa);
  }
  topology_dirty_.insert(e.org_id);
  flush();
}

void EngineImpl::on_device_changed(const devices::DeviceChanged& e) {
  topology_stale_.insert(e.org_id);
  topology_dirty_.insert(e.org_id);
  ++generation_;  // scopes (groups, tags, type) may have changed: series are bound again
  if (e.kind == devices::DeviceChanged::Kind::kDeleted) {
    std::vector<std::int64_t> gone;
    for (auto& [id, oa] : open_) {
      if (oa.alert.org_id == e.org_id && oa.alert.device_id == e.device_id) gone.push_back(id);
    }
    const auto now = clock_.unix_millis();
    for (auto id : gone) clear(id, open_.at(id).alert.value, now, "device deleted");
  }
  flush();
}

void EngineImpl::on_interface(const devices::InterfaceStatusChanged& e) {
  auto org = orgs_.find(e.org_id);
  if (org == orgs_.end()) return;
  const auto& rules = org->second.by_kind[static_cast<std::size_t>(RuleKind::kInterfaceDown)];
  if (rules.empty()) return;
  auto device = device_facts(e.org_id, e.device_id);
  if (!device) return;
  const auto subject = fmt::format("if:{}:{}", e.device_id, e.if_index);
  // Down while administratively up; raised only on a link that was up (a port never cabled
  // is not an outage), cleared when it is up again or administratively shut.
  const bool down = e.to != 1 && e.admin == 1;
  std::map<std::string, std::string> labels{{"ifIndex", std::to_string(e.if_index)},
                                            {"ifName", e.name}};
  for (auto& rule : rules) {
    if (!in_scope(rule->rule(), &*device)) continue;
    const bool open = find_open(rule->rule().id, subject) != nullptr;
    if (down && !open && e.from != 1) continue;
    device_condition(*rule, *device, down, e.to, e.at * 1000, labels, subject,
                     e.to == 1 ? "interface up" : "interface administratively down");
  }
  flush();
}

void EngineImpl::on_check(const devices::ServiceCheckChanged& e) {
  auto org = orgs_.find(e.org_id);
  if (org == orgs_.end()) return;
  const auto& rules = org->second.by_kind[static_cast<std::size_t>(RuleKind::kCheckFailing)];
  if (rules.empty()) return;
  auto device = device_facts(e.org_id, e.device_id);
  if (!device) return;
  const auto subject = fmt::format("check:{}:{}", e.device_id, e.check_id);
  std::map<std::string, std::string> labels{
      {"check", e.name}, {"kind", std::string(devices::service_kind_name(e.kind))}};
  if (!e.passing) labels["error"] = e.error;
  for (auto& rule : rules) {
    if (!in_scope(rule->rule(), &*device)) continue;
    device_condition(*rule, *device, !e.passing, e.passing ? 1 : 0, e.at * 1000, labels, subject,
                     "check passes again");
  }
  flush();
}

void EngineImpl::on_event(const devices::DeviceEventRecorded& e) {
  const auto& ev = e.event;
  if (ev.kind != "trap" || !ev.device_id) return;
  auto org = orgs_.find(ev.org_id);
  if (org == orgs_.end()) return;
  const auto& rules = org->second.by_kind[static_cast<std::size_t>(RuleKind::kTrap)];
  if (rules.empty()) return;
  boost::system::error_code ec;
  auto details = boost::json::parse(ev.details_json, ec);
  if (ec || !details.is_object()) return;
  const auto& d = details.as_object();
  auto* oid_v = d.if_contains("trap_oid");
  if (!oid_v || !oid_v->is_string()) return;
  const std::string trap_oid(oid_v->as_string());
  std::string instance;
  if (auto* idx = d.if_contains("if_index"); idx && idx->is_int64()) {
    instance = fmt::format(":{}", idx->as_int64());
  }
  const boost::json::array empty;
  const auto* vbs = d.if_contains("varbinds");
  const auto& varbinds = vbs && vbs->is_array() ? vbs->as_array() : empty;
  auto device = device_facts(ev.org_id, *ev.device_id);
  if (!device) return;
  for (auto& rule : rules) {
    const auto& match = *rule->rule().trap;
    if (!in_scope(rule->rule(), &*device)) continue;
    const auto subject = fmt::format("trap:{}:{}{}", device->id, match.trap_oid, instance);
    if (!match.clear_oid.empty() && trap_oid == match.clear_oid) {
      if (auto* a = find_open(rule->rule().id, subject)) {
        clear(a->alert.id, 0, ev.at * 1000, "clearing trap received");
      }
      continue;
    }
    if (trap_oid != match.trap_oid) continue;
    std::map<std::string, std::string> labels{{"trap_oid", trap_oid}};
    bool all = true;
    for (auto& [key, re] : rule->trap_patterns) {
      bool found = false;
      for (auto& vb : varbinds) {
        if (!vb.is_object() || !names_varbind(vb.as_object(), key)) continue;
        const auto* value = vb.as_object().if_contains("value");
        const auto text = value ? value_text(*value) : std::string();
        if (RE2::FullMatch(text, *re)) {
          found = true;
          labels[key] = text;
          break;
        }
      }
      if (!found) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    for (auto& vb : varbinds) {
      if (!vb.is_object()) continue;
      auto* name = vb.as_object().if_contains("name");
      auto* value = vb.as_object().if_contains("value");
      if (!name || !name->is_string() || !value) continue;
      std::string_view n = name->as_string();
      n = n.substr(0, n.find('.'));
      if (n == "ifName" || n == "ifDescr" || n == "ifAlias" || n == "ifIndex") {
        labels.try_emplace(std::string(n), value_text(*value));
      }
    }
    // A trap is a moment, not a state: its alert fires at once (for_s does not apply) and stays
    // until the clearing trap, or until someone resolves it.
    if (find_open(rule->rule().id, subject)) continue;
    labels["device"] = device->name;
    labels["device_id"] = std::to_string(device->id);
    auto& a = raise(*rule, subject, device->id, std::move(labels), 1, ev.at * 1000, std::nullopt);
    fire(a, 1, ev.at * 1000);
  }
  flush();
}

// A new or changed event-kind rule: what is failing now raises its alerts at once (a device
// already down when the rule is made is not forgotten until it next changes).
void EngineImpl::sync_rule(const CompiledRule& rule, const std::vector<devices::Device>& devices) {
  const auto& r = rule.rule();
  if (!r.enabled) return;
  const auto now = clock_.unix_millis();
  if (r.kind == RuleKind::kDeviceDown) {
    for (auto& d : devices) {
      if (d.org_id != r.org_id || !failing_status(d.polled_status)) continue;
      auto facts = device_facts(d.org_id, d.id);
      if (!facts || !in_scope(r, &*facts)) continue;
      const auto since = d.status_changed_at ? *d.status_changed_at * 1000 : now;
      device_condition(rule, *facts, true, 0, since,
                       {{"status", std::string(devices::device_status_name(d.polled_status))}},
                       device_subject(d.id), "device up");
    }
  } else if (r.kind == RuleKind::kNoData) {
    seed_no_data(rule);
  }
}

}  // namespace netpulse::alerts::detail
