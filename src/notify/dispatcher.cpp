// The dispatcher's transitions and timing (detail/dispatcher.hpp).
#include "detail/dispatcher.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <netpulse/core/random.hpp>

namespace netpulse::notify::detail {

namespace {

std::string key16(std::string_view text) {
  return core::to_hex(core::sha256(text)).substr(0, 16);
}

std::int64_t seconds(std::int64_t s) {
  return std::max<std::int64_t>(0, s) * 1000;
}

// Orders lists of targets (the resolution's recipients) so equal lists meet.
struct TargetsLess {
  bool operator()(const std::vector<Target>& a, const std::vector<Target>& b) const noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), TargetLess{});
  }
};

bool notifiable(const alerts::Alert& a) {
  return a.status == alerts::AlertStatus::kFiring && !a.symptom_of && !a.silenced && !a.flapping;
}

}  // namespace

std::map<std::string, std::string> policy_labels(const alerts::Alert& a) {
  auto labels = a.labels;
  labels.emplace("alertname", a.rule_name);
  labels.emplace("severity", std::string(alerts::severity_name(a.severity)));
  if (!a.device_name.empty()) labels.emplace("device", a.device_name);
  return labels;
}

Dispatcher::Dispatcher(Router router) : router_(std::move(router)) {}

std::string Dispatcher::fingerprint(const alerts::Alert& a) {
  return key16(fmt::format("{}:{}:{}", a.org_id, a.rule_id, a.subject));
}

Dispatcher::Group& Dispatcher::group_for(const alerts::Alert& a, const Policy& p) {
  const auto labels = policy_labels(a);
  auto key = group_key(p, labels);
  auto [it, fresh] = groups_.try_emplace(key);
  auto& g = it->second;
  if (fresh) {
    g.org_id = a.org_id;
    g.key = key;
    g.labels = group_labels(p, labels);
  }
  g.policy = p;  // the policy as it stands now
  alert_groups_[a.id].insert(key);
  return g;
}

void Dispatcher::on_alert(const alerts::AlertChanged& e, std::int64_t now) {
  ++stats_.transitions;
  // Every group the event touched is rescheduled once it has been handled.
  std::vector<std::string> touched;
  transition(e, now, touched);
  for (const auto& key : touched) reschedule(key);
}

void Dispatcher::restore(const alerts::Alert& a, const std::vector<SentBefore>& sent,
                         std::int64_t now) {
  std::vector<std::string> touched;
  transition(alerts::AlertChanged{a.org_id, a, "restored"}, now, touched);
  if (!sent.empty() && a.status != alerts::AlertStatus::kPending) {
    for (const auto& policy : router_(a)) {
      auto before = std::find_if(sent.begin(), sent.end(),
                                 [&](const SentBefore& b) { return b.policy_id == policy.id; });
      if (before == sent.end()) continue;
      auto& g = group_for(a, policy);
      touched.push_back(g.key);
      g.new_firing.erase(a.id);  // it went out before
      g.digest.erase(a.id);
      auto& s = g.sent[a.id];
      s.told.insert(before->told.begin(), before->told.end());
      s.first_sent_ms = before->first_sent_ms;
      s.next_step = 0;
      const auto& steps = policy.escalation;
      while (before->last_escalation_ms && s.next_step < static_cast<int>(steps.size()) &&
             *before->last_escalation_ms >=
                 s.first_sent_ms + seconds(steps[static_cast<std::size_t>(s.next_step)].after_s)) {
        ++s.next_step;
      }
      // Acknowledged, or held (a symptom, silenced, flapping): no repeats, no escalation; the
      // resolved message still goes to everyone told.
      s.acknowledged = !notifiable(a);
      g.last_sent_ms = std::max(g.last_sent_ms, before->last_sent_ms);
      g.last_repeat_ms = std::max(g.last_repeat_ms, before->last_sent_ms);
      // The flush the transition scheduled for it has nothing left to send.
      if (g.new_firing.empty() && g.resolved.empty() && g.acked.empty()) g.flush_at.reset();
    }
  }
  for (const auto& key : touched) reschedule(key);
}

