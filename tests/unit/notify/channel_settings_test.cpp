// Channel settings: every kind's documented settings accepted, each malformed field refused by
// name, unknown fields refused, URLs to refused addresses refused at save, secrets split off and
// redacted, and a PATCH that keeps the secrets the client did not send.
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/outbound.hpp>

#include "notify/detail/channels.hpp"

using netpulse::core::Errc;
using netpulse::core::OutboundPolicy;
using netpulse::notify::detail::channel_kind_name;
using netpulse::notify::detail::ChannelKind;
using netpulse::notify::detail::ChannelSettings;
using netpulse::notify::detail::merge_channel_settings;
using netpulse::notify::detail::parse_channel_kind;
using netpulse::notify::detail::parse_channel_settings;
using netpulse::notify::detail::redacted_settings;
using netpulse::notify::detail::sends_http;
using netpulse::notify::detail::unredacted_settings;

namespace {

boost::json::object obj(std::string_view json) {
  return boost::json::parse(json).as_object();
}

struct Valid {
  ChannelKind kind;
  const char* settings;
  std::vector<std::string> secrets;  // the names of the secrets it holds
};

const std::vector<Valid>& valid_settings() {
  static const std::vector<Valid> all = {
      {ChannelKind::kEmail, R"({"to": ["ops@isp.example"], "cc": ["noc@isp.example"]})", {}},
      {ChannelKind::kWebhook,
       R"({"url": "https://hooks.isp.example/netpulse", "format": "alertmanager", "method": "PUT",
           "secret": "0123456789abcdef-secret", "headers": {"X-Team": "noc"},
           "secret_headers": {"Authorization": "Bearer abc.def"}})",
       {"secret", "secret_headers.Authorization"}},
      {ChannelKind::kPagerDuty,
       R"({"routing_key": "0123456789abcdef0123456789abcdef",
           "url": "https://events.eu.pagerduty.com/v2/enqueue"})",
       {"routing_key"}},
      {ChannelKind::kOpsgenie,
       R"({"api_key": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
           "url": "https://api.eu.opsgenie.com/v2/alerts",
           "responders": [{"type": "team", "name": "NOC"},
                          {"type": "user", "username": "jane@isp.example"},
                          {"type": "schedule", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"}],
           "tags": ["core", "noc"]})",
       {"api_key"}},
      {ChannelKind::kSlack,
       R"({"url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX", "channel": "#noc"})",
       {"url"}},
      {ChannelKind::kTeams,
       R"({"url": "https://prod-00.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=xyz"})",
       {"url"}},
      {ChannelKind::kTelegram,
       R"({"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "chat_id": -1001234567890,
           "api_url": "https://telegram-proxy.isp.example"})",
       {"bot_token"}},
      {ChannelKind::kTwilio,
       R"({"account_sid": "AC0123456789abcdef0123456789abcdef",
           "auth_token": "f00dfeedf00dfeedf00dfeedf00dfeed", "from": "+15005550006",
           "to": ["+254712345678", "+14155552671"]})",
       {"auth_token"}},
      {ChannelKind::kAfricasTalking,
       R"({"username": "sandbox", "api_key": "atsk_0123456789abcdef", "to": ["+254712345678"],
           "from": "NETPULSE",
           "api_url": "https://api.sandbox.africastalking.com/version1/messaging"})",
       {"api_key"}},
      {ChannelKind::kHttpSms,
       R"({"url": "https://sms.isp.example/send", "method": "POST", "body_format": "json",
           "body_template": "{\"to\": \"{{to}}\", \"text\": \"{{ text }}\", \"key\": \"{{secret_key}}\"}",
           "to": ["+254712345678"], "secret_key": "k-123",
           "headers": {"X-Client": "netpulse"},
           "secret_headers": {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}})",
       {"secret_headers.Authorization", "secret_key"}},
      {ChannelKind::kInApp, R"({"user_ids": [1, 2], "roles": ["admin", "operator"]})", {}},
  };
  return all;
}

ChannelSettings parsed(ChannelKind kind, std::string_view json) {
  auto r = parse_channel_settings(kind, obj(json), OutboundPolicy());
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

std::string refused_field(ChannelKind kind, std::string_view json) {
  auto r = parse_channel_settings(kind, obj(json), OutboundPolicy());
  if (r) return "(accepted)";
  const auto* field = r.error().details.if_contains("field");
  return field != nullptr && field->is_string() ? std::string(field->get_string()) : "(no field)";
}

}  // namespace

