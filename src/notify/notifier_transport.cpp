// The outbox's transport: one attempt of one notification through its channel. HTTP kinds build
// their requests (payloads.hpp), send them in order through core::HttpClient (the outbound
// policy on every hop) and classify the answers; the first request that does not deliver decides
// the attempt, so a retry sends every request of the message again (a duplicate SMS is possible;
// a lost one is not).
//
// Threads: the loop takes a copy of the channel as it is now (send, deliver_now); everything
// else of an attempt — reading the stored message, building the requests or the email, the
// I/O, reading the answers — runs on the transport thread (transmit and below), and only the
// outcome comes back to the loop.
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
  auto channel = channel_for(row);
  if (!channel) return done(failed("the channel was deleted"));
  if (!channel->view.enabled) return done(failed("the channel is disabled"));
  transport_.post([this, channel = std::move(*channel), message = row.n.message, id = row.id,
                   done = on_loop(std::move(done))]() mutable {
    auto m = message_from_json(message);
    if (!m) return done(failed("the stored message cannot be read: " + m.error().message));
    m->notification_id = id;
    // A message to a user goes to their address, phone or chat id, not the channel's own.
    address_to(channel, m->recipient);
    transmit(channel, std::move(*m), std::move(done));
  });
}

void NotifierImpl::deliver_now(const ChannelRecord& channel, Message message,
                               std::function<void(DeliveryOutcome)> done) {
  auto queued = transport_.post(
      [this, channel, message = std::move(message), done = on_loop(done)]() mutable {
        transmit(channel, std::move(message), std::move(done));
      });
  if (!queued) {
    boost::asio::post(loop_, [done = std::move(done)] { done(failed("the notifier is closed")); });
  }
}

void NotifierImpl::transmit(const ChannelRecord& channel, Message message,
                            std::function<void(DeliveryOutcome)> done) {
  if (sends_http(channel.settings.kind)) {
    return send_http(channel, std::move(message), std::move(done));
  }
  if (channel.settings.kind == ChannelKind::kEmail) {
    return send_email(channel, std::move(message), std::move(done));
  }
  done(failed(fmt::format("channels of kind '{}' cannot deliver in this build",
                          channel_kind_name(channel.settings.kind))));
}

void NotifierImpl::send_email(const ChannelRecord& channel, Message message,
                              std::function<void(DeliveryOutcome)> done) {
  if (transport_smtp_.host.empty())
    return done(failed("no SMTP relay is configured ([notify.smtp])"));
  Email e;
  e.from = transport_smtp_.from;
  auto list = [&](const char* field) {
    std::vector<std::string> out;
    if (const auto* v = channel.settings.settings.if_contains(field); v && v->is_array()) {
      for (const auto& x : v->get_array()) {
        if (x.is_string()) out.emplace_back(x.get_string());
      }
    }
    return out;
  };
  e.to = list("to");
  e.cc = list("cc");
  e.subject = message.title;
  e.text = message.text;
  e.html = message.html;
  e.date_ms = clock_.unix_millis();
  e.message_id_domain = "netpulse.invalid";
  if (auto at = transport_smtp_.from.rfind('@'); at != std::string::npos) {
    e.message_id_domain = transport_smtp_.from.substr(at + 1);
  }
  e.extra_headers.emplace_back("X-NetPulse-Delivery", std::to_string(message.notification_id));
  SmtpSettings s;
  s.host = transport_smtp_.host;
  s.port = transport_smtp_.port;
  s.tls = transport_smtp_.tls == "none"  ? SmtpTls::kNone
          : transport_smtp_.tls == "tls" ? SmtpTls::kImplicit
                                         : SmtpTls::kStartTls;
  s.username = transport_smtp_.username;
  s.password = transport_smtp_.password;
  s.from = transport_smtp_.from;
  s.ca_file = transport_smtp_.ca_file;
  s.step_timeout = std::chrono::milliseconds(transport_smtp_.timeout_ms);
  smtp_->send(std::move(s), std::move(e), [done = std::move(done)](core::Result<SmtpResult> r) {
    DeliveryOutcome o;
    if (r) {
      o.kind = DeliveryOutcome::Kind::kDelivered;
      o.remote_status = 250;
      o.detail = short_text(r->reply);
      return done(std::move(o));
    }
    // A 4xx, a timeout or a lost connection is worth another try; a 5xx or a refused
    // certificate is not (the SMTP client says which: details.transient).
    const auto& d = r.error().details;
    const auto* transient = d.if_contains("transient");
    const bool again = transient && transient->is_bool()
                           ? transient->get_bool()
                           : r.error().code == core::Errc::kTimeout ||
                                 r.error().code == core::Errc::kServiceUnavailable;
    o.kind = again ? DeliveryOutcome::Kind::kRetry : DeliveryOutcome::Kind::kFailed;
    if (const auto* code = d.if_contains("smtp_code"); code && code->is_int64()) {
      o.remote_status = static_cast<int>(code->get_int64());
    }
    o.detail = short_text(r.error().message);
    done(std::move(o));
  });
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
  run->options.keep_alive = true;  // a storm to one receiver reuses its connections
  send_next(std::move(run));
}

void NotifierImpl::send_next(std::shared_ptr<HttpRun> run) {
  if (run->next >= run->requests.size()) return run->done(run->last);
  auto request = run->requests[run->next++];
  // Only the pending callback owns the run: a client closed with it in flight frees it.
  http_->send(std::move(request), run->options, [this, run](core::Result<core::HttpResponse> r) {
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
