// Channel payloads: each kind's request checked field by field against the format its receiver
// documents (bodies parsed back as JSON or forms), the webhook signature recomputed with OpenSSL,
// hostile alert text escaped for each markup, the one-segment SMS text, and the classification
// of remote answers (Retry-After in both forms).
#include "notify/detail/payloads.hpp"

#include <limits>
#include <map>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <netpulse/core/outbound.hpp>
#include <netpulse/core/text.hpp>

#include "notify/detail/channels.hpp"
#include "notify/detail/payload_text.hpp"

using netpulse::core::HttpHeaders;
using netpulse::core::HttpRequest;
using netpulse::core::OutboundPolicy;
using namespace netpulse::notify::detail;  // the unit under test: its many functions
using Outcome = DeliveryVerdict::Outcome;
namespace json = boost::json;

namespace {

// 2026-01-15T10:30:00.123Z
constexpr std::int64_t kNowMs = 1768473000123;

Message sample_message(MessageKind kind = MessageKind::kFiring) {
  Message m;
  m.org_id = 1;
  m.notification_id = 4711;
  m.kind = kind;
  m.severity = "critical";
  m.receiver = "core-network";
  m.group_key = "{}:{alertname=\"DeviceDown\"}";
  m.group_labels = {{"alertname", "DeviceDown"}};
  m.common_labels = {{"site", "nbo1"}};
  m.common_annotations = {{"runbook_url", "https://wiki.isp.example/device-down"}};
  MessageAlert a;
  a.id = 17;
  a.rule_id = 3;
  a.rule_name = "DeviceDown";
  a.status = kind == MessageKind::kResolved ? "resolved" : "firing";
  a.severity = "critical";
  a.subject = "device";
  a.device_id = 42;
  a.device_name = "core-sw1";
  a.labels = {{"site", "nbo1"}, {"role", "core"}};
  a.annotations = {{"summary", "core-sw1 is down"}};
  a.value = 0;
  a.threshold = 1;
  a.started_at = kNowMs - 120'000;
  a.fired_at = kNowMs - 60'000;
  if (kind == MessageKind::kResolved) a.resolved_at = kNowMs - 1'000;
  a.fingerprint = "0123456789abcdef";
  a.url = "https://netpulse.isp.example/alerts/17";
  m.alerts.push_back(a);
  MessageAlert b = a;
  b.id = 18;
  b.device_id = 43;
  b.device_name = "core-sw2";
  b.labels = {{"site", "nbo1"}, {"role", "edge"}};
  b.threshold.reset();
  b.fired_at.reset();
  b.fingerprint = "fedcba9876543210";
  b.url = "https://netpulse.isp.example/alerts/18";
  m.alerts.push_back(b);
  m.title = "[CRITICAL] DeviceDown: 2 devices down";
  m.text = "core-sw1 is down\ncore-sw2 is down";
  m.ack_url = "https://netpulse.isp.example/ack/t0k3n";
  m.external_url = "https://netpulse.isp.example";
  m.created_at = kNowMs - 500;
  return m;
}

ChannelSettings channel(ChannelKind kind, std::string_view settings) {
  auto r = parse_channel_settings(kind, json::parse(settings).as_object(), OutboundPolicy());
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

std::vector<HttpRequest> build(const ChannelSettings& c, const Message& m) {
  auto r = build_requests(c, m, kNowMs);
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

json::object body_of(const HttpRequest& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);  // also refuses invalid UTF-8
  INFO(r.body);
  REQUIRE_FALSE(ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::string header(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "(none)";
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_fields(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    const auto eq = pair.find('=');
    out[form_decode(pair.substr(0, eq))] = form_decode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

std::string hex_hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xF];
  }
  return out;
}

bool is_rfc3339(const json::value& v) {
  if (!v.is_string()) return false;
  const std::string_view s = v.get_string();
  return s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
         s.back() == 'Z';
}

const char* kWebhook =
    R"({"url": "https://hooks.isp.example/np", "secret": "0123456789abcdef-secret",
                           "headers": {"X-Team": "noc"},
                           "secret_headers": {"Authorization": "Bearer abc.def"}})";
const char* kAlertmanager = R"({"url": "https://hooks.isp.example/am", "format": "alertmanager"})";
const char* kPagerDuty = R"({"routing_key": "0123456789abcdef0123456789abcdef"})";
const char* kOpsgenie = R"({"api_key": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                            "responders": [{"type": "team", "name": "NOC"}], "tags": ["core"]})";
const char* kSlack = R"({"url": "https://hooks.slack.com/services/T0/B0/XX", "channel": "#noc"})";
const char* kTeams = R"({"url": "https://teams.example/workflows/1"})";
const char* kTelegram = R"({"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                            "chat_id": -1001234567890})";
const char* kTwilio = R"({"account_sid": "AC0123456789abcdef0123456789abcdef",
                          "auth_token": "f00dfeedf00dfeedf00dfeedf00dfeed", "from": "+15005550006",
                          "to": ["+254712345678", "+14155552671"]})";
const char* kAfricasTalking = R"({"username": "sandbox", "api_key": "atsk_0123456789abcdef",
                                  "to": ["+254712345678", "+254733000000"], "from": "NETPULSE"})";

