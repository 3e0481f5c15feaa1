// Users and on-call schedules as policy targets: who a `user_id` or `schedule_id` target names
// (checked when a policy is saved, resolved when a message goes out), that user's contact
// methods and quiet hours, and the outbox rows and in-app row a message to a user becomes. Users
// come from the injected directory (NotifierOptions::users): the notifier does not know the auth
// module. docs/notify-routing.md, "Users and contact methods", describes the behaviour.
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/message_json.hpp"
#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

bool is_sms_kind(ChannelKind k) {
  return k == ChannelKind::kTwilio || k == ChannelKind::kAfricasTalking ||
         k == ChannelKind::kHttpSms;
}

bool tells_again_later(MessageKind k) {
  return k == MessageKind::kResolved || k == MessageKind::kAcknowledged;
}

}  // namespace

PendingRender inapp_row(const Dispatch& d, std::int64_t user_id, const Message& base,
                        TemplatesPtr chat_templates, const std::vector<std::int64_t>& alert_ids) {
  NewInapp row;
  row.org_id = d.org_id;
  row.user_id = user_id;
  row.kind = std::string(message_kind_name(d.kind));
  if (!alert_ids.empty()) row.alert_id = alert_ids.front();
  PendingRender r{base, std::move(chat_templates), ChannelFamily::kChat, std::nullopt,
                  std::move(row)};
  return r;
}

std::optional<DirectoryUser> NotifierImpl::find_user(std::int64_t org_id,
                                                     std::int64_t user_id) const {
  if (!o_.users.find) return std::nullopt;
  auto u = o_.users.find(org_id, user_id);
  if (u && u->org_id != org_id) return std::nullopt;
  return u;
}

core::Result<void> NotifierImpl::check_person_target(core::OrgScope scope, const PolicyTarget& t,
                                                     const std::string& field) const {
  if (t.kind == PolicyTarget::Kind::kUser) {
    if (!find_user(scope.org_id(), t.id)) {
      return core::Error(core::Errc::kInvalidInput,
                         fmt::format("{}: no user {} in this organization", field, t.id),
                         {{"field", field}});
    }
    return core::ok();
  }
  auto s = schedules_.find(t.id);
  if (s == schedules_.end() || s->second.schedule.org_id != scope.org_id()) {
    return core::Error(core::Errc::kInvalidInput,
                       fmt::format("{}: no on-call schedule {} in this organization", field, t.id),
                       {{"field", field}});
  }
  return core::ok();
}

std::optional<std::int64_t> NotifierImpl::schedule_recipient(const Dispatch& d,
                                                             std::int64_t schedule_id) {
  const auto key = fmt::format("{}/{}", d.group_key, schedule_id);
  if (tells_again_later(d.kind)) {
    if (auto told = oncall_told_.find(key); told != oncall_told_.end()) return told->second;
  }
  auto s = schedules_.find(schedule_id);
  if (s == schedules_.end() || s->second.schedule.org_id != d.org_id) return std::nullopt;
  auto user = on_call_at(s->second.schedule, clock_.unix_millis());
  if (user && !tells_again_later(d.kind)) {
    if (oncall_told_.size() >= kMaxOncallTold) oncall_told_.clear();
    oncall_told_[key] = *user;
  }
  return user;
}

