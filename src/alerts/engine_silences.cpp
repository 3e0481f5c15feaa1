// Silences and maintenance windows: kept in memory (compiled) and in the database, and applied to
// the open alerts — when an alert is raised, when a silence or window is made, changed or
// deleted, and on the tick at the next instant one starts or ends (found ahead of time, so the
// tick does not test every alert against every window every second).
#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "detail/alerts_sql.hpp"
#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

core::Error silence_not_found() {
  return core::Error{core::Errc::kNotFound, "no such silence"};
}

core::Error window_not_found() {
  return core::Error{core::Errc::kNotFound, "no such maintenance window"};
}

// The server-set fields the JSON readers ignore in a request body, read back from a stored one.
std::int64_t int_field(const boost::json::value& body, std::string_view name) {
  const auto* v = body.is_object() ? body.as_object().if_contains(name) : nullptr;
  return v && v->is_int64() ? v->as_int64() : 0;
}

core::Result<Silence> silence_from_stored(const boost::json::value& body) {
  auto s = silence_from_json(body);
  if (!s) return s;
  s->created_by = int_field(body, "created_by");
  s->created_at = int_field(body, "created_at");
  if (auto* n = body.as_object().if_contains("created_by_name"); n && n->is_string()) {
    s->created_by_name = std::string(n->as_string());
  }
  return s;
}

core::Result<MaintenanceWindow> maintenance_from_stored(const boost::json::value& body) {
  auto w = maintenance_from_json(body);
  if (!w) return w;
  w->created_by = int_field(body, "created_by");
  w->created_at = int_field(body, "created_at");
  return w;
}

}  // namespace

core::Result<void> EngineImpl::load_silences_and_windows(db::Connection& c) {
  auto silences = load_silences(c);
  if (!silences) return silences.error();
  for (auto& row : *silences) {
    boost::system::error_code ec;
    auto body = boost::json::parse(row.body, ec);
    if (ec) continue;
    auto s = silence_from_stored(body);
    if (!s) continue;
    s->id = row.id;
    s->org_id = row.org_id;
    if (auto compiled = CompiledSilence::compile(std::move(*s))) {
      silences_.emplace(row.id, std::move(*compiled));
    }
  }
  auto windows = load_maintenance(c);
  if (!windows) return windows.error();
  for (auto& row : *windows) {
    boost::system::error_code ec;
    auto body = boost::json::parse(row.body, ec);
    if (ec) continue;
    auto w = maintenance_from_stored(body);
    if (!w) continue;
    w->id = row.id;
    w->org_id = row.org_id;
    windows_.emplace(row.id, std::move(*w));
  }
  return core::ok();
}

// The device's group ids (the inventory keeps names), for a silence's or a window's groups.
std::vector<std::int64_t> EngineImpl::group_ids_of(std::int64_t org_id,
                                                   const std::vector<std::string>& names) const {
  std::vector<std::int64_t> out;
  if (names.empty()) return out;
  const auto scope = core::OrgScope::trusted(org_id);
  for (int page = 1; page < 1000; ++page) {
    auto groups = inventory_.list_groups(scope, core::Page{page, 500});
    if (!groups || groups->items.empty()) break;
    for (auto& g : groups->items) {
      if (std::find(names.begin(), names.end(), g.name) != names.end()) out.push_back(g.id);
    }
    if (static_cast<std::int64_t>(page) * 500 >= groups->total) break;
  }
  return out;
}

bool EngineImpl::covered_by_silence(const Alert& a, const DeviceFacts* device) const {
  if (silences_.empty() && windows_.empty()) return false;  // the usual case: nothing to look up
  const auto now_s = clock_.unix_seconds();
  std::vector<std::int64_t> groups;
  if (device) groups = group_ids_of(a.org_id, device->groups);
  AlertSubject subject;
  subject.rule_id = a.rule_id;
  subject.device_id = a.device_id;
  subject.device_groups = groups;
  if (device) subject.device_tags = device->tags;
  subject.labels = &a.labels;
  for (auto& [id, s] : silences_) {
    if (s.silence().org_id == a.org_id && silences(s, subject, now_s)) return true;
  }
  // A window covers an alert without a device only when it covers every device (covers()).
  for (auto& [id, w] : windows_) {
    if (w.org_id != a.org_id || !covers(w, subject)) continue;
    if (active_occurrence(w, now_s)) return true;
  }
  return false;
}

