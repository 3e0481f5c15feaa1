// The alert API end to end on the real binary (issue 14): rules created, read, replaced, patched
// and deleted (the default rules present from the first start); hostile rule bodies refused
// naming the field with nothing saved; an alert raised by samples pushed over the ingest API,
// then acknowledged, commented and resolved by people, with its history and the list's filters
// and pages; backtests of a saved and an unsaved rule over pushed samples; a silence and a
// maintenance window marking an alert silenced and unmarking it when deleted. Samples carry a
// device_id label, which the engine takes as the alert's device; the devices are created
// disabled, so no poller touches the network.
#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using netpulse::test::tsdb_http::create_key;
using netpulse::test::tsdb_http::create_user_token;
using netpulse::test::tsdb_http::now_ms;
using netpulse::test::tsdb_http::write_lp;

namespace {

// One server with an administrator, an operator, a viewer and an api_user key for ingest.
struct AlertsServer {
  TempDir dir;
  ServerProcess server{dir.path()};
  HttpClient c = server.client();
  std::string admin = login(c, kAdminEmail, kAdminPassword);
  std::string ops = create_user_token(c, admin, "ops@alerts.example", "operator");
  std::string viewer = create_user_token(c, admin, "viewer@alerts.example", "viewer");
  std::string key = create_key(c, admin, "alerts-ingest");
};

boost::json::object data_object(const HttpResponse& res) {
  INFO(res.status << " " << res.body);
  REQUIRE(res.json().is_object());
  REQUIRE(res.json().as_object().contains("data"));
  return res.json().at("data").as_object();
}

boost::json::array data_array(const HttpResponse& res) {
  INFO(res.status << " " << res.body);
  REQUIRE(res.status == 200);
  return res.json().at("data").as_array();
}

std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

// The field an INVALID_INPUT error names.
std::string error_field(const HttpResponse& res) {
  auto body = res.json();
  if (!body.is_object() || !body.as_object().contains("error")) return "<no error>";
  auto* details = body.at("error").as_object().if_contains("details");
  if (!details || !details->is_object() || !details->as_object().contains("field")) {
    return "<no field>";
  }
  return str(details->at("field"));
}

// RFC 3339 in UTC, as the API prints every time.
bool rfc3339(const boost::json::value& v) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
  return v.is_string() && std::regex_match(std::string(v.as_string()), kTime);
}

std::int64_t create_rule(AlertsServer& s, const std::string& body) {
  auto res = s.c.post_json("/api/v1/alert-rules", body, s.ops);
  INFO(body << " -> " << res.body);
  REQUIRE(res.status == 201);
  return data_object(res).at("id").as_int64();
}

// A threshold rule on `metric` (fires at once: for_s 0).
std::int64_t threshold_rule(AlertsServer& s, const std::string& name, const std::string& metric,
                            const std::string& severity = "critical") {
  return create_rule(
      s, R"({"name":")" + name + R"(","kind":"threshold","selector":")" + metric +
             R"(","condition":{"fn":"value","op":">","value":90,"clear":80},)" +
             R"("for_s":0,"severity":")" + severity +
             R"x(","annotations":{"summary":"{device} at {value} (over {threshold})"}})x");
}

// A disabled device (no poller reaches for it); returns its id.
std::int64_t create_device(AlertsServer& s, const std::string& name, const std::string& address) {
  auto res = s.c.post_json(
      "/api/v1/devices",
      R"({"name":")" + name + R"(","address":")" + address + R"(","enabled":false,"tags":["lab"]})",
      s.admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return data_object(res).at("id").as_int64();
}

void push(AlertsServer& s, const std::string& line) {
  auto res = write_lp(s.c, s.key, line + "\n", "ms");
  INFO(line << " -> " << res.body);
  REQUIRE(res.status == 204);
}

boost::json::array alerts_of(AlertsServer& s, const std::string& query) {
  return data_array(s.c.get("/api/v1/alerts?" + query, s.viewer));
}

// Waits (bounded) for the rule's one alert with `status`; returns it.
boost::json::object wait_for_alert(AlertsServer& s, std::int64_t rule_id, const std::string& status,
                                   std::size_t count = 1) {
  boost::json::array found;
  const bool ok = eventually([&] {
    found = alerts_of(s, "rule=" + std::to_string(rule_id) + "&status=" + status);
    return found.size() == count;
  });
  INFO("rule " << rule_id << " " << status << ": " << boost::json::serialize(found));
  REQUIRE(ok);
  return found.at(0).as_object();
}

std::int64_t rule_total(AlertsServer& s) {
  auto res = s.c.get("/api/v1/alert-rules?per_page=500", s.viewer);
  REQUIRE(res.status == 200);
  return res.json().at("pagination").at("total").as_int64();
}

boost::json::object get_alert(AlertsServer& s, std::int64_t id) {
  auto res = s.c.get("/api/v1/alerts/" + std::to_string(id), s.viewer);
  REQUIRE(res.status == 200);
  return data_object(res);
}

}  // namespace

