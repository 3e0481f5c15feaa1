// The outbox's SQL (detail/outbox.hpp): tables `notifications`, `notification_alerts` and
// `notification_attempts` of migrations/0013_notify.sql.
#include <string>

#include <fmt/format.h>

#include "detail/outbox.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr const char* kRowColumns =
    "id, org_id, channel_id, channel_name, policy_id, recipient_user, kind, severity, group_key, "
    "title, message, status, attempts, sends_unsure, next_attempt_at, last_status, last_error, "
    "created_at, updated_at, delivered_at";

OutboxRow row_of(const db::Statement& st) {
  OutboxRow r;
  r.id = st.get_int64(0);
  r.n.org_id = st.get_int64(1);
  r.n.channel_id = st.get_int64(2);
  r.n.channel_name = st.get_text(3);
  r.n.policy_id = st.get_optional_int64(4);
  r.n.recipient_user = st.get_optional_int64(5);
  r.n.kind = st.get_text(6);
  r.n.severity = st.get_text(7);
  r.n.group_key = st.get_text(8);
  r.n.title = st.get_text(9);
  r.n.message = st.get_text(10);
  r.status = parse_notification_status(st.get_text(11)).value_or(NotificationStatus::kPending);
  r.attempts = static_cast<int>(st.get_int64(12));
  r.sends_unsure = static_cast<int>(st.get_int64(13));
  r.next_attempt_at = st.get_int64(14);
  if (auto s = st.get_optional_int64(15)) r.last_status = static_cast<int>(*s);
  r.last_error = st.get_text(16);
  r.created_at = st.get_int64(17);
  r.updated_at = st.get_int64(18);
  r.delivered_at = st.get_optional_int64(19);
  return r;
}

core::Result<void> load_alert_ids(db::Connection& c, OutboxRow& r) {
  auto ids = alert_ids_of(c, r.id);
  if (!ids) return ids.error();
  r.n.alert_ids = std::move(*ids);
  return core::ok();
}

}  // namespace

core::Result<std::vector<std::int64_t>> alert_ids_of(db::Connection& c,
                                                     std::int64_t notification_id) {
  auto st = c.prepare(
      "SELECT alert_id FROM notification_alerts WHERE notification_id = ? ORDER BY alert_id");
  if (!st) return st.error();
  st->bind(1, notification_id);
  std::vector<std::int64_t> out;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) return out;
    out.push_back(st->get_int64(0));
  }
}

std::string_view notification_status_name(NotificationStatus s) noexcept {
  switch (s) {
    case NotificationStatus::kPending:
      return "pending";
    case NotificationStatus::kSending:
      return "sending";
    case NotificationStatus::kDelivered:
      return "delivered";
    case NotificationStatus::kDead:
      return "dead";
    case NotificationStatus::kCancelled:
      return "cancelled";
  }
  return "pending";
}

std::optional<NotificationStatus> parse_notification_status(std::string_view s) noexcept {
  for (auto k :
       {NotificationStatus::kPending, NotificationStatus::kSending, NotificationStatus::kDelivered,
        NotificationStatus::kDead, NotificationStatus::kCancelled}) {
    if (notification_status_name(k) == s) return k;
  }
  return std::nullopt;
}

core::Result<std::vector<std::int64_t>> insert_notifications(
    db::Connection& c, const std::vector<NewNotification>& batch, std::int64_t now_ms) {
  auto st = c.prepare(
      "INSERT INTO notifications (org_id, channel_id, channel_name, policy_id, recipient_user, "
      "kind, severity, group_key, title, message, status, next_attempt_at, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)");
  if (!st) return st.error();
  auto link = c.prepare(
      "INSERT OR IGNORE INTO notification_alerts (notification_id, alert_id) VALUES (?, ?)");
  if (!link) return link.error();
  std::vector<std::int64_t> ids;
  ids.reserve(batch.size());
  for (const auto& n : batch) {
    st->reset();
    st->bind(1, n.org_id)
        .bind(2, n.channel_id)
        .bind(3, n.channel_name)
        .bind(4, n.policy_id)
        .bind(5, n.recipient_user)
        .bind(6, n.kind)
        .bind(7, n.severity)
        .bind(8, n.group_key)
        .bind(9, n.title)
        .bind(10, n.message)
        .bind(11, now_ms)
        .bind(12, now_ms)
        .bind(13, now_ms);
    if (auto r = st->run(); !r) return r.error();
    const auto id = c.last_insert_rowid();
    ids.push_back(id);
    for (auto alert : n.alert_ids) {
      link->reset();
      link->bind(1, id).bind(2, alert);
      if (auto r = link->run(); !r) return r.error();
    }
  }
  return ids;
}

