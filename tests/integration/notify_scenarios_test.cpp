// The notifier's scenarios through the real binary (issue 15), each with a local HTTP receiver
// (tests/support/peers/webhook_receiver.py) as the remote end:
//
// - Request shapes: one channel of each chat, paging and SMS kind — Slack, Teams, Telegram,
//   PagerDuty, Opsgenie, Twilio, Africa's Talking and the generic SMS gateway — pointed at the
//   receiver by its base-URL setting, one policy to all of them; a threshold alert raised by an
//   ingested sample fires, is acknowledged through the alerts API and resolves by a sample under
//   the threshold. Each kind's requests are checked against the fields its service documents
//   (docs/notify-channels.md): method, path, content type, authentication, the body. The payload
//   builders' own unit tests are tests/unit/notify/payloads_test.cpp; this is the whole path:
//   engine → notifier → outbox → HTTP.
// - A storm: 500 alerts within seconds are a handful of grouped webhook messages, every alert in
//   exactly one, and the delivery log says the same.
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

using namespace netpulse;
using namespace netpulse::test;
namespace json = boost::json;

namespace {

constexpr const char* kRoutingKey = "R0ut1ngKey0123456789abcdefABCDEF";
constexpr const char* kGenieKey = "eb243592-faa2-4ba2-a551q-1afdf565c889";
constexpr const char* kBotToken = "123456:AAF-test_token_0123456789abcdef";
constexpr const char* kTwilioSid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kTwilioToken = "twilio-auth-token-42";
constexpr const char* kAtKey = "atsk-africastalking-key-42";
constexpr const char* kSmsBearer = "Bearer sms-gateway-token-42";

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A server that may reach loopback, an admin and an ingest key.
struct Server {
  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::string admin;
  std::string ingest;

  Server() {
    process = std::make_unique<ServerProcess>(
        dir.path(),
        std::map<std::string, std::string>{{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"},
                                           {"NETPULSE_NOTIFY_RETRY_BASE_MS", "200"},
                                           {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}});
    auto c = process->client();
    admin = login(c, kAdminEmail, kAdminPassword);
    ingest = ingest_key(c, admin);
  }

  HttpClient client() const { return process->client(); }

  std::int64_t channel(const std::string& name, const std::string& kind,
                       const std::string& settings) {
    auto c = client();
    return created_id(c.post_json(
        "/api/v1/notification-channels",
        R"({"name":")" + name + R"(","kind":")" + kind + R"(","settings":)" + settings + "}",
        admin));
  }

  // One policy named "noc" to `channels`; by default no waiting and a changed group (an
  // acknowledgement, a resolution) sent again after 1 s. Critical alerts go out at once.
  void policy(const std::vector<std::int64_t>& channels,
              const std::string& settings = R"("group_wait_s":0,"group_interval_s":1)") {
    std::string targets;
    for (auto id : channels)
      targets +=
          std::string(targets.empty() ? "" : ",") + R"({"channel_id":)" + std::to_string(id) + "}";
    auto c = client();
    created_id(c.post_json("/api/v1/notification-policies",
                           R"({"name":"noc",)" + settings + R"(,"targets":[)" + targets + "]}",
                           admin));
  }

  void rule(const std::string& metric) {
    auto c = client();
    created_id(
        c.post_json("/api/v1/alert-rules",
                    R"({"name":")" + metric + R"( high","kind":"threshold","selector":")" + metric +
                        R"(","condition":{"op":">","value":90},"for_s":0,"severity":"critical"})",
                    admin));
  }

  // Line protocol through the ingest API.
  void write(const std::string& lines) {
    auto c = client();
    write_lines(c, ingest, lines);
  }

  json::array get_data(const std::string& target) {
    auto c = client();
    auto r = c.get(target, admin);
    INFO(target << " -> " << r.body);
    REQUIRE(r.status == 200);
    const auto doc = r.json();
    return doc.at("data").as_array();
  }
};

json::object body_json(const json::object& request) {
  return json::parse(request.at("body").as_string()).as_object();
}

std::string header(const json::object& request, const std::string& name) {
  const auto* v = request.at("headers").as_object().if_contains(name);
  return v == nullptr ? std::string() : std::string(v->as_string());
}

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