TEST_CASE(
    "alerts api: the default rules exist on first start; rules are created, read, replaced, "
    "patched and deleted",
    "[alerts][api]") {
  AlertsServer s;
  auto list = s.c.get("/api/v1/alert-rules?per_page=500", s.viewer);
  auto defaults = data_array(list);
  std::set<std::string> builtin;
  for (auto& r : defaults) {
    INFO(boost::json::serialize(r));
    CHECK(r.at("builtin").is_string());
    if (r.at("builtin").is_string()) builtin.insert(str(r.at("builtin")));
    CHECK(rfc3339(r.at("created_at")));
    CHECK(r.at("status").is_object());
  }
  CHECK(builtin.count("device_down") == 1);
  CHECK(builtin.count("cpu_high") == 1);
  CHECK(list.json().at("pagination").at("total").as_int64() ==
        static_cast<std::int64_t>(defaults.size()));

  // Create: the defaults are filled in, the read-only fields set by the server.
  auto created = s.c.post_json("/api/v1/alert-rules",
                               R"({"name":"Temperature high","kind":"threshold",
        "selector":"room_temp{site=\"lab\"}",
        "condition":{"fn":"avg","window_s":300,"op":">","value":30.5,"clear":28},
        "labels":{"team":"facilities"},"annotations":{"summary":"{device} is at {value} C"},
        "id":4242,"builtin":"device_down"})",
                               s.ops);
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto rule = data_object(created);
  const auto id = rule.at("id").as_int64();
  const auto path = "/api/v1/alert-rules/" + std::to_string(id);
  CHECK(id != 4242);
  CHECK(rule.at("builtin").is_null());
  CHECK(str(rule.at("severity")) == "warning");
  CHECK(rule.at("for_s").to_number<std::int64_t>() == 0);
  CHECK(rule.at("enabled").as_bool());
  CHECK(rule.at("condition").at("value").to_number<double>() == 30.5);

  auto got = s.c.get(path, s.viewer);
  REQUIRE(got.status == 200);
  CHECK(str(data_object(got).at("selector")) == R"(room_temp{site="lab"})");
  // Numbers as people and parsers expect them, not Boost.JSON's 3.05E1.
  CHECK(got.body.find(R"("value":30.5,"window_s":300,"clear":28)") != std::string::npos);
  CHECK(got.body.find("E1") == std::string::npos);
  CHECK(data_object(got).at("status").at("subjects").to_number<std::int64_t>() == 0);
  // The same name twice is a conflict naming "name".
  auto twice = s.c.post_json("/api/v1/alert-rules",
                             R"({"name":"Temperature high","kind":"device_down"})", s.ops);
  CHECK(twice.status == 409);
  CHECK(error_field(twice) == "name");

  // PATCH {"enabled": false} keeps every other field.
  auto patched = s.c.patch_json(path, R"({"enabled":false})", s.ops);
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  auto after = data_object(s.c.get(path, s.viewer));
  CHECK_FALSE(after.at("enabled").as_bool());
  for (auto* field : {"name", "kind", "selector", "condition", "labels", "annotations", "severity",
                      "for_s", "scope", "created_at"}) {
    INFO(field);
    CHECK(boost::json::serialize(after.at(field)) == boost::json::serialize(rule.at(field)));
  }

  // PUT replaces the whole rule: what it leaves out takes the defaults again.
  auto put = s.c.put_json(path, R"({"name":"Temperature very high","kind":"threshold",
        "selector":"room_temp","condition":{"fn":"value","op":">=","value":40},
        "severity":"critical"})",
                          s.ops);
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto replaced = data_object(s.c.get(path, s.viewer));
  CHECK(str(replaced.at("name")) == "Temperature very high");
  CHECK(str(replaced.at("severity")) == "critical");
  CHECK(replaced.at("enabled").as_bool());
  CHECK(replaced.at("labels").as_object().empty());
  CHECK(str(replaced.at("created_at")) == str(rule.at("created_at")));
  // A GET's answer may be sent back as it is.
  auto round_trip = s.c.put_json(path, boost::json::serialize(replaced), s.ops);
  INFO(round_trip.body);
  CHECK(round_trip.status == 200);

  // A builtin rule can be switched off and keeps being builtin.
  auto device_down = std::find_if(defaults.begin(), defaults.end(), [](auto& r) {
    return r.at("builtin").is_string() && r.at("builtin").as_string() == "device_down";
  });
  REQUIRE(device_down != defaults.end());
  const auto dd_path = "/api/v1/alert-rules/" + std::to_string(device_down->at("id").as_int64());
  REQUIRE(s.c.patch_json(dd_path, R"({"enabled":false})", s.ops).status == 200);
  auto dd = data_object(s.c.get(dd_path, s.viewer));
  CHECK(str(dd.at("builtin")) == "device_down");
  CHECK_FALSE(dd.at("enabled").as_bool());

  // Viewers read but do not write.
  CHECK(s.c.patch_json(path, R"({"enabled":false})", s.viewer).status == 403);

  // DELETE, then it is gone.
  CHECK(s.c.del(path, s.ops).status == 204);
  CHECK(s.c.get(path, s.viewer).status == 404);
  CHECK(s.c.del(path, s.ops).status == 404);
  CHECK(s.c.patch_json(path, R"({"enabled":true})", s.ops).status == 404);
  CHECK(rule_total(s) == static_cast<std::int64_t>(defaults.size()));
  CHECK(s.server.running());
}

