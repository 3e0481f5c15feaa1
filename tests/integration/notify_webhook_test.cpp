// The notifier against the real binary and a real HTTP receiver (tests/support/peers/
// webhook_receiver.py): a threshold alert raised by an ingested sample reaches a webhook that
// answers 500 twice, then stalls past the timeout, then takes it — retried with back-off,
// delivered once, every attempt in the log, the signature verified as a receiver would; a 400
// is not retried and becomes a dead letter that the API sends again; the Alertmanager format
// carries its documented fields.
#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/random.hpp>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

using namespace netpulse;
using namespace netpulse::test;
namespace json = boost::json;

namespace {

const std::string kSecret = "integration-webhook-secret-0123";

struct Setup {
  TempDir dir;
  std::unique_ptr<ServerProcess> server;
  std::map<std::string, std::string> env;
  std::string admin;
  std::string ingest;

  explicit Setup(const std::string& http_timeout_ms = "1000") {
    env = {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"},
           {"NETPULSE_NOTIFY_RETRY_BASE_MS", "200"},
           {"NETPULSE_NOTIFY_RETRY_MAX_MS", "1000"},
           {"NETPULSE_NOTIFY_HTTP_TIMEOUT_MS", http_timeout_ms},
           {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}};
    server = std::make_unique<ServerProcess>(dir.path(), env);
    auto c = server->client();
    admin = login(c, kAdminEmail, kAdminPassword);
    ingest = ingest_key(c, admin);
  }

  std::int64_t channel(const std::string& url, const std::string& format) {
    auto c = server->client();
    return created_id(c.post_json(
        "/api/v1/notification-channels",
        R"({"name":"hook )" + format + R"(","kind":"webhook","settings":{)" + R"("url":")" + url +
            R"(","format":")" + format + R"(","secret":")" + kSecret + R"("}})",
        admin));
  }

  void policy_to(std::int64_t channel) {
    auto c = server->client();
    created_id(c.post_json("/api/v1/notification-policies",
                           R"({"name":"all","group_wait_s":0,"modes":{"warning":"immediate"},)"
                           R"("targets":[{"channel_id":)" +
                               std::to_string(channel) + "}]}",
                           admin));
  }

  // A rule on `metric` above 90 and a sample of 95: one firing alert.
  void raise(const std::string& metric) {
    auto c = server->client();
    raise_threshold_alert(c, admin, ingest, metric);
  }

  json::array log() {
    auto c = server->client();
    auto r = c.get("/api/v1/notifications", admin);
    REQUIRE(r.status == 200);
    return r.json().at("data").as_array();
  }
};

// What a receiver does with X-NetPulse-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, t.body)>.
bool signature_valid(const json::object& request) {
  const auto& headers = request.at("headers").as_object();
  const auto* sig = headers.if_contains("x-netpulse-signature");
  if (sig == nullptr) return false;
  const std::string text(sig->as_string());
  const auto comma = text.find(",v1=");
  if (text.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
  const auto t = text.substr(2, comma - 2);
  const auto mac = text.substr(comma + 4);
  const std::string body(request.at("body").as_string());
  return mac == core::to_hex(core::hmac_sha256(kSecret, t + "." + body));
}

}  // namespace

