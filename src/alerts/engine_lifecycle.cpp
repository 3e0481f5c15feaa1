// Alert transitions: raise (pending), fire, clear (resolved by the engine), acknowledge, resolve
// and comment (by people). A transition changes the alert in memory and is queued; flush()
// writes every queued change in one transaction and publishes AlertChanged / IncidentChanged
// once it has committed — so a consumer never acts on a transition a crash could lose, and a
// storm of 500 transitions is one commit.
#include <algorithm>

#include <fmt/format.h>

#include "detail/alerts_sql.hpp"
#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

std::string open_key(std::int64_t rule_id, std::string_view subject) {
  return fmt::format("{}/{}", rule_id, subject);
}

OpenAlert* EngineImpl::find_open(std::int64_t rule_id, const std::string& subject) {
  auto it = open_by_key_.find(open_key(rule_id, subject));
  if (it == open_by_key_.end()) return nullptr;
  auto a = open_.find(it->second);
  return a == open_.end() ? nullptr : &a->second;
}

OpenAlert* EngineImpl::find_open_in(core::OrgScope scope, std::int64_t id) {
  auto it = open_.find(id);
  if (it == open_.end() || it->second.alert.org_id != scope.org_id()) return nullptr;
  return &it->second;
}

void EngineImpl::change(std::int64_t alert_id, std::string transition, std::string from,
                        std::string note, std::optional<std::int64_t> actor_id, std::string actor) {
  const Alert* a = nullptr;
  if (auto it = open_.find(alert_id); it != open_.end()) {
    a = &it->second.alert;
  } else if (auto c = closed_.find(alert_id); c != closed_.end()) {
    a = &c->second;
  }
  if (!a) return;
  auto [it, fresh] = dirty_.try_emplace(alert_id);
  if (fresh) dirty_order_.push_back(alert_id);
  Change c;
  c.transition = std::move(transition);
  // Status changes are history; so are the links to a root and the silencing (with their note).
  c.history = AlertHistoryEntry{clock_.unix_millis(),
                                std::move(from),
                                std::string(alert_status_name(a->status)),
                                actor_id,
                                std::move(actor),
                                std::move(note),
                                a->value};
  it->second.push_back(std::move(c));
  if (m_transitions_) m_transitions_->inc();
}

void EngineImpl::render_annotations(Alert& a) const {
  auto org = orgs_.find(a.org_id);
  if (org == orgs_.end()) return;
  auto rule = org->second.by_id.find(a.rule_id);
  if (rule == org->second.by_id.end()) return;
  AlertFields f;
  f.device = a.device_name;
  f.device_id = a.device_id.value_or(0);
  f.value = a.value;
  f.threshold = a.threshold;
  f.rule = a.rule_name;
  f.severity = std::string(severity_name(a.severity));
  f.status = std::string(alert_status_name(a.status));
  f.labels = a.labels;
  a.annotations.clear();
  for (auto& [name, t] : rule->second->templates) a.annotations[name] = t.render(f);
}

OpenAlert& EngineImpl::raise(const CompiledRule& rule, const std::string& subject,
                             std::optional<std::int64_t> device_id,
                             std::map<std::string, std::string> labels, double value,
                             std::int64_t at_ms, std::optional<tsdb::SeriesId> series) {
  const auto& r = rule.rule();
  OpenAlert oa;
  Alert& a = oa.alert;
  a.id = next_alert_id_++;
  a.org_id = r.org_id;
  a.rule_id = r.id;
  a.rule_name = r.name;
  a.kind = r.kind;
  a.subject = subject;
  a.status = AlertStatus::kPending;
  a.severity = r.severity;
  // A device id (a series' device_id label) counts only when the organization has that device:
  // a pushed sample cannot tie an alert to another organization's device.
  if (device_id) {
    if (auto d = device_facts(r.org_id, *device_id)) {
      a.device_id = device_id;
      a.device_name = d->name;
    }
  }
  for (auto& [k, v] : r.labels) labels[k] = v;
  a.labels = std::move(labels);
  a.value = value;
  // The threshold people read: the rule's own (a forecast's target), else the compared one.
  if (r.condition) {
    a.threshold = r.condition->value;
  } else if (rule.condition) {
    a.threshold = rule.condition->value;
  }
  a.started_at = at_ms;
  a.updated_at = clock_.unix_millis();
  oa.for_ms = rule.for_ms();
  oa.series = series;
  auto& flap = flaps_.try_emplace(open_key(r.id, subject), o_.flap_changes, o_.flap_window_s * 1000)
                   .first->second;
  a.flapping = flap.record_change(at_ms);
  update_silenced(oa);
  render_annotations(a);
  const auto id = a.id;
  open_by_key_[open_key(r.id, subject)] = id;
  auto& stored = open_.emplace(id, std::move(oa)).first->second;
  change(id, "pending", "", "");
  if (r.kind == RuleKind::kDeviceDown) topology_dirty_.insert(r.org_id);
  if (stored.for_ms <= 0) fire(stored, value, at_ms);
  return stored;
}