void NotifierImpl::deliver_to_people(const Dispatch& d, const PolicyTarget& t, const Message& base,
                                     const std::vector<std::int64_t>& alert_ids,
                                     DeliveryBatch& batch) {
  auto schedule_name = [&] {
    auto s = schedules_.find(t.id);
    return s == schedules_.end() ? fmt::format("#{}", t.id) : s->second.schedule.name;
  };
  std::optional<std::int64_t> user_id = t.id;
  if (t.kind == PolicyTarget::Kind::kSchedule) {
    user_id = schedule_recipient(d, t.id);
    if (!user_id) {
      ++stats_.unreachable_targets;
      const auto name = schedule_name();
      log_.warn("notify", "policy '{}': nobody is on call for schedule '{}': {} not paged",
                d.policy_name, name, message_kind_name(d.kind));
      notify_admins(d.org_id, "nobody_on_call", base.severity,
                    fmt::format("Nobody is on call for schedule '{}'", name),
                    fmt::format("Policy '{}' could not page anyone for {} alert(s) ({}).",
                                d.policy_name, d.alerts.size(), message_kind_name(d.kind)));
      return;
    }
  }
  auto user = find_user(d.org_id, *user_id);
  if (!user || !user->enabled) {
    ++stats_.unreachable_targets;
    const auto why = user ? "is deactivated" : "no longer exists";
    log_.warn("notify", "policy '{}' pages user {}, who {}: not paged", d.policy_name, *user_id,
              why);
    if (t.kind == PolicyTarget::Kind::kSchedule) {
      // A schedule still naming a user who left pages nobody: the admins should know.
      notify_admins(
          d.org_id, "nobody_on_call", base.severity,
          fmt::format("Schedule '{}' puts user {} on call, who {}", schedule_name(), *user_id, why),
          fmt::format("Policy '{}' could not page anyone for {} alert(s) ({}).", d.policy_name,
                      d.alerts.size(), message_kind_name(d.kind)));
    }
    return;
  }
  // A user named twice by one message's targets (directly and through a schedule, or by two
  // schedules) is paged once.
  if (!paged_in_dispatch_.insert(user->id).second) return;
  deliver_to_user(d, *user, base, alert_ids, batch);
}

void NotifierImpl::deliver_to_user(const Dispatch& d, const DirectoryUser& user,
                                   const Message& base, const std::vector<std::int64_t>& alert_ids,
                                   DeliveryBatch& batch) {
  batch.to_render.push_back(inapp_row(
      d, user.id, base, templates_for(d, ChannelFamily::kChat, base.severity), alert_ids));
  UserContacts contacts;
  if (auto it = contacts_.find(user.id); it != contacts_.end()) contacts = it->second.contacts;
  if (contacts.quiet_hours && in_quiet_hours(*contacts.quiet_hours, clock_.unix_millis())) {
    bool overrides = base.severity == "critical";
    for (const auto& p : policies_[d.org_id]) {
      if (p.policy.id == d.policy_id) overrides = overrides_quiet_hours(p.policy, base.severity);
    }
    if (!overrides) {
      log_.info("notify", "user {} is in quiet hours: {} {} message in-app only", user.id,
                base.severity, message_kind_name(d.kind));
      return;
    }
  }
  auto add = [&](std::int64_t channel_id, std::string_view channel_name, ChannelFamily family,
                 const std::string& recipient) {
    PendingRender r{base, templates_for(d, family, base.severity), family,
                    outbox_row(d, channel_id, channel_name, alert_ids), std::nullopt};
    r.message.ack_url = ack_url_for(d, user.id, 0);  // acknowledges as this user
    r.message.recipient = recipient;
    r.outbox->recipient_user = user.id;
    batch.to_render.push_back(std::move(r));
  };
  // A method whose channel went away is skipped, not fatal: the others still page.
  auto usable = [&](std::int64_t id, auto kind_ok, std::string_view method) -> const Channel* {
    auto c = channels_.find(id);
    if (c == channels_.end() || c->second.view.org_id != d.org_id ||
        !kind_ok(c->second.settings.kind) || !c->second.view.enabled) {
      log_.warn("notify", "user {}'s {} method names channel {}, which cannot carry it", user.id,
                method, id);
      return nullptr;
    }
    return &c->second.view;
  };
  if (contacts.email.enabled) {
    const auto& address = contacts.email.address.empty() ? user.email : contacts.email.address;
    if (o_.smtp.host.empty()) {
      log_.warn("notify", "no SMTP relay is configured: user {} not emailed", user.id);
    } else if (!address.empty()) {
      add(kRelayChannelId, kRelayChannelName, ChannelFamily::kEmail, address);
    }
  }
  if (contacts.sms) {
    if (const auto* c = usable(contacts.sms->channel_id, is_sms_kind, "sms")) {
      add(c->id, c->name, ChannelFamily::kSms, contacts.sms->phone);
    }
  }
  if (contacts.telegram) {
    auto is_telegram = [](ChannelKind k) { return k == ChannelKind::kTelegram; };
    if (const auto* c = usable(contacts.telegram->channel_id, is_telegram, "telegram")) {
      add(c->id, c->name, ChannelFamily::kChat, contacts.telegram->chat_id);
    }
  }
}