TEST_CASE("notify: a webhook that fails twice and stalls once gets the alert once, signed",
          "[notify][integration]") {
  Setup s;
  WebhookReceiver receiver(s.dir, "hook", {"500", "500", "sleep:3", "200"});
  s.policy_to(s.channel(receiver.url("/netpulse"), "netpulse"));
  s.raise("notify_temp");

  REQUIRE(eventually([&] { return receiver.requests().size() >= 4; }, std::chrono::seconds(30)));
  REQUIRE(eventually([&] {
    auto l = s.log();
    return l.size() == 1 && l[0].at("status").as_string() == "delivered";
  }));
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 4);  // delivered once: nothing after the 200
  for (const auto& r : requests) {
    CHECK(r.at("method").as_string() == "POST");
    CHECK(r.at("path").as_string() == "/netpulse");
    CHECK(signature_valid(r));
    auto body = json::parse(r.at("body").as_string()).as_object();
    REQUIRE(body.at("alerts").as_array().size() == 1);
    CHECK(body.at("alerts").at(0).at("rule_name").as_string() == "notify_temp high");
  }
  // A forged body does not pass the check a receiver makes.
  auto forged = requests[3];
  forged["body"] = "{\"alerts\":[]}";
  CHECK_FALSE(signature_valid(forged));
  // The back-off: at least half of 200 ms, then of 400 ms, between the failed attempts.
  const auto gap1 =
      requests[1].at("at").to_number<double>() - requests[0].at("at").to_number<double>();
  CHECK(gap1 >= 0.1);

  auto c = s.server->client();
  const auto id = s.log()[0].at("id").as_int64();
  auto one = c.get("/api/v1/notifications/" + std::to_string(id), s.admin);
  REQUIRE(one.status == 200);
  const auto doc = one.json();
  const auto& attempts = doc.at("data").at("attempt_log").as_array();
  REQUIRE(attempts.size() == 4);
  CHECK(attempts[0].at("outcome").as_string() == "retry");
  CHECK(attempts[0].at("remote_status").as_int64() == 500);
  CHECK(attempts[1].at("remote_status").as_int64() == 500);
  CHECK(attempts[2].at("outcome").as_string() == "retry");
  CHECK(attempts[2].at("remote_status").is_null());  // the stall: a timeout, no status
  CHECK(attempts[3].at("outcome").as_string() == "delivered");
  CHECK(attempts[3].at("remote_status").as_int64() == 200);
  // The channel is healthy again and says so.
  auto channels = c.get("/api/v1/notification-channels", s.admin);
  REQUIRE(channels.status == 200);
  CHECK(channels.json().at("data").at(0).at("health").at("state").as_string() == "ok");
  CHECK(channels.body.find(kSecret) == std::string::npos);
}

TEST_CASE("notify: a 400 is not retried; the dead letter is sent again on request",
          "[notify][integration]") {
  Setup s;
  WebhookReceiver receiver(s.dir, "hook", {"400", "200"});
  s.policy_to(s.channel(receiver.url("/am"), "alertmanager"));
  s.raise("notify_load");
  REQUIRE(eventually([&] {
    auto l = s.log();
    return l.size() == 1 && l[0].at("status").as_string() == "dead";
  }));
  CHECK(receiver.requests().size() == 1);
  auto c = s.server->client();
  auto dead = c.get("/api/v1/notifications/dead-letters", s.admin);
  REQUIRE(dead.status == 200);
  REQUIRE(dead.json().at("data").as_array().size() == 1);
  const auto id = dead.json().at("data").at(0).at("id").as_int64();

  // Alertmanager's webhook format, version 4, with its documented fields.
  auto body = json::parse(receiver.requests()[0].at("body").as_string()).as_object();
  CHECK(body.at("version").as_string() == "4");
  CHECK(body.at("status").as_string() == "firing");
  CHECK(body.at("receiver").as_string() == "all");
  for (auto* field : {"groupKey", "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
                      "alerts", "truncatedAlerts"}) {
    INFO(field);
    CHECK(body.contains(field));
  }
  const auto& alert = body.at("alerts").at(0).as_object();
  for (auto* field :
       {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}) {
    INFO(field);
    CHECK(alert.contains(field));
  }
  CHECK(alert.at("labels").at("alertname").as_string() == "notify_load high");

  auto retry = c.post_json("/api/v1/notifications/" + std::to_string(id) + "/retry", "{}", s.admin);
  INFO(retry.body);
  CHECK(retry.status == 202);
  REQUIRE(eventually([&] { return s.log()[0].at("status").as_string() == "delivered"; }));
  CHECK(receiver.requests().size() == 2);
  // Only a dead letter can be sent again.
  CHECK(
      c.post_json("/api/v1/notifications/" + std::to_string(id) + "/retry", "{}", s.admin).status ==
      404);
}

