// The in-app inbox: the rows a message to a user (or an in_app channel) leaves in
// inapp_notifications, what a user reads and marks read through /api/v1/me/notifications, and
// the notices the notifier itself gives an organization's admins (a channel that started
// failing, a schedule with nobody on call). Each user keeps the newest inapp_keep_per_user rows.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

std::vector<DirectoryUser> NotifierImpl::inapp_channel_users(const ChannelRecord& channel) const {
  std::vector<DirectoryUser> out;
  if (!o_.users.members) return out;
  const auto& s = channel.settings.settings;
  std::vector<std::int64_t> ids;
  if (const auto* v = s.if_contains("user_ids"); v && v->is_array()) {
    for (const auto& id : v->get_array()) {
      if (id.is_int64()) ids.push_back(id.get_int64());
    }
  }
  std::vector<std::string> roles;
  if (const auto* v = s.if_contains("roles"); v && v->is_array()) {
    for (const auto& r : v->get_array()) {
      if (r.is_string()) roles.emplace_back(r.get_string());
    }
  }
  for (auto& u : o_.users.members(channel.view.org_id)) {
    if (!u.enabled || u.org_id != channel.view.org_id) continue;
    const bool listed = std::find(ids.begin(), ids.end(), u.id) != ids.end();
    const bool of_role = std::find(roles.begin(), roles.end(), u.role) != roles.end();
    if ((ids.empty() && roles.empty()) || listed || of_role) out.push_back(std::move(u));
  }
  return out;
}

void NotifierImpl::write_inapp(std::vector<NewInapp> rows) {
  if (rows.empty()) return;
  auto shared = std::make_shared<const std::vector<NewInapp>>(std::move(rows));
  db_.write([shared, now = clock_.unix_millis(), keep = o_.inapp_keep_per_user](
                db::Connection& c) { return insert_inapp(c, *shared, now, keep); },
            loop_,
            [this, alive = std::weak_ptr<const int>(life_), shared](core::Result<void> r) {
              if (alive.expired()) return;
              if (!r) {
                log_.warn("notify", "{} in-app notice(s) not written: {}", shared->size(),
                          r.error().message);
                return;
              }
              inapp_committed(*shared);
            });
}

void NotifierImpl::inapp_committed(const std::vector<NewInapp>& rows) {
  stats_.inapp_written += rows.size();
  for (const auto& row : rows) {
    bus_.publish(
        InappAdded{row.org_id, row.user_id, row.kind, row.severity, row.title, row.alert_id});
  }
}

void NotifierImpl::notify_admins(std::int64_t org_id, std::string kind, std::string severity,
                                 std::string title, std::string text) {
  if (!o_.users.members) return;
  std::vector<NewInapp> rows;
  for (const auto& u : o_.users.members(org_id)) {
    if (u.role != "admin" || !u.enabled || u.org_id != org_id) continue;
    rows.push_back({org_id, u.id, kind, severity, title, text, std::nullopt});
  }
  write_inapp(std::move(rows));
}

void NotifierImpl::note_channel_health(const Channel& ch, const std::string& before) {
  // Told when the channel turns failing; a channel failing still (or again after a restart, as
  // stored) is not news. After a delivery it is "ok", so its next failure is told again.
  if (ch.health == "failing" && before != "failing") {
    notify_admins(ch.org_id, "channel_failing", "critical",
                  fmt::format("Channel '{}' is failing: {}", ch.name, ch.last_error),
                  fmt::format("{} attempts in a row did not deliver through channel '{}' ({}). "
                              "Its messages are retried; check its settings and the remote.",
                              ch.consecutive_failures, ch.name, ch.kind));
  }
}

core::Result<core::PageOf<InappNotification>> NotifierImpl::list_inapp(core::OrgScope scope,
                                                                       std::int64_t user_id,
                                                                       bool all, core::Page page) {
  return db_.read(
      [&](db::Connection& c) { return query_inapp(c, scope.org_id(), user_id, all, page); });
}

void NotifierImpl::mark_inapp_read(core::OrgScope scope, std::int64_t user_id, std::int64_t id,
                                   Callback<void> done) {
  db_.write<std::int64_t>(
      [org = scope.org_id(), user_id, id, now = clock_.unix_millis()](db::Connection& c) {
        return mark_inapp(c, org, user_id, id, now);
      },
      loop_,
      [id, done = std::move(done)](core::Result<std::int64_t> n) {
        if (!n) return done(n.error());
        if (*n == 0) {
          return done(core::Error(core::Errc::kNotFound,
                                  fmt::format("no in-app notification {}", id), {{"field", "id"}}));
        }
        done(core::ok());
      });
}

void NotifierImpl::mark_all_inapp_read(core::OrgScope scope, std::int64_t user_id,
                                       Callback<std::int64_t> done) {
  db_.write<std::int64_t>(
      [org = scope.org_id(), user_id, now = clock_.unix_millis()](db::Connection& c) {
        return mark_inapp(c, org, user_id, std::nullopt, now);
      },
      loop_, std::move(done));
}

}  // namespace netpulse::notify::detail
