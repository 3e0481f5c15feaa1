// On-call schedules: CRUD (kept in memory, stored as their JSON body in oncall_schedules), the
// check that a schedule names only its organization's users, the refusal to delete one a policy
// pages, and who is on call now (oncall.hpp does the arithmetic with the notifier's clock).
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::size_t kMaxSchedulesPerOrg = 200;
constexpr std::int64_t kDayMs = 86'400'000;

core::Error not_found(std::int64_t id) {
  return core::Error(core::Errc::kNotFound, fmt::format("no on-call schedule {}", id),
                     {{"field", "id"}});
}

}  // namespace

core::Result<core::PageOf<StoredSchedule>> NotifierImpl::list_schedules(core::OrgScope scope,
                                                                        core::Page page) {
  std::vector<const StoredSchedule*> mine;
  for (const auto& [id, s] : schedules_) {
    if (s.schedule.org_id == scope.org_id()) mine.push_back(&s);
  }
  return page_of<StoredSchedule>(mine.size(), page, [&](std::size_t i) { return *mine[i]; });
}

core::Result<StoredSchedule> NotifierImpl::get_schedule(core::OrgScope scope, std::int64_t id) {
  auto it = schedules_.find(id);
  if (it == schedules_.end() || it->second.schedule.org_id != scope.org_id()) return not_found(id);
  return it->second;
}

namespace {

// Every user a schedule names must be one of the organization's.
template <class Find>
core::Result<void> check_schedule_users(const OncallSchedule& s, Find&& exists) {
  for (std::size_t i = 0; i < s.rotation.users.size(); ++i) {
    if (!exists(s.rotation.users[i])) {
      const auto field = fmt::format("rotation.users[{}]", i);
      return core::invalid_field(
          field, fmt::format("no user {} in this organization", s.rotation.users[i]));
    }
  }
  for (std::size_t i = 0; i < s.overrides.size(); ++i) {
    if (!exists(s.overrides[i].user_id)) {
      const auto field = fmt::format("overrides[{}].user_id", i);
      return core::invalid_field(
          field, fmt::format("no user {} in this organization", s.overrides[i].user_id));
    }
  }
  return core::ok();
}

}  // namespace

void NotifierImpl::create_schedule(core::OrgScope scope, OncallSchedule schedule,
                                   Callback<StoredSchedule> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  schedule.org_id = scope.org_id();
  schedule.id = 0;
  if (auto ok = validate_oncall(schedule); !ok) return fail(ok.error());
  auto exists = [&](std::int64_t user) { return find_user(scope.org_id(), user).has_value(); };
  if (auto ok = check_schedule_users(schedule, exists); !ok) return fail(ok.error());
  const auto count = std::count_if(schedules_.begin(), schedules_.end(), [&](const auto& kv) {
    return kv.second.schedule.org_id == scope.org_id();
  });
  if (static_cast<std::size_t>(count) >= kMaxSchedulesPerOrg) {
    return fail(core::Error(
        core::Errc::kConflict,
        fmt::format("an organization may have at most {} on-call schedules", kMaxSchedulesPerOrg)));
  }
  StoredSchedule stored{std::move(schedule), clock_.unix_seconds(), clock_.unix_seconds()};
  db_.write<std::int64_t>([stored](db::Connection& c) { return insert_schedule(c, stored); }, loop_,
                          [this, alive = std::weak_ptr<const int>(life_), stored,
                           done = std::move(done)](core::Result<std::int64_t> id) mutable {
                            if (!id) return done(id.error());
                            if (alive.expired())
                              return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
                            stored.schedule.id = *id;
                            schedules_[*id] = stored;
                            done(std::move(stored));
                          });
}

void NotifierImpl::replace_schedule(core::OrgScope scope, std::int64_t id, OncallSchedule schedule,
                                    Callback<StoredSchedule> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  auto current = get_schedule(scope, id);
  if (!current) return fail(current.error());
  schedule.org_id = scope.org_id();
  schedule.id = id;
  if (auto ok = validate_oncall(schedule); !ok) return fail(ok.error());
  auto exists = [&](std::int64_t user) { return find_user(scope.org_id(), user).has_value(); };
  if (auto ok = check_schedule_users(schedule, exists); !ok) return fail(ok.error());
  StoredSchedule stored{std::move(schedule), current->created_at, clock_.unix_seconds()};
  db_.write([stored](db::Connection& c) { return update_schedule_row(c, stored); }, loop_,
            [this, alive = std::weak_ptr<const int>(life_), stored,
             done = std::move(done)](core::Result<void> r) mutable {
              if (!r) return done(r.error());
              if (alive.expired())
                return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
              schedules_[stored.schedule.id] = stored;
              done(std::move(stored));
            });
}

void NotifierImpl::delete_schedule(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  if (auto current = get_schedule(scope, id); !current) {
    return boost::asio::post(loop_, [done = std::move(done), e = current.error()] { done(e); });
  }
  // A policy that still pages it would lose a target silently: refused, naming the policy.
  for (const auto& p : policies_[scope.org_id()]) {
    auto names = [&](const std::vector<PolicyTarget>& ts) {
      return std::any_of(ts.begin(), ts.end(), [&](const PolicyTarget& t) {
        return t.kind == PolicyTarget::Kind::kSchedule && t.id == id;
      });
    };
    bool used = names(p.policy.targets);
    for (const auto& step : p.policy.escalation) used = used || names(step.targets);
    if (used) {
      return boost::asio::post(loop_, [done = std::move(done), name = p.policy.name] {
        done(core::Error(core::Errc::kConflict,
                         fmt::format("policy '{}' pages this schedule: change it first", name),
                         {{"field", "id"}, {"policy", name}}));
      });
    }
  }
  db_.write(
      [org = scope.org_id(), id](db::Connection& c) { return delete_schedule_row(c, org, id); },
      loop_,
      [this, alive = std::weak_ptr<const int>(life_), id,
       done = std::move(done)](core::Result<void> r) {
        if (r && !alive.expired()) schedules_.erase(id);
        done(std::move(r));
      });
}

core::Result<OncallNow> NotifierImpl::oncall_now(core::OrgScope scope, std::int64_t id) {
  auto s = get_schedule(scope, id);
  if (!s) return s.error();
  OncallNow out;
  out.at = clock_.unix_millis();
  out.user_id = on_call_at(s->schedule, out.at);
  out.next = shifts(s->schedule, out.at, out.at + 14 * kDayMs, 50);
  if (out.user_id) {
    // The current shift as far as 90 days ahead: its end is when the next user takes over.
    auto current = shifts(s->schedule, out.at, out.at + 90 * kDayMs, 2);
    if (!current.empty() && current.front().start_ms == out.at) {
      std::int64_t end = current.front().end_ms;
      if (current.size() > 1 && current[1].user_id == *out.user_id && current[1].start_ms == end)
        end = current[1].end_ms;
      out.until = end;
    }
  }
  return out;
}

}  // namespace netpulse::notify::detail
