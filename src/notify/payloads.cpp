// The channel payloads' front (detail/payloads.hpp): build_requests() hands a message to its
// kind family's builder (payloads_webhook/paging/chat/sms.cpp), the helpers those builders share,
// and classify_response(): each remote's answer judged as delivered, to retry (with the delay it
// asked for) or failed, with a short reason taken from the body in the remote's own format.
#include "detail/payloads.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/json/parse.hpp>

#include <netpulse/core/json.hpp>
#include <netpulse/core/text.hpp>

#include "detail/payload_builders.hpp"
#include "detail/payload_text.hpp"

namespace netpulse::notify::detail {

using boost::json::object;
using boost::json::value;

core::Result<std::vector<core::HttpRequest>> build_requests(const ChannelSettings& channel,
                                                            const Message& message,
                                                            std::int64_t now_ms) {
  switch (channel.kind) {
    case ChannelKind::kWebhook:
      return build_webhook(channel, message, now_ms);
    case ChannelKind::kPagerDuty:
      return build_pagerduty(channel, message);
    case ChannelKind::kOpsgenie:
      return build_opsgenie(channel, message);
    case ChannelKind::kSlack:
      return build_slack(channel, message);
    case ChannelKind::kTeams:
      return build_teams(channel, message);
    case ChannelKind::kTelegram:
      return build_telegram(channel, message);
    case ChannelKind::kTwilio:
      return build_twilio(channel, message);
    case ChannelKind::kAfricasTalking:
      return build_africastalking(channel, message);
    case ChannelKind::kHttpSms:
      return build_http_sms(channel, message);
    case ChannelKind::kEmail:
    case ChannelKind::kInApp:
      break;
  }
  return core::Error(
      core::Errc::kInvalidInput,
      "a " + std::string(channel_kind_name(channel.kind)) + " channel sends no HTTP request",
      object{{"field", "kind"}});
}

std::string setting_or(const ChannelSettings& channel, std::string_view name,
                       std::string_view fallback) {
  const auto* v = channel.settings.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return std::string(v->get_string());
}

std::string secret_of(const ChannelSettings& channel, std::string_view name) {
  const auto it = channel.secrets.find(std::string(name));
  return it == channel.secrets.end() ? std::string() : it->second;
}

void add_custom_headers(const ChannelSettings& channel, core::HttpRequest& request) {
  if (const auto* headers = channel.settings.if_contains("headers");
      headers != nullptr && headers->is_object())
    for (const auto& [name, v] : headers->get_object())
      if (v.is_string()) request.headers.emplace_back(name, v.get_string());
  constexpr std::string_view kPrefix = "secret_headers.";
  for (const auto& [name, v] : channel.secrets)
    if (name.starts_with(kPrefix)) request.headers.emplace_back(name.substr(kPrefix.size()), v);
}

core::HttpRequest json_post(std::string url, const value& body) {
  core::HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = core::to_json_text(body);
  return request;
}

core::HttpRequest form_post(std::string url, std::string body) {
  core::HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body = std::move(body);
  return request;
}

std::string subject_url(const Message& message) {
  if (message.alerts.size() == 1 && !message.alerts.front().url.empty())
    return message.alerts.front().url;
  return message.external_url;
}

std::string alert_count_text(const Message& message) {
  const auto n = message.alerts.size();
  return std::to_string(n) + (n == 1 ? " alert" : " alerts");
}

bool offers_ack(const Message& message) {
  return !message.ack_url.empty() && message.kind != MessageKind::kResolved &&
         message.kind != MessageKind::kAcknowledged;
}

// --- classify_response ---------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxReason = 200;
constexpr std::int64_t kMaxRetryAfter = std::int64_t{24} * 3600;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view header_value(const core::HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

// A reason as delivery records keep it: one log-safe line of at most kMaxReason bytes.
std::string short_reason(std::string_view text) {
  std::string out;
  core::append_log_safe(out, display_text(trim(text), true));
  if (out.size() <= kMaxReason) return out;
  std::size_t cut = kMaxReason - 3;  // room for "…"
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "\xE2\x80\xA6";
}

std::optional<object> json_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string string_at(const object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_number() || v->is_bool()) return core::to_json_text(*v);
  return {};
}

// The strings of an array or the "key: value" pairs of an object, joined by "; ".
std::string joined(const value* v) {
  std::string out;
  const auto add = [&](std::string_view s) {
    if (!out.empty()) out += "; ";
    out += s;
  };
  if (v == nullptr) return out;
  if (v->is_array()) {
    for (const auto& item : v->get_array())
      add(item.is_string() ? std::string(item.get_string()) : core::to_json_text(item));
  } else if (v->is_object()) {
    for (const auto& [k, item] : v->get_object())
      add(std::string(k) + ": " +
          (item.is_string() ? std::string(item.get_string()) : core::to_json_text(item)));
  } else if (v->is_string()) {
    add(v->get_string());
  }
  return out;
}

// The reason a remote gives in its body, in its own format; the body's start otherwise.
std::string reason_from_body(ChannelKind kind, std::string_view body) {
  const auto o = json_object(body);
  if (o) {
    std::string reason;
    switch (kind) {
      case ChannelKind::kPagerDuty: {
        // {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}
        reason = string_at(*o, "message");
        if (auto errors = joined(o->if_contains("errors")); !errors.empty())
          reason += (reason.empty() ? "" : ": ") + errors;
        break;
      }
      case ChannelKind::kOpsgenie: {
        // {"message": "Request body is not processable", "errors": {"field": "..."}, ...}
        reason = string_at(*o, "message");
        if (auto errors = joined(o->if_contains("errors")); !errors.empty())
          reason += (reason.empty() ? "" : ": ") + errors;
        break;
      }
      case ChannelKind::kTelegram:
        reason = string_at(*o, "description");
        break;
      case ChannelKind::kTwilio: {
        // {"code": 21211, "message": "The 'To' number ... is not a valid phone number.", ...}
        const auto code = string_at(*o, "code");
        reason = (code.empty() ? "" : code + ": ") + string_at(*o, "message");
        break;
      }
      case ChannelKind::kTeams: {
        // Power Automate: {"error": {"code": "...", "message": "..."}}
        if (const auto* e = o->if_contains("error"); e != nullptr && e->is_object())
          reason =
              string_at(e->get_object(), "code") + ": " + string_at(e->get_object(), "message");
        break;
      }
      default:
        break;
    }
    if (reason.empty()) reason = string_at(*o, "message");
    if (reason.empty()) reason = string_at(*o, "error");
    if (!trim(reason).empty()) return short_reason(reason);
  }
  return short_reason(body.substr(0, body.find('\n')));
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 §5.6.7) as Unix seconds.
std::optional<std::int64_t> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      n = n * 10 + (s[i] - '0');
    }
    return n;
  };
  const auto day = number(5, 2);
  const auto year = number(12, 4);
  const auto hour = number(17, 2);
  const auto minute = number(20, 2);
  const auto second = number(23, 2);
  const auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (!day || !year || !hour || !minute || !second || month == kMonths.end() || *day < 1 ||
      *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  const auto m = static_cast<unsigned>(month - kMonths.begin() + 1);
  const std::int64_t time_of_day =
      std::int64_t{*hour} * 3600 + std::int64_t{*minute} * 60 + *second;
  return days_from_civil(*year, m, static_cast<unsigned>(*day)) * 86400 + time_of_day;
}