// Alert text as a hostile device or user could write it.
const std::string kHostile =
    "<!channel> <https://evil.example|click> & *bold* _it_ [link](https://evil.example) "
    "<b>bold</b> <a href=\"https://evil.example\">x</a>\x01\x1b[31m\xff\xfe end";

}  // namespace

TEST_CASE("netpulse webhook: the documented JSON, headers and a verifiable signature",
          "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kWebhook, kWebhook), sample_message());
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url == "https://hooks.isp.example/np");
  CHECK(header(r, "Content-Type") == "application/json");
  CHECK(header(r, "X-NetPulse-Event") == "firing");
  CHECK(header(r, "X-NetPulse-Delivery") == "4711");
  CHECK(header(r, "X-Team") == "noc");
  CHECK(header(r, "Authorization") == "Bearer abc.def");

  // t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, recomputed here.
  const auto signature = header(r, "X-NetPulse-Signature");
  const auto t = std::to_string(kNowMs / 1000);
  CHECK(signature ==
        "t=" + t + ",v1=" + hex_hmac_sha256("0123456789abcdef-secret", t + "." + r.body));
  CHECK(signature == webhook_signature("0123456789abcdef-secret", r.body, kNowMs / 1000));

  const auto b = body_of(r);
  CHECK(b.at("version") == "1");
  CHECK(b.at("kind") == "firing");
  CHECK(b.at("notification_id") == 4711);
  CHECK(b.at("severity") == "critical");
  CHECK(b.at("receiver") == "core-network");
  CHECK(b.at("group_key") == "{}:{alertname=\"DeviceDown\"}");
  CHECK(b.at("group_labels") == json::object{{"alertname", "DeviceDown"}});
  CHECK(b.at("common_labels").is_object());
  CHECK(b.at("common_annotations").is_object());
  CHECK(b.at("title") == "[CRITICAL] DeviceDown: 2 devices down");
  CHECK(b.at("text").is_string());
  CHECK(b.at("ack_url") == "https://netpulse.isp.example/ack/t0k3n");
  CHECK(b.at("external_url") == "https://netpulse.isp.example");
  CHECK(is_rfc3339(b.at("created_at")));
  const auto& alerts = b.at("alerts").as_array();
  REQUIRE(alerts.size() == 2);
  const auto& a = alerts[0].as_object();
  CHECK(a.at("id") == 17);
  CHECK(a.at("rule_id") == 3);
  CHECK(a.at("rule_name") == "DeviceDown");
  CHECK(a.at("status") == "firing");
  CHECK(a.at("severity") == "critical");
  CHECK(a.at("subject") == "device");
  CHECK(a.at("device_id") == 42);
  CHECK(a.at("device_name") == "core-sw1");
  CHECK(a.at("labels") == json::object{{"site", "nbo1"}, {"role", "core"}});
  CHECK(a.at("annotations") == json::object{{"summary", "core-sw1 is down"}});
  CHECK(a.at("value").is_number());
  CHECK(a.at("threshold").is_number());
  CHECK(a.at("started_at") == "2026-01-15T10:28:00.123Z");
  CHECK(a.at("fired_at") == "2026-01-15T10:29:00.123Z");
  CHECK(a.at("resolved_at").is_null());
  CHECK(a.at("acknowledged_by") == "");
  CHECK(a.at("impact") == 0);
  CHECK(a.at("fingerprint") == "0123456789abcdef");
  CHECK(a.at("url") == "https://netpulse.isp.example/alerts/17");
  CHECK(alerts[1].at("threshold").is_null());
  CHECK(alerts[1].at("fired_at").is_null());

  SECTION("without a secret there is no signature; PUT when configured") {
    const auto plain =
        build(channel(ChannelKind::kWebhook, R"({"url": "https://h.example/x", "method": "PUT"})"),
              sample_message());
    CHECK(header(plain[0], "X-NetPulse-Signature") == "(none)");
    CHECK(plain[0].method == "PUT");
  }
}

