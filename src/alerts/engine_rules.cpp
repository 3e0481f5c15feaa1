// Rules: compiled (selector parsed, templates parsed), indexed per organization (by metric name
// for the sample kinds, by kind for the event kinds), saved through the db writer, and the
// default rule set given to each organization once.
#include <algorithm>

#include <fmt/format.h>

#include "detail/alerts_sql.hpp"
#include "detail/default_rules.hpp"
#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

bool sample_kind(RuleKind k) noexcept {
  return k == RuleKind::kThreshold || k == RuleKind::kNoData || k == RuleKind::kAnomaly ||
         k == RuleKind::kForecast;
}

core::Error rule_not_found() {
  return core::Error{core::Errc::kNotFound, "no such alert rule"};
}

// Saves the rule; a name the organization already uses is a conflict naming the field.
core::Result<StoredRule> save_named(db::Connection& c, StoredRule s) {
  if (auto r = save_rule(c, s); !r) {
    if (r.error().code == core::Errc::kConflict) {
      return core::Error{core::Errc::kConflict,
                         "name: the organization already has a rule of that name",
                         {{"field", "name"}}};
    }
    return r.error();
  }
  return s;
}

}  // namespace

core::Result<std::shared_ptr<CompiledRule>> EngineImpl::compile(StoredRule stored) {
  auto c = std::make_shared<CompiledRule>();
  const auto& r = stored.rule;
  if (sample_kind(r.kind)) {
    auto sel = tsdb::Selector::parse(r.selector);
    if (!sel) return sel.error();
    c->selector = std::move(*sel);
  } else if (r.kind == RuleKind::kCheckFailing && r.tls_days > 0) {
    // The certificate part of a check rule watches the checks' expiry series.
    c->selector = *tsdb::Selector::parse("tls_cert_expiry_days");
  }
  switch (r.kind) {
    case RuleKind::kThreshold:
      c->condition = r.condition;
      break;
    case RuleKind::kAnomaly:
      c->condition = Condition{ConditionFn::kValue, 0, CompareOp::kGreater,
                               r.anomaly ? r.anomaly->sensitivity : 3.0, std::nullopt};
      break;
    case RuleKind::kForecast:
      c->condition =
          Condition{ConditionFn::kValue, 0, CompareOp::kLessEqual,
                    static_cast<double>(r.forecast ? r.forecast->horizon_s : 0), std::nullopt};
      break;
    case RuleKind::kCheckFailing:
      if (r.tls_days > 0) {
        c->condition = Condition{ConditionFn::kValue, 0, CompareOp::kLess,
                                 static_cast<double>(r.tls_days), std::nullopt};
      }
      break;
    default:
      break;
  }
  if (r.trap) {
    for (auto& [key, pattern] : r.trap->varbinds) {
      auto re = std::make_shared<const RE2>(pattern, RE2::Quiet);
      if (!re->ok()) return core::invalid_field("trap.varbinds." + key, re->error());
      c->trap_patterns.emplace_back(key, std::move(re));
    }
  }
  for (auto& [name, text] : r.annotations) {
    auto t = AnnotationTemplate::parse(text, "annotations." + name);
    if (!t) return t.error();
    c->templates.emplace(name, std::move(*t));
  }
  c->kind = r.kind;
  c->for_duration_ms = r.for_s * 1000;
  c->stored = std::move(stored);
  c->version = next_rule_version_++;
  return c;
}

// What validate_rule cannot know: that the devices a scope names are the caller's.
core::Result<void> EngineImpl::check_rule_for_org(core::OrgScope scope, const Rule& rule) const {
  if (auto r = validate_rule(rule); !r) return r;
  for (std::size_t i = 0; i < rule.scope.device_ids.size(); ++i) {
    if (!inventory_.get(scope, rule.scope.device_ids[i])) {
      return core::invalid_field(
          "scope.device_ids",
          fmt::format("no device {} in this organization", rule.scope.device_ids[i]));
    }
  }
  for (auto g : rule.scope.group_ids) {
    if (!inventory_.get_group(scope, g)) {
      return core::invalid_field("scope.group_ids",
                                 fmt::format("no device group {} in this organization", g));
    }
  }
  auto it = orgs_.find(scope.org_id());
  if (rule.id == 0 && it != orgs_.end() && it->second.by_id.size() >= o_.max_rules_per_org) {
    return core::Error{
        core::Errc::kConflict,
        fmt::format("the organization has {} rules, the most it may have", o_.max_rules_per_org)};
  }
  return core::ok();
}