TEST_CASE("channel kinds: names round-trip and say which kinds send HTTP", "[notify][channels]") {
  const std::vector<std::pair<ChannelKind, std::string>> names = {
      {ChannelKind::kEmail, "email"},
      {ChannelKind::kWebhook, "webhook"},
      {ChannelKind::kPagerDuty, "pagerduty"},
      {ChannelKind::kOpsgenie, "opsgenie"},
      {ChannelKind::kSlack, "slack"},
      {ChannelKind::kTeams, "teams"},
      {ChannelKind::kTelegram, "telegram"},
      {ChannelKind::kTwilio, "sms_twilio"},
      {ChannelKind::kAfricasTalking, "sms_africastalking"},
      {ChannelKind::kHttpSms, "sms_http"},
      {ChannelKind::kInApp, "in_app"},
  };
  for (const auto& [kind, name] : names) {
    CHECK(channel_kind_name(kind) == name);
    CHECK(parse_channel_kind(name) == kind);
    CHECK(sends_http(kind) == (kind != ChannelKind::kEmail && kind != ChannelKind::kInApp));
  }
  CHECK_FALSE(parse_channel_kind("Slack"));
  CHECK_FALSE(parse_channel_kind("sms"));
  CHECK_FALSE(parse_channel_kind(""));
}

TEST_CASE("channel settings: every kind's documented settings are accepted, secrets split off",
          "[notify][channels]") {
  for (const auto& v : valid_settings()) {
    INFO(channel_kind_name(v.kind));
    const auto channel = parsed(v.kind, v.settings);
    CHECK(channel.kind == v.kind);
    std::vector<std::string> names;
    for (const auto& [name, secret] : channel.secrets) names.push_back(name);
    CHECK(names == v.secrets);
    // No secret is left in the public part, and nothing else went missing.
    const auto public_text = boost::json::serialize(channel.settings);
    for (const auto& [name, secret] : channel.secrets)
      CHECK(public_text.find(secret) == std::string::npos);
    CHECK(unredacted_settings(channel) == obj(v.settings));
  }
}

TEST_CASE("channel settings: the minimal settings of each kind are enough", "[notify][channels]") {
  CHECK(parse_channel_settings(ChannelKind::kWebhook, obj(R"({"url": "http://hooks.example"})"),
                               OutboundPolicy()));
  CHECK(parse_channel_settings(ChannelKind::kPagerDuty,
                               obj(R"({"routing_key": "R0123456789abcdef0123456789abcde"})"),
                               OutboundPolicy()));
  CHECK(parse_channel_settings(ChannelKind::kInApp, obj("{}"), OutboundPolicy()));
  CHECK(parse_channel_settings(ChannelKind::kTelegram,
                               obj(R"({"bot_token": "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                       "chat_id": "@noc_channel"})"),
                               OutboundPolicy()));
  CHECK(parse_channel_settings(
      ChannelKind::kTwilio,
      obj(R"({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tok3n-tok3n",
              "from": "MG0123456789abcdef0123456789abcdef", "to": ["+254712345678"]})"),
      OutboundPolicy()));
  CHECK(parse_channel_settings(
      ChannelKind::kHttpSms,
      obj(R"({"url": "https://sms.example/api", "body_format": "form", "to": ["+254712345678"],
              "body_template": "to={{to}}&msg={{text}}&key={{secret_api_key}}",
              "secret_api_key": "abc"})"),
      OutboundPolicy()));
}

