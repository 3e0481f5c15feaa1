// Channels: CRUD with validated settings and sealed secrets, health from the outbox's attempts,
// and "send test".
#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxChannelsPerOrg = 1'000;

core::Error not_found(std::int64_t id) {
  return core::Error(core::Errc::kNotFound, fmt::format("no notification channel {}", id),
                     {{"field", "id"}});
}

core::Result<void> check_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxName) {
    return core::Error(core::Errc::kInvalidInput, fmt::format("name must be 1..{} bytes", kMaxName),
                       {{"field", "name"}});
  }
  return core::ok();
}

std::string sealed(const core::SecretBox& box, std::int64_t org_id,
                   const std::map<std::string, std::string>& secrets) {
  if (secrets.empty()) return {};
  boost::json::object o;
  for (const auto& [k, v] : secrets) o[k] = v;
  return box.seal(core::to_json_text(o), fmt::format("notify-channel:{}", org_id));
}

}  // namespace

core::Result<void> NotifierImpl::check_deliverable(ChannelKind kind) const {
  if (kind == ChannelKind::kEmail && o_.smtp.host.empty()) {
    return core::Error(core::Errc::kInvalidInput,
                       "no SMTP relay is configured: set [notify.smtp] host and from first",
                       {{"field", "kind"}});
  }
  return core::ok();
}

core::Result<core::PageOf<Channel>> NotifierImpl::list_channels(core::OrgScope scope,
                                                                core::Page page) {
  std::vector<const Channel*> mine;
  for (const auto& [id, c] : channels_) {
    if (c.view.org_id == scope.org_id()) mine.push_back(&c.view);
  }
  return page_of<Channel>(mine.size(), page, [&](std::size_t i) { return *mine[i]; });
}

core::Result<Channel> NotifierImpl::get_channel(core::OrgScope scope, std::int64_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.view.org_id != scope.org_id()) return not_found(id);
  return it->second.view;
}

void NotifierImpl::create_channel(core::OrgScope scope, ChannelInput input,
                                  Callback<Channel> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  if (auto ok = check_name(input.name); !ok) return fail(ok.error());
  auto kind = parse_channel_kind(input.kind);
  if (!kind) {
    return fail(core::Error(core::Errc::kInvalidInput,
                            fmt::format("kind '{}' is not a channel kind", input.kind),
                            {{"field", "kind"}}));
  }
  if (auto ok = check_deliverable(*kind); !ok) return fail(ok.error());
  const auto count = std::count_if(channels_.begin(), channels_.end(), [&](const auto& kv) {
    return kv.second.view.org_id == scope.org_id();
  });
  if (static_cast<std::size_t>(count) >= kMaxChannelsPerOrg) {
    return fail(core::Error(
        core::Errc::kConflict,
        fmt::format("an organization may have at most {} channels", kMaxChannelsPerOrg)));
  }
  auto settings = parse_channel_settings(*kind, input.settings, outbound_);
  if (!settings) return fail(settings.error());
  ChannelRecord rec;
  rec.settings = std::move(*settings);
  rec.view.org_id = scope.org_id();
  rec.view.name = input.name;
  rec.view.kind = std::string(channel_kind_name(*kind));
  rec.view.enabled = input.enabled;
  rec.view.created_at = rec.view.updated_at = clock_.unix_seconds();
  ChannelRow row{rec.view, sealed(box_, scope.org_id(), rec.settings.secrets)};
  row.view.settings = rec.settings.settings;  // the public part is what is stored
  db_.write<std::int64_t>([row](db::Connection& c) { return insert_channel(c, row); }, loop_,
                          [this, alive = std::weak_ptr<const int>(life_), rec = std::move(rec),
                           done = std::move(done)](core::Result<std::int64_t> id) mutable {
                            if (!id) return done(id.error());
                            if (alive.expired())
                              return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
                            rec.view.id = *id;
                            rec.view.settings = redacted_settings(rec.settings);
                            auto view = rec.view;
                            channels_.insert_or_assign(*id, std::move(rec));
                            done(std::move(view));
                          });
}

void NotifierImpl::update_channel(core::OrgScope scope, std::int64_t id, ChannelPatch patch,
                                  Callback<Channel> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.view.org_id != scope.org_id()) return fail(not_found(id));
  ChannelRecord rec = it->second;
  if (patch.name) {
    if (auto ok = check_name(*patch.name); !ok) return fail(ok.error());
    rec.view.name = *patch.name;
  }
  if (patch.enabled) rec.view.enabled = *patch.enabled;
  if (patch.settings) {
    auto merged = merge_channel_settings(rec.settings, *patch.settings, outbound_);
    if (!merged) return fail(merged.error());
    rec.settings = std::move(*merged);
  }
  rec.view.updated_at = clock_.unix_seconds();
  ChannelRow row{rec.view, sealed(box_, scope.org_id(), rec.settings.secrets)};
  row.view.settings = rec.settings.settings;
  db_.write([row](db::Connection& c) { return update_channel_row(c, row); }, loop_,
            [this, alive = std::weak_ptr<const int>(life_), id, rec = std::move(rec),
             done = std::move(done)](core::Result<void> r) mutable {
              if (!r) return done(r.error());
              if (alive.expired())
                return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
              rec.view.settings = redacted_settings(rec.settings);
              auto view = rec.view;
              // Health, counted meanwhile by attempts, stays as the outbox left it.
              if (auto cur = channels_.find(id); cur != channels_.end()) {
                rec.view.health = cur->second.view.health;
                rec.view.consecutive_failures = cur->second.view.consecutive_failures;
                rec.view.last_error = cur->second.view.last_error;
                rec.view.last_success_at = cur->second.view.last_success_at;
                rec.view.last_failure_at = cur->second.view.last_failure_at;
                view = rec.view;
                cur->second = std::move(rec);
              }
              done(std::move(view));
            });
}

