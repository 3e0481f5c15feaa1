// Policies: CRUD, kept per organization in routing order, and the router the dispatcher asks.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::size_t kMaxPoliciesPerOrg = 500;

core::Error not_found(std::int64_t id) {
  return core::Error(core::Errc::kNotFound, fmt::format("no notification policy {}", id),
                     {{"field", "id"}});
}

}  // namespace

core::Result<void> NotifierImpl::check_targets(core::OrgScope scope, const Policy& p) const {
  auto check = [&](const std::vector<PolicyTarget>& targets,
                   const std::string& where) -> core::Result<void> {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const auto& t = targets[i];
      const auto field = fmt::format("{}[{}]", where, i);
      if (t.kind != PolicyTarget::Kind::kChannel) {
        if (auto ok = check_person_target(scope, t, field); !ok) return ok;
        continue;
      }
      auto c = channels_.find(t.id);
      if (c == channels_.end() || c->second.view.org_id != scope.org_id()) {
        return core::Error(core::Errc::kInvalidInput,
                           fmt::format("{}: no notification channel {}", field, t.id),
                           {{"field", field}});
      }
    }
    return core::ok();
  };
  if (auto ok = check(p.targets, "targets"); !ok) return ok;
  for (std::size_t s = 0; s < p.escalation.size(); ++s) {
    if (auto ok = check(p.escalation[s].targets, fmt::format("escalation[{}].targets", s)); !ok) {
      return ok;
    }
  }
  return core::ok();
}

void NotifierImpl::install_policy(const StoredPolicy& p) {
  auto& list = policies_[p.policy.org_id];
  std::erase_if(list, [&](const StoredPolicy& x) { return x.policy.id == p.policy.id; });
  list.push_back(p);
  compile_matchers(list.back().policy);
  std::stable_sort(list.begin(), list.end(), [](const StoredPolicy& a, const StoredPolicy& b) {
    return a.policy.position != b.policy.position ? a.policy.position < b.policy.position
                                                  : a.policy.id < b.policy.id;
  });
  rebuild_routing(p.policy.org_id);
}

void NotifierImpl::rebuild_routing(std::int64_t org_id) {
  template_cache_.clear();
  auto& routing = routing_[org_id];
  routing.clear();
  for (const auto& p : policies_[org_id]) {
    routing.push_back(p.policy);
    routing.back().templates.clear();  // see routing_
  }
}

std::vector<Policy> NotifierImpl::route_alert(const alerts::Alert& a) const {
  std::vector<Policy> out;
  auto it = routing_.find(a.org_id);
  if (it == routing_.end()) return out;
  const auto labels = policy_labels(a);
  // Device groups and tags are the alerts engine's to know; the labels carry what a policy
  // matches on (docs/notify-routing.md).
  AlertFacts facts;
  facts.severity = alerts::severity_name(a.severity);
  facts.labels = &labels;
  facts.rule_id = a.rule_id;
  facts.device_id = a.device_id;
  for (const auto* p : route(it->second, facts)) out.push_back(*p);
  return out;
}

core::Result<core::PageOf<StoredPolicy>> NotifierImpl::list_policies(core::OrgScope scope,
                                                                     core::Page page) {
  auto it = policies_.find(scope.org_id());
  if (it == policies_.end()) return core::PageOf<StoredPolicy>{};
  const auto& list = it->second;
  return page_of<StoredPolicy>(list.size(), page, [&](std::size_t i) { return list[i]; });
}

core::Result<StoredPolicy> NotifierImpl::get_policy(core::OrgScope scope, std::int64_t id) {
  auto it = policies_.find(scope.org_id());
  if (it != policies_.end()) {
    for (const auto& p : it->second) {
      if (p.policy.id == id) return p;
    }
  }
  return not_found(id);
}

void NotifierImpl::create_policy(core::OrgScope scope, Policy policy, Callback<StoredPolicy> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  policy.org_id = scope.org_id();
  policy.id = 0;
  if (auto ok = validate_policy(policy); !ok) return fail(ok.error());
  if (auto ok = check_targets(scope, policy); !ok) return fail(ok.error());
  if (policies_[scope.org_id()].size() >= kMaxPoliciesPerOrg) {
    return fail(core::Error(core::Errc::kConflict,
                            fmt::format("an organization may have at most {} notification policies",
                                        kMaxPoliciesPerOrg)));
  }
  StoredPolicy stored{std::move(policy), clock_.unix_seconds(), clock_.unix_seconds()};
  db_.write<std::int64_t>([stored](db::Connection& c) { return insert_policy(c, stored); }, loop_,
                          [this, alive = std::weak_ptr<const int>(life_), stored,
                           done = std::move(done)](core::Result<std::int64_t> id) mutable {
                            if (!id) return done(id.error());
                            if (alive.expired())
                              return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
                            stored.policy.id = *id;
                            install_policy(stored);
                            done(std::move(stored));
                          });
}

void NotifierImpl::replace_policy(core::OrgScope scope, std::int64_t id, Policy policy,
                                  Callback<StoredPolicy> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  auto current = get_policy(scope, id);
  if (!current) return fail(current.error());
  policy.org_id = scope.org_id();
  policy.id = id;
  if (auto ok = validate_policy(policy); !ok) return fail(ok.error());
  if (auto ok = check_targets(scope, policy); !ok) return fail(ok.error());
  StoredPolicy stored{std::move(policy), current->created_at, clock_.unix_seconds()};
  db_.write([stored](db::Connection& c) { return update_policy_row(c, stored); }, loop_,
            [this, alive = std::weak_ptr<const int>(life_), stored,
             done = std::move(done)](core::Result<void> r) mutable {
              if (!r) return done(r.error());
              if (alive.expired())
                return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
              install_policy(stored);
              done(std::move(stored));
            });
}

void NotifierImpl::delete_policy(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  if (auto current = get_policy(scope, id); !current) {
    return boost::asio::post(loop_, [done = std::move(done), e = current.error()] { done(e); });
  }
  db_.write([org = scope.org_id(), id](db::Connection& c) { return delete_policy_row(c, org, id); },
            loop_,
            [this, alive = std::weak_ptr<const int>(life_), org = scope.org_id(), id,
             done = std::move(done)](core::Result<void> r) {
              if (r && !alive.expired()) {
                std::erase_if(policies_[org],
                              [&](const StoredPolicy& p) { return p.policy.id == id; });
                rebuild_routing(org);
              }
              done(std::move(r));
            });
}

}  // namespace netpulse::notify::detail