std::optional<std::chrono::seconds> retry_after(std::string_view text, std::int64_t now_ms) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 9) return std::chrono::seconds(kMaxRetryAfter);
    for (char c : text) seconds = seconds * 10 + (c - '0');
  } else if (const auto at = parse_http_date(text)) {
    const auto now_s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    seconds = std::max<std::int64_t>(0, *at - now_s);
  } else {
    return std::nullopt;
  }
  return std::chrono::seconds(std::min(seconds, kMaxRetryAfter));
}

using Outcome = DeliveryVerdict::Outcome;

// A 2xx answer whose body may still say that nothing was delivered.
DeliveryVerdict judge_success(ChannelKind kind, std::string_view body) {
  DeliveryVerdict verdict;
  switch (kind) {
    case ChannelKind::kSlack: {
      // Incoming webhooks answer the plain text "ok"; anything else names the error.
      const auto text = trim(body);
      if (!text.empty() && text != "ok") {
        verdict.outcome = Outcome::kFailed;
        verdict.reason = short_reason(text);
      }
      break;
    }
    case ChannelKind::kTelegram: {
      const auto o = json_object(body);
      const auto* ok = o ? o->if_contains("ok") : nullptr;
      if (ok != nullptr && ok->is_bool() && !ok->get_bool()) {
        verdict.outcome = Outcome::kFailed;
        verdict.reason = reason_from_body(kind, body);
      }
      break;
    }
    case ChannelKind::kAfricasTalking: {
      // {"SMSMessageData": {"Message": "Sent to 1/2 ...", "Recipients": [{"statusCode": 101,
      // "status": "Success", ...}]}}: 100-102 are accepted; 500-502 are the gateway's own
      // passing failures.
      const auto o = json_object(body);
      const auto* data = o ? o->if_contains("SMSMessageData") : nullptr;
      if (data == nullptr || !data->is_object()) break;
      const auto* recipients = data->get_object().if_contains("Recipients");
      const bool none =
          recipients == nullptr || !recipients->is_array() || recipients->get_array().empty();
      bool any_sent = false;
      bool passing = false;
      std::string first_status;
      if (!none)
        for (const auto& r : recipients->get_array()) {
          if (!r.is_object()) continue;
          const auto* code = r.get_object().if_contains("statusCode");
          const auto c = code != nullptr && code->is_int64() ? code->get_int64() : 0;
          any_sent = any_sent || (c >= 100 && c <= 102);
          passing = passing || (c >= 500 && c <= 502);
          if (first_status.empty()) first_status = string_at(r.get_object(), "status");
        }
      if (!any_sent) {
        verdict.outcome = passing ? Outcome::kRetry : Outcome::kFailed;
        verdict.reason = short_reason(
            !first_status.empty() ? first_status : string_at(data->get_object(), "Message"));
      }
      break;
    }
    default:
      break;
  }
  return verdict;
}

}  // namespace