TEST_CASE("alertmanager webhook: version 4 with every documented field and type",
          "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kWebhook, kAlertmanager), sample_message());
  REQUIRE(requests.size() == 1);
  const auto b = body_of(requests[0]);
  CHECK(b.at("version") == "4");
  CHECK(b.at("groupKey") == "{}:{alertname=\"DeviceDown\"}");
  CHECK(b.at("truncatedAlerts") == 0);
  CHECK(b.at("status") == "firing");
  CHECK(b.at("receiver") == "core-network");
  CHECK(b.at("groupLabels") == json::object{{"alertname", "DeviceDown"}});
  // Labels every alert shares: alertname and severity are labels in Alertmanager's model.
  CHECK(b.at("commonLabels") ==
        json::object{{"alertname", "DeviceDown"}, {"severity", "critical"}, {"site", "nbo1"}});
  CHECK(b.at("commonAnnotations") ==
        json::object{{"runbook_url", "https://wiki.isp.example/device-down"}});
  CHECK(b.at("externalURL") == "https://netpulse.isp.example");
  CHECK(b.size() == 10);
  const auto& alerts = b.at("alerts").as_array();
  REQUIRE(alerts.size() == 2);
  for (const auto& v : alerts) {
    const auto& a = v.as_object();
    CHECK(a.size() == 7);
    CHECK(a.at("status") == "firing");
    CHECK(a.at("labels").is_object());
    for (const auto& [k, label] : a.at("labels").as_object()) CHECK(label.is_string());
    CHECK(a.at("annotations").is_object());
    CHECK(is_rfc3339(a.at("startsAt")));
    CHECK(a.at("endsAt") == "0001-01-01T00:00:00Z");
    CHECK(a.at("generatorURL").is_string());
    CHECK(a.at("fingerprint").is_string());
  }
  const auto& first = alerts[0].as_object();
  CHECK(first.at("labels") == json::object{{"alertname", "DeviceDown"},
                                           {"severity", "critical"},
                                           {"device", "core-sw1"},
                                           {"site", "nbo1"},
                                           {"role", "core"}});
  CHECK(first.at("startsAt") == "2026-01-15T10:28:00.123Z");
  CHECK(first.at("generatorURL") == "https://netpulse.isp.example/alerts/17");
  CHECK(first.at("fingerprint") == "0123456789abcdef");

  SECTION("resolved: the group and each alert say so, endsAt is the resolution") {
    const auto resolved = body_of(build(channel(ChannelKind::kWebhook, kAlertmanager),
                                        sample_message(MessageKind::kResolved))[0]);
    CHECK(resolved.at("status") == "resolved");
    CHECK(resolved.at("alerts").as_array()[0].at("status") == "resolved");
    CHECK(resolved.at("alerts").as_array()[0].at("endsAt") == "2026-01-15T10:29:59.123Z");
  }
  SECTION("a secret signs it as the netpulse format is signed") {
    const auto signed_requests =
        build(channel(ChannelKind::kWebhook,
                      R"({"url": "https://h.example", "format": "alertmanager",
                          "secret": "0123456789abcdef-secret"})"),
              sample_message());
    const auto t = std::to_string(kNowMs / 1000);
    CHECK(header(signed_requests[0], "X-NetPulse-Signature") ==
          "t=" + t + ",v1=" +
              hex_hmac_sha256("0123456789abcdef-secret", t + "." + signed_requests[0].body));
  }
}

TEST_CASE("pagerduty: Events API v2 trigger, acknowledge and resolve", "[notify][payloads]") {
  const auto pd = channel(ChannelKind::kPagerDuty, kPagerDuty);
  const auto trigger = build(pd, sample_message());
  REQUIRE(trigger.size() == 1);
  CHECK(trigger[0].url == "https://events.pagerduty.com/v2/enqueue");
  CHECK(trigger[0].method == "POST");
  CHECK(header(trigger[0], "Content-Type") == "application/json");
  const auto b = body_of(trigger[0]);
  CHECK(b.at("routing_key") == "0123456789abcdef0123456789abcdef");
  CHECK(b.at("event_action") == "trigger");
  CHECK(b.at("dedup_key") == "{}:{alertname=\"DeviceDown\"}");
  const auto& p = b.at("payload").as_object();
  CHECK(p.at("summary") == "[CRITICAL] DeviceDown: 2 devices down");
  CHECK(p.at("source") == "core-sw1");
  CHECK(p.at("severity") == "critical");
  CHECK(is_rfc3339(p.at("timestamp")));
  CHECK(p.at("component") == "device");
  CHECK(p.at("group") == "core-network");
  CHECK(p.at("class") == "DeviceDown");
  CHECK(p.at("custom_details").at("alerts").as_array().size() == 2);
  CHECK(b.at("links").as_array()[0].at("href").is_string());
  CHECK(b.at("links").as_array()[0].at("text").is_string());
  CHECK(b.at("client") == "NetPulse");
  CHECK(b.at("client_url") == "https://netpulse.isp.example");

  for (auto [kind, action] : {std::pair{MessageKind::kAcknowledged, "acknowledge"},
                              std::pair{MessageKind::kResolved, "resolve"}}) {
    const auto follow_up = body_of(build(pd, sample_message(kind))[0]);
    CHECK(follow_up.at("event_action") == action);
    CHECK(follow_up.at("dedup_key") == b.at("dedup_key"));
    CHECK_FALSE(follow_up.contains("payload"));
  }
  SECTION("the summary is cut to 1024 characters, an overlong dedup key hashed") {
    auto m = sample_message();
    m.title = std::string(5000, 'x');
    m.group_key = std::string(300, 'k');
    const auto cut = body_of(build(pd, m)[0]);
    CHECK(cut.at("payload").at("summary").as_string().size() == 1023 + 3);  // "…" is 3 bytes
    CHECK(cut.at("dedup_key").as_string().size() == 64);
  }
  SECTION("the override URL (EU region) is used") {
    const auto eu = channel(ChannelKind::kPagerDuty,
                            R"({"routing_key": "0123456789abcdef0123456789abcdef",
                                "url": "https://events.eu.pagerduty.com/v2/enqueue"})");
    CHECK(build(eu, sample_message())[0].url == "https://events.eu.pagerduty.com/v2/enqueue");
  }
}

