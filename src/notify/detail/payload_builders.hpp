// The payload builders of each kind family, behind build_requests() (payloads.hpp), and what
// they share: reading validated settings and the headers a user configured. Private to the
// payloads_*.cpp files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <netpulse/core/http_client.hpp>
#include <netpulse/core/result.hpp>

#include "channels.hpp"
#include "message.hpp"

namespace netpulse::notify::detail {

using Requests = core::Result<std::vector<core::HttpRequest>>;

// payloads_webhook.cpp
Requests build_webhook(const ChannelSettings& channel, const Message& message, std::int64_t now_ms);
// payloads_paging.cpp
Requests build_pagerduty(const ChannelSettings& channel, const Message& message);
Requests build_opsgenie(const ChannelSettings& channel, const Message& message);
// payloads_chat.cpp
Requests build_slack(const ChannelSettings& channel, const Message& message);
Requests build_teams(const ChannelSettings& channel, const Message& message);
Requests build_telegram(const ChannelSettings& channel, const Message& message);
// payloads_sms.cpp
Requests build_twilio(const ChannelSettings& channel, const Message& message);
Requests build_africastalking(const ChannelSettings& channel, const Message& message);
Requests build_http_sms(const ChannelSettings& channel, const Message& message);

// A public string setting, or `fallback` when it is not set.
std::string setting_or(const ChannelSettings& channel, std::string_view name,
                       std::string_view fallback);
// A secret, or "" when it is not set.
std::string secret_of(const ChannelSettings& channel, std::string_view name);
// The user's "headers" and "secret_headers", appended to `request`.
void add_custom_headers(const ChannelSettings& channel, core::HttpRequest& request);
// A JSON POST of `body` to `url`.
core::HttpRequest json_post(std::string url, const boost::json::value& body);
// A form POST of `body` (already encoded) to `url`.
core::HttpRequest form_post(std::string url, std::string body);

// The link to the message's subject in the web UI: the one alert's page, or the UI's base.
std::string subject_url(const Message& message);
// The number of alerts as people read it: "1 alert", "3 alerts".
std::string alert_count_text(const Message& message);
// Whether the message wants an "Acknowledge" button: it has a link and is not resolved or
// acknowledged already.
bool offers_ack(const Message& message);

}  // namespace netpulse::notify::detail
