// The notifier's SQL (detail/notifier_impl.hpp): channels, policies and the delivery log
// (migrations/0013_notify.sql).
#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

namespace json = boost::json;

json::object object_of(const std::string& text) {
  boost::system::error_code ec;
  auto v = core::parse_json(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

template <class T, class Fn>
core::Result<std::vector<T>> rows(db::Statement& st, Fn&& row) {
  std::vector<T> out;
  for (;;) {
    auto more = st.step();
    if (!more) return more.error();
    if (!*more) return out;
    out.push_back(row(st));
  }
}

// A channel's sealed secrets, or NULL when it has none.
void bind_sealed(db::Statement& st, int index, const std::string& sealed) {
  if (sealed.empty()) {
    st.bind(index, std::nullopt);
  } else {
    st.bind_blob(index, sealed);
  }
}

constexpr const char* kChannelColumns =
    "id, org_id, name, kind, enabled, settings, secrets, consecutive_failures, last_error, "
    "last_success_at, last_failure_at, created_at, updated_at";

ChannelRow channel_row(const db::Statement& st) {
  ChannelRow r;
  auto& v = r.view;
  v.id = st.get_int64(0);
  v.org_id = st.get_int64(1);
  v.name = st.get_text(2);
  v.kind = st.get_text(3);
  v.enabled = st.get_int64(4) != 0;
  v.settings = object_of(st.get_text(5));
  r.sealed_secrets = st.is_null(6) ? std::string() : st.get_blob(6);
  v.consecutive_failures = static_cast<int>(st.get_int64(7));
  v.last_error = st.get_text(8);
  v.last_success_at = st.get_optional_int64(9);
  v.last_failure_at = st.get_optional_int64(10);
  v.created_at = st.get_int64(11);
  v.updated_at = st.get_int64(12);
  return r;
}

constexpr const char* kPolicyColumns =
    "id, org_id, name, position, enabled, body, created_at, updated_at";

core::Result<StoredPolicy> policy_row(const db::Statement& st) {
  boost::system::error_code ec;
  auto body = core::parse_json(st.get_text(5), ec);
  if (ec) return core::Error(core::Errc::kDatabaseError, "a stored policy is not JSON");
  auto p = policy_from_json(body);
  if (!p) {
    return core::Error(
        core::Errc::kDatabaseError,
        fmt::format("stored policy {} does not read back: {}", st.get_int64(0), p.error().message));
  }
  StoredPolicy out{std::move(*p), st.get_int64(6), st.get_int64(7)};
  out.policy.id = st.get_int64(0);
  out.policy.org_id = st.get_int64(1);
  out.policy.name = st.get_text(2);
  out.policy.position = st.get_int64(3);
  out.policy.enabled = st.get_int64(4) != 0;
  return out;
}

constexpr const char* kNotificationColumns =
    "id, org_id, channel_id, channel_name, policy_id, recipient_user, kind, severity, title, "
    "status, attempts, sends_unsure, next_attempt_at, last_status, last_error, created_at, "
    "updated_at, delivered_at";

Notification notification_row(const db::Statement& st) {
  Notification n;
  n.id = st.get_int64(0);
  n.org_id = st.get_int64(1);
  n.channel_id = st.get_int64(2);
  n.channel_name = st.get_text(3);
  n.policy_id = st.get_optional_int64(4);
  n.recipient_user = st.get_optional_int64(5);
  n.kind = st.get_text(6);
  n.severity = st.get_text(7);
  n.title = st.get_text(8);
  n.status = st.get_text(9);
  n.attempts = static_cast<int>(st.get_int64(10));
  n.sends_unsure = static_cast<int>(st.get_int64(11));
  n.next_attempt_at = st.get_int64(12);
  if (auto s = st.get_optional_int64(13)) n.last_status = static_cast<int>(*s);
  n.last_error = st.get_text(14);
  n.created_at = st.get_int64(15);
  n.updated_at = st.get_int64(16);
  n.delivered_at = st.get_optional_int64(17);
  return n;
}

core::Result<void> fill_alert_ids(db::Connection& c, Notification& n) {
  auto ids = alert_ids_of(c, n.id);
  if (!ids) return ids.error();
  n.alert_ids = std::move(*ids);
  return core::ok();
}

}  // namespace

core::Result<std::map<std::int64_t, std::vector<SentBefore>>> load_sent_before(
    db::Connection& c, const std::vector<std::int64_t>& alert_ids) {
  std::map<std::int64_t, std::vector<SentBefore>> out;
  auto st = c.prepare(
      "SELECT n.policy_id, n.channel_id, n.recipient_user, n.kind, n.created_at "
      "FROM notification_alerts na JOIN notifications n ON n.id = na.notification_id "
      "WHERE na.alert_id = ? AND n.kind IN ('firing', 'escalation') "
      "AND n.policy_id IS NOT NULL AND n.status <> 'cancelled' ORDER BY n.created_at, n.id");
  if (!st) return st.error();
  for (const auto alert_id : alert_ids) {
    st->reset();
    st->bind(1, alert_id);
    std::map<std::int64_t, SentBefore> by_policy;
    for (;;) {
      auto more = st->step();
      if (!more) return more.error();
      if (!*more) break;
      const auto policy_id = st->get_int64(0);
      const auto at = st->get_int64(4);
      auto [it, fresh] = by_policy.try_emplace(policy_id);
      auto& b = it->second;
      if (fresh) {
        b.policy_id = policy_id;
        b.first_sent_ms = at;
      }
      b.last_sent_ms = std::max(b.last_sent_ms, at);
      if (st->get_text(3) == "escalation") b.last_escalation_ms = at;
      // A message to a user (through their contact methods) told the user, not the channel.
      const auto user = st->get_optional_int64(2);
      const Target t = user ? Target{Target::Kind::kUser, *user}
                            : Target{Target::Kind::kChannel, st->get_int64(1)};
      if (std::find(b.told.begin(), b.told.end(), t) == b.told.end()) b.told.push_back(t);
    }
    for (auto& [policy_id, b] : by_policy) out[alert_id].push_back(std::move(b));
  }
  return out;
}

core::Result<std::vector<ChannelRow>> load_channels(db::Connection& c) {
  auto st = c.prepare(std::string("SELECT ") + kChannelColumns +
                      " FROM notification_channels ORDER BY id");
  if (!st) return st.error();
  return rows<ChannelRow>(*st, channel_row);
}

core::Result<std::int64_t> insert_channel(db::Connection& c, const ChannelRow& r) {
  auto st = c.prepare(
      "INSERT INTO notification_channels (org_id, name, kind, enabled, settings, secrets, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.error();
  st->bind(1, r.view.org_id)
      .bind(2, r.view.name)
      .bind(3, r.view.kind)
      .bind(4, r.view.enabled)
      .bind(5, core::to_json_text(r.view.settings));
  bind_sealed(*st, 6, r.sealed_secrets);
  st->bind(7, r.view.created_at).bind(8, r.view.updated_at);
  if (auto ok = run_named(*st, "channel", r.view.name); !ok) return ok.error();
  return c.last_insert_rowid();
}

core::Result<void> update_channel_row(db::Connection& c, const ChannelRow& r) {
  auto st = c.prepare(
      "UPDATE notification_channels SET name = ?, enabled = ?, settings = ?, secrets = ?, "
      "updated_at = ? WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, r.view.name).bind(2, r.view.enabled).bind(3, core::to_json_text(r.view.settings));
  bind_sealed(*st, 4, r.sealed_secrets);
  st->bind(5, r.view.updated_at).bind(6, r.view.id).bind(7, r.view.org_id);
  return run_named(*st, "channel", r.view.name);
}

core::Result<void> delete_channel_row(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM notification_channels WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, id).bind(2, org_id);
  return st->run();
}

core::Result<void> save_channel_health(db::Connection& c, const Channel& ch) {
  auto st = c.prepare(
      "UPDATE notification_channels SET consecutive_failures = ?, last_error = ?, "
      "last_success_at = ?, last_failure_at = ? WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, ch.consecutive_failures)
      .bind(2, ch.last_error)
      .bind(3, ch.last_success_at)
      .bind(4, ch.last_failure_at)
      .bind(5, ch.id);
  return st->run();
}

core::Result<void> run_named(db::Statement& st, std::string_view what, const std::string& name) {
  auto ok = st.run();
  if (!ok && ok.error().message.find("UNIQUE") != std::string::npos) {
    return core::Error(core::Errc::kConflict,
                       fmt::format("a {} named '{}' exists already", what, name),
                       {{"field", "name"}});
  }
  return ok;
}

core::Result<std::vector<StoredPolicy>> load_policies(db::Connection& c) {
  auto st = c.prepare(std::string("SELECT ") + kPolicyColumns +
                      " FROM notification_policies ORDER BY org_id, position, id");
  if (!st) return st.error();
  std::vector<StoredPolicy> out;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) return out;
    auto p = policy_row(*st);
    if (!p) return p.error();
    out.push_back(std::move(*p));
  }
}

core::Result<std::int64_t> insert_policy(db::Connection& c, const StoredPolicy& p) {
  auto st = c.prepare(
      "INSERT INTO notification_policies (org_id, name, position, enabled, body, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.error();
  st->bind(1, p.policy.org_id)
      .bind(2, p.policy.name)
      .bind(3, p.policy.position)
      .bind(4, p.policy.enabled)
      .bind(5, core::to_json_text(to_json(p.policy)))
      .bind(6, p.created_at)
      .bind(7, p.updated_at);
  if (auto ok = run_named(*st, "policy", p.policy.name); !ok) return ok.error();
  return c.last_insert_rowid();
}

core::Result<void> update_policy_row(db::Connection& c, const StoredPolicy& p) {
  auto st = c.prepare(
      "UPDATE notification_policies SET name = ?, position = ?, enabled = ?, body = ?, "
      "updated_at = ? WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, p.policy.name)
      .bind(2, p.policy.position)
      .bind(3, p.policy.enabled)
      .bind(4, core::to_json_text(to_json(p.policy)))
      .bind(5, p.updated_at)
      .bind(6, p.policy.id)
      .bind(7, p.policy.org_id);
  return run_named(*st, "policy", p.policy.name);
}

core::Result<void> delete_policy_row(db::Connection& c, std::int64_t org_id, std::int64_t id) {
  auto st = c.prepare("DELETE FROM notification_policies WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, id).bind(2, org_id);
  return st->run();
}

core::Result<core::PageOf<Notification>> query_notifications(db::Connection& c, std::int64_t org_id,
                                                             const NotificationFilter& f,
                                                             core::Page page) {
  std::string where = " WHERE n.org_id = ?";
  if (f.alert_id) {
    where += " AND n.id IN (SELECT notification_id FROM notification_alerts WHERE alert_id = ?)";
  }
  if (f.channel_id) where += " AND n.channel_id = ?";
  if (f.status) where += " AND n.status = ?";
  auto bind = [&](db::Statement& st) {
    int i = 1;
    st.bind(i++, org_id);
    if (f.alert_id) st.bind(i++, *f.alert_id);
    if (f.channel_id) st.bind(i++, *f.channel_id);
    if (f.status) st.bind(i++, *f.status);
    return i;
  };
  core::PageOf<Notification> out;
  auto count = c.prepare("SELECT COUNT(*) FROM notifications n" + where);
  if (!count) return count.error();
  bind(*count);
  if (auto more = count->step(); !more) return more.error();
  out.total = count->get_int64(0);
  auto st = c.prepare(std::string("SELECT ") + kNotificationColumns + " FROM notifications n" +
                      where + " ORDER BY n.id DESC LIMIT ? OFFSET ?");
  if (!st) return st.error();
  const int next = bind(*st);
  st->bind(next, page.per_page)
      .bind(next + 1, static_cast<std::int64_t>(page.page - 1) * page.per_page);
  auto items = rows<Notification>(*st, notification_row);
  if (!items) return items.error();
  out.items = std::move(*items);
  for (auto& n : out.items) {
    if (auto ok = fill_alert_ids(c, n); !ok) return ok.error();
  }
  return out;
}

core::Result<Notification> query_notification(db::Connection& c, std::int64_t org_id,
                                              std::int64_t id) {
  auto st = c.prepare(std::string("SELECT ") + kNotificationColumns +
                      " FROM notifications WHERE id = ? AND org_id = ?");
  if (!st) return st.error();
  st->bind(1, id).bind(2, org_id);
  auto more = st->step();
  if (!more) return more.error();
  if (!*more) {
    return core::Error(core::Errc::kNotFound, fmt::format("no notification {}", id),
                       {{"field", "id"}});
  }
  auto n = notification_row(*st);
  if (auto ok = fill_alert_ids(c, n); !ok) return ok.error();
  auto at = c.prepare(
      "SELECT attempt, started_at, latency_ms, outcome, remote_status, detail FROM "
      "notification_attempts WHERE notification_id = ? ORDER BY attempt, id");
  if (!at) return at.error();
  at->bind(1, id);
  auto attempts = rows<NotificationAttempt>(*at, [](const db::Statement& s) {
    NotificationAttempt a;
    a.attempt = static_cast<int>(s.get_int64(0));
    a.started_at = s.get_int64(1);
    a.latency_ms = s.get_int64(2);
    a.outcome = s.get_text(3);
    if (auto r = s.get_optional_int64(4)) a.remote_status = static_cast<int>(*r);
    a.detail = s.get_text(5);
    return a;
  });
  if (!attempts) return attempts.error();
  n.attempt_log = std::move(*attempts);
  return n;
}

}  // namespace netpulse::notify::detail