void Dispatcher::transition(const alerts::AlertChanged& e, std::int64_t now,
                            std::vector<std::string>& touched) {
  const auto& a = e.alert;
  const auto& t = e.transition;
  auto each_group = [&](auto&& fn) {
    auto it = alert_groups_.find(a.id);
    if (it == alert_groups_.end()) return;
    for (const auto& key : it->second) {
      if (auto g = groups_.find(key); g != groups_.end()) {
        fn(g->second);
        touched.push_back(key);
      }
    }
  };

  if (t == "flapping") flapping_.insert(a.id);
  if (t == "settled") flapping_.erase(a.id);

  if (a.status == alerts::AlertStatus::kResolved) {
    each_group([&](Group& g) { resolve(g, a, now); });
    alert_groups_.erase(a.id);
    flapping_.erase(a.id);
    return;
  }
  if (a.status == alerts::AlertStatus::kAcknowledged) {
    each_group([&](Group& g) { acknowledge(g, a, now); });
    return;
  }
  if (a.status != alerts::AlertStatus::kFiring) return;  // pending: nothing yet

  if (!notifiable(a) || flapping_.contains(a.id)) {
    if (a.symptom_of) {
      ++stats_.symptoms_held;
    } else if (a.silenced) {
      ++stats_.silenced_held;
    } else {
      ++stats_.flapping_held;
    }
    each_group([&](Group& g) { withdraw(g, a.id); });
    return;
  }
  // Firing and notifiable: a first firing, a symptom become root, unsilenced, settled, or a
  // change of its fields (updated, commented), which only refreshes what will be sent.
  for (const auto& policy : router_(a)) {
    const auto mode = delivery_mode(policy, alerts::severity_name(a.severity));
    if (mode == DeliveryMode::kRecord) {
      ++stats_.recorded_only;
      continue;
    }
    auto& g = group_for(a, policy);
    touched.push_back(g.key);
    if (mode == DeliveryMode::kDigest) {
      g.digest[a.id] = a;
      if (!g.digest_at) g.digest_at = now + seconds(policy.digest_interval_s);
      continue;
    }
    fire(g, a, now);
  }
}

void Dispatcher::fire(Group& g, const alerts::Alert& a, std::int64_t now) {
  g.firing[a.id] = a;
  auto sent = g.sent.find(a.id);
  if (sent == g.sent.end()) {
    g.new_firing.insert(a.id);
    schedule_flush(g, now);
  } else {
    // Back from silence, symptom or flapping after it went out: its escalation goes on.
    sent->second.acknowledged = false;
  }
}

void Dispatcher::resolve(Group& g, const alerts::Alert& a, std::int64_t now) {
  g.firing.erase(a.id);
  g.new_firing.erase(a.id);
  g.acked.erase(a.id);
  if (auto d = g.digest.find(a.id); d != g.digest.end()) d->second = a;  // shown as resolved
  if (g.sent.contains(a.id)) {
    g.resolved[a.id] = a;
    schedule_flush(g, now);
  }
}

void Dispatcher::acknowledge(Group& g, const alerts::Alert& a, std::int64_t now) {
  g.firing.erase(a.id);
  g.new_firing.erase(a.id);
  auto sent = g.sent.find(a.id);
  if (sent == g.sent.end() || sent->second.acknowledged) return;
  sent->second.acknowledged = true;
  g.acked[a.id] = a;
  schedule_flush(g, now);
}

void Dispatcher::withdraw(Group& g, std::int64_t alert_id) {
  g.new_firing.erase(alert_id);
  g.firing.erase(alert_id);
  g.digest.erase(alert_id);
  // One that went out stops repeating and escalating (its root's, the silence's or the
  // settling's turn now); it still gets its resolved message.
  if (auto sent = g.sent.find(alert_id); sent != g.sent.end()) sent->second.acknowledged = true;
}

