// From the alert engine's transitions to the outbox: the dispatcher decides what goes out when;
// each message is built once per dispatch, rendered for each target channel's kind, and written
// to the outbox in one transaction.
#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/dispatcher.hpp"
#include "detail/message_json.hpp"
#include "detail/message_template.hpp"
#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

namespace {

int severity_rank(alerts::Severity s) {
  switch (s) {
    case alerts::Severity::kInfo:
      return 0;
    case alerts::Severity::kWarning:
      return 1;
    case alerts::Severity::kCritical:
      return 2;
  }
  return 2;
}

ChannelFamily family_of(ChannelKind k) {
  switch (k) {
    case ChannelKind::kEmail:
      return ChannelFamily::kEmail;
    case ChannelKind::kTwilio:
    case ChannelKind::kAfricasTalking:
    case ChannelKind::kHttpSms:
      return ChannelFamily::kSms;
    case ChannelKind::kPagerDuty:
    case ChannelKind::kOpsgenie:
      return ChannelFamily::kPaging;
    default:
      return ChannelFamily::kChat;
  }
}

std::string status_name(const alerts::Alert& a) {
  switch (a.status) {
    case alerts::AlertStatus::kResolved:
      return "resolved";
    case alerts::AlertStatus::kAcknowledged:
      return "acknowledged";
    default:
      return "firing";
  }
}

// The labels every alert of the list shares, with the same value.
std::map<std::string, std::string> common(
    const std::vector<std::map<std::string, std::string>>& all) {
  if (all.empty()) return {};
  auto out = all.front();
  for (std::size_t i = 1; i < all.size(); ++i) {
    std::erase_if(out, [&](const auto& kv) {
      auto it = all[i].find(kv.first);
      return it == all[i].end() || it->second != kv.second;
    });
  }
  return out;
}

}  // namespace

void NotifierImpl::on_alert(const alerts::AlertChanged& e) {
  if (closed_) return;
  ++stats_.alert_events;
  dispatcher_.on_alert(e, clock_.unix_millis());
  // The engine publishes a storm's transitions in one turn of the loop: they are handled
  // together in a turn of their own, so a storm is one outbox write, not one per alert.
  post_run();
}

void NotifierImpl::run_dispatcher() {
  if (closed_) return;
  for (auto pending = std::exchange(unwritten_, {}); auto& batch : pending) {
    write_to_outbox(std::move(batch));
  }
  for (auto& d : dispatcher_.tick(clock_.unix_millis())) to_render_.push_back(std::move(d));
  // Planned a little per turn of the loop (kRenderBudget of time: a dispatch usually takes
  // longer, so a turn plans one), so the API's requests are served in between; what is
  // planned goes to the transport to render, then to the outbox in one transaction, every
  // kRenderSlice dispatches and when nothing is left to plan.
  const auto t0 = clock_.steady_now();
  for (bool first = true;
       !to_render_.empty() && (first || clock_.steady_now() - t0 < kRenderBudget); first = false) {
    ++stats_.dispatches;
    m_dispatches_->inc();
    deliver(to_render_.front(), rendered_);
    to_render_.pop_front();
    if (++rendered_count_ >= kRenderSlice) break;
  }
  if (rendered_count_ >= kRenderSlice || to_render_.empty()) {
    rendered_count_ = 0;
    if (!rendered_.empty()) render_then_write(std::exchange(rendered_, {}));
  }
  if (!to_render_.empty()) post_run();
}

void NotifierImpl::post_run() {
  if (run_posted_) return;
  run_posted_ = true;
  boost::asio::post(loop_, [this, alive = std::weak_ptr<const int>(life_)] {
    if (alive.expired()) return;
    run_posted_ = false;
    run_dispatcher();
  });
}

