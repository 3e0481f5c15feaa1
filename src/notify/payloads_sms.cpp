// SMS payloads: Twilio's Messages API (one request per recipient), Africa's Talking's bulk
// messaging (one request for all recipients) and the generic gateway (sms_http: the channel's
// body template rendered per recipient). Every one sends the same one-segment text, sms_text().
#include <boost/json/value.hpp>

#include "detail/body_template.hpp"
#include "detail/payload_builders.hpp"
#include "detail/payload_text.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::string_view kTwilioApi = "https://api.twilio.com";
constexpr std::string_view kAfricasTalkingApi = "https://api.africastalking.com/version1/messaging";

std::vector<std::string> recipients(const ChannelSettings& channel) {
  std::vector<std::string> out;
  if (const auto* to = channel.settings.if_contains("to"); to != nullptr && to->is_array())
    for (const auto& t : to->get_array())
      if (t.is_string()) out.emplace_back(t.get_string());
  return out;
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Requests build_twilio(const ChannelSettings& channel, const Message& message) {
  const auto sid = setting_or(channel, "account_sid", "");
  const auto from = setting_or(channel, "from", "");
  const auto url = without_trailing_slash(setting_or(channel, "api_url", kTwilioApi)) +
                   "/2010-04-01/Accounts/" + sid + "/Messages.json";
  const auto auth = "Basic " + base64_encode(sid + ":" + secret_of(channel, "auth_token"));
  // A Messaging Service SID (MG...) picks the sender itself.
  const std::string from_field = from.starts_with("MG") ? "MessagingServiceSid" : "From";
  const auto text = form_encode(sms_text(message));
  std::vector<core::HttpRequest> requests;
  for (const auto& to : recipients(channel)) {
    auto request = form_post(url, "To=" + form_encode(to) + "&" + from_field + "=" +
                                      form_encode(from) + "&Body=" + text);
    request.headers.emplace_back("Authorization", auth);
    request.headers.emplace_back("Accept", "application/json");
    requests.push_back(std::move(request));
  }
  return requests;
}

Requests build_africastalking(const ChannelSettings& channel, const Message& message) {
  std::string to;
  for (const auto& r : recipients(channel)) to += (to.empty() ? "" : ",") + r;
  std::string body = "username=" + form_encode(setting_or(channel, "username", "")) +
                     "&to=" + form_encode(to) + "&message=" + form_encode(sms_text(message));
  if (const auto from = setting_or(channel, "from", ""); !from.empty())
    body += "&from=" + form_encode(from);
  auto request = form_post(setting_or(channel, "api_url", kAfricasTalkingApi), std::move(body));
  request.headers.emplace_back("apiKey", secret_of(channel, "api_key"));
  request.headers.emplace_back("Accept", "application/json");
  return std::vector<core::HttpRequest>{std::move(request)};
}

Requests build_http_sms(const ChannelSettings& channel, const Message& message) {
  const bool json = setting_or(channel, "body_format", "form") == "json";
  const auto tmpl = setting_or(channel, "body_template", "");
  const auto text = sms_text(message);
  std::vector<core::HttpRequest> requests;
  for (const auto& to : recipients(channel)) {
    const auto values = [&](std::string_view name) -> std::optional<std::string> {
      if (name == "to") return to;
      if (name == "text") return text;
      if (name == "title") return display_text(message.title, true);
      if (name == "severity") return message.severity;
      if (name == "kind") return std::string(message_kind_name(message.kind));
      if (name == "receiver") return display_text(message.receiver, true);
      if (name == "group_key") return message.group_key;
      if (name == "ack_url") return message.ack_url;
      if (name == "alert_count") return std::to_string(message.alerts.size());
      if (name == "notification_id") return std::to_string(message.notification_id);
      if (name == "external_url") return message.external_url;
      if (name.starts_with("secret_") && channel.secrets.contains(std::string(name)))
        return secret_of(channel, name);
      return std::nullopt;
    };
    auto body = render_body_template(tmpl, json ? BodyEncoding::kJson : BodyEncoding::kForm, values,
                                     "settings.body_template");
    if (!body) return std::move(body).error();
    core::HttpRequest request;
    request.method = setting_or(channel, "method", "POST");
    request.url = setting_or(channel, "url", "");
    request.headers.emplace_back("Content-Type",
                                 json ? "application/json" : "application/x-www-form-urlencoded");
    request.body = std::move(*body);
    add_custom_headers(channel, request);
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace netpulse::notify::detail