TEST_CASE("channel settings: a malformed field is refused naming it", "[notify][channels]") {
  struct Case {
    ChannelKind kind;
    const char* settings;
    const char* field;
  };
  const std::vector<Case> cases = {
      {ChannelKind::kEmail, R"({})", "settings.to"},
      {ChannelKind::kEmail, R"({"to": []})", "settings.to"},
      {ChannelKind::kEmail, R"({"to": "ops@isp.example"})", "settings.to"},
      {ChannelKind::kEmail, R"({"to": ["ops@isp.example", "not an address"]})", "settings.to[1]"},
      {ChannelKind::kEmail, R"({"to": ["a@b.example", "a@b.example"]})", "settings.to[1]"},
      {ChannelKind::kEmail, R"({"to": ["a@b.example"], "cc": ["<x>@b.example"]})",
       "settings.cc[0]"},
      {ChannelKind::kWebhook, R"({})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": 7})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "ftp://files.example/x"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "https://user:pw@hooks.example/"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "https://hooks.example:99999/"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "https:///path"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "https://hooks example/"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "http://2852039166/"})", "settings.url"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "format": "json"})",
       "settings.format"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "method": "GET"})",
       "settings.method"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "secret": "short"})",
       "settings.secret"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "headers": []})", "settings.headers"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "headers": {"Bad Name": "x"}})",
       "settings.headers.Bad Name"},
      {ChannelKind::kWebhook,
       R"({"url": "https://h.example", "headers": {"X-A": "a\r\nHost: evil"}})",
       "settings.headers.X-A"},
      {ChannelKind::kWebhook, R"({"url": "https://h.example", "headers": {"Host": "evil"}})",
       "settings.headers.Host"},
      {ChannelKind::kWebhook,
       R"({"url": "https://h.example", "headers": {"X-NetPulse-Signature": "forged"}})",
       "settings.headers.X-NetPulse-Signature"},
      {ChannelKind::kWebhook,
       R"({"url": "https://h.example", "headers": {"X-A": "1"}, "secret_headers": {"x-a": "2"}})",
       "settings.secret_headers.x-a"},
      {ChannelKind::kPagerDuty, R"({})", "settings.routing_key"},
      {ChannelKind::kPagerDuty, R"({"routing_key": "too-short"})", "settings.routing_key"},
      {ChannelKind::kPagerDuty,
       R"({"routing_key": "0123456789abcdef0123456789abcdef", "url": "mailto:x@y"})",
       "settings.url"},
      {ChannelKind::kOpsgenie, R"({})", "settings.api_key"},
      {ChannelKind::kOpsgenie, R"({"api_key": "key with spaces"})", "settings.api_key"},
      {ChannelKind::kOpsgenie, R"({"api_key": "a1b2c3d4-e5f6", "responders": {}})",
       "settings.responders"},
      {ChannelKind::kOpsgenie, R"({"api_key": "a1b2c3d4-e5f6", "responders": [{"type": "robot"}]})",
       "settings.responders[0].type"},
      {ChannelKind::kOpsgenie,
       R"({"api_key": "a1b2c3d4-e5f6", "responders": [{"type": "team", "name": "a", "id": "b"}]})",
       "settings.responders[0]"},
      {ChannelKind::kOpsgenie,
       R"({"api_key": "a1b2c3d4-e5f6", "responders": [{"type": "team", "username": "a"}]})",
       "settings.responders[0].username"},
      {ChannelKind::kOpsgenie, R"({"api_key": "a1b2c3d4-e5f6", "tags": [""]})", "settings.tags[0]"},
      {ChannelKind::kSlack, R"({})", "settings.url"},
      {ChannelKind::kSlack, R"({"url": "https://hooks.slack.com/x", "channel": "# noc"})",
       "settings.channel"},
      {ChannelKind::kTeams, R"({"url": "teams.example/hook"})", "settings.url"},
      {ChannelKind::kTelegram, R"({"chat_id": 1})", "settings.bot_token"},
      {ChannelKind::kTelegram, R"({"bot_token": "nocolon", "chat_id": 1})", "settings.bot_token"},
      {ChannelKind::kTelegram, R"({"bot_token": "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})",
       "settings.chat_id"},
      {ChannelKind::kTelegram,
       R"({"bot_token": "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "chat_id": "noc"})",
       "settings.chat_id"},
      {ChannelKind::kTelegram,
       R"({"bot_token": "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "chat_id": 1.5})", "settings.chat_id"},
      {ChannelKind::kTwilio,
       R"({"account_sid": "XX0123456789abcdef0123456789abcdef", "auth_token": "tok3n-tok3n",
           "from": "+15005550006", "to": ["+254712345678"]})",
       "settings.account_sid"},
      {ChannelKind::kTwilio,
       R"({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tok3n-tok3n",
           "from": "a sender id that is too long", "to": ["+254712345678"]})",
       "settings.from"},
      {ChannelKind::kTwilio,
       R"({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tok3n-tok3n",
           "from": "+15005550006", "to": ["0712345678"]})",
       "settings.to[0]"},
      {ChannelKind::kTwilio,
       R"({"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006",
           "to": ["+254712345678"]})",
       "settings.auth_token"},
      {ChannelKind::kAfricasTalking, R"({"api_key": "atsk_0123456789", "to": ["+254712345678"]})",
       "settings.username"},
      {ChannelKind::kAfricasTalking,
       R"({"username": "sandbox", "api_key": "atsk_0123456789", "to": ["+254712345678"],
           "from": "+0"})",
       "settings.from"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "xml", "body_template": "x",
           "to": ["+254712345678"]})",
       "settings.body_format"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "form", "body_template": "to={{phone}}",
           "to": ["+254712345678"]})",
       "settings.body_template"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "form", "body_template": "to={{to",
           "to": ["+254712345678"]})",
       "settings.body_template"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "form", "body_template": "k={{secret_key}}",
           "to": ["+254712345678"]})",
       "settings.body_template"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "json", "body_template": "{\"to\": {{to}}}",
           "to": ["+254712345678"]})",
       "settings.body_template"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "form", "body_template": "x",
           "to": ["+254712345678"], "secret_API": "x"})",
       "settings.secret_API"},
      {ChannelKind::kHttpSms,
       R"({"url": "https://s.example", "body_format": "form", "to": ["+254712345678"]})",
       "settings.body_template"},
      {ChannelKind::kInApp, R"({"user_ids": [0]})", "settings.user_ids[0]"},
      {ChannelKind::kInApp, R"({"user_ids": ["1"]})", "settings.user_ids[0]"},
      {ChannelKind::kInApp, R"({"roles": ["root"]})", "settings.roles[0]"},
  };
  for (const auto& c : cases) {
    INFO(channel_kind_name(c.kind) << " " << c.settings);
    CHECK(refused_field(c.kind, c.settings) == c.field);
  }
}