TEST_CASE("opsgenie: create, acknowledge and close by alias with a GenieKey",
          "[notify][payloads]") {
  const auto og = channel(ChannelKind::kOpsgenie, kOpsgenie);
  const auto create = build(og, sample_message());
  REQUIRE(create.size() == 1);
  CHECK(create[0].url == "https://api.opsgenie.com/v2/alerts");
  CHECK(header(create[0], "Authorization") == "GenieKey a1b2c3d4-e5f6-7890-abcd-ef1234567890");
  const auto b = body_of(create[0]);
  CHECK(b.at("message") == "[CRITICAL] DeviceDown: 2 devices down");
  CHECK(b.at("alias") == "{}:{alertname=\"DeviceDown\"}");
  CHECK(b.at("description").is_string());
  CHECK(b.at("responders") == json::parse(R"([{"type": "team", "name": "NOC"}])"));
  CHECK(b.at("tags") == json::parse(R"(["netpulse", "critical", "core"])"));
  CHECK(b.at("details").is_object());
  for (const auto& [k, v] : b.at("details").as_object()) CHECK(v.is_string());
  CHECK(b.at("priority") == "P1");
  CHECK(b.at("source") == "NetPulse");
  CHECK(b.at("entity") == "core-sw1");

  const std::string alias = "%7B%7D%3A%7Balertname%3D%22DeviceDown%22%7D";
  auto acked = sample_message(MessageKind::kAcknowledged);
  acked.alerts[0].acknowledged_by = "jane@isp.example";
  const auto ack = build(og, acked);
  CHECK(ack[0].url ==
        "https://api.opsgenie.com/v2/alerts/" + alias + "/acknowledge?identifierType=alias");
  CHECK(body_of(ack[0]).at("user") == "jane@isp.example");
  CHECK(body_of(ack[0]).at("source") == "NetPulse");
  const auto close = build(og, sample_message(MessageKind::kResolved));
  CHECK(close[0].url ==
        "https://api.opsgenie.com/v2/alerts/" + alias + "/close?identifierType=alias");
  CHECK(header(close[0], "Authorization") == "GenieKey a1b2c3d4-e5f6-7890-abcd-ef1234567890");

  auto long_title = sample_message();
  long_title.title = std::string(500, 'y');
  CHECK(body_of(build(og, long_title)[0]).at("message").as_string().size() == 129 + 3);
}