void EngineImpl::install(RulePtr rule) {
  const auto org = rule->rule().org_id;
  orgs_[org].by_id[rule->rule().id] = std::move(rule);
  reindex(org);
}

void EngineImpl::uninstall(std::int64_t org_id, std::int64_t rule_id) {
  auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return;
  it->second.by_id.erase(rule_id);
  reindex(org_id);
}

void EngineImpl::reindex(std::int64_t org_id) {
  auto& org = orgs_[org_id];
  org.by_label.clear();
  org.by_metric.clear();
  org.any_metric.clear();
  for (auto& k : org.by_kind) k.clear();
  for (auto& [id, rule] : org.by_id) {
    if (!rule->rule().enabled) continue;
    org.by_kind[static_cast<std::size_t>(rule->rule().kind)].push_back(rule);
    if (!rule->selector) continue;
    if (rule->selector->metric()) {
      const auto& metric = *rule->selector->metric();
      // The first `label="value"` matcher with a value (an empty one means "label absent").
      const auto& ms = rule->selector->matchers();
      auto eq = std::find_if(ms.begin(), ms.end(), [](const tsdb::Matcher& m) {
        return m.op == tsdb::MatchOp::kEqual && !m.value.empty() && m.name != "__name__";
      });
      if (eq != ms.end()) {
        org.by_label[label_key(metric, eq->name, eq->value)].push_back(rule);
      } else {
        org.by_metric[metric].push_back(rule);
      }
    } else {
      org.any_metric.push_back(rule);
    }
  }
  ++generation_;  // every series is bound again at its next sample
}

std::string label_key(std::string_view metric, std::string_view name, std::string_view value) {
  std::string key;
  key.reserve(metric.size() + name.size() + value.size() + 2);
  key.append(metric).push_back('\0');
  key.append(name).push_back('\0');
  key.append(value);
  return key;
}

