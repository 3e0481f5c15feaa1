// The API's reads. Open alerts and incidents come from memory; resolved ones (and every alert's
// history and comments) from the database, through a reader. A list of open and resolved alerts
// together pages through the open ones first (newest first), then the resolved ones (newest
// resolved... by start, newest first).
#include <algorithm>

#include "detail/alerts_sql.hpp"
#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

core::Error alert_not_found() {
  return core::Error{core::Errc::kNotFound, "no such alert"};
}

core::Error incident_not_found() {
  return core::Error{core::Errc::kNotFound, "no such incident"};
}

bool wants(const AlertFilter& f, AlertStatus s) {
  if (f.open_only && s == AlertStatus::kResolved) return false;
  return f.statuses.empty() ||
         std::find(f.statuses.begin(), f.statuses.end(), s) != f.statuses.end();
}

}  // namespace

std::vector<Alert> EngineImpl::open_alerts() const {
  std::vector<Alert> out;
  out.reserve(open_.size());
  for (const auto& [id, oa] : open_) out.push_back(oa.alert);
  std::sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) { return a.id < b.id; });
  return out;
}

core::Result<core::PageOf<Alert>> EngineImpl::list_alerts(core::OrgScope scope,
                                                          const AlertFilter& f,
                                                          core::Page page) const {
  const auto org = scope.org_id();
  // A group or tag filter is a set of devices.
  std::vector<std::int64_t> device_ids;
  if (f.group_id || f.tag) {
    devices::DeviceFilter df;
    if (f.group_id) {
      auto g = inventory_.get_group(scope, *f.group_id);
      if (!g) return std::move(g).error();
      df.group = g->name;
    }
    df.tag = f.tag;
    // Every device of the group or tag, enabled or not (an alert may outlive a disable).
    for (int page = 1; page < 10'000; ++page) {
      auto list = inventory_.list(scope, df, devices::DeviceSort{}, core::Page{page, 500});
      if (!list) return std::move(list).error();
      for (auto& d : list->items) device_ids.push_back(d.id);
      if (list->items.size() < 500) break;
    }
  }
  auto matches = [&](const Alert& a) {
    if (a.org_id != org || !wants(f, a.status)) return false;
    if (!f.severities.empty() &&
        std::find(f.severities.begin(), f.severities.end(), a.severity) == f.severities.end()) {
      return false;
    }
    if (f.device_id && a.device_id != f.device_id) return false;
    if (f.rule_id && a.rule_id != *f.rule_id) return false;
    if (f.incident_id && a.incident_id != f.incident_id) return false;
    if (f.since && a.started_at < *f.since) return false;
    if ((f.group_id || f.tag) && (!a.device_id || std::find(device_ids.begin(), device_ids.end(),
                                                            *a.device_id) == device_ids.end())) {
      return false;
    }
    return true;
  };
  std::vector<const Alert*> open;
  for (auto& [id, oa] : open_) {
    if (matches(oa.alert)) open.push_back(&oa.alert);
  }
  std::sort(open.begin(), open.end(), [](const Alert* a, const Alert* b) {
    return a->started_at != b->started_at ? a->started_at > b->started_at : a->id > b->id;
  });
  const auto first = static_cast<std::int64_t>(page.page - 1) * page.per_page;
  const auto open_count = static_cast<std::int64_t>(open.size());
  core::PageOf<Alert> out;
  for (auto i = first; i < open_count && static_cast<int>(out.items.size()) < page.per_page; ++i) {
    out.items.push_back(*open[static_cast<std::size_t>(i)]);
  }
  std::int64_t resolved_total = 0;
  if (wants(f, AlertStatus::kResolved)) {
    const auto offset = std::max<std::int64_t>(0, first - open_count);
    const auto limit = page.per_page - static_cast<std::int64_t>(out.items.size());
    auto rows = db_.read(
        [&](db::Connection& c) { return query_resolved(c, org, f, device_ids, offset, limit); });
    if (!rows) return std::move(rows).error();
    resolved_total = rows->total;
    for (auto& a : rows->items) out.items.push_back(std::move(a));
  }
  out.total = open_count + resolved_total;
  return out;
}