TEST_CASE(
    "alerts api: hostile rule bodies are refused with 400 naming the field and nothing is "
    "saved",
    "[alerts][api]") {
  AlertsServer s;
  const auto existing = threshold_rule(s, "Existing", "hostile_metric");
  const auto existing_path = "/api/v1/alert-rules/" + std::to_string(existing);
  const auto before = rule_total(s);
  const auto existing_body = boost::json::serialize(data_object(s.c.get(existing_path, s.viewer)));

  const std::string big(1 << 20, 'x');
  struct Case {
    std::string label;
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"bad regex in the selector",
       R"({"name":"h1","kind":"threshold","selector":"ifUtil{ifName=~\"(\"}",
          "condition":{"op":">","value":1}})",
       "selector"},
      {"a selector that does not parse",
       R"({"name":"h2","kind":"threshold","selector":"cpu{{","condition":{"op":">","value":1}})",
       "selector"},
      {"a 1 MB annotation",
       R"({"name":"h3","kind":"device_down","annotations":{"summary":")" + big + R"("}})",
       "annotations.summary"},
      {"template injection",
       R"({"name":"h4","kind":"device_down","annotations":{"summary":"{device}{labels.__proto__}{{{"}})",
       "annotations.summary"},
      {"an unknown template field",
       R"({"name":"h5","kind":"device_down","annotations":{"summary":"{password}"}})",
       "annotations.summary"},
      {"an unknown top-level field", R"({"name":"h6","kind":"device_down","password":"x"})",
       "password"},
      {"a name that is a number", R"({"name":7,"kind":"device_down"})", "name"},
      {"for_s as a string", R"({"name":"h8","kind":"device_down","for_s":"60"})", "for_s"},
      {"enabled as a string", R"({"name":"h9","kind":"device_down","enabled":"yes"})", "enabled"},
      {"an unknown kind", R"({"name":"h10","kind":"telepathy"})", "kind"},
      {"a condition value as a string",
       R"({"name":"h11","kind":"threshold","selector":"cpu","condition":{"op":">","value":"high"}})",
       "condition.value"},
      {"a trap pattern that is a bad regex",
       R"({"name":"h12","kind":"trap","trap":{"trap_oid":"1.3.6.1.6.3.1.1.5.3",
          "varbinds":{"ifDescr":"("}}})",
       "trap.varbinds.ifDescr"},
      {"a device id of no device (of this organization)",
       R"({"name":"h13","kind":"device_down","scope":{"device_ids":[999999]}})",
       "scope.device_ids"},
      {"a group id of no group (of this organization)",
       R"({"name":"h14","kind":"device_down","scope":{"group_ids":[999999]}})", "scope.group_ids"},
      {"a label with a bad name",
       R"({"name":"h15","kind":"device_down","labels":{"bad-name":"x"}})", "labels.bad-name"},
      {"a threshold rule without a condition",
       R"({"name":"h16","kind":"threshold","selector":"cpu"})", "condition"},
  };
  for (auto& k : cases) {
    INFO(k.label);
    auto res = s.c.post_json("/api/v1/alert-rules", k.body, s.ops);
    INFO(res.status << " " << res.body.substr(0, 500));
    CHECK(res.status == 400);
    CHECK(res.error_code() == "INVALID_INPUT");
    CHECK(error_field(res) == k.field);
    CHECK(res.body.size() < 8192);  // the 1 MB is not echoed back
    // The same body as a replacement of the existing rule, and as an unsaved backtest.
    auto put = s.c.put_json(existing_path, k.body, s.ops);
    CHECK(put.status == 400);
    CHECK(error_field(put) == k.field);
    auto bt = s.c.post_json("/api/v1/alert-rules/backtest", R"({"rule":)" + k.body + "}", s.viewer);
    CHECK(bt.status == 400);
    CHECK(error_field(bt) == k.field);
  }
  // A PATCH merges into the stored rule and is checked the same way.
  auto patch = s.c.patch_json(existing_path, R"({"selector":"x{a=~\"(\"}"})", s.ops);
  CHECK(patch.status == 400);
  CHECK(error_field(patch) == "selector");
  auto patch_unknown = s.c.patch_json(existing_path, R"({"colour":"red"})", s.ops);
  CHECK(patch_unknown.status == 400);
  CHECK(error_field(patch_unknown) == "colour");
  // Not an object at all.
  CHECK(s.c.post_json("/api/v1/alert-rules", "[1,2]", s.ops).status == 400);
  CHECK(s.c.post_json("/api/v1/alert-rules", R"({"name":)", s.ops).status == 400);

  CHECK(rule_total(s) == before);
  CHECK(boost::json::serialize(data_object(s.c.get(existing_path, s.viewer))) == existing_body);
  auto listed = s.c.get("/api/v1/alert-rules?per_page=500", s.viewer);
  for (auto* name : {"\"h1\"", "\"h3\"", "\"h12\"", "\"h13\""}) {
    CHECK(listed.body.find(name) == std::string::npos);
  }
  CHECK(s.server.running());
}

