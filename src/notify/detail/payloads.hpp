// The requests the channel kinds send, and how their answers are judged. Pure functions, no
// I/O: the notifier builds the requests of a message with build_requests(), hands them to the
// core::HttpClient, and judges each response with classify_response() (deliver, retry later, or
// give up). docs/notify-channels.md documents every payload, the webhook signature and the
// classification.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/http_client.hpp>
#include <netpulse/core/result.hpp>

#include "channels.hpp"
#include "message.hpp"

namespace netpulse::notify::detail {

// The requests that deliver `message` on a channel of `channel.kind` (validated settings, secrets
// included), at `now_ms` (Unix milliseconds: the webhook signature's time). Usually one request;
// Twilio and the generic SMS gateway send one per recipient. kInvalidInput for a kind that sends
// no HTTP request (email, in_app: see sends_http()) and for a sms_http body template that no
// longer renders. Requests carry secrets (a bot token in a URL, an Authorization header): never
// log one whole. Any thread.
core::Result<std::vector<core::HttpRequest>> build_requests(const ChannelSettings& channel,
                                                            const Message& message,
                                                            std::int64_t now_ms);

// The webhook signature header's value for `body` signed with `secret` at `unix_seconds`:
// "t=<unix_seconds>,v1=<lower-case hex HMAC-SHA256(secret, "<unix_seconds>.<body>")>".
std::string webhook_signature(std::string_view secret, std::string_view body,
                              std::int64_t unix_seconds);

// What a remote's answer means for a delivery.
struct DeliveryVerdict {
  enum class Outcome {
    kDelivered,  // accepted
    kRetry,      // a passing failure (408, 429, 5xx, a rate limit in the body): try again later
    kFailed,     // refused for good (other 4xx, a 3xx, an error in a 2xx body): do not retry
  };
  Outcome outcome = Outcome::kDelivered;
  // From Retry-After (delay-seconds, or an HTTP-date taken against now_ms) or, for Telegram,
  // parameters.retry_after; only with kRetry, never negative, at most a day.
  std::optional<std::chrono::seconds> retry_after;
  // A short reason from the remote ("invalid_token", PagerDuty's errors, Telegram's
  // description), log-safe and at most 200 bytes; "" when delivered and nothing to say.
  std::string reason;
};

// Judges the answer (`status`, `body`, `headers`) to a request built for `kind`, at `now_ms`
// (Unix milliseconds, for a Retry-After given as a date). 2xx delivered, except Slack's
// answer other than "ok", Telegram's {"ok": false} and Africa's Talking's recipients all
// refused; 408, 429 and 5xx retry; other statuses failed. Any thread.
DeliveryVerdict classify_response(ChannelKind kind, int status, std::string_view body,
                                  const core::HttpHeaders& headers, std::int64_t now_ms);

}  // namespace netpulse::notify::detail