void NotifierImpl::delete_channel(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.view.org_id != scope.org_id()) {
    return boost::asio::post(loop_, [done = std::move(done), id] { done(not_found(id)); });
  }
  // A policy that still names it would lose a target silently: refused, naming the policy.
  for (const auto& p : policies_[scope.org_id()]) {
    auto names = [&](const std::vector<PolicyTarget>& ts) {
      return std::any_of(ts.begin(), ts.end(), [&](const PolicyTarget& t) {
        return t.kind == PolicyTarget::Kind::kChannel && t.id == id;
      });
    };
    bool used = names(p.policy.targets);
    for (const auto& step : p.policy.escalation) used = used || names(step.targets);
    if (used) {
      return boost::asio::post(loop_, [done = std::move(done), name = p.policy.name] {
        done(core::Error(core::Errc::kConflict,
                         fmt::format("policy '{}' sends to this channel: change it first", name),
                         {{"field", "id"}}));
      });
    }
  }
  db_.write(
      [org = scope.org_id(), id](db::Connection& c) { return delete_channel_row(c, org, id); },
      loop_,
      [this, alive = std::weak_ptr<const int>(life_), id,
       done = std::move(done)](core::Result<void> r) {
        if (r && !alive.expired()) channels_.erase(id);
        done(std::move(r));
      });
}

void NotifierImpl::note_health(Channel& ch, const AttemptRecord& rec) {
  const auto before = ch.health;
  if (rec.outcome.kind == DeliveryOutcome::Kind::kDelivered) {
    ch.consecutive_failures = 0;
    ch.last_success_at = rec.started_at + rec.latency_ms;
    ch.health = "ok";
  } else {
    ++ch.consecutive_failures;
    ch.last_failure_at = rec.started_at + rec.latency_ms;
    ch.last_error = rec.outcome.detail;
    if (ch.consecutive_failures >= o_.unhealthy_after) ch.health = "failing";
  }
  if (ch.health != before && ch.health == "failing") {
    log_.error("notify", "channel {} ({}) is failing: {} attempts in a row did not deliver ({})",
               ch.id, ch.name, ch.consecutive_failures, ch.last_error);
  } else if (ch.health != before && before == "failing") {
    log_.info("notify", "channel {} ({}) delivers again", ch.id, ch.name);
  }
  note_channel_health(ch, before);
}

void NotifierImpl::note_attempt(const OutboxRow& row, const AttemptRecord& rec, bool dead) {
  switch (rec.outcome.kind) {
    case DeliveryOutcome::Kind::kDelivered:
      m_attempts_delivered_->inc();
      break;
    case DeliveryOutcome::Kind::kRetry:
      m_attempts_retry_->inc();
      break;
    case DeliveryOutcome::Kind::kFailed:
      m_attempts_failed_->inc();
      break;
  }
  if (row.n.channel_id == kRelayChannelId) {
    // The SMTP relay of users' email has no channel row: its health is kept per organization in
    // memory, so its admins hear of a dead relay as they would of a failing channel.
    auto [relay, fresh] = relay_health_.try_emplace(row.n.org_id);
    if (fresh) {
      relay->second.org_id = row.n.org_id;
      relay->second.name = std::string(kRelayChannelName);
      relay->second.kind = "email";
    }
    note_health(relay->second, rec);
    return;
  }
  auto it = channels_.find(row.n.channel_id);
  if (it == channels_.end()) return;
  auto& ch = it->second.view;
  note_health(ch, rec);
  if (dead) {
    log_.warn("notify", "notification {} to channel {} is a dead letter", row.id, ch.name);
  }
  db_.write([ch](db::Connection& c) { return save_channel_health(c, ch); }, loop_,
            [this](core::Result<void> r) {
              if (!r)
                log_.warn("notify", "could not save a channel's health: {}", r.error().message);
            });
  update_gauges();
}

void NotifierImpl::test_channel(core::OrgScope scope, std::int64_t id, Callback<TestResult> done) {
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.view.org_id != scope.org_id()) {
    return boost::asio::post(loop_, [done = std::move(done), id] { done(not_found(id)); });
  }
  Message m;
  m.org_id = scope.org_id();
  m.kind = MessageKind::kTest;
  m.severity = "info";
  m.receiver = "test";
  m.group_key = "test";
  m.external_url = o_.external_url;
  m.created_at = clock_.unix_millis();
  m.title = fmt::format("NetPulse test message for channel '{}'", it->second.view.name);
  m.text = "If you can read this, NetPulse can reach you through this channel.";
  m.html = "<p>" + m.text + "</p>";
  if (it->second.settings.kind == ChannelKind::kInApp) {
    // In-app is local: the test lands in the inbox of each user the channel reaches.
    std::vector<NewInapp> rows;
    for (const auto& u : inapp_channel_users(it->second)) {
      rows.push_back({scope.org_id(), u.id, "test", "info", m.title, m.text, std::nullopt});
    }
    TestResult r;
    r.delivered = !rows.empty();
    r.detail = fmt::format("written to the in-app inbox of {} user(s)", rows.size());
    write_inapp(std::move(rows));
    return boost::asio::post(loop_, [done = std::move(done), r] { done(r); });
  }
  const auto t0 = clock_.steady_now();
  deliver_now(it->second, std::move(m), [this, t0, done = std::move(done)](DeliveryOutcome o) {
    TestResult r;
    r.delivered = o.kind == DeliveryOutcome::Kind::kDelivered;
    r.remote_status = o.remote_status;
    r.detail = o.detail;
    r.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - t0).count();
    done(std::move(r));
  });
}

}  // namespace netpulse::notify::detail