bool EngineImpl::in_scope(const Rule& rule, const DeviceFacts* d) const {
  const auto& s = rule.scope;
  if (s.device_ids.empty() && s.group_ids.empty() && s.tags.empty() && s.device_types.empty()) {
    return true;
  }
  if (!d) return false;  // a scoped rule only sees devices
  auto has = [](const auto& list, const auto& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  if (has(s.device_ids, d->id)) return true;
  // The inventory keeps a device's groups by name; the rule names them by id.
  for (auto g : s.group_ids) {
    auto group = inventory_.get_group(core::OrgScope::trusted(rule.org_id), g);
    if (group && has(d->groups, group->name)) return true;
  }
  for (auto& t : d->tags) {
    if (has(s.tags, t)) return true;
  }
  return has(s.device_types, d->type);
}

void EngineImpl::install_default_rules() {
  if (!o_.install_default_rules) return;
  const auto now_s = clock_.unix_seconds();
  auto defaults = default_rules();
  auto saved = db_.write_sync<std::vector<StoredRule>>(
      [&](db::Connection& c) -> core::Result<std::vector<StoredRule>> {
        auto orgs = orgs_without_default_rules(c);
        if (!orgs) return orgs.error();
        std::vector<StoredRule> out;
        for (auto org : *orgs) {
          for (auto& d : defaults) {
            StoredRule s;
            s.rule = d.rule;
            s.rule.org_id = org;
            s.builtin = d.key;
            s.created_at = s.updated_at = now_s;
            // A name the organization already uses (an operator's own rule): keep theirs.
            if (auto r = save_rule(c, s); !r) {
              if (r.error().code == core::Errc::kConflict) continue;
              return r.error();
            }
            out.push_back(std::move(s));
          }
          if (auto r = mark_default_rules(c, org, now_s); !r) return r.error();
        }
        return out;
      });
  if (!saved) {
    log_.error("alerts", "default rules not installed: {}", saved.error().message);
    return;
  }
  for (auto& s : *saved) {
    if (auto c = compile(std::move(s))) install(std::move(*c));
  }
}

// --- the API -----------------------------------------------------------------------------------

core::Result<core::PageOf<StoredRule>> EngineImpl::list_rules(core::OrgScope scope,
                                                              core::Page page) const {
  core::PageOf<StoredRule> out;
  auto it = orgs_.find(scope.org_id());
  if (it == orgs_.end()) return out;
  out.total = static_cast<std::int64_t>(it->second.by_id.size());
  const auto skip =
      static_cast<std::size_t>(page.page - 1) * static_cast<std::size_t>(page.per_page);
  std::size_t i = 0;
  for (auto& [id, rule] : it->second.by_id) {
    if (i++ < skip) continue;
    if (out.items.size() >= static_cast<std::size_t>(page.per_page)) break;
    out.items.push_back(rule->stored);
  }
  return out;
}

core::Result<StoredRule> EngineImpl::get_rule(core::OrgScope scope, std::int64_t id) const {
  auto it = orgs_.find(scope.org_id());
  if (it == orgs_.end()) return rule_not_found();
  auto r = it->second.by_id.find(id);
  if (r == it->second.by_id.end()) return rule_not_found();
  return r->second->stored;
}

void EngineImpl::create_rule(core::OrgScope scope, Rule rule, Callback<StoredRule> done) {
  rule.id = 0;
  rule.org_id = scope.org_id();
  if (auto r = check_rule_for_org(scope, rule); !r) return post(std::move(done), {r.error()});
  StoredRule s;
  s.rule = std::move(rule);
  s.created_at = s.updated_at = clock_.unix_seconds();
  save_and_install(std::move(s), std::move(done));
}

void EngineImpl::replace_rule(core::OrgScope scope, std::int64_t id, Rule rule,
                              Callback<StoredRule> done) {
  auto current = get_rule(scope, id);
  if (!current) return post(std::move(done), {current.error()});
  rule.id = id;
  rule.org_id = scope.org_id();
  if (auto r = check_rule_for_org(scope, rule); !r) return post(std::move(done), {r.error()});
  StoredRule s = *current;
  s.rule = std::move(rule);
  s.updated_at = clock_.unix_seconds();
  save_and_install(std::move(s), std::move(done));
}

// Compiles the rule (a mistake is answered before anything is written), saves it, then puts it
// in place: a replaced rule's open alerts resolve (they belong to the old definition) and the
// rule raises its own where its condition holds now.
void EngineImpl::save_and_install(StoredRule s, Callback<StoredRule> done) {
  auto compiled = compile(s);
  if (!compiled) return post(std::move(done), {compiled.error()});
  const bool replacing = s.rule.id != 0;
  write_value<StoredRule>(
      [s = std::move(s)](db::Connection& c) mutable { return save_named(c, std::move(s)); },
      [this, replacing, rule = std::move(*compiled),
       done = std::move(done)](core::Result<StoredRule> r) mutable {
        if (!r) return done(std::move(r));
        if (replacing) close_rule_alerts(r->rule.org_id, r->rule.id, "rule changed");
        rule->stored = *r;  // with the id the database gave
        install(rule);
        sync_rule(*rule, inventory_.all_enabled());
        flush();
        done(std::move(r));
      });
}

void EngineImpl::remove_rule(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  if (auto current = get_rule(scope, id); !current) return post(std::move(done), {current.error()});
  const auto org = scope.org_id();
  write([org, id](db::Connection& c) { return delete_rule(c, org, id); },
        [this, org, id, done = std::move(done)](core::Result<void> r) {
          if (!r) return done(std::move(r));
          close_rule_alerts(org, id, "rule deleted");
          uninstall(org, id);
          flush();
          done(core::ok());
        });
}

void EngineImpl::close_rule_alerts(std::int64_t org_id, std::int64_t rule_id,
                                   const std::string& reason) {
  std::vector<std::int64_t> ids;
  for (auto& [aid, a] : open_) {
    if (a.alert.org_id == org_id && a.alert.rule_id == rule_id) ids.push_back(aid);
  }
  const auto now = clock_.unix_millis();
  for (auto aid : ids) clear(aid, open_.at(aid).alert.value, now, reason);
}

std::map<std::int64_t, RuleStatus> EngineImpl::rule_statuses(core::OrgScope scope) const {
  std::map<std::int64_t, RuleStatus> out;
  for (auto& [aid, a] : open_) {
    if (a.alert.org_id != scope.org_id()) continue;
    auto& s = out[a.alert.rule_id];
    if (a.alert.status == AlertStatus::kPending) {
      ++s.pending;
    } else {
      ++s.firing;
    }
  }
  const auto now = clock_.unix_millis();
  series_.for_each([&](tsdb::SeriesId, const SeriesEntry& entry) {
    if (entry.org_id != scope.org_id()) return;
    for (auto& b : entry.bindings) {
      auto& s = out[b.rule->rule().id];
      ++s.subjects;
      if (b.rule->rule().kind == RuleKind::kAnomaly && warming_up(b.eval, *b.rule, now)) {
        ++s.warming_up;
      }
    }
  });
  return out;
}

RuleStatus EngineImpl::rule_status(core::OrgScope scope, std::int64_t id) const {
  auto all = rule_statuses(scope);
  auto it = all.find(id);
  return it == all.end() ? RuleStatus{} : it->second;
}

}  // namespace netpulse::alerts::detail