Message NotifierImpl::message_of(const Dispatch& d) const {
  Message m;
  m.org_id = d.org_id;
  m.kind = d.kind;
  m.receiver = d.policy_name;
  m.group_key = d.group_key;
  m.group_labels = d.group_labels;
  m.external_url = o_.external_url;
  m.created_at = clock_.unix_millis();
  alerts::Severity top = alerts::Severity::kInfo;
  std::vector<std::map<std::string, std::string>> labels, annotations;
  for (const auto& a : d.alerts) {
    if (severity_rank(a.severity) > severity_rank(top)) top = a.severity;
    MessageAlert x;
    x.id = a.id;
    x.rule_id = a.rule_id;
    x.rule_name = a.rule_name;
    x.status = status_name(a);
    x.severity = std::string(alerts::severity_name(a.severity));
    x.subject = a.subject;
    x.device_id = a.device_id;
    x.device_name = a.device_name;
    x.labels = policy_labels(a);
    x.annotations = a.annotations;
    x.value = a.value;
    x.threshold = a.threshold;
    x.started_at = a.started_at;
    x.fired_at = a.fired_at;
    x.resolved_at = a.resolved_at;
    x.acknowledged_by = a.acknowledged_by_name;
    x.impact = a.impact;
    x.fingerprint = Dispatcher::fingerprint(a);
    if (!o_.external_url.empty()) x.url = fmt::format("{}/alerts/{}", o_.external_url, a.id);
    labels.push_back(x.labels);
    annotations.push_back(x.annotations);
    m.alerts.push_back(std::move(x));
  }
  m.severity = std::string(alerts::severity_name(top));
  m.common_labels = common(labels);
  m.common_annotations = common(annotations);
  return m;
}

TemplatesPtr NotifierImpl::templates_for(const Dispatch& d, ChannelFamily family,
                                         std::string_view severity) const {
  if (auto org = policies_.find(d.org_id); org != policies_.end()) {
    for (const auto& p : org->second) {
      if (p.policy.id != d.policy_id) continue;
      const auto& own = p.policy.templates;
      if (!own.contains(std::string(channel_family_name(family)))) break;
      // Parsed once per policy, family and severity until the policies change.
      auto key = fmt::format("{}|{}|{}", p.policy.id, channel_family_name(family), severity);
      auto it = template_cache_.find(key);
      if (it == template_cache_.end()) {
        auto set = std::make_shared<const TemplateSet>(policy_template_set(own, family, severity));
        it = template_cache_.emplace(key, std::move(set)).first;
      }
      return it->second;
    }
  }
  // The built-in ones live as long as the program: shared without an owner.
  return TemplatesPtr(std::shared_ptr<const void>(), &default_templates(family));
}

void NotifierImpl::deliver(const Dispatch& d, DeliveryBatch& batch) {
  if (d.alerts.empty()) return;
  paged_in_dispatch_.clear();
  const auto base = message_of(d);
  std::vector<std::int64_t> alert_ids;
  for (const auto& a : d.alerts) alert_ids.push_back(a.id);
  for (const auto& t : d.targets) {
    if (t.kind != PolicyTarget::Kind::kChannel) {
      deliver_to_people(d, t, base, alert_ids, batch);
      continue;
    }
    auto c = channels_.find(t.id);
    if (c == channels_.end() || c->second.view.org_id != d.org_id) {
      log_.warn("notify", "policy {} names channel {}, which no longer exists: not sent",
                d.policy_name, t.id);
      continue;
    }
    if (!c->second.view.enabled) continue;
    if (c->second.settings.kind == ChannelKind::kInApp) {
      for (const auto& u : inapp_channel_users(c->second)) {
        batch.to_render.push_back(inapp_row(
            d, u.id, base, templates_for(d, ChannelFamily::kChat, base.severity), alert_ids));
      }
      continue;
    }
    const auto family = family_of(c->second.settings.kind);
    PendingRender r{base, templates_for(d, family, base.severity), family,
                    outbox_row(d, c->first, c->second.view.name, alert_ids), std::nullopt};
    // Paging services have an acknowledgement of their own (PagerDuty's, Opsgenie's).
    if (family != ChannelFamily::kPaging) r.message.ack_url = ack_url_for(d, 0, c->first);
    batch.to_render.push_back(std::move(r));
  }
}

