// Acknowledgement links (docs/notify.md, "Acknowledgement links"): the signed URL a message
// carries for its recipient, what a link would acknowledge (inspect), using it up once
// (redeem: one INSERT into ack_link_uses, whose primary key refuses a second use), and the
// purge of used links past their expiry. The acknowledging itself is the API's: it holds the
// alert engine (the notifier learns of alerts only through their events).
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

core::Error used_error() {
  return core::Error(core::Errc::kConflict, "the acknowledgement link has been used already",
                     {{"reason", "used"}});
}

}  // namespace

std::string NotifierImpl::ack_url_for(const Dispatch& d, std::int64_t user_id,
                                      std::int64_t channel_id) const {
  if (o_.external_url.empty()) return {};
  if (d.kind != MessageKind::kFiring && d.kind != MessageKind::kEscalation &&
      d.kind != MessageKind::kDigest) {
    return {};
  }
  AckClaims c;
  c.org_id = d.org_id;
  for (const auto& a : d.alerts) {
    if (a.status == alerts::AlertStatus::kFiring || a.status == alerts::AlertStatus::kPending)
      c.alert_ids.push_back(a.id);
  }
  std::sort(c.alert_ids.begin(), c.alert_ids.end());
  c.alert_ids.erase(std::unique(c.alert_ids.begin(), c.alert_ids.end()), c.alert_ids.end());
  // A bigger group than a link can carry: the oldest alerts (the lowest ids); the rest are
  // acknowledged in the web UI.
  if (c.alert_ids.size() > kMaxAckAlerts) c.alert_ids.resize(kMaxAckAlerts);
  if (c.alert_ids.empty()) return {};
  if (user_id > 0) {
    c.user_id = user_id;
  } else {
    c.channel_id = channel_id;
  }
  c.expires_s = clock_.unix_seconds() + o_.ack_link_ttl_s;
  c.nonce = new_ack_nonce();
  auto token = sign_ack_token(ack_key_, c);
  if (!token) {
    log_.warn("notify", "policy {}: no acknowledgement link ({})", d.policy_name,
              token.error().message);
    return {};
  }
  return fmt::format("{}/api/v1/ack/{}", o_.external_url, *token);
}

AckLink NotifierImpl::ack_link_of(const AckClaims& claims) const {
  AckLink link;
  link.org_id = claims.org_id;
  link.alert_ids = claims.alert_ids;
  link.expires_at = claims.expires_s;
  if (claims.user_id > 0) {
    link.user_id = claims.user_id;
    return link;
  }
  link.channel_id = claims.channel_id;
  auto c = channels_.find(claims.channel_id);
  // A channel deleted since (or, impossible for a link this key signed, another
  // organization's) is named by its id.
  link.actor_name = c != channels_.end() && c->second.view.org_id == claims.org_id
                        ? fmt::format("{} (link)", c->second.view.name)
                        : fmt::format("channel {} (link)", claims.channel_id);
  return link;
}

core::Result<AckLink> NotifierImpl::inspect_ack(std::string_view token) {
  auto claims = verify_ack_token(ack_key_, token, clock_.unix_millis());
  if (!claims) return claims.error();
  auto used = db_.read([&](db::Connection& c) -> core::Result<bool> {
    auto st = c.prepare("SELECT 1 FROM ack_link_uses WHERE nonce = ?1");
    if (!st) return st.error();
    st->bind(1, claims->nonce);
    return st->step();
  });
  if (!used) return used.error();
  if (*used) return used_error();
  return ack_link_of(*claims);
}

void NotifierImpl::redeem_ack(std::string_view token, Callback<AckLink> done) {
  auto claims = verify_ack_token(ack_key_, token, clock_.unix_millis());
  if (!claims) {
    return boost::asio::post(loop_, [done = std::move(done), e = claims.error()] { done(e); });
  }
  boost::json::array ids;
  for (auto id : claims->alert_ids) ids.push_back(id);
  auto insert = [c = *claims, ids = core::to_json_text(ids),
                 now = clock_.unix_millis()](db::Connection& conn) -> core::Result<bool> {
    auto st = conn.prepare(
        "INSERT OR IGNORE INTO ack_link_uses "
        "(nonce, org_id, alert_ids, user_id, channel_id, used_at, expires_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return st.error();
    st->bind(1, c.nonce).bind(2, c.org_id).bind(3, ids);
    st->bind(4, c.user_id > 0 ? std::optional(c.user_id) : std::nullopt);
    st->bind(5, c.channel_id > 0 ? std::optional(c.channel_id) : std::nullopt);
    st->bind(6, now).bind(7, c.expires_s * 1000);
    if (auto ok = st->run(); !ok) {
      // The organization deleted since the link was sent.
      if (ok.error().message.find("FOREIGN KEY") != std::string::npos)
        return core::Error(core::Errc::kNotFound, "the link's organization no longer exists");
      return ok.error();
    }
    return conn.changes() == 1;  // 0: the nonce was there already
  };
  db_.write<bool>(std::move(insert), loop_,
                  [this, alive = std::weak_ptr<const int>(life_), c = std::move(*claims),
                   done = std::move(done)](core::Result<bool> inserted) {
                    if (!inserted) return done(inserted.error());
                    if (!*inserted) return done(used_error());
                    if (alive.expired())
                      return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
                    done(ack_link_of(c));
                  });
}

void NotifierImpl::purge_ack_uses() {
  const auto now = clock_.unix_millis();
  if (ack_purged_at_ != 0 && now - ack_purged_at_ < kAckPurgeEveryMs) return;
  ack_purged_at_ = now;
  db_.write(
      [now](db::Connection& c) -> core::Result<void> {
        auto st = c.prepare("DELETE FROM ack_link_uses WHERE expires_at <= ?1");
        if (!st) return st.error();
        st->bind(1, now);
        return st->run();
      },
      loop_,
      [this, alive = std::weak_ptr<const int>(life_)](core::Result<void> r) {
        if (!r && !alive.expired())
          log_.warn("notify", "used acknowledgement links not purged: {}", r.error().message);
      });
}

}  // namespace netpulse::notify::detail