void Dispatcher::schedule_flush(Group& g, std::int64_t now) {
  std::int64_t at = now + seconds(g.policy.group_wait_s);
  if (g.last_sent_ms > 0) at = std::max(at, g.last_sent_ms + seconds(g.policy.group_interval_s));
  if (!g.flush_at || at < *g.flush_at) g.flush_at = at;
}

Dispatch Dispatcher::make(const Group& g, MessageKind kind) const {
  Dispatch d;
  d.org_id = g.org_id;
  d.policy_id = g.policy.id;
  d.policy_name = g.policy.name;
  d.kind = kind;
  d.group_key = g.key;
  d.group_labels = g.labels;
  return d;
}

void Dispatcher::flush(Group& g, std::int64_t now, std::vector<Dispatch>& out) {
  g.flush_at.reset();
  if (!g.new_firing.empty()) {
    auto d = make(g, MessageKind::kFiring);
    d.targets = g.policy.targets;
    for (auto id : g.new_firing) {
      auto it = g.firing.find(id);
      if (it == g.firing.end()) continue;
      d.alerts.push_back(it->second);
      auto& s = g.sent[id];
      s.told.insert(g.policy.targets.begin(), g.policy.targets.end());
      s.first_sent_ms = now;
      s.next_step = 0;
    }
    g.new_firing.clear();
    if (!d.alerts.empty()) {
      g.last_sent_ms = now;
      g.last_repeat_ms = now;
      out.push_back(std::move(d));
    }
  }
  if (!g.acked.empty()) {
    auto d = make(g, MessageKind::kAcknowledged);
    TargetSet to(g.policy.targets.begin(), g.policy.targets.end());
    for (auto& [id, a] : g.acked) {
      d.alerts.push_back(a);
      if (auto s = g.sent.find(id); s != g.sent.end())
        to.insert(s->second.told.begin(), s->second.told.end());
    }
    d.targets.assign(to.begin(), to.end());
    g.acked.clear();
    out.push_back(std::move(d));
  }
  if (!g.resolved.empty()) {
    // Every target told of a firing hears of its resolution: one message per set of targets.
    std::map<std::vector<Target>, std::vector<alerts::Alert>, TargetsLess> by_targets;
    for (auto& [id, a] : g.resolved) {
      auto s = g.sent.find(id);
      if (s == g.sent.end()) continue;
      by_targets[std::vector<Target>(s->second.told.begin(), s->second.told.end())].push_back(a);
      g.sent.erase(s);
    }
    g.resolved.clear();
    for (auto& [to, list] : by_targets) {
      auto d = make(g, MessageKind::kResolved);
      d.targets = to;
      d.alerts = std::move(list);
      out.push_back(std::move(d));
    }
    g.last_sent_ms = now;
  }
}

void Dispatcher::escalate(Group& g, std::int64_t now, std::vector<Dispatch>& out) {
  const auto& steps = g.policy.escalation;
  // The alerts due for each step, one message per step.
  std::map<int, std::vector<std::int64_t>> due;
  for (auto& [id, s] : g.sent) {
    if (s.acknowledged || !g.firing.contains(id)) continue;
    while (s.next_step < static_cast<int>(steps.size()) &&
           now >= s.first_sent_ms + seconds(steps[static_cast<std::size_t>(s.next_step)].after_s)) {
      due[s.next_step].push_back(id);
      ++s.next_step;
    }
  }
  for (auto& [step, ids] : due) {
    auto d = make(g, MessageKind::kEscalation);
    d.escalation_step = step;
    d.targets = steps[static_cast<std::size_t>(step)].targets;
    for (auto id : ids) {
      d.alerts.push_back(g.firing.at(id));
      g.sent[id].told.insert(d.targets.begin(), d.targets.end());
    }
    out.push_back(std::move(d));
  }
}

