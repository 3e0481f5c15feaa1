// The live feed on the real binary, without a browser (issue 16): a signed-in client follows
// alerts and series as they happen while another organization's client sees none of it; no
// token, a bad token, a foreign origin and garbage are refused; a client that reconnects resumes
// from its last sequence number (or is told to reload); signing out ends the feed; a client that
// stops reading gets coalesced series updates and then is disconnected as too slow.
#include <chrono>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/ws_client.hpp"

using netpulse::test::HttpClient;
using netpulse::test::ingest_key;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::raise_threshold_alert;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using netpulse::test::write_lines;
using netpulse::test::WsClient;

namespace {

using namespace std::chrono_literals;

// A client signed in with `token`: REQUIREs the ready message and returns it.
boost::json::object sign_in(WsClient& ws, const std::string& token) {
  ws.send_json({{"type", "auth"}, {"token", token}});
  auto ready = ws.wait_for("ready");
  INFO(ws.close_code() << " " << ws.close_reason());
  REQUIRE(ready);
  return ready->as_object();
}

void subscribe(WsClient& ws, boost::json::object msg) {
  msg["type"] = "subscribe";
  ws.send_json(msg);
  auto ok = ws.wait_for("subscribed");
  REQUIRE(ok);
}

// The next alert message for `rule_name` with `transition`.
std::optional<boost::json::object> alert_message(WsClient& ws, const std::string& rule_name,
                                                 const std::string& transition) {
  for (int i = 0; i < 20; ++i) {
    auto msg = ws.wait_for("alert");
    if (!msg) return std::nullopt;
    const auto& data = msg->at("data");
    if (data.at("rule_name") == rule_name.c_str() && data.at("transition") == transition.c_str()) {
      return msg->as_object();
    }
  }
  return std::nullopt;
}

// One server with its administrator's token and an api_user key for ingest.
struct LiveServer {
  TempDir dir;
  ServerProcess server{dir.path()};
  HttpClient c = server.client();
  std::string admin = login(c, kAdminEmail, kAdminPassword);
  std::string ingest = ingest_key(c, admin);
};

std::int64_t metric_value(HttpClient& c, const std::string& name) {
  auto text = c.get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("live: a client follows alerts and series as they happen; another org sees none",
          "[live]") {
  LiveServer s;
  auto& [dir, server, c, admin, ingest] = s;

  // Organization B with its own administrator, following everything it may.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", admin);
  REQUIRE(org.status == 201);
  auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--name", "Boss of B",
                           "--role", "admin", "--org", "org-b", "--password", "boss-b-password"},
                          {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  auto admin_b = login(c, "boss@org-b.example", "boss-b-password");

  WsClient a(server.port(), {{"Origin", "http://127.0.0.1:" + std::to_string(server.port())}});
  auto ready = sign_in(a, admin);
  CHECK(ready.at("epoch").as_string().size() == 16);
  const auto start_seq = ready.at("seq").to_number<std::int64_t>();
  subscribe(a, {{"topics", {"alerts", "incidents"}}, {"series", {R"(lv_temp{host="core-1"})"}}});
  WsClient b(server.port());
  sign_in(b, admin_b);
  subscribe(b, {{"topics", {"alerts", "incidents", "devices", "interfaces", "checks"}},
                {"series", {"lv_temp"}}});

  raise_threshold_alert(c, admin, ingest, "lv_temp", "critical");
  auto sample = a.wait_for("sample");
  REQUIRE(sample);
  const auto& data = sample->at("data");
  CHECK(data.at("metric") == "lv_temp");
  CHECK(data.at("labels").at("host") == "core-1");
  CHECK(data.at("v").to_number<double>() == 95);
  CHECK(data.at("t").is_int64());
  CHECK(sample->at("seq").to_number<std::int64_t>() > start_seq);
  auto firing = alert_message(a, "lv_temp high", "firing");
  REQUIRE(firing);
  CHECK(firing->at("data").at("severity") == "critical");
  CHECK(firing->at("data").at("status") == "firing");
  // A heartbeat from the client is answered.
  a.send_json({{"type", "ping"}});
  CHECK(a.wait_for("pong"));

  // Organization B saw nothing of A's, though it follows the same metric name.
  auto leaked = b.read(1500ms);
  INFO(leaked.value_or(""));
  CHECK_FALSE(leaked);
  CHECK_FALSE(b.closed());
  CHECK(server.running());
}

TEST_CASE("live: no token, a bad token, a foreign origin and garbage are refused", "[live]") {
  TempDir dir;
  ServerProcess server(dir.path(),
                       {{"NETPULSE_HTTP_CORS_ALLOWED_ORIGINS", "https://noc.example.net"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  {
    WsClient ws(server.port());
    ws.send_json({{"type", "subscribe"}, {"topics", {"alerts"}}});
    CHECK_FALSE(ws.read());
    CHECK(ws.close_code() == 4001);
    CHECK(ws.close_reason().find("authenticate first") != std::string::npos);
  }
  {
    WsClient ws(server.port());
    ws.send_json({{"type", "auth"}, {"token", "eyJhbGciOiJIUzI1NiJ9.e30.forged"}});
    CHECK_FALSE(ws.read());
    CHECK(ws.close_code() == 4001);
  }
  {
    WsClient ws(server.port());
    ws.send("not json at all");
    CHECK_FALSE(ws.read());
    CHECK(ws.close_code() == 4000);
  }
  {
    // Bigger than a message may be (64 KiB): closed by the WebSocket layer (1009).
    WsClient ws(server.port());
    ws.send(std::string(70'000, 'x'));
    CHECK_FALSE(ws.read());
    CHECK(ws.close_code() == 1009);
  }
  // A page of another site may not open the feed; a configured origin may.
  CHECK_THROWS_WITH(WsClient(server.port(), {{"Origin", "https://evil.example"}}),
                    Catch::Contains("403"));
  {
    WsClient ws(server.port(), {{"Origin", "https://noc.example.net"}});
    sign_in(ws, admin);
    // Bad subscriptions are answered with an error naming the field; the client stays.
    ws.send_json({{"type", "subscribe"}, {"topics", {"weather"}}});
    auto e1 = ws.wait_for("error");
    REQUIRE(e1);
    CHECK(e1->at("field") == "topics");
    ws.send_json({{"type", "subscribe"}, {"series", {"cpu{"}}});
    auto e2 = ws.wait_for("error");
    REQUIRE(e2);
    CHECK(e2->at("field") == "series");
    CHECK(std::string(e2->at("message").as_string()).find("selector") != std::string::npos);
    ws.send_json({{"type", "dance"}});
    auto e3 = ws.wait_for("error");
    REQUIRE(e3);
    CHECK(e3->at("field") == "type");
    // A refreshed token of the same user is taken without a new connection.
    auto other = login(c, kAdminEmail, kAdminPassword);
    ws.send_json({{"type", "auth"}, {"token", other}});
    CHECK(ws.wait_for("reauthenticated"));
    CHECK_FALSE(ws.closed());
  }
  // A plain GET is told to upgrade.
  auto plain = c.get("/api/v1/live");
  CHECK(plain.status == 400);
  CHECK(plain.header("upgrade") == "websocket");
  CHECK(server.running());
}

TEST_CASE("live: a reconnecting client resumes from its last sequence number; sign-out ends it",
          "[live]") {
  LiveServer s;
  auto& [dir, server, c, admin, ingest] = s;

  std::string epoch;
  std::int64_t last = 0;
  {
    WsClient ws(server.port());
    epoch = std::string(sign_in(ws, admin).at("epoch").as_string());
    subscribe(ws, {{"topics", {"alerts"}}});
    raise_threshold_alert(c, admin, ingest, "lv_first");
    auto first = alert_message(ws, "lv_first high", "firing");
    REQUIRE(first);
    last = first->at("seq").to_number<std::int64_t>();
    ws.drop();  // the laptop lid closes
  }
  // Missed while away.
  raise_threshold_alert(c, admin, ingest, "lv_second");
  WsClient ws(server.port());
  sign_in(ws, admin);
  subscribe(ws, {{"topics", {"alerts"}}});
  ws.send_json({{"type", "resume"}, {"epoch", epoch}, {"seq", last}});
  auto resumed = ws.wait_for("resumed");
  REQUIRE(resumed);
  CHECK(resumed->at("count").to_number<std::int64_t>() >= 1);
  bool got_second = false;
  for (const auto& m : ws.skipped()) {
    if (m.at("type") == "alert") {
      CHECK(m.at("seq").to_number<std::int64_t>() > last);
      got_second = got_second || m.at("data").at("rule_name") == "lv_second high";
    }
  }
  CHECK(got_second);
  // Another epoch (the server restarted) or a sequence number from the future: reload.
  ws.send_json({{"type", "resume"}, {"epoch", "0000000000000000"}, {"seq", last}});
  auto reload = ws.wait_for("reload");
  REQUIRE(reload);
  CHECK(std::string(reload->at("reason").as_string()).find("restarted") != std::string::npos);
  ws.send_json({{"type", "resume"}, {"epoch", epoch}, {"seq", 1'000'000'000}});
  CHECK(ws.wait_for("reload"));

  // Signing out revokes the token the feed was opened with: the feed ends within its check.
  REQUIRE(c.post_json("/api/v1/auth/logout", "{}", admin).status == 204);
  CHECK_FALSE(ws.read(15s));
  CHECK(ws.closed());
  CHECK(ws.close_code() == 4001);
  CHECK(ws.close_reason().find("session ended") != std::string::npos);
  CHECK(server.running());
}

TEST_CASE("live: a client that stops reading gets coalesced series, then is disconnected",
          "[live]") {
  LiveServer s;
  auto& [dir, server, c, admin, ingest] = s;

  WsClient slow(server.port(), {}, "/api/v1/live", 64 * 1024);
  sign_in(slow, admin);
  subscribe(slow, {{"series", {"lv_flood"}}});
  WsClient fine(server.port());
  sign_in(fine, admin);
  subscribe(fine, {{"topics", {"alerts"}}});

  // 400 series x 600 samples: the newest value per series keeps going out, more than the
  // sockets hold (the client's buffer is fixed at 64 KiB, the server's at 256 KiB), so the slow
  // client's queue stops and its updates wait, the newest per series winning.
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  for (int round = 0; round < 12; ++round) {
    std::string lines;
    for (int i = 0; i < 50; ++i) {
      for (int s = 0; s < 400; ++s) {
        lines += "lv_flood,port=p" + std::to_string(s) + " value=" + std::to_string(i) + " " +
                 std::to_string(now_s - 1000 + round * 50 + i) + "\n";
      }
    }
    write_lines(c, ingest, lines);
  }
  // It stays behind past max_behind (10 s) and the next check disconnects it.
  bool dropped = false;
  for (int i = 0; i < 40 && !dropped; ++i) {
    std::this_thread::sleep_for(1s);
    dropped = metric_value(c, "netpulse_live_disconnected_slow_total") >= 1;
  }
  INFO("sent " << metric_value(c, "netpulse_live_messages_sent_total") << " coalesced "
               << metric_value(c, "netpulse_live_messages_coalesced_total") << " clients "
               << metric_value(c, "netpulse_live_clients"));
  CHECK(dropped);
  CHECK(metric_value(c, "netpulse_live_messages_coalesced_total") > 0);
  // What it reads now is what was written before, then the close with its reason.
  std::size_t got = 0;
  while (slow.read(5s)) ++got;
  CHECK(got > 0);
  CHECK(slow.closed());
  CHECK(slow.close_code() == 4008);
  CHECK(slow.close_reason().find("too slow") != std::string::npos);
  // The other client is untouched.
  fine.send_json({{"type", "ping"}});
  CHECK(fine.wait_for("pong"));
  CHECK(server.running());
}

TEST_CASE(
    "live: devices added, device events as they are written; each user's own in-app "
    "notifications",
    "[live]") {
  LiveServer s;
  auto& [dir, server, c, admin, ingest] = s;
  auto viewer_made = c.post_json(
      "/api/v1/users",
      R"({"email":"eve@noc.example","role":"viewer","password":"viewer-password-1"})", admin);
  REQUIRE(viewer_made.status == 201);
  auto viewer = login(c, "eve@noc.example", "viewer-password-1");

  WsClient a(server.port());
  sign_in(a, admin);
  subscribe(a, {{"topics", {"events", "notifications", "devices"}}});
  WsClient v(server.port());
  sign_in(v, viewer);
  subscribe(v, {{"topics", {"events", "notifications"}}});

  // A device polled for the first time: "up (was unknown)" goes into its event log and out on
  // the feed, to both (events are the organization's).
  auto dev = c.post_json("/api/v1/devices",
                         R"({"name":"lv-router","address":"127.0.0.1","type":"router"})", admin);
  REQUIRE(dev.status == 201);
  const auto device_id = dev.json().at("data").at("id").as_int64();
  // The device list and the map hear of a device added (the devices topic).
  auto added = a.wait_for("device_changed");
  REQUIRE(added);
  CHECK(added->at("data").at("device_id").as_int64() == device_id);
  CHECK(added->at("data").at("change") == "created");
  REQUIRE(
      c.post_json("/api/v1/devices/" + std::to_string(device_id) + "/poll", "{}", admin).status ==
      200);
  for (auto* ws : {&a, &v}) {
    std::optional<boost::json::value> event;
    for (int i = 0; i < 10 && !event; ++i) {
      auto msg = ws->wait_for("event");
      REQUIRE(msg);
      if (msg->at("data").at("kind") == "status") event = msg;
    }
    REQUIRE(event);
    const auto& data = event->at("data");
    CHECK(data.at("device_id").as_int64() == device_id);
    CHECK(data.at("severity").is_string());
    CHECK(std::string(data.at("message").as_string()).find("lv-router") != std::string::npos);
    CHECK(data.at("at").is_string());
  }

  // An in-app channel for admins only and a policy sending every alert to it: the admin is told
  // of the alert; the viewer, who got no message, hears nothing.
  auto channel =
      c.post_json("/api/v1/notification-channels",
                  R"({"name":"inbox","kind":"in_app","settings":{"roles":["admin"]}})", admin);
  REQUIRE(channel.status == 201);
  const auto channel_id = channel.json().at("data").at("id").as_int64();
  REQUIRE(c.post_json("/api/v1/notification-policies",
                      R"({"name":"all","group_wait_s":0,"modes":{"critical":"immediate"},)"
                      R"("targets":[{"channel_id":)" +
                          std::to_string(channel_id) + "}]}",
                      admin)
              .status == 201);
  raise_threshold_alert(c, admin, ingest, "lv_inbox", "critical");
  auto told = a.wait_for("notification");
  REQUIRE(told);
  CHECK(told->at("data").at("severity") == "critical");
  CHECK(std::string(told->at("data").at("title").as_string()).find("lv_inbox") !=
        std::string::npos);
  CHECK(told->at("data").at("alert_id").is_int64());
  // It is in the admin's inbox.
  auto inbox = c.get("/api/v1/me/notifications", admin);
  CHECK(inbox.body.find("lv_inbox") != std::string::npos);
  // The viewer's feed carries no notification (other messages may come and go).
  for (int i = 0; i < 5; ++i) {
    auto msg = v.read(300ms);
    if (!msg) break;
    CHECK(msg->find("\"notification\"") == std::string::npos);
  }
  CHECK(c.get("/api/v1/me/notifications", viewer).body.find("lv_inbox") == std::string::npos);
}