TEST_CASE(
    "alerts api: a sample over a threshold fires an alert on its device; acknowledge, comment "
    "and resolve it; its history, filters, pages and JSON",
    "[alerts][api]") {
  AlertsServer s;
  const auto device = create_device(s, "sensor-1", "192.0.2.10");
  const auto rule = threshold_rule(s, "Room hot", "room_temp");
  const auto warn_rule = threshold_rule(s, "Hall warm", "hall_temp", "warning");
  const auto t0 = now_ms() - 5'000;

  push(s, "room_temp,device_id=" + std::to_string(device) + ",room=a value=92.5 " +
              std::to_string(t0));
  auto a = wait_for_alert(s, rule, "firing");
  const auto id = a.at("id").as_int64();
  const auto path = "/api/v1/alerts/" + std::to_string(id);
  CHECK(a.at("rule_id").as_int64() == rule);
  CHECK(str(a.at("rule_name")) == "Room hot");
  CHECK(str(a.at("severity")) == "critical");
  CHECK(a.at("device_id").as_int64() == device);
  CHECK(str(a.at("device_name")) == "sensor-1");
  CHECK(str(a.at("labels").at("room")) == "a");
  CHECK(a.at("value").to_number<double>() == 92.5);
  CHECK(a.at("threshold").to_number<double>() == 90);
  CHECK(str(a.at("annotations").at("summary")) == "sensor-1 at 92.5 (over 90)");
  CHECK_FALSE(a.at("silenced").as_bool());
  CHECK(rfc3339(a.at("started_at")));
  CHECK(rfc3339(a.at("fired_at")));
  CHECK(a.at("resolved_at").is_null());
  // The rule's status counts it.
  auto rs = data_object(s.c.get("/api/v1/alert-rules/" + std::to_string(rule), s.viewer));
  CHECK(rs.at("status").at("firing").to_number<std::int64_t>() == 1);

  // api_user keys read alerts (and only read them).
  {
    auto as_key = s.c.get("/api/v1/alerts/" + std::to_string(id), s.key);
    CHECK(as_key.status == 200);
    auto ack = s.c.post_json(path + "/acknowledge", "{}", s.key);
    CHECK(ack.status == 403);
  }

  // Acknowledge: who, when, the note; a second time is a conflict.
  CHECK(s.c.post_json(path + "/acknowledge", R"({"note":"x"})", s.viewer).status == 403);
  CHECK(s.c.post_json(path + "/acknowledge", R"({"notes":"typo"})", s.ops).status == 400);
  auto ack = s.c.post_json(path + "/acknowledge", R"({"note":"looking at the AC"})", s.ops);
  INFO(ack.body);
  REQUIRE(ack.status == 200);
  auto acked = data_object(ack);
  CHECK(str(acked.at("status")) == "acknowledged");
  CHECK(str(acked.at("acknowledged_by_name")) == "ops@alerts.example");
  CHECK(acked.at("acknowledged_by").is_int64());
  CHECK(str(acked.at("ack_note")) == "looking at the AC");
  CHECK(rfc3339(acked.at("acknowledged_at")));
  auto again = s.c.post_json(path + "/acknowledge", "{}", s.ops);
  CHECK(again.status == 409);

  // Comment.
  CHECK(s.c.post_json(path + "/comments", R"({})", s.ops).status == 400);
  auto comment = s.c.post_json(path + "/comments", R"({"text":"AC unit 2 tripped"})", s.ops);
  INFO(comment.body);
  REQUIRE(comment.status == 201);
  CHECK(str(data_object(comment).at("author")) == "ops@alerts.example");
  CHECK(rfc3339(data_object(comment).at("at")));

  // The filters: status, severity, rule, open; a bad status names "status".
  push(s, "hall_temp,device_id=" + std::to_string(device) + " value=95 " + std::to_string(t0));
  wait_for_alert(s, warn_rule, "firing");
  auto ids_of = [&](const std::string& q) {
    std::set<std::int64_t> out;
    for (auto& x : alerts_of(s, q)) out.insert(x.at("id").as_int64());
    return out;
  };
  const auto warn_id = wait_for_alert(s, warn_rule, "firing").at("id").as_int64();
  CHECK(ids_of("status=firing,acknowledged") == std::set<std::int64_t>{id, warn_id});
  CHECK(ids_of("status=acknowledged") == std::set<std::int64_t>{id});
  CHECK(ids_of("status=firing") == std::set<std::int64_t>{warn_id});
  CHECK(ids_of("severity=critical&open=true") == std::set<std::int64_t>{id});
  CHECK(ids_of("severity=warning") == std::set<std::int64_t>{warn_id});
  CHECK(ids_of("rule=" + std::to_string(warn_rule)) == std::set<std::int64_t>{warn_id});
  CHECK(ids_of("device=" + std::to_string(device) + "&open=true") ==
        std::set<std::int64_t>{id, warn_id});
  CHECK(ids_of("tag=elsewhere").empty());
  for (auto* bad : {"status=burning", "severity=fatal", "open=yes", "rule=abc"}) {
    INFO(bad);
    auto res = s.c.get(std::string("/api/v1/alerts?") + bad, s.viewer);
    CHECK(res.status == 400);
    CHECK(error_field(res) == std::string(bad).substr(0, std::string(bad).find('=')));
  }

  // Resolve with a reason; a second time is a conflict; so is acknowledging it now.
  CHECK(s.c.post_json(path + "/resolve", R"({"reason":"x"})", s.viewer).status == 403);
  auto resolved = s.c.post_json(path + "/resolve", R"({"reason":"AC reset"})", s.ops);
  INFO(resolved.body);
  REQUIRE(resolved.status == 200);
  CHECK(str(data_object(resolved).at("status")) == "resolved");
  CHECK(str(data_object(resolved).at("resolve_reason")) == "AC reset");
  CHECK(rfc3339(data_object(resolved).at("resolved_at")));
  CHECK(s.c.post_json(path + "/resolve", "{}", s.ops).status == 409);
  CHECK(s.c.post_json(path + "/acknowledge", "{}", s.ops).status == 409);
  CHECK(ids_of("open=true") == std::set<std::int64_t>{warn_id});
  CHECK(ids_of("status=resolved").count(id) == 1);
  // A resolved alert still takes comments.
  CHECK(s.c.post_json(path + "/comments", R"({"text":"post-mortem on Monday"})", s.ops).status ==
        201);

  // Its history, in order, with the actors; its comments.
  auto detail = get_alert(s, id);
  CHECK(str(detail.at("status")) == "resolved");
  std::vector<std::string> steps;
  for (auto& h : detail.at("history").as_array()) {
    INFO(boost::json::serialize(h));
    CHECK(rfc3339(h.at("at")));
    steps.push_back(str(h.at("to")) + " by " + str(h.at("actor")));
  }
  CHECK(steps == std::vector<std::string>{"pending by engine", "firing by engine",
                                          "acknowledged by ops@alerts.example",
                                          "resolved by ops@alerts.example"});
  const auto& history = detail.at("history").as_array();
  REQUIRE(history.size() == 4);
  CHECK(str(history[2].at("note")) == "looking at the AC");
  CHECK(str(history[3].at("note")) == "AC reset");
  CHECK(history[0].at("from").is_null());
  CHECK(str(history[3].at("from")) == "acknowledged");
  std::vector<std::string> texts;
  for (auto& m : detail.at("comments").as_array()) texts.push_back(str(m.at("text")));
  CHECK(texts == std::vector<std::string>{"AC unit 2 tripped", "post-mortem on Monday"});

  // Unknown alerts.
  CHECK(s.c.get("/api/v1/alerts/999999", s.viewer).status == 404);
  CHECK(s.c.post_json("/api/v1/alerts/999999/acknowledge", "{}", s.ops).status == 404);
  CHECK(s.c.post_json("/api/v1/alerts/999999/comments", R"({"text":"x"})", s.ops).status == 404);
  CHECK(s.c.get("/api/v1/incidents/999999", s.viewer).status == 404);
  CHECK(s.c.get("/api/v1/incidents", s.viewer).status == 200);

  // Pages: three alerts of one rule on three series.
  const auto paged = threshold_rule(s, "Rack hot", "rack_temp");
  for (int i = 0; i < 3; ++i) {
    push(s, "rack_temp,rack=r" + std::to_string(i) + " value=99 " + std::to_string(t0 + i));
  }
  wait_for_alert(s, paged, "firing", 3);
  std::set<std::int64_t> seen;
  for (int page = 1; page <= 2; ++page) {
    auto res = s.c.get(
        "/api/v1/alerts?rule=" + std::to_string(paged) + "&per_page=2&page=" + std::to_string(page),
        s.viewer);
    auto items = data_array(res);
    CHECK(items.size() == (page == 1 ? 2u : 1u));
    CHECK(res.json().at("pagination").at("total").as_int64() == 3);
    for (auto& x : items) seen.insert(x.at("id").as_int64());
  }
  CHECK(seen.size() == 3);
  CHECK(s.server.running());
}