void EngineImpl::fire(OpenAlert& oa, double value, std::int64_t at_ms) {
  auto& a = oa.alert;
  if (a.status != AlertStatus::kPending) return;
  a.status = AlertStatus::kFiring;
  a.fired_at = at_ms;
  a.value = value;
  a.updated_at = clock_.unix_millis();
  render_annotations(a);
  change(a.id, "firing", "pending", "");
}

void EngineImpl::clear(std::int64_t alert_id, double value, std::int64_t at_ms,
                       const std::string& reason) {
  auto it = open_.find(alert_id);
  if (it == open_.end()) return;
  auto a = std::move(it->second.alert);
  open_.erase(it);
  open_by_key_.erase(open_key(a.rule_id, a.subject));
  const auto from = std::string(alert_status_name(a.status));
  const bool was_pending = a.status == AlertStatus::kPending;
  a.status = AlertStatus::kResolved;
  a.resolved_at = at_ms;
  a.resolve_reason = reason;
  a.value = value;
  a.updated_at = clock_.unix_millis();
  if (!was_pending) {
    if (auto f = flaps_.find(open_key(a.rule_id, a.subject)); f != flaps_.end()) {
      a.flapping = f->second.record_change(at_ms);
    }
  }
  if (a.kind == RuleKind::kDeviceDown || a.incident_id) topology_dirty_.insert(a.org_id);
  render_annotations(a);
  const auto id = a.id;
  closed_[id] = std::move(a);
  change(id, "resolved", from, reason);
}

// Silenced: the device is in maintenance (its own flag), or a silence or maintenance window
// covers the alert.
void EngineImpl::update_silenced(OpenAlert& oa) {
  auto& a = oa.alert;
  bool silenced = false;
  std::optional<DeviceFacts> device;
  if (a.device_id) device = device_facts(a.org_id, *a.device_id);
  if (device && device->maintenance) silenced = true;
  if (!silenced) silenced = covered_by_silence(a, device ? &*device : nullptr);
  if (silenced == a.silenced) return;
  a.silenced = silenced;
  if (a.id != 0 && open_.contains(a.id)) {
    change(a.id, silenced ? "silenced" : "unsilenced", std::string(alert_status_name(a.status)),
           silenced ? "silenced" : "no longer silenced");
  }
}

void EngineImpl::tick_alerts(std::int64_t now_ms) {
  std::vector<std::int64_t> due;
  for (auto& [id, oa] : open_) {
    if (oa.alert.status == AlertStatus::kPending && oa.alert.started_at + oa.for_ms <= now_ms) {
      due.push_back(id);
    }
  }
  std::sort(due.begin(), due.end());
  for (auto id : due) {
    auto& oa = open_.at(id);
    // A sample kind's state machine fires with it, so the next sample finds it firing.
    if (oa.series) {
      if (auto* e = series_.find(*oa.series)) {
        for (auto& b : e->bindings) {
          if (b.rule->rule().id == oa.alert.rule_id &&
              b.eval.threshold.phase == ThresholdPhase::kPending) {
            b.eval.threshold.phase = ThresholdPhase::kFiring;
            b.eval.threshold.since_ms = now_ms;
          }
        }
      }
    }
    fire(oa, oa.alert.value, now_ms);
  }
  // Flap records of subjects quiet for a whole window are forgotten.
  std::erase_if(flaps_, [&](const auto& kv) {
    return !open_by_key_.contains(kv.first) && kv.second.changes_in_window(now_ms) == 0;
  });
}

void EngineImpl::flush(std::function<void(core::Result<void>)> then) {
  const auto now = clock_.unix_millis();
  while (!topology_dirty_.empty()) {
    const auto org = *topology_dirty_.begin();
    topology_dirty_.erase(topology_dirty_.begin());
    correlate(org, now);
  }
  if (dirty_order_.empty() && dirty_incidents_.empty() && new_comments_.empty()) {
    if (then) boost::asio::post([then = std::move(then)] { then(core::ok()); });
    return;
  }
  struct Item {
    Alert alert;
    std::vector<Change> changes;
  };
  auto items = std::make_shared<std::vector<Item>>();
  for (auto id : dirty_order_) {
    Item item;
    if (auto it = open_.find(id); it != open_.end()) {
      item.alert = it->second.alert;
    } else if (auto c = closed_.find(id); c != closed_.end()) {
      item.alert = std::move(c->second);
    } else {
      continue;
    }
    item.changes = std::move(dirty_[id]);
    items->push_back(std::move(item));
  }
  auto incidents = std::make_shared<std::vector<Incident>>();
  for (auto id : dirty_incidents_) {
    if (auto it = incidents_.find(id); it != incidents_.end()) {
      incidents->push_back(it->second);
    } else if (auto c = closed_incidents_.find(id); c != closed_incidents_.end()) {
      incidents->push_back(std::move(c->second));
    }
  }
  auto comments = std::make_shared<std::vector<AlertComment>>(std::move(new_comments_));
  dirty_order_.clear();
  dirty_.clear();
  closed_.clear();
  dirty_incidents_.clear();
  closed_incidents_.clear();
  new_comments_.clear();
  write(
      [items, incidents, comments](db::Connection& c) -> core::Result<void> {
        for (auto& i : *incidents) {
          if (auto r = upsert_incident(c, i); !r) return r;
        }
        for (auto& item : *items) {
          if (auto r = upsert_alert(c, item.alert); !r) return r;
          for (auto& ch : item.changes) {
            if (!ch.history) continue;
            if (auto r = insert_history(c, item.alert.id, *ch.history); !r) return r;
          }
        }
        for (auto& m : *comments) {
          if (auto r = insert_comment(c, m); !r) return r;
        }
        return core::ok();
      },
      [this, items, incidents, then = std::move(then)](core::Result<void> r) {
        if (!r) {
          // The memory state stands; the next change of each alert writes its whole row again.
          log_.error("alerts", "{} alert change(s) not saved: {}", items->size(),
                     r.error().message);
        } else {
          for (auto& item : *items) {
            for (auto& ch : item.changes) {
              bus_.publish(AlertChanged{item.alert.org_id, item.alert, ch.transition});
            }
          }
          for (auto& i : *incidents) bus_.publish(IncidentChanged{i.org_id, i});
        }
        if (then) then(std::move(r));
      });
}