// Every open alert of `org_id` (0: of every organization) silenced or not as things stand now;
// then the next instant a silence or window starts or ends.
void EngineImpl::reapply_silences(std::int64_t org_id) {
  for (auto& [id, oa] : open_) {
    if (org_id == 0 || oa.alert.org_id == org_id) update_silenced(oa);
  }
  const auto now_s = clock_.unix_seconds();
  std::int64_t next = INT64_MAX;
  for (auto& [id, s] : silences_) {
    if (s.silence().starts_at > now_s) next = std::min(next, s.silence().starts_at);
    if (s.silence().ends_at > now_s) next = std::min(next, s.silence().ends_at);
  }
  for (auto& [id, w] : windows_) {
    if (auto a = active_occurrence(w, now_s)) next = std::min(next, a->ends_at);
    if (auto n = next_occurrence(w, now_s)) next = std::min(next, n->starts_at);
  }
  next_silence_change_s_ = next;
}

void EngineImpl::tick_silences(std::int64_t now_ms) {
  if (now_ms / 1000 < next_silence_change_s_) return;
  reapply_silences(0);
}

void EngineImpl::forget_org_silences(std::int64_t org_id) {
  std::erase_if(silences_, [&](const auto& kv) { return kv.second.silence().org_id == org_id; });
  std::erase_if(windows_, [&](const auto& kv) { return kv.second.org_id == org_id; });
}

// The ids a silence or window names must be the caller's.
core::Result<void> EngineImpl::check_ids(core::OrgScope scope,
                                         const std::vector<std::int64_t>& devices,
                                         const std::vector<std::int64_t>& groups,
                                         const std::vector<std::int64_t>& rules,
                                         std::string_view field_prefix) const {
  for (auto d : devices) {
    if (!inventory_.get(scope, d)) {
      return core::invalid_field(fmt::format("{}device_ids", field_prefix),
                                 fmt::format("no device {} in this organization", d));
    }
  }
  for (auto g : groups) {
    if (!inventory_.get_group(scope, g)) {
      return core::invalid_field(fmt::format("{}group_ids", field_prefix),
                                 fmt::format("no device group {} in this organization", g));
    }
  }
  for (auto r : rules) {
    if (!get_rule(scope, r)) {
      return core::invalid_field("rule_ids",
                                 fmt::format("no alert rule {} in this organization", r));
    }
  }
  return core::ok();
}

// --- the API -----------------------------------------------------------------------------------

std::vector<Silence> EngineImpl::list_silences(core::OrgScope scope, bool include_expired) const {
  std::vector<Silence> out;
  const auto now_s = clock_.unix_seconds();
  for (auto& [id, s] : silences_) {
    if (s.silence().org_id != scope.org_id()) continue;
    if (!include_expired && s.silence().ends_at <= now_s) continue;
    out.push_back(s.silence());
  }
  return out;
}

void EngineImpl::create_silence(core::OrgScope scope, Silence silence, Callback<Silence> done) {
  silence.id = 0;
  silence.org_id = scope.org_id();
  if (auto r = validate_silence(silence); !r) return post(std::move(done), {r.error()});
  if (auto r = check_ids(scope, silence.device_ids, silence.group_ids, silence.rule_ids); !r) {
    return post(std::move(done), {r.error()});
  }
  write_value<Silence>(
      [silence](db::Connection& c) mutable -> core::Result<Silence> {
        if (auto r = insert_silence(c, silence); !r) return r.error();
        return silence;
      },
      [this, done = std::move(done)](core::Result<Silence> r) {
        if (!r) return done(std::move(r));
        if (auto compiled = CompiledSilence::compile(*r)) {
          silences_.emplace(r->id, std::move(*compiled));
        }
        reapply_silences(r->org_id);
        flush();
        done(std::move(r));
      });
}