TEST_CASE(
    "alerts api: a backtest of a saved rule and of an unsaved one replays the pushed samples "
    "into the expected transitions, saving nothing",
    "[alerts][api]") {
  AlertsServer s;
  const auto rule = threshold_rule(s, "Backtest me", "bt_temp");
  // Ten minutes ago: 50, 95 (fires), 96, 70 (clears below 80), 60.
  const auto t0 = (now_ms() / 1000 - 600) * 1000;
  std::string lines;
  const double values[] = {50, 95, 96, 70, 60};
  for (int i = 0; i < 5; ++i) {
    lines += "bt_temp,host=h1 value=" + netpulse::test::tsdb_http::num(values[i]) + " " +
             std::to_string(t0 + i * 60'000) + "\n";
  }
  push(s, lines.substr(0, lines.size() - 1));
  // The live engine saw the samples too (late, but in order): one alert, fired and resolved.
  wait_for_alert(s, rule, "resolved");
  const auto range = R"("start":)" + std::to_string(t0 / 1000 - 60) + R"(,"end":)" +
                     std::to_string(t0 / 1000 + 600);

  auto check_events = [&](const HttpResponse& res) {
    INFO(res.body);
    REQUIRE(res.status == 200);
    auto d = data_object(res);
    CHECK(d.at("series").to_number<std::int64_t>() == 1);
    CHECK(d.at("samples").to_number<std::int64_t>() == 5);
    CHECK_FALSE(d.at("truncated").as_bool());
    CHECK(rfc3339(d.at("start")));
    std::vector<std::string> got;
    for (auto& e : d.at("events").as_array()) {
      CHECK(rfc3339(e.at("at")));
      CHECK(str(e.at("labels").at("host")) == "h1");
      got.push_back(str(e.at("transition")) + "@" +
                    netpulse::test::tsdb_http::num(e.at("value").to_number<double>()));
    }
    // for_s 0: firing at once, no pending step.
    CHECK(got == std::vector<std::string>{"firing@95", "resolved@70"});
  };
  // The samples are in the store before the backtest reads them.
  bool stored = eventually([&] {
    auto res = s.c.post_json("/api/v1/alert-rules/" + std::to_string(rule) + "/backtest",
                             "{" + range + "}", s.viewer);
    return res.status == 200 && data_object(res).at("samples").to_number<std::int64_t>() == 5;
  });
  REQUIRE(stored);
  check_events(s.c.post_json("/api/v1/alert-rules/" + std::to_string(rule) + "/backtest",
                             "{" + range + "}", s.viewer));
  const auto before = rule_total(s);
  check_events(s.c.post_json(
      "/api/v1/alert-rules/backtest",
      R"({"rule":{"name":"Unsaved","kind":"threshold","selector":"bt_temp{host=\"h1\"}",
          "condition":{"op":">","value":90,"clear":80}},)" +
          range + "}",
      s.viewer));
  CHECK(rule_total(s) == before);
  // The backtests raised nothing more.
  CHECK(alerts_of(s, "rule=" + std::to_string(rule)).size() == 1);
  // Bad bodies.
  auto no_rule = s.c.post_json("/api/v1/alert-rules/backtest", "{" + range + "}", s.viewer);
  CHECK(no_rule.status == 400);
  CHECK(error_field(no_rule) == "rule");
  auto bad_start = s.c.post_json("/api/v1/alert-rules/" + std::to_string(rule) + "/backtest",
                                 R"({"start":"yesterday"})", s.viewer);
  CHECK(bad_start.status == 400);
  CHECK(error_field(bad_start) == "start");
  CHECK(s.c.post_json("/api/v1/alert-rules/999999/backtest", "{}", s.viewer).status == 404);
  CHECK(s.server.running());
}