// --- people's actions --------------------------------------------------------------------------

void EngineImpl::acknowledge(core::OrgScope scope, std::int64_t id, Actor actor, std::string note,
                             Callback<Alert> done) {
  auto* oa = find_open_in(scope, id);
  if (!oa) {
    auto stored = get_alert(scope, id);
    if (!stored) return post(std::move(done), core::Result<Alert>(stored.error()));
    return post(std::move(done),
                core::Result<Alert>(core::Error{core::Errc::kConflict, "the alert is resolved"}));
  }
  auto& a = oa->alert;
  if (a.status == AlertStatus::kAcknowledged) {
    return post(std::move(done),
                core::Result<Alert>(
                    core::Error{core::Errc::kConflict,
                                "the alert is already acknowledged by " + a.acknowledged_by_name}));
  }
  if (a.status == AlertStatus::kPending) {
    return post(std::move(done), core::Result<Alert>(core::Error{
                                     core::Errc::kConflict, "the alert is pending, not firing"}));
  }
  const auto now = clock_.unix_millis();
  a.status = AlertStatus::kAcknowledged;
  a.acknowledged_by = actor.user_id;
  a.acknowledged_by_name = actor.name;
  a.acknowledged_at = now;
  a.ack_note = note;
  a.updated_at = now;
  render_annotations(a);
  change(id, "acknowledged", "firing", std::move(note), actor.user_id, actor.name);
  flush([this, scope, id, done = std::move(done)](core::Result<void> r) {
    if (!r) return done(r.error());
    auto got = get_alert(scope, id);
    if (!got) return done(got.error());
    done(std::move(got->alert));
  });
}

void EngineImpl::resolve(core::OrgScope scope, std::int64_t id, Actor actor, std::string reason,
                         Callback<Alert> done) {
  auto* oa = find_open_in(scope, id);
  if (!oa) {
    auto stored = get_alert(scope, id);
    if (!stored) return post(std::move(done), core::Result<Alert>(stored.error()));
    return post(std::move(done), core::Result<Alert>(core::Error{core::Errc::kConflict,
                                                                 "the alert is already resolved"}));
  }
  auto a = oa->alert;
  clear(id, a.value, clock_.unix_millis(), reason.empty() ? "resolved by hand" : reason);
  closed_[id].resolved_by = actor.user_id;
  auto& last = dirty_[id].back();
  if (last.history) {
    last.history->actor_id = actor.user_id;
    last.history->actor = actor.name;
  }
  auto snapshot = closed_[id];
  flush([snapshot = std::move(snapshot), done = std::move(done)](core::Result<void> r) mutable {
    if (!r) return done(r.error());
    done(std::move(snapshot));
  });
}

void EngineImpl::comment(core::OrgScope scope, std::int64_t id, Actor actor, std::string text,
                         Callback<AlertComment> done) {
  if (!find_open_in(scope, id)) {
    if (auto stored = get_alert(scope, id); !stored) {
      return post(std::move(done), core::Result<AlertComment>(stored.error()));
    }
  }
  AlertComment m;
  m.id = next_comment_id_++;
  m.alert_id = id;
  m.at = clock_.unix_millis();
  m.author_id = actor.user_id;
  m.author = actor.name;
  m.text = std::move(text);
  new_comments_.push_back(m);
  if (find_open_in(scope, id)) change(id, "commented", "", "");
  // The history keeps status changes; a comment is its own record.
  if (auto d = dirty_.find(id); d != dirty_.end() && !d->second.empty()) {
    d->second.back().history.reset();
  }
  flush([m = std::move(m), done = std::move(done)](core::Result<void> r) mutable {
    if (!r) return done(r.error());
    done(std::move(m));
  });
}

}  // namespace netpulse::alerts::detail