// application/x-www-form-urlencoded → fields (values percent-decoded, '+' as a space).
std::multimap<std::string, std::string> form_fields(const std::string& body) {
  auto decode = [](const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::multimap<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const auto pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string::npos)
      out.emplace(decode(pair.substr(0, eq)), decode(pair.substr(eq + 1)));
    start = end + 1;
  }
  return out;
}

std::string field(const std::multimap<std::string, std::string>& form, const std::string& name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

// The receiver's requests whose path starts with `prefix`, in arrival order.
std::vector<json::object> under(const WebhookReceiver& r, const std::string& prefix) {
  std::vector<json::object> out;
  for (auto& q : r.requests()) {
    if (std::string(q.at("path").as_string()).starts_with(prefix)) out.push_back(q);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "notify: chat, paging and SMS channels send their documented request shapes when an alert "
    "fires, is acknowledged and resolves",
    "[notify][integration]") {
  Server s;
  WebhookReceiver receiver(s.dir, "remote", {"200"});
  // Slack's incoming webhooks answer the text "ok" (anything else is a failure); the others
  // answer JSON with "ok": true (Telegram's verdict reads it).
  WebhookReceiver slack_receiver(s.dir, "slack", {"body:200:ok"});
  const auto base = receiver.url("");
  std::vector<std::int64_t> channels{
      s.channel("slack", "slack",
                R"({"url":")" + slack_receiver.url("/slack/T0/B0/x") + R"(","channel":"#noc"})"),
      s.channel("teams", "teams", R"({"url":")" + base + R"(/teams/workflow"})"),
      s.channel("telegram", "telegram",
                R"({"bot_token":")" + std::string(kBotToken) +
                    R"(","chat_id":-1001234567890,"api_url":")" + base + R"(/tg"})"),
      s.channel("pagerduty", "pagerduty",
                R"({"routing_key":")" + std::string(kRoutingKey) + R"(","url":")" + base +
                    R"(/pd/v2/enqueue"})"),
      s.channel("opsgenie", "opsgenie",
                R"({"api_key":")" + std::string(kGenieKey) + R"(","url":")" + base +
                    R"(/og/v2/alerts","tags":["core"]})"),
      s.channel("twilio", "sms_twilio",
                R"({"account_sid":")" + std::string(kTwilioSid) + R"(","auth_token":")" +
                    kTwilioToken + R"(","from":"+15005550006","to":["+254712345678"],)" +
                    R"("api_url":")" + base + R"(/twilio"})"),
      s.channel("africastalking", "sms_africastalking",
                R"({"username":"sandbox","api_key":")" + std::string(kAtKey) +
                    R"(","to":["+254712345678","+254733000111"],"from":"NOC",)" + R"("api_url":")" +
                    base + R"(/at/version1/messaging"})"),
      s.channel("gateway", "sms_http",
                R"({"url":")" + base +
                    R"(/sms/send","body_format":"json","to":["+254712345678"],)"
                    R"("body_template":"{\"number\":\"{{to}}\",\"message\":\"{{text}}\"}",)"
                    R"("secret_headers":{"Authorization":")" +
                    kSmsBearer + R"("}})"),
  };
  s.policy(channels);
  s.rule("shape_temp");
  s.write("shape_temp,host=core-1 value=95 " + std::to_string(unix_now_s() - 1) + "\n");

  // Fires: one request per kind (Africa's Talking takes both recipients in one).
  REQUIRE(eventually([&] { return receiver.requests().size() >= 7; }, std::chrono::seconds(20)));
  const auto alerts = s.get_data("/api/v1/alerts?open=true");
  REQUIRE(alerts.size() == 1);
  const auto alert_id = alerts[0].at("id").as_int64();

  // Acknowledged through the alerts API: the chat and paging kinds say so.
  {
    auto c = s.client();
    auto ack = c.post_json("/api/v1/alerts/" + std::to_string(alert_id) + "/acknowledge",
                           R"({"note":"on it"})", s.admin);
    INFO(ack.body);
    REQUIRE(ack.status == 200);
  }
  std::string owner;  // as the alerts API names who acknowledged
  {
    auto c = s.client();
    auto r = c.get("/api/v1/alerts/" + std::to_string(alert_id), s.admin);
    REQUIRE(r.status == 200);
    const auto doc = r.json();
    owner = str(doc.at("data").at("acknowledged_by_name"));
    REQUIRE_FALSE(owner.empty());
  }
  REQUIRE(eventually([&] {
    return under(receiver, "/pd/").size() >= 2 && under(slack_receiver, "/slack/").size() >= 2;
  }));
  // Resolved by a sample under the threshold.
  s.write("shape_temp,host=core-1 value=20 " + std::to_string(unix_now_s()) + "\n");
  REQUIRE(eventually([&] {
    return under(receiver, "/pd/").size() >= 3 && under(receiver, "/og/").size() >= 3 &&
           under(slack_receiver, "/slack/").size() >= 3 && under(receiver, "/teams/").size() >= 3 &&
           under(receiver, "/tg/").size() >= 3 && under(receiver, "/twilio/").size() >= 3 &&
           under(receiver, "/at/").size() >= 3 && under(receiver, "/sms/").size() >= 3;
  }));
  REQUIRE(eventually([&] {
    auto log = s.get_data("/api/v1/notifications?per_page=100");
    return std::all_of(log.begin(), log.end(),
                       [](auto& n) { return n.at("status").as_string() == "delivered"; });
  }));

  {
    INFO("PagerDuty Events v2: trigger, acknowledge, resolve under one dedup_key");
    const auto pd = under(receiver, "/pd/");
    REQUIRE(pd.size() == 3);
    std::vector<std::string> actions;
    for (const auto& r : pd) {
      CHECK(r.at("method") == "POST");
      CHECK(r.at("path") == "/pd/v2/enqueue");
      CHECK(header(r, "content-type").starts_with("application/json"));
      const auto b = body_json(r);
      CHECK(b.at("routing_key") == kRoutingKey);
      actions.push_back(str(b.at("event_action")));
      CHECK(b.at("dedup_key") == body_json(pd[0]).at("dedup_key"));
    }
    CHECK(actions == std::vector<std::string>{"trigger", "acknowledge", "resolve"});
    const auto trigger = body_json(pd[0]);
    CHECK(str(trigger.at("dedup_key")).size() == 16);
    const auto& payload = trigger.at("payload").as_object();
    CHECK(str(payload.at("summary")).find("shape_temp high") != std::string::npos);
    CHECK(payload.at("source") != "");
    CHECK(payload.at("severity") == "critical");
    CHECK(payload.contains("timestamp"));
    CHECK(trigger.at("client") == "NetPulse");
  }

  {
    INFO("Opsgenie: create with alias, message and priority; acknowledge; close");
    const auto og = under(receiver, "/og/");
    REQUIRE(og.size() == 3);
    for (const auto& r : og) {
      CHECK(r.at("method") == "POST");
      CHECK(header(r, "authorization") == std::string("GenieKey ") + kGenieKey);
      CHECK(header(r, "content-type").starts_with("application/json"));
    }
    const auto create = body_json(og[0]);
    CHECK(og[0].at("path") == "/og/v2/alerts");
    const auto alias = str(create.at("alias"));
    CHECK(alias.size() == 16);
    CHECK(str(create.at("message")).find("shape_temp high") != std::string::npos);
    CHECK(str(create.at("message")).size() <= 130);
    CHECK(create.at("priority") == "P1");
    CHECK(create.at("source") == "NetPulse");
    const auto& tags = create.at("tags").as_array();
    CHECK(std::find(tags.begin(), tags.end(), json::value("core")) != tags.end());
    CHECK(str(og[1].at("path")) == "/og/v2/alerts/" + alias + "/acknowledge?identifierType=alias");
    CHECK(str(og[2].at("path")) == "/og/v2/alerts/" + alias + "/close?identifierType=alias");
    CHECK(body_json(og[2]).at("source") == "NetPulse");
  }

  {
    INFO("Slack: blocks with a header, the acknowledged and the resolved message");
    const auto slack = under(slack_receiver, "/slack/");
    REQUIRE(slack.size() == 3);
    std::vector<std::string> texts;
    for (const auto& r : slack) {
      CHECK(r.at("method") == "POST");
      CHECK(r.at("path") == "/slack/T0/B0/x");
      CHECK(header(r, "content-type").starts_with("application/json"));
      const auto b = body_json(r);
      CHECK(b.at("channel") == "#noc");
      const auto& blocks = b.at("blocks").as_array();
      REQUIRE(blocks.size() >= 2);
      CHECK(blocks[0].at("type") == "header");
      CHECK(blocks[0].at("text").at("type") == "plain_text");
      CHECK(blocks[1].at("type") == "section");
      texts.push_back(json::serialize(b));
    }
    INFO(texts[1]);
    CHECK(texts[0].find("shape_temp high") != std::string::npos);
    CHECK(body_json(slack[1]).at("text") == "CRIT ACK: shape_temp high");
    CHECK(texts[1].find("acknowledged by " + owner) != std::string::npos);  // who owns it
    CHECK(texts[2].find("RESOLVED") != std::string::npos);
  }

  {
    INFO("Teams: an adaptive card attachment per message");
    const auto teams = under(receiver, "/teams/");
    REQUIRE(teams.size() == 3);
    for (const auto& r : teams) {
      CHECK(r.at("method") == "POST");
      CHECK(header(r, "content-type").starts_with("application/json"));
      const auto b = body_json(r);
      CHECK(b.at("type") == "message");
      const auto& att = b.at("attachments").at(0).as_object();
      CHECK(att.at("contentType") == "application/vnd.microsoft.card.adaptive");
      const auto& card = att.at("content").as_object();
      CHECK(card.at("type") == "AdaptiveCard");
      CHECK(card.at("body").as_array().size() >= 2);
    }
    // The title as the first TextBlock, markdown-escaped.
    const auto card = [&](std::size_t i) {
      return body_json(teams[i]).at("attachments").at(0).at("content").as_object();
    };
    CHECK(card(0).at("body").at(0).at("text") == "CRIT: shape\\_temp high");
    CHECK(card(0).at("body").at(0).at("color") == "Attention");
    CHECK(card(1).at("body").at(0).at("text") == "CRIT ACK: shape\\_temp high");
    CHECK(card(2).at("body").at(0).at("color") == "Good");
  }

  {
    INFO("Telegram: sendMessage with chat_id and text, the token in the path");
    const auto tg = under(receiver, "/tg/");
    REQUIRE(tg.size() == 3);
    for (const auto& r : tg) {
      CHECK(r.at("method") == "POST");
      CHECK(str(r.at("path")) == std::string("/tg/bot") + kBotToken + "/sendMessage");
      CHECK(header(r, "content-type").starts_with("application/json"));
      const auto b = body_json(r);
      CHECK(b.at("chat_id").as_int64() == -1001234567890);
      CHECK(b.at("parse_mode") == "HTML");
    }
    CHECK(str(body_json(tg[0]).at("text")).find("shape_temp high") != std::string::npos);
    CHECK(str(body_json(tg[2]).at("text")).find("RESOLVED") != std::string::npos);
  }

  {
    INFO("Twilio: form-encoded To/From/Body with basic auth; firing, ACK, OK");
    const auto tw = under(receiver, "/twilio/");
    REQUIRE(tw.size() == 3);
    for (const auto& r : tw) {
      CHECK(r.at("method") == "POST");
      CHECK(str(r.at("path")) ==
            std::string("/twilio/2010-04-01/Accounts/") + kTwilioSid + "/Messages.json");
      CHECK(header(r, "content-type") == "application/x-www-form-urlencoded");
      // base64("AC0123456789abcdef0123456789abcdef:twilio-auth-token-42")
      CHECK(header(r, "authorization") ==
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0d2lsaW8tYXV0aC10b2tlbi00Mg==");
      const auto form = form_fields(str(r.at("body")));
      CHECK(field(form, "To") == "+254712345678");
      CHECK(field(form, "From") == "+15005550006");
      CHECK(field(form, "Body").size() <= 160);
    }
    CHECK(field(form_fields(str(tw[0].at("body"))), "Body").find("shape_temp high") !=
          std::string::npos);
    CHECK(field(form_fields(str(tw[1].at("body"))), "Body").starts_with("CRIT ACK "));
    CHECK(field(form_fields(str(tw[1].at("body"))), "Body").find(" by " + owner) !=
          std::string::npos);
    CHECK(field(form_fields(str(tw[2].at("body"))), "Body").starts_with("CRIT OK "));
  }

  {
    INFO("Africa's Talking: apiKey header, username, to (both), message, from");
    const auto at = under(receiver, "/at/");
    REQUIRE(at.size() == 3);
    for (const auto& r : at) {
      CHECK(r.at("method") == "POST");
      CHECK(r.at("path") == "/at/version1/messaging");
      CHECK(header(r, "apikey") == kAtKey);
      CHECK(header(r, "accept") == "application/json");
      CHECK(header(r, "content-type") == "application/x-www-form-urlencoded");
      const auto form = form_fields(str(r.at("body")));
      CHECK(field(form, "username") == "sandbox");
      CHECK(field(form, "to") == "+254712345678,+254733000111");
      CHECK(field(form, "from") == "NOC");
      CHECK_FALSE(field(form, "message").empty());
    }
  }

  {
    INFO("the generic SMS gateway: the rendered JSON template, the secret header");
    const auto sms = under(receiver, "/sms/");
    REQUIRE(sms.size() == 3);
    for (const auto& r : sms) {
      CHECK(r.at("method") == "POST");
      CHECK(r.at("path") == "/sms/send");
      CHECK(header(r, "content-type") == "application/json");
      CHECK(header(r, "authorization") == kSmsBearer);
      const auto b = body_json(r);
      CHECK(b.at("number") == "+254712345678");
      CHECK(b.size() == 2);
    }
    CHECK(str(body_json(sms[0]).at("message")).find("shape_temp high") != std::string::npos);
  }
}

