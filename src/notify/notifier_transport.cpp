// The outbox's transport: one attempt of one notification through its channel. HTTP kinds build
// their requests (payloads.hpp), send them in order through core::HttpClient (the outbound
// policy on every hop) and classify the answers; the first request that does not deliver decides
// the attempt, so a retry sends every request of the message again (a duplicate SMS is possible;
// a lost one is not).
#include <fmt/format.h>

#include "detail/message_json.hpp"
#include "detail/notifier_impl.hpp"
#include "detail/payloads.hpp"

namespace netpulse::notify::detail {

namespace {

// What the delivery log keeps of a remote's answer.
std::string short_text(std::string_view s) {
  constexpr std::size_t kMax = 300;
  std::string out(s.substr(0, kMax));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (s.size() > kMax) out += "…";
  return out;
}

DeliveryOutcome failed(std::string detail) {
  return DeliveryOutcome{DeliveryOutcome::Kind::kFailed, std::nullopt, std::move(detail), {}};
}

}  // namespace

void NotifierImpl::send(const OutboxRow& row, std::function<void(DeliveryOutcome)> done) {
  auto c = channels_.find(row.n.channel_id);
  if (c == channels_.end()) return done(failed("the channel was deleted"));
  if (!c->second.view.enabled) return done(failed("the channel is disabled"));
  auto m = message_from_json(row.n.message);
  if (!m) return done(failed("the stored message cannot be read: " + m.error().message));
  m->notification_id = row.id;
  if (!sends_http(c->second.settings.kind)) {
    return done(failed(fmt::format("channels of kind '{}' cannot deliver in this build",
                                   channel_kind_name(c->second.settings.kind))));
  }
  send_http(c->second, std::move(*m), std::move(done));
}

// One attempt's requests, sent one after another (send_next).
struct NotifierImpl::HttpRun {
  std::vector<core::HttpRequest> requests;
  std::size_t next = 0;
  ChannelKind kind = ChannelKind::kWebhook;
  core::HttpOptions options;
  std::function<void(DeliveryOutcome)> done;
  DeliveryOutcome last;
};

void NotifierImpl::send_http(const ChannelRecord& channel, Message message,
                             std::function<void(DeliveryOutcome)> done) {
  auto requests = build_requests(channel.settings, message, clock_.unix_millis());
  if (!requests) return done(failed("the request could not be built: " + requests.error().message));
  auto run = std::make_shared<HttpRun>();
  run->requests = std::move(*requests);
  run->kind = channel.settings.kind;
  run->done = std::move(done);
  run->options.timeout = std::chrono::milliseconds(o_.http_timeout_ms);
  run->options.max_redirects = 0;  // a webhook that moved is a configuration to fix
  run->options.user_agent = "NetPulse notifier";
  send_next(std::move(run));
}

void NotifierImpl::send_next(std::shared_ptr<HttpRun> run) {
  if (run->next >= run->requests.size()) return run->done(run->last);
  auto request = run->requests[run->next++];
  // Only the pending callback owns the run: a client closed with it in flight frees it.
  http_.send(std::move(request), run->options, [this, run](core::Result<core::HttpResponse> r) {
    DeliveryOutcome o;
    if (!r) {
      // Timeouts, connection failures and broken answers are worth another try; a
      // refusal by the outbound policy or a malformed URL is not.
      const auto code = r.error().code;
      o.kind = code == core::Errc::kTimeout || code == core::Errc::kServiceUnavailable ||
                       code == core::Errc::kProtocolError
                   ? DeliveryOutcome::Kind::kRetry
                   : DeliveryOutcome::Kind::kFailed;
      o.detail = short_text(r.error().message);
    } else {
      auto v = classify_response(run->kind, r->status, r->body, r->headers, clock_.unix_millis());
      o.remote_status = r->status;
      o.detail = short_text(v.reason.empty() ? fmt::format("HTTP {}", r->status)
                                             : fmt::format("HTTP {}: {}", r->status, v.reason));
      switch (v.outcome) {
        case DeliveryVerdict::Outcome::kDelivered:
          o.kind = DeliveryOutcome::Kind::kDelivered;
          break;
        case DeliveryVerdict::Outcome::kRetry:
          o.kind = DeliveryOutcome::Kind::kRetry;
          if (v.retry_after) {
            o.retry_after_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(*v.retry_after).count();
          }
          break;
        case DeliveryVerdict::Outcome::kFailed:
          o.kind = DeliveryOutcome::Kind::kFailed;
          break;
      }
    }
    run->last = o;
    if (o.kind != DeliveryOutcome::Kind::kDelivered) return run->done(std::move(o));
    send_next(run);
  });
}

}  // namespace netpulse::notify::detail