TEST_CASE("channel settings: an unknown field is refused for every kind", "[notify][channels]") {
  for (const auto& v : valid_settings()) {
    INFO(channel_kind_name(v.kind));
    auto settings = obj(v.settings);
    settings["colour"] = "red";
    auto r = parse_channel_settings(v.kind, settings, OutboundPolicy());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidInput);
    CHECK(r.error().details.at("field") == "settings.colour");
  }
}

TEST_CASE("channel settings: a URL to a refused address literal is refused at save",
          "[notify][channels]") {
  struct Case {
    ChannelKind kind;
    const char* field;
  };
  const std::vector<Case> cases = {
      {ChannelKind::kWebhook, "url"},    {ChannelKind::kPagerDuty, "url"},
      {ChannelKind::kOpsgenie, "url"},   {ChannelKind::kSlack, "url"},
      {ChannelKind::kTeams, "url"},      {ChannelKind::kTelegram, "api_url"},
      {ChannelKind::kTwilio, "api_url"}, {ChannelKind::kAfricasTalking, "api_url"},
      {ChannelKind::kHttpSms, "url"},
  };
  for (const auto& c : cases) {
    for (const char* url :
         {"http://169.254.169.254/latest/meta-data/", "https://[::ffff:169.254.169.254]/x",
          "http://127.0.0.1:8080/hook", "http://[::1]/hook"}) {
      INFO(channel_kind_name(c.kind) << " " << url);
      const Valid* valid = nullptr;
      for (const auto& v : valid_settings())
        if (v.kind == c.kind) valid = &v;
      REQUIRE(valid != nullptr);
      auto settings = obj(valid->settings);
      settings[c.field] = url;
      auto r = parse_channel_settings(c.kind, settings, OutboundPolicy());
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::kOutboundDenied);
      CHECK(r.error().details.at("field") ==
            boost::json::value(std::string("settings.") + c.field));
      CHECK(r.error().details.contains("rule"));
    }
  }
  // An allowed literal passes: the rule, not the literal, decides.
  CHECK(parse_channel_settings(ChannelKind::kWebhook, obj(R"({"url": "https://203.0.113.7/hook"})"),
                               OutboundPolicy()));
  auto lists = netpulse::core::OutboundLists::defaults();
  lists.allow.emplace_back("127.0.0.0/8");
  auto loopback_open = OutboundPolicy::make(lists);
  REQUIRE(loopback_open);
  CHECK(parse_channel_settings(ChannelKind::kWebhook, obj(R"({"url": "http://127.0.0.1:9/hook"})"),
                               *loopback_open));
}

TEST_CASE("channel settings: the API shows each set secret as {\"set\": true}, never its value",
          "[notify][channels]") {
  for (const auto& v : valid_settings()) {
    INFO(channel_kind_name(v.kind));
    const auto channel = parsed(v.kind, v.settings);
    const auto redacted = redacted_settings(channel);
    const auto text = boost::json::serialize(redacted);
    for (const auto& [name, secret] : channel.secrets)
      CHECK(text.find(secret) == std::string::npos);
    for (const auto& [k, value] : channel.settings) CHECK(redacted.at(k) == value);
  }
  const auto webhook = parsed(ChannelKind::kWebhook, valid_settings()[1].settings);
  const auto redacted = redacted_settings(webhook);
  CHECK(redacted.at("secret") == obj(R"({"set": true})"));
  CHECK(redacted.at("secret_headers") == obj(R"({"Authorization": {"set": true}})"));
  CHECK(redacted.at("headers") == obj(R"({"X-Team": "noc"})"));
  const auto slack =
      parsed(ChannelKind::kSlack, R"({"url": "https://hooks.slack.com/services/T/B/X"})");
  CHECK(redacted_settings(slack) == obj(R"({"url": {"set": true}})"));
  // An optional secret that is not set is absent.
  const auto plain = parsed(ChannelKind::kWebhook, R"({"url": "https://h.example"})");
  CHECK_FALSE(redacted_settings(plain).contains("secret"));
}

TEST_CASE("channel settings: a PATCH keeps the secrets the client leaves out or sends back as set",
          "[notify][channels]") {
  const auto policy = OutboundPolicy();
  const auto current = parsed(ChannelKind::kWebhook, valid_settings()[1].settings);

  SECTION("an omitted secret is kept") {
    auto merged = merge_channel_settings(current, obj(R"({"format": "netpulse"})"), policy);
    REQUIRE(merged);
    CHECK(merged->settings.at("format") == "netpulse");
    CHECK(merged->secrets == current.secrets);
  }
  SECTION("what the API printed, sent back as it is, changes nothing") {
    auto merged = merge_channel_settings(current, redacted_settings(current), policy);
    REQUIRE(merged);
    CHECK(merged->settings == current.settings);
    CHECK(merged->secrets == current.secrets);
  }
  SECTION("a new value replaces a secret, null removes it") {
    auto merged = merge_channel_settings(
        current, obj(R"({"secret": "a-brand-new-secret-1", "secret_headers": null})"), policy);
    REQUIRE(merged);
    CHECK(merged->secrets.at("secret") == "a-brand-new-secret-1");
    CHECK_FALSE(merged->secrets.contains("secret_headers.Authorization"));
  }
  SECTION("a secret header map keeps the headers marked set and drops the others") {
    auto with_two = current;
    with_two.secrets["secret_headers.X-Key"] = "k";
    auto merged = merge_channel_settings(
        with_two, obj(R"({"secret_headers": {"Authorization": {"set": true}, "X-New": "n"}})"),
        policy);
    REQUIRE(merged);
    CHECK(merged->secrets.at("secret_headers.Authorization") == "Bearer abc.def");
    CHECK(merged->secrets.at("secret_headers.X-New") == "n");
    CHECK_FALSE(merged->secrets.contains("secret_headers.X-Key"));
  }
  SECTION("keeping a secret that was never stored is refused naming it") {
    const auto plain = parsed(ChannelKind::kWebhook, R"({"url": "https://h.example"})");
    auto merged = merge_channel_settings(plain, obj(R"({"secret": {"set": true}})"), policy);
    REQUIRE_FALSE(merged);
    CHECK(merged.error().details.at("field") == "settings.secret");
  }
  SECTION("the merged settings are validated again") {
    auto merged =
        merge_channel_settings(current, obj(R"({"url": "http://169.254.169.254/"})"), policy);
    REQUIRE_FALSE(merged);
    CHECK(merged.error().code == Errc::kOutboundDenied);
    auto unknown = merge_channel_settings(current, obj(R"({"bogus": 1})"), policy);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().details.at("field") == "settings.bogus");
  }
  SECTION("a Slack channel keeps its webhook URL, a secret, when only the channel changes") {
    const auto slack =
        parsed(ChannelKind::kSlack, R"({"url": "https://hooks.slack.com/services/T/B/X"})");
    auto merged =
        merge_channel_settings(slack, obj(R"({"url": {"set": true}, "channel": "#ops"})"), policy);
    REQUIRE(merged);
    CHECK(merged->secrets.at("url") == "https://hooks.slack.com/services/T/B/X");
    CHECK(merged->settings.at("channel") == "#ops");
  }
}