DeliveryVerdict classify_response(ChannelKind kind, int status, std::string_view body,
                                  const core::HttpHeaders& headers, std::int64_t now_ms) {
  if (status >= 200 && status < 300) return judge_success(kind, body);
  DeliveryVerdict verdict;
  verdict.reason = reason_from_body(kind, body);
  if (verdict.reason.empty()) verdict.reason = "HTTP " + std::to_string(status);
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    verdict.outcome = Outcome::kRetry;
    verdict.retry_after = retry_after(header_value(headers, "Retry-After"), now_ms);
    if (!verdict.retry_after && kind == ChannelKind::kTelegram) {
      // Telegram says how long to wait in the body: {"parameters": {"retry_after": 35}}.
      if (const auto o = json_object(body))
        if (const auto* p = o->if_contains("parameters"); p != nullptr && p->is_object())
          if (const auto* s = p->get_object().if_contains("retry_after");
              s != nullptr && s->is_int64() && s->get_int64() >= 0)
            verdict.retry_after = std::chrono::seconds(std::min(s->get_int64(), kMaxRetryAfter));
    }
    return verdict;
  }
  verdict.outcome = Outcome::kFailed;
  if (status >= 300 && status < 400) {
    const auto location = header_value(headers, "Location");
    verdict.reason = short_reason("HTTP " + std::to_string(status) + " redirect" +
                                  (location.empty() ? "" : " to " + std::string(location)) +
                                  " (redirects are not followed)");
  }
  return verdict;
}

}  // namespace netpulse::notify::detail