core::Result<std::int64_t> recover_sending(db::Connection& c, std::int64_t now_ms) {
  auto st = c.prepare(
      "UPDATE notifications SET status = 'pending', sends_unsure = sends_unsure + 1, "
      "next_attempt_at = ?, updated_at = ? WHERE status = 'sending'");
  if (!st) return st.error();
  st->bind(1, now_ms).bind(2, now_ms);
  if (auto r = st->run(); !r) return r.error();
  return c.changes();
}

core::Result<std::vector<OutboxRow>> load_pending(db::Connection& c, std::size_t limit) {
  auto st = c.prepare(std::string("SELECT ") + kRowColumns +
                      " FROM notifications WHERE status = 'pending' "
                      "ORDER BY next_attempt_at, id LIMIT ?");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(limit));
  std::vector<OutboxRow> out;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(row_of(*st));
  }
  for (auto& r : out) {
    if (auto ok = load_alert_ids(c, r); !ok) return ok.error();
  }
  return out;
}

core::Result<void> mark_sending(db::Connection& c, std::int64_t id, int attempts,
                                std::int64_t now_ms) {
  auto st = c.prepare(
      "UPDATE notifications SET status = 'sending', attempts = ?, updated_at = ? "
      "WHERE id = ? AND status = 'pending'");
  if (!st) return st.error();
  st->bind(1, attempts).bind(2, now_ms).bind(3, id);
  return st->run();
}

core::Result<void> record_attempt(db::Connection& c, const AttemptRecord& a,
                                  NotificationStatus status, std::int64_t next_attempt_at,
                                  std::int64_t now_ms) {
  auto ins = c.prepare(
      "INSERT INTO notification_attempts (notification_id, attempt, started_at, latency_ms, "
      "outcome, remote_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!ins) return ins.error();
  const char* outcome = a.outcome.kind == DeliveryOutcome::Kind::kDelivered ? "delivered"
                        : a.outcome.kind == DeliveryOutcome::Kind::kRetry   ? "retry"
                                                                            : "failed";
  ins->bind(1, a.notification_id)
      .bind(2, a.attempt)
      .bind(3, a.started_at)
      .bind(4, a.latency_ms)
      .bind(5, outcome)
      .bind(6, a.outcome.remote_status)
      .bind(7, a.outcome.detail);
  if (auto r = ins->run(); !r) return r.error();
  auto up = c.prepare(
      "UPDATE notifications SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
      "last_error = ?, updated_at = ?, delivered_at = ? WHERE id = ?");
  if (!up) return up.error();
  const bool delivered = status == NotificationStatus::kDelivered;
  up->bind(1, notification_status_name(status))
      .bind(2, a.attempt)
      .bind(3, next_attempt_at)
      .bind(4, a.outcome.remote_status)
      .bind(5, delivered ? std::string() : a.outcome.detail)
      .bind(6, now_ms)
      .bind(7, delivered ? std::optional<std::int64_t>(now_ms) : std::nullopt)
      .bind(8, a.notification_id);
  return up->run();
}

core::Result<OutboxRow> revive_dead(db::Connection& c, std::int64_t org_id, std::int64_t id,
                                    std::int64_t now_ms) {
  auto st = c.prepare(
      "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = ?, "
      "updated_at = ? WHERE id = ? AND org_id = ? AND status = 'dead'");
  if (!st) return st.error();
  st->bind(1, now_ms).bind(2, now_ms).bind(3, id).bind(4, org_id);
  if (auto r = st->run(); !r) return r.error();
  if (c.changes() == 0) {
    return core::Error(core::Errc::kNotFound,
                       fmt::format("notification {} is not a dead letter of this organization", id),
                       {{"field", "id"}});
  }
  auto get = c.prepare(std::string("SELECT ") + kRowColumns + " FROM notifications WHERE id = ?");
  if (!get) return get.error();
  get->bind(1, id);
  auto more = get->step();
  if (!more) return more.error();
  if (!*more) return core::Error(core::Errc::kNotFound, "the notification vanished");
  auto row = row_of(*get);
  if (auto ok = load_alert_ids(c, row); !ok) return ok.error();
  return row;
}

}  // namespace netpulse::notify::detail