TEST_CASE("slack: blocks with header, fields, context and an Acknowledge button; text fallback",
          "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kSlack, kSlack), sample_message());
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].url == "https://hooks.slack.com/services/T0/B0/XX");
  const auto b = body_of(requests[0]);
  CHECK(b.at("text") == "[CRITICAL] DeviceDown: 2 devices down");
  CHECK(b.at("channel") == "#noc");
  const auto& blocks = b.at("blocks").as_array();
  REQUIRE(blocks.size() == 4);
  CHECK(blocks[0].at("type") == "header");
  CHECK(blocks[0].at("text").at("type") == "plain_text");
  CHECK(blocks[1].at("type") == "section");
  CHECK(blocks[1].at("text").at("type") == "mrkdwn");
  CHECK(blocks[1].at("text").at("verbatim") == true);
  CHECK(blocks[1].at("fields").as_array().size() >= 3);
  CHECK(blocks[1].at("fields").as_array().size() <= 10);
  CHECK(blocks[2].at("type") == "context");
  CHECK(blocks[3].at("type") == "actions");
  const auto& ack = blocks[3].at("elements").as_array()[0];
  CHECK(ack.at("type") == "button");
  CHECK(ack.at("text").at("text") == "Acknowledge");
  CHECK(ack.at("url") == "https://netpulse.isp.example/ack/t0k3n");

  SECTION("no Acknowledge button once resolved") {
    const auto resolved = body_of(
        build(channel(ChannelKind::kSlack, kSlack), sample_message(MessageKind::kResolved))[0]);
    for (const auto& block : resolved.at("blocks").as_array())
      if (block.at("type") == "actions")
        for (const auto& e : block.at("elements").as_array())
          CHECK(e.at("text").at("text") != "Acknowledge");
  }
  SECTION("hostile text cannot mention, link or inject control characters") {
    auto m = sample_message();
    m.title = kHostile;
    m.text = kHostile;
    m.alerts[0].device_name = "<@U123> sw";
    const auto hostile = body_of(build(channel(ChannelKind::kSlack, kSlack), m)[0]);
    // Everything Slack parses as mrkdwn: the fallback text, the section and its fields, the
    // context (the header is plain_text, which Slack never parses).
    const auto& blocks_out = hostile.at("blocks").as_array();
    const auto mrkdwn = json::serialize(hostile.at("text")) + json::serialize(blocks_out[1]) +
                        json::serialize(blocks_out[2]);
    CHECK(mrkdwn.find("<!channel>") == std::string::npos);
    CHECK(mrkdwn.find("<https://evil") == std::string::npos);
    CHECK(mrkdwn.find("<@U123>") == std::string::npos);
    CHECK(blocks_out[0].at("type") == "header");
    const std::string section = blocks_out[1].at("text").at("text").as_string().c_str();
    CHECK(section.find("&lt;!channel&gt;") != std::string::npos);
    CHECK(section.find("&amp;") != std::string::npos);
    CHECK(section.find('\x01') == std::string::npos);
    CHECK(section.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("teams: a workflow message carrying an Adaptive Card 1.4", "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kTeams, kTeams), sample_message());
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].url == "https://teams.example/workflows/1");
  const auto b = body_of(requests[0]);
  CHECK(b.at("type") == "message");
  const auto& attachment = b.at("attachments").as_array().at(0).as_object();
  CHECK(attachment.at("contentType") == "application/vnd.microsoft.card.adaptive");
  const auto& card = attachment.at("content").as_object();
  CHECK(card.at("type") == "AdaptiveCard");
  CHECK(card.at("version") == "1.4");
  const auto& body = card.at("body").as_array();
  CHECK(body[0].at("type") == "TextBlock");
  CHECK(body[0].at("color") == "Attention");
  bool has_facts = false;
  for (const auto& item : body)
    if (item.at("type") == "FactSet") {
      has_facts = true;
      for (const auto& f : item.at("facts").as_array()) {
        CHECK(f.at("title").is_string());
        CHECK(f.at("value").is_string());
      }
    }
  CHECK(has_facts);
  const auto& actions = card.at("actions").as_array();
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].at("type") == "Action.OpenUrl");
  CHECK(actions[0].at("title") == "Acknowledge");
  CHECK(actions[0].at("url") == "https://netpulse.isp.example/ack/t0k3n");
  CHECK(actions[1].at("type") == "Action.OpenUrl");

  SECTION("hostile text: markdown links and emphasis are escaped") {
    auto m = sample_message();
    m.text = kHostile;
    const auto hostile = body_of(build(channel(ChannelKind::kTeams, kTeams), m)[0]);
    const std::string text = hostile.at("attachments")
                                 .as_array()[0]
                                 .at("content")
                                 .at("body")
                                 .as_array()[1]
                                 .at("text")
                                 .as_string()
                                 .c_str();
    CHECK(text.find("\\[link\\]\\(https://evil.example\\)") != std::string::npos);
    CHECK(text.find("\\*bold\\*") != std::string::npos);
    CHECK(text.find("[link](") == std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("telegram: sendMessage with escaped HTML and an inline Acknowledge button",
          "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kTelegram, kTelegram), sample_message());
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].url ==
        "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage");
  const auto b = body_of(requests[0]);
  CHECK(b.at("chat_id") == -1001234567890);
  CHECK(b.at("parse_mode") == "HTML");
  CHECK(b.at("text").as_string().starts_with("<b>[CRITICAL] DeviceDown: 2 devices down</b>"));
  const auto& button = b.at("reply_markup").at("inline_keyboard").as_array()[0].as_array()[0];
  CHECK(button.at("text") == "Acknowledge");
  CHECK(button.at("url") == "https://netpulse.isp.example/ack/t0k3n");

  SECTION("hostile text: tags and entities are escaped, controls dropped") {
    auto m = sample_message();
    m.title = "<i>t</i> & co";
    m.text = kHostile;
    const auto hostile = body_of(build(channel(ChannelKind::kTelegram, kTelegram), m)[0]);
    const std::string text = hostile.at("text").as_string().c_str();
    CHECK(text.starts_with("<b>&lt;i&gt;t&lt;/i&gt; &amp; co</b>"));
    CHECK(text.find("<a href=\"https://evil") == std::string::npos);
    CHECK(text.find("&lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
    CHECK(text.find('\x01') == std::string::npos);
    // Only NetPulse's own tags remain: <b>, </b>, <a href=...> and </a>.
    std::size_t tags = 0;
    for (char c : text) tags += c == '<' ? 1 : 0;
    CHECK(tags == 4);
  }
  SECTION("a huge text stays inside Telegram's 4096 characters") {
    auto m = sample_message();
    m.text = std::string(100'000, 'z');
    const auto big = body_of(build(channel(ChannelKind::kTelegram, kTelegram), m)[0]);
    CHECK(big.at("text").as_string().size() < 4096);
  }
}

TEST_CASE("twilio: one form POST per recipient with Basic auth", "[notify][payloads]") {
  const auto requests = build(channel(ChannelKind::kTwilio, kTwilio), sample_message());
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) {
    CHECK(r.method == "POST");
    CHECK(r.url ==
          "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/"
          "Messages.json");
    CHECK(header(r, "Content-Type") == "application/x-www-form-urlencoded");
    CHECK(header(r, "Authorization") ==
          "Basic " + base64_encode("AC0123456789abcdef0123456789abcdef:"
                                   "f00dfeedf00dfeedf00dfeedf00dfeed"));
  }
  CHECK(base64_encode("Aladdin:open sesame") == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  const auto first = form_fields(requests[0].body);
  CHECK(first.at("To") == "+254712345678");
  CHECK(first.at("From") == "+15005550006");
  CHECK(first.at("Body") ==
        "[CRITICAL] DeviceDown: 2 devices down https://netpulse.isp.example/ack/t0k3n");
  CHECK(form_fields(requests[1].body).at("To") == "+14155552671");
}

TEST_CASE("africa's talking: one form POST to all recipients with the apiKey header",
          "[notify][payloads]") {
  const auto requests =
      build(channel(ChannelKind::kAfricasTalking, kAfricasTalking), sample_message());
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.url == "https://api.africastalking.com/version1/messaging");
  CHECK(header(r, "apiKey") == "atsk_0123456789abcdef");
  CHECK(header(r, "Accept") == "application/json");
  CHECK(header(r, "Content-Type") == "application/x-www-form-urlencoded");
  const auto fields = form_fields(r.body);
  CHECK(fields.at("username") == "sandbox");
  CHECK(fields.at("to") == "+254712345678,+254733000000");
  CHECK(fields.at("from") == "NETPULSE");
  CHECK(fields.at("message") == sms_text(sample_message()));
}

TEST_CASE("generic sms gateway: the template rendered per recipient, values kept in their place",
          "[notify][payloads]") {
  const auto json_gateway = channel(ChannelKind::kHttpSms, R"({
      "url": "https://sms.isp.example/send", "method": "PUT", "body_format": "json",
      "body_template": "{\"to\": \"{{to}}\", \"text\": \"{{text}}\", \"key\": \"{{secret_key}}\", \"n\": {{alert_count}}}",
      "to": ["+254712345678", "+254733000000"], "secret_key": "k-123",
      "secret_headers": {"Authorization": "Token t"}})");
  auto m = sample_message();
  m.title = "quote \" brace } backslash \\ newline \n {{to}}";
  const auto requests = build(json_gateway, m);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "PUT");
  CHECK(header(requests[0], "Content-Type") == "application/json");
  CHECK(header(requests[0], "Authorization") == "Token t");
  const auto b = body_of(requests[0]);
  CHECK(b.size() == 4);
  CHECK(b.at("to") == "+254712345678");
  CHECK(b.at("text").as_string() == sms_text(m));
  CHECK(b.at("key") == "k-123");
  CHECK(b.at("n") == 2);
  CHECK(body_of(requests[1]).at("to") == "+254733000000");

  const auto form_gateway = channel(ChannelKind::kHttpSms, R"({
      "url": "https://sms.isp.example/send", "body_format": "form",
      "body_template": "to={{to}}&msg={{text}}&sev={{severity}}", "to": ["+254712345678"]})");
  m.title = "a&b=c";
  const auto form = form_fields(build(form_gateway, m)[0].body);
  CHECK(form.size() == 3);
  CHECK(form.at("msg") == sms_text(m));
  CHECK(form.at("sev") == "critical");
}