NewNotification outbox_row(const Dispatch& d, std::int64_t channel_id,
                           std::string_view channel_name,
                           const std::vector<std::int64_t>& alert_ids) {
  NewNotification n;
  n.org_id = d.org_id;
  n.channel_id = channel_id;
  n.channel_name = std::string(channel_name);
  n.policy_id = d.policy_id;
  n.kind = std::string(message_kind_name(d.kind));
  n.group_key = d.group_key;
  n.alert_ids = alert_ids;
  return n;
}

void render_pending(DeliveryBatch& b) {
  for (auto& r : b.to_render) {
    render_into(r.message, *r.templates, r.family, RenderOptions{});
    if (r.outbox) {
      auto& n = *r.outbox;
      n.severity = r.message.severity;
      n.title = r.message.title;
      n.message = message_to_json(r.message);
      b.outbox.push_back(std::move(n));
    } else if (r.inapp) {
      auto& row = *r.inapp;
      row.severity = r.message.severity;
      row.title = std::move(r.message.title);
      row.text = std::move(r.message.text);
      b.inapp.push_back(std::move(row));
    }
  }
  b.to_render.clear();
}

void NotifierImpl::render_then_write(DeliveryBatch batch) {
  if (batch.to_render.empty()) return write_to_outbox(std::move(batch));
  // The templates and the JSON of a storm's messages are most of its work: done on the
  // transport, at its lower priority, so the API's requests come first on the loop and for
  // the CPUs. Batches are written in the order they were planned (one transport thread, then
  // the loop, both in order; rendering_ holds them meanwhile, for close()).
  auto shared = std::make_shared<DeliveryBatch>(std::move(batch));
  rendering_.push_back(shared);
  auto written = on_loop([this, shared](bool) {
    if (rendering_.empty() || rendering_.front() != shared) return;  // close() wrote it
    rendering_.pop_front();
    write_to_outbox(std::move(*shared));
  });
  const bool queued = transport_.post([shared, written = std::move(written)]() mutable {
    render_pending(*shared);
    written(true);
  });
  if (!queued) {
    render_pending(*shared);
    rendering_.pop_back();
    write_to_outbox(std::move(*shared));
  }
}

void NotifierImpl::write_to_outbox(DeliveryBatch batch) {
  // A batch the database did not take (its write queue full, a disk error) comes back and is
  // written again at the next tick: the dispatcher has already counted it as sent. Its in-app
  // rows go in the same transaction (shared with the write, not copied).
  Outbox::SameTransaction also;
  auto inapp = std::make_shared<std::vector<NewInapp>>(std::move(batch.inapp));
  if (!inapp->empty()) {
    also = [inapp, now = clock_.unix_millis(), keep = o_.inapp_keep_per_user](db::Connection& c) {
      return insert_inapp(c, *inapp, now, keep);
    };
  }
  outbox_->enqueue(
      std::move(batch.outbox),
      [this, alive = std::weak_ptr<const int>(life_), inapp](
          core::Result<std::vector<std::int64_t>> ids, std::vector<NewNotification> unwritten) {
        if (alive.expired()) return;
        if (ids) {
          inapp_committed(*inapp);
          return;
        }
        log_.error("notify", "{} notification(s) not written to the outbox yet ({}): trying again",
                   unwritten.size() + inapp->size(), ids.error().message);
        if (unwritten_.size() >= kMaxUnwrittenBatches) {
          log_.error("notify", "the outbox has refused {} batches in a row: dropping the oldest",
                     unwritten_.size());
          unwritten_.pop_front();
        }
        unwritten_.push_back(DeliveryBatch{std::move(unwritten), std::move(*inapp)});
      },
      std::move(also));
}

}  // namespace netpulse::notify::detail