core::Result<AlertDetail> EngineImpl::get_alert(core::OrgScope scope, std::int64_t id) const {
  AlertDetail d;
  auto it = open_.find(id);
  const bool in_memory = it != open_.end() && it->second.alert.org_id == scope.org_id();
  auto r = db_.read([&](db::Connection& c) -> core::Result<void> {
    if (!in_memory) {
      auto a = read_alert(c, scope.org_id(), id);
      if (!a) return std::move(a).error();
      if (!*a) return alert_not_found();
      d.alert = std::move(**a);
    }
    auto h = read_history(c, id);
    if (!h) return std::move(h).error();
    d.history = std::move(*h);
    auto m = read_comments(c, id);
    if (!m) return std::move(m).error();
    d.comments = std::move(*m);
    return core::ok();
  });
  if (!r) return std::move(r).error();
  if (in_memory) d.alert = it->second.alert;
  return d;
}

core::Result<core::PageOf<Incident>> EngineImpl::list_incidents(core::OrgScope scope,
                                                                bool open_only,
                                                                core::Page page) const {
  if (!open_only) {
    auto r = db_.read([&](db::Connection& c) { return query_incidents(c, scope.org_id(), page); });
    if (!r) return r;
    // The open ones as memory has them (a change may not be committed yet).
    for (auto& i : r->items) {
      if (auto it = incidents_.find(i.id); it != incidents_.end()) i = it->second;
    }
    return r;
  }
  std::vector<const Incident*> open;
  for (auto& [id, i] : incidents_) {
    if (i.org_id == scope.org_id()) open.push_back(&i);
  }
  std::sort(open.begin(), open.end(), [](const Incident* a, const Incident* b) {
    return a->opened_at != b->opened_at ? a->opened_at > b->opened_at : a->id > b->id;
  });
  core::PageOf<Incident> out;
  out.total = static_cast<std::int64_t>(open.size());
  const auto first =
      static_cast<std::size_t>(page.page - 1) * static_cast<std::size_t>(page.per_page);
  for (auto i = first; i < open.size() && static_cast<int>(out.items.size()) < page.per_page; ++i) {
    out.items.push_back(*open[i]);
  }
  return out;
}

core::Result<IncidentDetail> EngineImpl::get_incident(core::OrgScope scope, std::int64_t id) const {
  IncidentDetail d;
  auto it = incidents_.find(id);
  if (it != incidents_.end() && it->second.org_id == scope.org_id()) {
    d.incident = it->second;
    for (auto& [aid, oa] : open_) {
      if (oa.alert.incident_id != id) continue;
      if (aid == d.incident.root_alert_id) {
        d.root = oa.alert;
      } else {
        d.symptoms.push_back(oa.alert);
      }
    }
    std::sort(d.symptoms.begin(), d.symptoms.end(),
              [](const Alert& a, const Alert& b) { return a.id < b.id; });
    return d;
  }
  auto r = db_.read([&](db::Connection& c) -> core::Result<void> {
    auto i = read_incident(c, scope.org_id(), id);
    if (!i) return std::move(i).error();
    if (!*i) return incident_not_found();
    d.incident = std::move(**i);
    auto alerts = read_incident_alerts(c, scope.org_id(), id);
    if (!alerts) return std::move(alerts).error();
    for (auto& a : *alerts) {
      if (a.id == d.incident.root_alert_id) {
        d.root = std::move(a);
      } else {
        d.symptoms.push_back(std::move(a));
      }
    }
    return core::ok();
  });
  if (!r) return std::move(r).error();
  return d;
}

}  // namespace netpulse::alerts::detail