TEST_CASE("email and in_app channels build no HTTP request", "[notify][payloads]") {
  for (auto [kind, settings] : {std::pair{ChannelKind::kEmail, R"({"to": ["a@b.example"]})"},
                                std::pair{ChannelKind::kInApp, "{}"}}) {
    auto r = build_requests(channel(kind, settings), sample_message(), kNowMs);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == netpulse::core::Errc::kInvalidInput);
  }
}

TEST_CASE("sms text: one segment, the ack link kept when it fits", "[notify][payloads]") {
  auto m = sample_message();
  CHECK(sms_text(m) == m.title + " " + m.ack_url);

  m.title = std::string(300, 'a');
  auto text = sms_text(m);
  CHECK(text.size() == 160);
  CHECK(text.ends_with("... " + m.ack_url));

  // A title that carries the link itself (the default SMS template's "Ack: <link>", already cut
  // to fit by the template's renderer): the link goes out once, whole, at the end.
  const auto once = [&](const std::string& t) {
    std::size_t n = 0;
    for (auto at = t.find(m.ack_url); at != std::string::npos; at = t.find(m.ack_url, at + 1)) ++n;
    return n;
  };
  m.title = "CRIT core-1 Device down. Ack: " + m.ack_url;
  CHECK(sms_text(m) == m.title);
  m.title = std::string(120, 'b') + "... " + m.ack_url;
  text = sms_text(m);
  CHECK(once(text) == 1);
  CHECK(text.ends_with(" " + m.ack_url));
  CHECK(text.size() <= 160);

  // Extension characters count two septets.
  m.title = std::string(200, '{');
  text = sms_text(m);
  CHECK(text.ends_with(m.ack_url));
  CHECK(text.size() <= 160);
  CHECK((text.size() - m.ack_url.size() - 1 - 3) * 2 + 3 + 1 + m.ack_url.size() <= 160);

  // Outside GSM-7 the segment is 70 UTF-16 units: the link kept beside the cut title...
  m.title = "Сервер недоступен: core-sw1 в Найроби не отвечает на ping уже пять минут подряд";
  text = sms_text(m);
  CHECK(text.ends_with(" " + m.ack_url));
  CHECK(text.find("\xE2\x80\xA6 ") != std::string::npos);
  CHECK(*netpulse::core::utf8_length(text) <= 70);
  // ...unless 20 characters of the title no longer fit beside it.
  m.ack_url = "https://netpulse.isp.example/ack/" + std::string(40, 't');
  text = sms_text(m);
  CHECK(text.find("https://") == std::string::npos);
  CHECK(text.ends_with("\xE2\x80\xA6"));
  CHECK(*netpulse::core::utf8_length(text) <= 70);
  CHECK(*netpulse::core::utf8_length(text) >= 60);

  // No ack link: the title only, controls and line breaks flattened.
  m.ack_url.clear();
  m.title = "line one\nline\ttwo\x07";
  CHECK(sms_text(m) == "line one line two");
  m.title.clear();
  m.text = "from the text\nsecond line";
  CHECK(sms_text(m) == "from the text");
  CHECK(is_gsm7("Hello @£$ {}"));
  CHECK_FALSE(is_gsm7("Hello `"));
  CHECK_FALSE(is_gsm7("Привет"));
}

