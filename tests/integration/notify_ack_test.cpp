// Acknowledgement links against the real binary: an alert raised through the API reaches a
// webhook receiver (tests/support/peers/webhook_receiver.py) whose NetPulse payload carries the
// link; fetching it shows a page and acknowledges nothing (a mail client's link scanner does
// that), posting to it acknowledges the alert as the channel, a second post and a forged token
// are refused, and the Alertmanager format carries no link.
#include <chrono>
#include <string>

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

struct AckSetup {
  TempDir dir;
  std::unique_ptr<ServerProcess> server;
  std::string admin;

  AckSetup() {
    server = std::make_unique<ServerProcess>(
        dir.path(),
        std::map<std::string, std::string>{{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"},
                                           {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}});
    auto c = server->client();
    admin = login(c, kAdminEmail, kAdminPassword);
  }

  void hook_policy(const std::string& url, const std::string& format) {
    auto c = server->client();
    const auto channel = created_id(c.post_json(
        "/api/v1/notification-channels",
        R"({"name":"NOC hook","kind":"webhook","settings":{"url":")" + url + R"(","format":")" +
            format + R"(","secret":"integration-webhook-secret-0123"}})",
        admin));
    created_id(c.post_json("/api/v1/notification-policies",
                           R"({"name":"all","group_wait_s":0,"modes":{"warning":"immediate"},)"
                           R"("targets":[{"channel_id":)" +
                               std::to_string(channel) + "}]}",
                           admin));
  }

  json::object alert(std::int64_t rule_id) {
    auto c = server->client();
    auto r = c.get("/api/v1/alerts?rule=" + std::to_string(rule_id), admin);
    REQUIRE(r.status == 200);
    const auto doc = r.json();
    REQUIRE(doc.at("data").as_array().size() == 1);
    return doc.at("data").at(0).as_object();
  }
};

HttpResponse call(HttpClient& c, const std::string& method, const std::string& path,
                  bool json_answer, const std::string& body = "") {
  HttpRequest r;
  r.method = method;
  r.target = path;
  if (json_answer) r.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.body = body;
  }
  return c.send(r);
}

}  // namespace

TEST_CASE("notify: the link in a message acknowledges its alert once, after a confirmation page",
          "[notify][integration]") {
  AckSetup s;
  WebhookReceiver receiver(s.dir, "hook", {"200"});
  s.hook_policy(receiver.url("/netpulse"), "netpulse");
  auto c = s.server->client();
  const auto rule = raise_threshold_alert(c, s.admin, ingest_key(c, s.admin), "ack_temp");
  REQUIRE(eventually([&] { return receiver.requests().size() == 1; }, std::chrono::seconds(20)));

  const auto body = json::parse(receiver.requests()[0].at("body").as_string()).as_object();
  const std::string url(body.at("ack_url").as_string());
  INFO(url);
  // The server listens on port 0 (a free one), so the default external_url names port 0: the
  // path is what counts here.
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  const auto at = url.find("/api/v1/ack/");
  REQUIRE(at != std::string::npos);
  const auto path = url.substr(at);
  // Short enough for an SMS beside a line of text.
  CHECK(path.size() - std::string("/api/v1/ack/").size() <= 50);
  // The text of the message says it too.
  CHECK(std::string(body.at("text").as_string()).find("Acknowledge: " + url) != std::string::npos);

  // GET: a page with the alert and a button, and nothing acknowledged.
  auto page = call(c, "GET", path, false);
  INFO(page.body);
  CHECK(page.status == 200);
  CHECK(page.header("content-type").rfind("text/html", 0) == 0);
  CHECK(page.header("content-security-policy").find("script-src 'self'") != std::string::npos);
  CHECK(page.body.find("<li>ack_temp high (firing)</li>") != std::string::npos);
  CHECK(page.body.find("NOC hook (link)") != std::string::npos);
  CHECK(page.body.find("<form method=\"post\">") != std::string::npos);
  CHECK(page.body.find("<script") == std::string::npos);
  auto preview = call(c, "GET", path, true);
  REQUIRE(preview.status == 200);
  const auto preview_doc = preview.json();
  CHECK(preview_doc.at("data").at("acknowledge_as").as_string() == "NOC hook (link)");
  CHECK(preview_doc.at("data").at("alerts").at(0).at("status").as_string() == "firing");
  CHECK(s.alert(rule).at("status").as_string() == "firing");

  // POST, as the page's form sends it: acknowledged as the channel, with no user.
  auto done = call(c, "POST", path, false, "x=1");
  INFO(done.body);
  CHECK(done.status == 200);
  CHECK(done.header("content-type").rfind("text/html", 0) == 0);
  CHECK(done.body.find("Acknowledged") != std::string::npos);
  const auto acked = s.alert(rule);
  CHECK(acked.at("status").as_string() == "acknowledged");
  CHECK(acked.at("acknowledged_by_name").as_string() == "NOC hook (link)");
  CHECK(acked.at("acknowledged_by").is_null());

  // Used: refused, as a page and as JSON, and the link's page says so too.
  auto again = call(c, "POST", path, false);
  CHECK(again.status == 409);
  CHECK(again.body.find("has been used") != std::string::npos);
  auto again_json = call(c, "POST", path, true);
  CHECK(again_json.status == 409);
  CHECK(again_json.error_code() == "CONFLICT");
  CHECK(call(c, "GET", path, true).status == 409);

  // Forged: a changed character, a made-up token, the token of another server's key.
  auto forged = path;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (const auto& bad :
       {forged, std::string("/api/v1/ack/not-a-token"),
        std::string("/api/v1/ack/AgcHkI7XygYBI0VniavN7wEqAAAAAAAAAAAAAAAAAAAAAA")}) {
    INFO(bad);
    auto r = call(c, "POST", bad, true);
    CHECK(r.status == 404);
    CHECK(r.error_code() == "TOKEN_INVALID");
    auto shown = call(c, "GET", bad, false);
    CHECK(shown.status == 404);
    CHECK(shown.body.find("does not work") != std::string::npos);
  }
  CHECK(s.alert(rule).at("acknowledged_by_name").as_string() == "NOC hook (link)");
}

TEST_CASE("notify: the Alertmanager format carries no acknowledgement link",
          "[notify][integration]") {
  AckSetup s;
  WebhookReceiver receiver(s.dir, "hook", {"200"});
  s.hook_policy(receiver.url("/am"), "alertmanager");
  auto c = s.server->client();
  raise_threshold_alert(c, s.admin, ingest_key(c, s.admin), "ack_am");
  REQUIRE(eventually([&] { return receiver.requests().size() == 1; }, std::chrono::seconds(20)));
  const std::string raw(receiver.requests()[0].at("body").as_string());
  CHECK(json::parse(raw).as_object().at("version").as_string() == "4");
  CHECK(raw.find("/api/v1/ack/") == std::string::npos);
}