void EngineImpl::remove_silence(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  auto it = silences_.find(id);
  if (it == silences_.end() || it->second.silence().org_id != scope.org_id()) {
    return post(std::move(done), core::Result<void>(silence_not_found()));
  }
  const auto org = scope.org_id();
  write([org, id](db::Connection& c) { return delete_silence(c, org, id); },
        [this, org, id, done = std::move(done)](core::Result<void> r) {
          if (!r) return done(std::move(r));
          silences_.erase(id);
          reapply_silences(org);
          flush();
          done(core::ok());
        });
}

std::vector<MaintenanceWindow> EngineImpl::list_maintenance(core::OrgScope scope) const {
  std::vector<MaintenanceWindow> out;
  for (auto& [id, w] : windows_) {
    if (w.org_id == scope.org_id()) out.push_back(w);
  }
  return out;
}

core::Result<MaintenanceWindow> EngineImpl::get_maintenance(core::OrgScope scope,
                                                            std::int64_t id) const {
  auto it = windows_.find(id);
  if (it == windows_.end() || it->second.org_id != scope.org_id()) return window_not_found();
  return it->second;
}

void EngineImpl::save_window(core::OrgScope scope, MaintenanceWindow window,
                             Callback<MaintenanceWindow> done) {
  window.org_id = scope.org_id();
  if (auto r = validate_maintenance(window); !r) return post(std::move(done), {r.error()});
  if (auto r = check_ids(scope, window.device_ids, window.group_ids, {}, "scope."); !r) {
    return post(std::move(done), {r.error()});
  }
  const auto now_s = clock_.unix_seconds();
  write_value<MaintenanceWindow>(
      [window, now_s](db::Connection& c) mutable -> core::Result<MaintenanceWindow> {
        if (auto r = save_maintenance(c, window, now_s); !r) return r.error();
        return window;
      },
      [this, done = std::move(done)](core::Result<MaintenanceWindow> r) {
        if (!r) return done(std::move(r));
        windows_[r->id] = *r;
        reapply_silences(r->org_id);
        flush();
        done(std::move(r));
      });
}

void EngineImpl::create_maintenance(core::OrgScope scope, MaintenanceWindow window,
                                    Callback<MaintenanceWindow> done) {
  window.id = 0;
  save_window(scope, std::move(window), std::move(done));
}

void EngineImpl::replace_maintenance(core::OrgScope scope, std::int64_t id,
                                     MaintenanceWindow window, Callback<MaintenanceWindow> done) {
  auto current = get_maintenance(scope, id);
  if (!current) return post(std::move(done), {current.error()});
  window.id = id;
  window.created_by = current->created_by;
  window.created_at = current->created_at;
  save_window(scope, std::move(window), std::move(done));
}

void EngineImpl::remove_maintenance(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  if (auto current = get_maintenance(scope, id); !current) {
    return post(std::move(done), core::Result<void>(current.error()));
  }
  const auto org = scope.org_id();
  write([org, id](db::Connection& c) { return delete_maintenance(c, org, id); },
        [this, org, id, done = std::move(done)](core::Result<void> r) {
          if (!r) return done(std::move(r));
          windows_.erase(id);
          reapply_silences(org);
          flush();
          done(core::ok());
        });
}

bool EngineImpl::in_maintenance(core::OrgScope scope, std::int64_t device_id,
                                std::int64_t unix_s) const {
  auto device = device_facts(scope.org_id(), device_id);
  if (!device) return false;
  if (device->maintenance && unix_s >= clock_.unix_seconds() - 60) return true;
  const auto groups = group_ids_of(scope.org_id(), device->groups);
  AlertSubject subject;
  subject.device_id = device_id;
  subject.device_groups = groups;
  subject.device_tags = device->tags;
  for (auto& [id, w] : windows_) {
    if (w.org_id == scope.org_id() && covers(w, subject) && active_occurrence(w, unix_s)) {
      return true;
    }
  }
  return false;
}

}  // namespace netpulse::alerts::detail