TEST_CASE("payloads: hostile labels (huge, control characters, invalid UTF-8) stay valid JSON",
          "[notify][payloads]") {
  auto m = sample_message();
  m.alerts[0].labels["huge"] = std::string(1 << 20, 'L');
  m.alerts[0].labels["ctl"] = std::string("a\0b\x01\x7f\"\\", 7);
  m.alerts[0].labels["bad\xff"] = "\xc3\x28 overlong \xc0\xaf surrogate \xed\xa0\x80";
  m.alerts[0].value = std::numeric_limits<double>::quiet_NaN();
  m.alerts[0].threshold = std::numeric_limits<double>::infinity();
  m.title = kHostile;
  m.text = kHostile;
  for (const char* settings : {kWebhook, kAlertmanager}) {
    const auto b = body_of(build(channel(ChannelKind::kWebhook, settings), m)[0]);
    const auto& labels = b.at("alerts").as_array()[0].at("labels").as_object();
    CHECK(labels.at("huge").as_string().size() == 1 << 20);
    CHECK(labels.at("ctl") == json::string(std::string("a\0b\x01\x7f\"\\", 7)));
    CHECK(labels.contains("bad\xEF\xBF\xBD"));
  }
  const auto np = body_of(build(channel(ChannelKind::kWebhook, kWebhook), m)[0]);
  CHECK(np.at("alerts").as_array()[0].at("value").is_null());
  CHECK(np.at("alerts").as_array()[0].at("threshold").is_null());
  for (auto [kind, settings] :
       {std::pair{ChannelKind::kPagerDuty, kPagerDuty},
        std::pair{ChannelKind::kOpsgenie, kOpsgenie}, std::pair{ChannelKind::kSlack, kSlack},
        std::pair{ChannelKind::kTeams, kTeams}, std::pair{ChannelKind::kTelegram, kTelegram}}) {
    INFO(channel_kind_name(kind));
    for (const auto& r : build(channel(kind, settings), m)) (void)body_of(r);
  }
}