void Dispatcher::process(Group& g, std::int64_t now, std::vector<Dispatch>& out) {
  if (g.flush_at && *g.flush_at <= now) flush(g, now, out);
  if (g.digest_at && *g.digest_at <= now) {
    g.digest_at.reset();
    if (!g.digest.empty()) {
      auto d = make(g, MessageKind::kDigest);
      d.targets = g.policy.targets;
      for (auto& [id, a] : g.digest) d.alerts.push_back(a);
      g.digest.clear();
      out.push_back(std::move(d));
    }
  }
  escalate(g, now, out);
  if (g.policy.repeat_interval_s > 0 && g.last_repeat_ms > 0 &&
      now >= g.last_repeat_ms + seconds(g.policy.repeat_interval_s)) {
    auto d = make(g, MessageKind::kFiring);
    d.targets = g.policy.targets;
    for (auto& [id, s] : g.sent) {
      if (!s.acknowledged && g.firing.contains(id)) d.alerts.push_back(g.firing.at(id));
    }
    g.last_repeat_ms = now;
    if (!d.alerts.empty()) out.push_back(std::move(d));
  }
}

std::vector<Dispatch> Dispatcher::tick(std::int64_t now) {
  std::vector<Dispatch> out;
  while (!schedule_.empty() && schedule_.begin()->first <= now) {
    auto key = schedule_.begin()->second;
    schedule_.erase(schedule_.begin());
    auto it = groups_.find(key);
    if (it == groups_.end()) continue;
    it->second.scheduled.reset();
    process(it->second, now, out);
    reschedule(key);
  }
  for (auto& d : out) {
    ++stats_.dispatches;
    stats_.alerts_sent += d.alerts.size();
  }
  return out;
}

void Dispatcher::reschedule(const std::string& key) {
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  auto& g = it->second;
  if (g.scheduled) schedule_.erase({*g.scheduled, key});
  g.scheduled.reset();
  const bool idle = g.firing.empty() && g.sent.empty() && g.digest.empty() &&
                    g.new_firing.empty() && g.resolved.empty() && g.acked.empty();
  if (idle) {
    groups_.erase(it);
    return;
  }
  if (auto at = next_due(g)) {
    g.scheduled = *at;
    schedule_.emplace(*at, key);
  }
}

std::optional<std::int64_t> Dispatcher::next_due(const Group& g) const {
  std::optional<std::int64_t> at;
  auto take = [&](std::int64_t t) { at = at ? std::min(*at, t) : t; };
  if (g.flush_at) take(*g.flush_at);
  if (g.digest_at) take(*g.digest_at);
  bool repeating = false;
  for (const auto& [id, s] : g.sent) {
    if (s.acknowledged || !g.firing.contains(id)) continue;
    repeating = true;
    if (s.next_step < static_cast<int>(g.policy.escalation.size())) {
      take(s.first_sent_ms +
           seconds(g.policy.escalation[static_cast<std::size_t>(s.next_step)].after_s));
    }
  }
  if (repeating && g.policy.repeat_interval_s > 0) {
    take(g.last_repeat_ms + seconds(g.policy.repeat_interval_s));
  }
  return at;
}

std::optional<std::int64_t> Dispatcher::next_due() const {
  if (schedule_.empty()) return std::nullopt;
  return schedule_.begin()->first;
}

void Dispatcher::forget_org(std::int64_t org_id) {
  std::erase_if(groups_, [&](const auto& kv) { return kv.second.org_id == org_id; });
  std::erase_if(schedule_, [&](const auto& entry) { return !groups_.contains(entry.second); });
  for (auto it = alert_groups_.begin(); it != alert_groups_.end();) {
    std::erase_if(it->second, [&](const std::string& key) { return !groups_.contains(key); });
    it = it->second.empty() ? alert_groups_.erase(it) : std::next(it);
  }
}

DispatcherStats Dispatcher::stats() const {
  auto s = stats_;
  s.groups = groups_.size();
  s.tracked_alerts = alert_groups_.size();
  return s;
}

}  // namespace netpulse::notify::detail