std::optional<ChannelRecord> NotifierImpl::channel_for(const OutboxRow& row) const {
  ChannelRecord rec;
  if (row.n.channel_id == kRelayChannelId) {
    rec.view.id = kRelayChannelId;
    rec.view.org_id = row.n.org_id;
    rec.view.name = std::string(kRelayChannelName);
    rec.settings.kind = ChannelKind::kEmail;
  } else {
    auto c = channels_.find(row.n.channel_id);
    if (c == channels_.end()) return std::nullopt;
    rec = c->second;
  }
  return rec;
}

void address_to(ChannelRecord& rec, const std::string& recipient) {
  if (recipient.empty()) return;
  auto& s = rec.settings.settings;
  switch (rec.settings.kind) {
    case ChannelKind::kEmail:
      s.erase("cc");
      [[fallthrough]];
    case ChannelKind::kTwilio:
    case ChannelKind::kAfricasTalking:
    case ChannelKind::kHttpSms:
      s["to"] = boost::json::array{boost::json::value(recipient)};
      break;
    case ChannelKind::kTelegram:
      s["chat_id"] = recipient;
      break;
    default:
      break;
  }
}

core::Result<void> NotifierImpl::check_contacts(core::OrgScope scope, const UserContacts& c) const {
  auto check = [&](std::int64_t id, auto kind_ok, const char* field,
                   std::string_view want) -> core::Result<void> {
    auto ch = channels_.find(id);
    if (ch == channels_.end() || ch->second.view.org_id != scope.org_id()) {
      return core::invalid_field(field, fmt::format("no notification channel {}", id));
    }
    if (!kind_ok(ch->second.settings.kind)) {
      return core::invalid_field(field, fmt::format("channel {} ('{}') is not {} channel", id,
                                                    ch->second.view.name, want));
    }
    return core::ok();
  };
  if (c.sms) {
    if (auto ok = check(c.sms->channel_id, is_sms_kind, "sms.channel_id", "an SMS-gateway"); !ok)
      return ok;
  }
  if (c.telegram) {
    auto is_telegram = [](ChannelKind k) { return k == ChannelKind::kTelegram; };
    if (auto ok = check(c.telegram->channel_id, is_telegram, "telegram.channel_id", "a Telegram");
        !ok)
      return ok;
  }
  return core::ok();
}

core::Result<UserContacts> NotifierImpl::get_contacts(core::OrgScope scope, std::int64_t user_id) {
  if (!find_user(scope.org_id(), user_id)) {
    return core::Error(core::Errc::kUserNotFound, fmt::format("no user {}", user_id),
                       {{"field", "id"}});
  }
  auto it = contacts_.find(user_id);
  return it == contacts_.end() ? UserContacts{} : it->second.contacts;
}

void NotifierImpl::put_contacts(core::OrgScope scope, std::int64_t user_id, UserContacts contacts,
                                Callback<UserContacts> done) {
  auto fail = [&](core::Error e) {
    boost::asio::post(loop_, [done = std::move(done), e = std::move(e)] { done(e); });
  };
  if (!find_user(scope.org_id(), user_id)) {
    return fail(core::Error(core::Errc::kUserNotFound, fmt::format("no user {}", user_id),
                            {{"field", "id"}}));
  }
  if (auto ok = check_contacts(scope, contacts); !ok) return fail(ok.error());
  const auto body = core::to_json_text(to_json(contacts));
  db_.write([org = scope.org_id(), user_id, body, now = clock_.unix_seconds()](
                db::Connection& c) { return save_contacts(c, org, user_id, body, now); },
            loop_,
            [this, alive = std::weak_ptr<const int>(life_), org = scope.org_id(), user_id, contacts,
             done = std::move(done)](core::Result<void> r) mutable {
              if (!r) return done(r.error());
              if (alive.expired())
                return done(core::Error(core::Errc::kServiceUnavailable, "closed"));
              contacts_[user_id] = ContactsRecord{org, contacts};
              done(std::move(contacts));
            });
}

}  // namespace netpulse::notify::detail