TEST_CASE("payload text: truncation keeps UTF-8 whole, escapes are complete",
          "[notify][payloads]") {
  CHECK(truncate_utf8("héllo", 10) == "héllo");
  CHECK(truncate_utf8("héllo", 3) == "hé\xE2\x80\xA6");
  CHECK(truncate_utf8("日本語テキスト", 4) == "日本語\xE2\x80\xA6");
  CHECK(truncate_utf8("abc", 0).empty());
  CHECK(valid_utf8("a\xff"
                   "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(display_text("a\x1b[31mb\r\n\xe2\x80\xae"
                     "c") == "a[31mb\nc");
  CHECK(slack_escape("<a> & <b>") == "&lt;a&gt; &amp; &lt;b&gt;");
  CHECK(html_escape("<a href=\"x\">&</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
  CHECK(markdown_escape("# h\n- item\n1. one *b* [l](u)") ==
        "\\# h\n\\- item\n1\\. one \\*b\\* \\[l\\]\\(u\\)");
  CHECK(form_encode("a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9");
  CHECK(path_segment_encode("a b/c") == "a%20b%2Fc");
  CHECK(rfc3339_ms(kNowMs) == "2026-01-15T10:30:00.123Z");
}

TEST_CASE("classify_response: delivered, retried (Retry-After both forms) or failed",
          "[notify][payloads]") {
  const HttpHeaders none;
  SECTION("2xx is delivered") {
    for (auto kind : {ChannelKind::kWebhook, ChannelKind::kPagerDuty, ChannelKind::kOpsgenie,
                      ChannelKind::kTeams, ChannelKind::kTwilio, ChannelKind::kHttpSms}) {
      const auto v = classify_response(kind, 202, R"({"status": "success"})", none, kNowMs);
      CHECK(v.outcome == Outcome::kDelivered);
      CHECK(v.reason.empty());
    }
    CHECK(classify_response(ChannelKind::kSlack, 200, "ok", none, kNowMs).outcome ==
          Outcome::kDelivered);
    CHECK(classify_response(ChannelKind::kTelegram, 200, R"({"ok": true, "result": {}})", none,
                            kNowMs)
              .outcome == Outcome::kDelivered);
  }
  SECTION("a 2xx whose body refuses is failed, with the remote's reason") {
    const auto slack = classify_response(ChannelKind::kSlack, 200, "invalid_token", none, kNowMs);
    CHECK(slack.outcome == Outcome::kFailed);
    CHECK(slack.reason == "invalid_token");
    const auto telegram = classify_response(
        ChannelKind::kTelegram, 200,
        R"({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"})", none,
        kNowMs);
    CHECK(telegram.outcome == Outcome::kFailed);
    CHECK(telegram.reason == "Bad Request: chat not found");
    const auto at = classify_response(
        ChannelKind::kAfricasTalking, 201,
        R"({"SMSMessageData": {"Message": "Sent to 0/1", "Recipients": [{"statusCode": 403,
            "number": "+254712345678", "status": "InvalidPhoneNumber"}]}})",
        none, kNowMs);
    CHECK(at.outcome == Outcome::kFailed);
    CHECK(at.reason == "InvalidPhoneNumber");
    const auto at_ok = classify_response(
        ChannelKind::kAfricasTalking, 201,
        R"({"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [{"statusCode": 101,
            "status": "Success"}]}})",
        none, kNowMs);
    CHECK(at_ok.outcome == Outcome::kDelivered);
  }
  SECTION("408, 429 and 5xx retry; Retry-After as seconds or as an HTTP-date") {
    for (int status : {408, 429, 500, 502, 503, 504})
      CHECK(classify_response(ChannelKind::kWebhook, status, "", none, kNowMs).outcome ==
            Outcome::kRetry);
    const auto seconds = classify_response(ChannelKind::kSlack, 429, "rate_limited",
                                           {{"Retry-After", "30"}}, kNowMs);
    CHECK(seconds.outcome == Outcome::kRetry);
    CHECK(seconds.retry_after == std::chrono::seconds(30));
    CHECK(seconds.reason == "rate_limited");
    // kNowMs is 10:30:00.123 on Thursday 15 January 2026.
    const auto date = classify_response(ChannelKind::kWebhook, 503, "",
                                        {{"retry-after", "Thu, 15 Jan 2026 10:32:00 GMT"}}, kNowMs);
    CHECK(date.retry_after == std::chrono::seconds(120));
    const auto past = classify_response(ChannelKind::kWebhook, 503, "",
                                        {{"Retry-After", "Thu, 01 Jan 2026 00:00:00 GMT"}}, kNowMs);
    CHECK(past.retry_after == std::chrono::seconds(0));
    const auto huge =
        classify_response(ChannelKind::kWebhook, 429, "", {{"Retry-After", "99999999999"}}, kNowMs);
    CHECK(huge.retry_after == std::chrono::seconds(86400));
    const auto garbage =
        classify_response(ChannelKind::kWebhook, 429, "", {{"Retry-After", "soon"}}, kNowMs);
    CHECK_FALSE(garbage.retry_after);
    const auto telegram = classify_response(
        ChannelKind::kTelegram, 429,
        R"({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 35",
            "parameters": {"retry_after": 35}})",
        none, kNowMs);
    CHECK(telegram.outcome == Outcome::kRetry);
    CHECK(telegram.retry_after == std::chrono::seconds(35));
  }
  SECTION("other 4xx and 3xx fail for good, with the reason in the remote's format") {
    const auto pd =
        classify_response(ChannelKind::kPagerDuty, 400,
                          R"js({"status": "invalid event", "message": "Event object is invalid",
            "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]})js",
                          none, kNowMs);
    CHECK(pd.outcome == Outcome::kFailed);
    CHECK(pd.reason ==
          "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 "
          "characters)");
    const auto og = classify_response(
        ChannelKind::kOpsgenie, 422,
        R"({"message": "Request body is not processable", "errors": {"message": "too long"}})",
        none, kNowMs);
    CHECK(og.reason == "Request body is not processable: message: too long");
    const auto tw = classify_response(
        ChannelKind::kTwilio, 400,
        R"({"code": 21211, "message": "The 'To' number is not valid.", "status": 400})", none,
        kNowMs);
    CHECK(tw.reason == "21211: The 'To' number is not valid.");
    const auto slack =
        classify_response(ChannelKind::kSlack, 404, "channel_not_found", none, kNowMs);
    CHECK(slack.outcome == Outcome::kFailed);
    CHECK(slack.reason == "channel_not_found");
    const auto moved = classify_response(ChannelKind::kWebhook, 301, "",
                                         {{"Location", "https://elsewhere.example/"}}, kNowMs);
    CHECK(moved.outcome == Outcome::kFailed);
    CHECK(moved.reason.find("https://elsewhere.example/") != std::string::npos);
    const auto empty = classify_response(ChannelKind::kWebhook, 403, "", none, kNowMs);
    CHECK(empty.reason == "HTTP 403");
  }
  SECTION("a hostile body gives a short, log-safe reason") {
    const auto v = classify_response(ChannelKind::kWebhook, 400,
                                     std::string(10'000, 'x') + "\x1b[2J\xff", none, kNowMs);
    CHECK(v.reason.size() <= 200);
    CHECK(v.reason.find('\x1b') == std::string::npos);
  }
}