TEST_CASE("notify: killed with a webhook in flight, the server sends it again after the restart",
          "[notify][integration]") {
  Setup s("30000");
  // The first request is held for 20 s (the server dies meanwhile); the next one is taken.
  WebhookReceiver receiver(s.dir, "hook", {"sleep:20", "200"});
  s.policy_to(s.channel(receiver.url("/netpulse"), "netpulse"));
  s.raise("notify_kill");
  REQUIRE(eventually([&] { return receiver.requests().size() == 1; }));
  s.server->kill9();
  s.server = std::make_unique<ServerProcess>(s.dir.path(), s.env);
  auto c = s.server->client();
  s.admin = login(c, kAdminEmail, kAdminPassword);
  REQUIRE(eventually([&] { return receiver.requests().size() >= 2; }, std::chrono::seconds(30)));
  REQUIRE(eventually([&] {
    auto l = s.log();
    return l.size() == 1 && l[0].at("status").as_string() == "delivered";
  }));
  // The same notification, not a new one; the cut-short attempt is counted as maybe sent when
  // its mark reached the database before the kill.
  const auto requests = receiver.requests();
  CHECK(requests[0].at("headers").at("x-netpulse-delivery") ==
        requests[1].at("headers").at("x-netpulse-delivery"));
  CHECK(s.log()[0].at("sends_unsure").as_int64() <= 1);
}

TEST_CASE(
    "notify: killed within group_wait, the alert's message goes out after the restart, "
    "once; and its resolution after that",
    "[notify][integration]") {
  Setup s;
  WebhookReceiver receiver(s.dir, "hook", {"200"});
  const auto channel = s.channel(receiver.url("/netpulse"), "netpulse");
  {
    auto c = s.server->client();
    created_id(c.post_json(
        "/api/v1/notification-policies",
        R"({"name":"all","group_wait_s":4,"group_interval_s":5,"modes":{"warning":"immediate"},)"
        R"("targets":[{"channel_id":)" +
            std::to_string(channel) + "}]}",
        s.admin));
  }
  s.raise("notify_group_wait");
  // Firing in the engine and committed, its message still waiting out group_wait: killed now.
  // The list of open alerts comes from the engine's memory, ahead of the write; an alert's
  // history comes from the database, so a firing entry there means the row is committed.
  std::int64_t alert_id = 0;
  REQUIRE(eventually([&] {
    auto c = s.server->client();
    auto r = c.get("/api/v1/alerts?status=firing", s.admin);
    if (r.status != 200) return false;
    const auto body = r.json();
    if (body.at("data").as_array().size() != 1) return false;
    alert_id = body.at("data").at(0).at("id").as_int64();
    return true;
  }));
  REQUIRE(eventually([&] {
    auto c = s.server->client();
    auto r = c.get("/api/v1/alerts/" + std::to_string(alert_id), s.admin);
    if (r.status != 200) return false;
    const auto body = r.json();
    return !body.at("data").at("history").as_array().empty();
  }));
  REQUIRE(receiver.requests().empty());
  s.server->kill9();
  s.server = std::make_unique<ServerProcess>(s.dir.path(), s.env);
  auto c = s.server->client();
  s.admin = login(c, kAdminEmail, kAdminPassword);
  REQUIRE(eventually([&] { return receiver.requests().size() == 1; }, std::chrono::seconds(20)));
  const auto first = json::parse(std::string(receiver.requests()[0].at("body").as_string()));
  CHECK(first.at("kind") == "firing");
  REQUIRE(eventually([&] {
    auto l = s.log();
    return l.size() == 1 && l[0].at("status").as_string() == "delivered";
  }));

  // Restarted again (cleanly): the alert went out, so it is not sent a second time; it resolves
  // and the resolution goes out.
  REQUIRE(s.server->terminate() == 0);
  s.server = std::make_unique<ServerProcess>(s.dir.path(), s.env);
  auto c2 = s.server->client();
  s.admin = login(c2, kAdminEmail, kAdminPassword);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  write_lines(c2, s.ingest,
              "notify_group_wait,host=core-1 value=5 " + std::to_string(now_s) + "\n");
  REQUIRE(eventually([&] { return receiver.requests().size() == 2; }, std::chrono::seconds(20)));
  const auto second = json::parse(std::string(receiver.requests()[1].at("body").as_string()));
  CHECK(second.at("kind") == "resolved");
}