TEST_CASE(
    "notify: a storm of 500 alerts is a handful of grouped messages carrying every alert once, "
    "and the delivery log agrees",
    "[notify][integration]") {
  Server s;
  WebhookReceiver receiver(s.dir, "hook", {"200"});
  const auto hook = s.channel("hook", "webhook",
                              R"({"url":")" + receiver.url("/storm") + R"(","format":"netpulse"})");
  // Five sites, so five groups. The bound on messages: a group's first message goes out
  // group_wait (1 s) after its first alert, and every later one at least group_interval (10 s)
  // after the one before. The 500 alerts all arrive within 10 s of the first (checked below), so
  // a second message — at least 11 s after the first alert — carries every alert the first did
  // not: at most 2 messages per group, 10 in all. Repeats (repeat_interval, 4 h) do not come.
  constexpr int kSites = 5;
  constexpr int kAlerts = 500;
  constexpr std::size_t kMaxMessages = 2 * kSites;
  s.policy({hook}, R"("group_by":["alertname","site"],"group_wait_s":1,"group_interval_s":10)");
  s.rule("storm_errors");

  // 500 series in 5 writes of 100 lines, each site spread over all writes; each write waits
  // until the engine has raised its alerts. The last two wait for the groups' first messages
  // too, so their alerts join groups that have sent (and wait out group_interval).
  const auto start = std::chrono::steady_clock::now();
  const auto t = std::to_string(unix_now_s() - 1);
  for (int batch = 0; batch < 5; ++batch) {
    if (batch == 3) REQUIRE(eventually([&] { return receiver.requests().size() >= kSites; }));
    std::string lines;
    for (int i = batch * 100; i < (batch + 1) * 100; ++i) {
      lines += "storm_errors,host=edge-" + std::to_string(i) + ",site=s" +
               std::to_string(i % kSites) + " value=95 " + t + "\n";
    }
    s.write(lines);
    const auto expected = static_cast<std::size_t>((batch + 1) * 100);
    REQUIRE(eventually(
        [&] { return s.get_data("/api/v1/alerts?open=true&per_page=500").size() >= expected; }));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  std::set<std::int64_t> raised;
  for (auto& a : s.get_data("/api/v1/alerts?open=true&per_page=500"))
    raised.insert(a.at("id").as_int64());
  REQUIRE(raised.size() == kAlerts);

  // Every alert reaches the receiver; count the messages and the alerts they carry.
  auto carried = [&] {
    std::size_t n = 0;
    for (auto& r : receiver.requests()) n += body_json(r).at("alerts").as_array().size();
    return n;
  };
  REQUIRE(eventually([&] { return carried() >= kAlerts; }, std::chrono::seconds(40)));
  const auto requests = receiver.requests();
  INFO(requests.size() << " messages");
  CHECK(requests.size() >= kSites);
  CHECK(requests.size() <= kMaxMessages);
  std::multiset<std::int64_t> in_messages;
  std::set<std::string> deliveries;
  for (const auto& r : requests) {
    CHECK(header(r, "x-netpulse-event") == "firing");
    deliveries.insert(header(r, "x-netpulse-delivery"));
    const auto b = body_json(r);
    CHECK(b.at("kind") == "firing");
    // One site per message: the group's labels.
    const auto site = str(b.at("group_labels").at("site"));
    for (auto& a : b.at("alerts").as_array()) {
      in_messages.insert(a.at("id").as_int64());
      CHECK(str(a.at("labels").at("site")) == site);
    }
  }
  CHECK(deliveries.size() == requests.size());  // no message sent twice
  CHECK(in_messages.size() == kAlerts);         // every alert once...
  CHECK(std::set<std::int64_t>(in_messages.begin(), in_messages.end()) == raised);  // ...each one

  // The delivery log: the same messages, delivered, the same alerts.
  REQUIRE(eventually([&] {
    auto log = s.get_data("/api/v1/notifications?per_page=100");
    return log.size() == requests.size() && std::all_of(log.begin(), log.end(), [](auto& n) {
             return n.at("status").as_string() == "delivered";
           });
  }));
  std::multiset<std::int64_t> logged;
  std::set<std::string> log_ids;
  for (auto& n : s.get_data("/api/v1/notifications?per_page=100")) {
    CHECK(n.at("kind") == "firing");
    CHECK(n.at("attempts").as_int64() == 1);
    log_ids.insert(std::to_string(n.at("id").as_int64()));
    for (auto& id : n.at("alert_ids").as_array()) logged.insert(id.as_int64());
  }
  CHECK(log_ids == deliveries);
  CHECK(logged == in_messages);
}

TEST_CASE(
    "notify: a policy's own chat template is what the channel receives; a template naming an "
    "unknown field is refused when the policy is saved",
    "[notify][integration]") {
  Server s;
  WebhookReceiver slack(s.dir, "slack", {"body:200:ok"});
  const auto channel =
      s.channel("slack", "slack", R"({"url":")" + slack.url("/slack/T0/B0/x") + R"("})");
  {
    auto c = s.client();
    auto r = c.post_json(
        "/api/v1/notification-policies",
        R"({"name":"typo","targets":[{"channel_id":)" + std::to_string(channel) +
            R"(}],"templates":{"chat":{"critical":{"text":"{{#first}}{{valu}}{{/first}}"}}}})",
        s.admin);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.error_code() == "INVALID_INPUT");
    const auto doc = r.json();
    CHECK(doc.at("error").at("details").at("field") == "templates.chat.critical.text");
    CHECK(r.body.find("{{valu}}") != std::string::npos);
  }
  s.policy({channel}, R"("group_wait_s":0,"group_interval_s":1,"templates":{"chat":{)"
                      R"("critical":{"title":"PAGE {{#first}}{{rule}} at {{value}}{{/first}}"},)"
                      R"("default":{"text":"{{count}} for {{receiver}}: {{kind}}"}}})");
  s.rule("custom_temp");
  s.write("custom_temp,host=core-1 value=97.5 " + std::to_string(unix_now_s() - 1) + "\n");
  REQUIRE(eventually([&] { return !slack.requests().empty(); }));
  const auto b = body_json(slack.requests().at(0));
  INFO(json::serialize(b));
  CHECK(b.at("text") == "PAGE custom_temp high at 97.5");
  CHECK(b.at("blocks").at(0).at("text").at("text") == "PAGE custom_temp high at 97.5");
  CHECK(b.at("blocks").at(1).at("text").at("text") == "1 for noc: firing");
  // The delivery log keeps the rendered title.
  REQUIRE(eventually([&] { return !s.get_data("/api/v1/notifications").empty(); }));
  CHECK(s.get_data("/api/v1/notifications").at(0).at("title") == "PAGE custom_temp high at 97.5");
  // The policy reads back with its templates.
  const auto policies = s.get_data("/api/v1/notification-policies");
  CHECK(policies.at(0).at("templates").at("chat").at("critical").at("title") ==
        "PAGE {{#first}}{{rule}} at {{value}}{{/first}}");
}
