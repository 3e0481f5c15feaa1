// The channel kinds of the notifier and their settings: which kinds exist, what each kind's
// settings object may hold, which of its fields are secret, and how an API client sees and
// edits them. Pure functions, no I/O: the notifier's channel CRUD calls them on save, the
// payload builders (payloads.hpp) read what they return. docs/notify-channels.md describes every
// kind's settings.
//
// A channel's settings are kept in two parts: the public object (stored and shown as is) and the
// secrets (tokens, keys, webhook URLs that are themselves credentials), which the API never
// prints back. Secrets are named by their place in the settings object: "routing_key", "url",
// "secret_headers.Authorization", "secret_api_key".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

enum class ChannelKind {
  kEmail,
  kWebhook,
  kPagerDuty,
  kOpsgenie,
  kSlack,
  kTeams,
  kTelegram,
  kTwilio,
  kAfricasTalking,
  kHttpSms,  // a generic SMS gateway: a templated HTTP request
  kInApp,
};

// The stable name of a kind as the API and the database write it: "email", "webhook",
// "pagerduty", "opsgenie", "slack", "teams", "telegram", "sms_twilio", "sms_africastalking",
// "sms_http", "in_app".
std::string_view channel_kind_name(ChannelKind kind) noexcept;
// The kind of that name, or nullopt (names are exact, lower case).
std::optional<ChannelKind> parse_channel_kind(std::string_view name) noexcept;
// Whether the kind delivers by an HTTP request built by build_requests() (every kind but email,
// sent by the SMTP sender, and in_app, which only records).
bool sends_http(ChannelKind kind) noexcept;

// A channel's validated settings.
struct ChannelSettings {
  ChannelKind kind = ChannelKind::kWebhook;
  // The settings without their secrets, as the client wrote them (defaults are not filled in:
  // the payload builders apply them, so a changed default reaches every channel).
  boost::json::object settings;
  // The secret fields by name (see the file comment); never printed by the API.
  std::map<std::string, std::string> secrets;
};

// Validates `settings` for `kind` and splits off its secrets. kInvalidInput naming the field
// ("settings.url", "settings.to[2]", "settings.secret_headers.X-Token") for a missing, mistyped,
// malformed or unknown field; kOutboundDenied (details: field, address, rule, list) for a URL
// whose host is an IP literal that `policy` refuses for OutboundPurpose::kFetch. Any thread.
core::Result<ChannelSettings> parse_channel_settings(ChannelKind kind,
                                                     const boost::json::object& settings,
                                                     const core::OutboundPolicy& policy);

// The settings as the API prints them: the public fields, and each secret that is set as
// {"set": true} in its place ("routing_key": {"set": true}, "secret_headers": {"Authorization":
// {"set": true}}). An unset optional secret is absent.
boost::json::object redacted_settings(const ChannelSettings& channel);

// The complete settings object, secrets in their places: what parse_channel_settings() was
// given. For merging and for tests; never for API output.
boost::json::object unredacted_settings(const ChannelSettings& channel);

// Applies a PATCH of settings to `current` and validates the result as parse_channel_settings()
// does. Field by field at the top level: a field absent from `patch` keeps its value, null
// removes it, anything else replaces it. A secret given as {"set": true} (what
// redacted_settings() printed) keeps its stored value, so a client may send back what it read;
// within a given "secret_headers" map the same holds per header, and headers it does not name
// are removed. {"set": true} where nothing is stored is refused naming the field. Any thread.
core::Result<ChannelSettings> merge_channel_settings(const ChannelSettings& current,
                                                     const boost::json::object& patch,
                                                     const core::OutboundPolicy& policy);

}  // namespace netpulse::notify::detail