TEST_CASE(
    "alerts api: a silence and a maintenance window mark a matching alert silenced; deleting "
    "them unmarks it",
    "[alerts][api]") {
  AlertsServer s;
  const auto device = create_device(s, "sensor-2", "192.0.2.11");
  const auto rule = threshold_rule(s, "Cold room hot", "cold_temp");
  push(s, "cold_temp,device_id=" + std::to_string(device) + ",room=cold value=91 " +
              std::to_string(now_ms() - 2'000));
  const auto alert_id = wait_for_alert(s, rule, "firing").at("id").as_int64();
  CHECK_FALSE(get_alert(s, alert_id).at("silenced").as_bool());
  const auto now_s = now_ms() / 1000;

  // A silence on the alert's label.
  auto silence =
      s.c.post_json("/api/v1/silences",
                    R"({"matchers":[{"name":"room","op":"=","value":"cold"}],"starts_at":)" +
                        std::to_string(now_s - 60) + R"(,"ends_at":)" +
                        std::to_string(now_s + 3600) + R"(,"reason":"defrost cycle"})",
                    s.ops);
  INFO(silence.body);
  REQUIRE(silence.status == 201);
  const auto silence_id = data_object(silence).at("id").as_int64();
  CHECK(str(data_object(silence).at("created_by_name")) == "ops@alerts.example");
  CHECK(get_alert(s, alert_id).at("silenced").as_bool());
  auto listed = data_array(s.c.get("/api/v1/silences", s.viewer));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("id").as_int64() == silence_id);
  CHECK(s.c.del("/api/v1/silences/" + std::to_string(silence_id), s.viewer).status == 403);
  CHECK(s.c.del("/api/v1/silences/" + std::to_string(silence_id), s.ops).status == 204);
  CHECK_FALSE(get_alert(s, alert_id).at("silenced").as_bool());
  CHECK(data_array(s.c.get("/api/v1/silences", s.viewer)).empty());
  CHECK(s.c.del("/api/v1/silences/" + std::to_string(silence_id), s.ops).status == 404);

  // Bad silences: named, nothing saved.
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> bad_silences = {
      {R"({"matchers":[{"name":"room","op":"=~","value":"("}],"starts_at":1,"ends_at":2,"reason":"r"})",
       "matchers[0].value"},
      {R"({"device_ids":[999999],"starts_at":)" + std::to_string(now_s) + R"(,"ends_at":)" +
           std::to_string(now_s + 60) + R"(,"reason":"r"})",
       "device_ids"},
      {R"({"rule_ids":[999999],"starts_at":)" + std::to_string(now_s) + R"(,"ends_at":)" +
           std::to_string(now_s + 60) + R"(,"reason":"r"})",
       "rule_ids"},
      {R"({"device_ids":[1],"starts_at":1,"ends_at":2,"reason":"r","colour":"red"})", "colour"},
  };
  for (auto& k : bad_silences) {
    auto res = s.c.post_json("/api/v1/silences", k.body, s.ops);
    INFO(k.body << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(error_field(res).rfind(k.field.substr(0, k.field.find('[')), 0) == 0);
  }
  CHECK(data_array(s.c.get("/api/v1/silences?expired=true", s.viewer)).empty());

  // A one-off maintenance window over every device, active now.
  auto window = s.c.post_json(
      "/api/v1/maintenance-windows",
      R"({"name":"Compressor swap","recurrence":"once","starts_at":)" + std::to_string(now_s - 60) +
          R"(,"duration_s":3600,"scope":{"all_devices":true},"comment":"vendor on site"})",
      s.ops);
  INFO(window.body);
  REQUIRE(window.status == 201);
  auto w = data_object(window);
  const auto window_path = "/api/v1/maintenance-windows/" + std::to_string(w.at("id").as_int64());
  CHECK(w.at("active").is_object());
  if (w.at("active").is_object()) CHECK(rfc3339(w.at("active").at("ends_at")));
  CHECK(get_alert(s, alert_id).at("silenced").as_bool());
  // Narrowed to another device: the alert is no longer in it.
  const auto other = create_device(s, "sensor-3", "192.0.2.12");
  auto narrowed = s.c.put_json(
      window_path,
      R"({"name":"Compressor swap","recurrence":"once","starts_at":)" + std::to_string(now_s - 60) +
          R"(,"duration_s":3600,"scope":{"device_ids":[)" + std::to_string(other) + "]}}",
      s.ops);
  INFO(narrowed.body);
  REQUIRE(narrowed.status == 200);
  CHECK_FALSE(get_alert(s, alert_id).at("silenced").as_bool());
  // To the alert's own device: silenced again.
  REQUIRE(s.c.put_json(window_path,
                       R"({"name":"Compressor swap","recurrence":"once","starts_at":)" +
                           std::to_string(now_s - 60) +
                           R"(,"duration_s":3600,"scope":{"device_ids":[)" +
                           std::to_string(device) + "]}}",
                       s.ops)
              .status == 200);
  CHECK(get_alert(s, alert_id).at("silenced").as_bool());
  auto bad_scope = s.c.put_json(window_path,
                                R"({"name":"Compressor swap","recurrence":"once","starts_at":)" +
                                    std::to_string(now_s - 60) +
                                    R"(,"duration_s":3600,"scope":{"device_ids":[999999]}})",
                                s.ops);
  CHECK(bad_scope.status == 400);
  CHECK(error_field(bad_scope) == "scope.device_ids");
  CHECK(s.c.del(window_path, s.ops).status == 204);
  CHECK_FALSE(get_alert(s, alert_id).at("silenced").as_bool());
  CHECK(s.c.get(window_path, s.viewer).status == 404);
  CHECK(data_array(s.c.get("/api/v1/maintenance-windows", s.viewer)).empty());
  CHECK(s.server.running());
}

TEST_CASE("alerts api: bulk acknowledge, resolve and comment, each alert's outcome listed",
          "[alerts][api]") {
  AlertsServer s;
  netpulse::test::raise_threshold_alert(s.c, s.admin, s.key, "bulk_a", "critical");
  netpulse::test::raise_threshold_alert(s.c, s.admin, s.key, "bulk_b", "critical");
  std::vector<std::int64_t> ids;
  REQUIRE(eventually([&] {
    auto open = s.c.get("/api/v1/alerts?open=true&per_page=10", s.viewer);
    ids.clear();
    const auto doc = open.json();
    for (const auto& a : doc.at("data").as_array()) ids.push_back(a.at("id").as_int64());
    return ids.size() == 2;
  }));
  const auto list = std::to_string(ids[0]) + "," + std::to_string(ids[1]);
  auto ack = s.c.post_json(
      "/api/v1/alerts/bulk",
      R"({"action":"acknowledge","ids":[)" + list + R"(,999999],"text":"on it"})", s.ops);
  INFO(ack.body);
  REQUIRE(ack.status == 200);
  auto data = ack.json().at("data");
  CHECK(data.at("succeeded").as_int64() == 2);
  CHECK(data.at("failed").as_int64() == 1);
  const auto& results = data.at("results").as_array();
  REQUIRE(results.size() == 3);
  CHECK(results[0].at("ok").as_bool());
  CHECK(results[0].at("alert").at("status") == "acknowledged");
  CHECK(results[0].at("alert").at("ack_note") == "on it");
  CHECK_FALSE(results[2].at("ok").as_bool());
  CHECK(results[2].at("error").at("code") == "NOT_FOUND");
  // Acknowledging again is a conflict for each, named per alert.
  auto again = s.c.post_json("/api/v1/alerts/bulk",
                             R"({"action":"acknowledge","ids":[)" + list + "]}", s.ops);
  REQUIRE(again.status == 200);
  CHECK(again.json().at("data").at("failed").as_int64() == 2);
  auto comment =
      s.c.post_json("/api/v1/alerts/bulk",
                    R"({"action":"comment","ids":[)" + list + R"(],"text":"fibre cut"})", s.ops);
  REQUIRE(comment.status == 200);
  CHECK(comment.json().at("data").at("succeeded").as_int64() == 2);
  auto resolve =
      s.c.post_json("/api/v1/alerts/bulk", R"({"action":"resolve","ids":[)" + list + "]}", s.ops);
  REQUIRE(resolve.status == 200);
  CHECK(resolve.json().at("data").at("succeeded").as_int64() == 2);
  CHECK(s.c.get("/api/v1/alerts?open=true", s.viewer).json().at("pagination").at("total") == 0);

  // Refused whole, naming the field; viewers may not act.
  std::string many = "[";
  for (int i = 1; i <= 501; ++i) many += std::to_string(i) + (i < 501 ? "," : "]");
  for (auto [body, field] :
       {std::pair{R"({"action":"delete","ids":[1]})", "action"},
        std::pair{R"({"action":"acknowledge","ids":[]})", "ids"},
        std::pair{R"({"action":"acknowledge","ids":[0]})", "ids"},
        std::pair{R"({"action":"acknowledge","ids":"1"})", "ids"},
        std::pair{R"({"action":"comment","ids":[1]})", "text"},
        std::pair{R"({"action":"acknowledge","ids":[1],"extra":1})", "extra"}}) {
    INFO(body);
    auto r = s.c.post_json("/api/v1/alerts/bulk", body, s.ops);
    CHECK(r.status == 400);
    CHECK(error_field(r) == field);
  }
  auto too_many =
      s.c.post_json("/api/v1/alerts/bulk", R"({"action":"acknowledge","ids":)" + many + "}", s.ops);
  CHECK(too_many.status == 400);
  CHECK(error_field(too_many) == "ids");
  CHECK(s.c.post_json("/api/v1/alerts/bulk", R"({"action":"acknowledge","ids":[1]})", s.viewer)
            .status == 403);
  CHECK(s.server.running());
}

TEST_CASE("alerts api: the overview in one request", "[alerts][api]") {
  AlertsServer s;
  for (auto* body : {R"({"name":"core-1","address":"127.0.0.1","enabled":false})",
                     R"({"name":"edge-2","address":"127.0.0.2","enabled":false})"}) {
    REQUIRE(s.c.post_json("/api/v1/devices", body, s.admin).status == 201);
  }
  netpulse::test::raise_threshold_alert(s.c, s.admin, s.key, "overview_temp", "warning");
  boost::json::value doc;
  REQUIRE(eventually([&] {
    auto r = s.c.get("/api/v1/overview", s.viewer);
    if (r.status != 200) return false;
    doc = r.json();
    return doc.at("data").at("open_alerts_total").as_int64() == 1;
  }));
  const auto& d = doc.at("data");
  CHECK(d.at("devices").at("unknown").as_int64() == 2);
  CHECK(d.at("devices").at("up").as_int64() == 0);
  CHECK(d.at("devices").at("total").as_int64() == 2);
  CHECK(d.at("alerts").at("warning").as_int64() == 1);
  CHECK(d.at("alerts").at("critical").as_int64() == 0);
  REQUIRE(d.at("open_alerts").as_array().size() == 1);
  CHECK(d.at("open_alerts").at(0).at("rule_name") == "overview_temp high");
  CHECK(d.at("events").is_array());
  CHECK(s.c.get("/api/v1/overview").status == 401);
}
