// The alert engine across restarts of the real binary (issue 14): a threshold alert that fired
// before a kill -9 is the same alert afterwards — same id, same start, one "firing" in its
// history — and a sample still above the threshold does not fire it again, while one below
// resolves it; a pending alert stays pending with its start; the default rules are there on a
// first start, and one that was deleted does not come back with the next start.
//
// Before each kill -9 the test waits until the transition is in the alert's history, which the
// API reads from the database (open alerts themselves are answered from memory): a transition
// the engine had not committed yet may be lost by a crash, and is not what is tested here.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using netpulse::test::tsdb_http::now_ms;

namespace {

// Creates a threshold rule on `metric` firing above `value` after `for_s`; returns its id.
std::int64_t create_threshold_rule(HttpClient& c, const std::string& token, const std::string& name,
                                   const std::string& metric, double value, int for_s) {
  auto r =
      c.post_json("/api/v1/alert-rules",
                  R"({"name":")" + name + R"(","kind":"threshold","selector":")" + metric +
                      R"(","condition":{"fn":"value","op":">","value":)" + std::to_string(value) +
                      R"(},"for_s":)" + std::to_string(for_s) + R"(,"severity":"critical"})",
                  token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

struct Sample {
  std::string metric;
  double value = 0;
  std::int64_t t_ms = 0;
  std::string step = "0";  // a label, so that each marker sample is a series of its own
};

// Writes the samples in one request through the JSON ingest API (one batch for the engine).
void push_samples(HttpClient& c, const std::string& token, const std::vector<Sample>& samples) {
  std::string body = "[";
  for (auto& s : samples) {
    if (body.size() > 1) body += ',';
    body += R"({"metric_name":")" + s.metric + R"(","value":)" + std::to_string(s.value) +
            R"(,"timestamp":)" + std::to_string(s.t_ms) + R"(,"tags":{"host":"r1","step":")" +
            s.step + R"("}})";
  }
  body += "]";
  auto r = c.post_json("/api/v1/metrics?precision=ms", body, token);
  INFO(r.body);
  REQUIRE(r.status / 100 == 2);
  REQUIRE(r.json().at("data").at("accepted").as_int64() ==
          static_cast<std::int64_t>(samples.size()));
}

// The rule's alerts, open and resolved.
boost::json::array alerts_of_rule(HttpClient& c, const std::string& token, std::int64_t rule_id) {
  auto r = c.get("/api/v1/alerts?per_page=100&rule=" + std::to_string(rule_id), token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data").as_array();
}

// Waits until the rule has exactly one alert and it is `status`; that alert.
boost::json::value single_alert(HttpClient& c, const std::string& token, std::int64_t rule_id,
                                const char* status) {
  boost::json::value alert;
  REQUIRE(eventually([&] {
    auto list = alerts_of_rule(c, token, rule_id);
    if (list.size() != 1 || list.front().at("status") != status) return false;
    alert = list.front();
    return true;
  }));
  return alert;
}

boost::json::object alert_detail(HttpClient& c, const std::string& token, std::int64_t id) {
  auto r = c.get("/api/v1/alerts/" + std::to_string(id), token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data").as_object();
}

// How many entries of the alert's history (as stored) went to `status`.
std::size_t history_entries_to(const boost::json::object& detail, const std::string& status) {
  std::size_t n = 0;
  for (auto& h : detail.at("history").as_array()) {
    if (h.at("to") == status.c_str()) ++n;
  }
  return n;
}

// The engine has evaluated everything written before the marker of `step`: the marker rule's
// alert on the marker series of that step is open. (A batch is evaluated whole, and batches in
// the order they were written.)
bool marker_seen(HttpClient& c, const std::string& token, std::int64_t marker_rule,
                 const std::string& step) {
  return eventually([&] {
    for (auto& a : alerts_of_rule(c, token, marker_rule)) {
      if (a.at("labels").at("step") == step.c_str()) return true;
    }
    return false;
  });
}

std::set<std::string> rule_names(HttpClient& c, const std::string& token) {
  auto r = c.get("/api/v1/alert-rules?per_page=100", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  std::set<std::string> names;
  const auto body = r.json();
  for (auto& rule : body.at("data").as_array()) {
    names.emplace(rule.at("name").as_string());
  }
  return names;
}

// The server on the test's data directory, a client and the admin's token.
struct Running {
  ServerProcess server;
  HttpClient c;
  std::string admin;
  explicit Running(const std::string& data_dir)
      : server(data_dir), c(server.client()), admin(login(c, kAdminEmail, kAdminPassword)) {}
};

}  // namespace

TEST_CASE("alerts: a firing threshold alert survives kill -9 as the same alert, fired once",
          "[alerts][integration]") {
  TempDir dir;
  std::optional<Running> s(std::in_place, dir.path());
  const auto rule = create_threshold_rule(s->c, s->admin, "Temperature high", "it_temp", 50, 0);
  const auto marker = create_threshold_rule(s->c, s->admin, "Marker", "it_marker", 0, 0);

  const auto t0 = now_ms();
  push_samples(s->c, s->admin, {{"it_temp", 75, t0}});
  const auto alert = single_alert(s->c, s->admin, rule, "firing");
  INFO(boost::json::serialize(alert));
  const auto id = alert.at("id").as_int64();
  const std::string started_at(alert.at("started_at").as_string());
  const std::string fired_at(alert.at("fired_at").as_string());
  CHECK(alert.at("subject") == R"(it_temp{host="r1",step="0"})");
  CHECK(alert.at("value").to_number<double>() == 75);
  // Committed (the history is read from the database): now a crash must not lose it.
  REQUIRE(eventually(
      [&] { return history_entries_to(alert_detail(s->c, s->admin, id), "firing") == 1; }));

  s->server.kill9();
  s.emplace(dir.path());

  auto after = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(after));
  REQUIRE(after.size() == 1);
  CHECK(after.front().at("id").as_int64() == id);
  CHECK(after.front().at("status") == "firing");
  CHECK(after.front().at("started_at").as_string() == started_at);
  CHECK(after.front().at("fired_at").as_string() == fired_at);
  CHECK(history_entries_to(alert_detail(s->c, s->admin, id), "firing") == 1);

  // Still above: the same alert goes on; nothing new opens and nothing fires twice.
  push_samples(s->c, s->admin, {{"it_temp", 80, t0 + 1000}, {"it_marker", 1, t0 + 1000, "1"}});
  REQUIRE(marker_seen(s->c, s->admin, marker, "1"));
  auto still = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(still));
  REQUIRE(still.size() == 1);
  CHECK(still.front().at("id").as_int64() == id);
  CHECK(still.front().at("status") == "firing");
  CHECK(still.front().at("started_at").as_string() == started_at);
  CHECK(history_entries_to(alert_detail(s->c, s->admin, id), "firing") == 1);

  // Below: the alert resolves, and it is still the only one the rule has.
  push_samples(s->c, s->admin, {{"it_temp", 20, t0 + 2000}});
  REQUIRE(eventually([&] {
    auto list = alerts_of_rule(s->c, s->admin, rule);
    return list.size() == 1 && list.front().at("status") == "resolved";
  }));
  auto resolved = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(resolved));
  CHECK(resolved.front().at("id").as_int64() == id);
  CHECK(resolved.front().at("started_at").as_string() == started_at);
  auto detail = alert_detail(s->c, s->admin, id);
  INFO(boost::json::serialize(detail));
  CHECK(history_entries_to(detail, "firing") == 1);
  CHECK(history_entries_to(detail, "resolved") == 1);
  auto open = s->c.get("/api/v1/alerts?open=true&rule=" + std::to_string(rule), s->admin);
  CHECK(open.json().at("data").as_array().empty());
  CHECK(s->server.running());
}

TEST_CASE("alerts: a pending alert survives kill -9 as pending with its start",
          "[alerts][integration]") {
  TempDir dir;
  std::optional<Running> s(std::in_place, dir.path());
  const auto rule = create_threshold_rule(s->c, s->admin, "Queue long", "it_queue", 100, 3600);
  const auto marker = create_threshold_rule(s->c, s->admin, "Marker", "it_marker", 0, 0);

  const auto t0 = now_ms();
  push_samples(s->c, s->admin, {{"it_queue", 150, t0}});
  const auto alert = single_alert(s->c, s->admin, rule, "pending");
  INFO(boost::json::serialize(alert));
  const auto id = alert.at("id").as_int64();
  const std::string started_at(alert.at("started_at").as_string());
  CHECK(alert.at("fired_at").is_null());
  REQUIRE(eventually(
      [&] { return history_entries_to(alert_detail(s->c, s->admin, id), "pending") == 1; }));

  s->server.kill9();
  s.emplace(dir.path());

  auto after = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(after));
  REQUIRE(after.size() == 1);
  CHECK(after.front().at("id").as_int64() == id);
  CHECK(after.front().at("status") == "pending");
  CHECK(after.front().at("started_at").as_string() == started_at);
  CHECK(after.front().at("fired_at").is_null());

  // A new sample still above keeps the one pending alert and its start (the for-duration runs
  // from the first sample above, not from the restart).
  push_samples(s->c, s->admin, {{"it_queue", 160, t0 + 1000}, {"it_marker", 1, t0 + 1000, "1"}});
  REQUIRE(marker_seen(s->c, s->admin, marker, "1"));
  auto still = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(still));
  REQUIRE(still.size() == 1);
  CHECK(still.front().at("id").as_int64() == id);
  CHECK(still.front().at("status") == "pending");
  CHECK(still.front().at("started_at").as_string() == started_at);
  auto detail = alert_detail(s->c, s->admin, id);
  INFO(boost::json::serialize(detail));
  CHECK(history_entries_to(detail, "pending") == 1);
  CHECK(history_entries_to(detail, "firing") == 0);
}

TEST_CASE("alerts: the default rules exist on a first start; a deleted one stays deleted",
          "[alerts][integration]") {
  TempDir dir;
  std::optional<Running> s(std::in_place, dir.path());

  auto list = s->c.get("/api/v1/alert-rules?per_page=100", s->admin);
  INFO(list.body);
  REQUIRE(list.status == 200);
  std::int64_t device_down = 0;
  std::int64_t packet_loss = 0;
  std::set<std::string> builtins;
  const auto body = list.json();
  for (auto& rule : body.at("data").as_array()) {
    if (rule.at("builtin").is_string()) builtins.emplace(rule.at("builtin").as_string());
    if (rule.at("name") == "Device down") {
      device_down = rule.at("id").as_int64();
      CHECK(rule.at("kind") == "device_down");
      CHECK(rule.at("for_s") == 0);
      CHECK(rule.at("severity") == "critical");
      CHECK(rule.at("enabled") == true);
    }
    if (rule.at("name") == "Packet loss above 20 %") packet_loss = rule.at("id").as_int64();
  }
  CHECK(device_down != 0);
  REQUIRE(packet_loss != 0);
  CHECK(builtins == std::set<std::string>{"device_down", "interface_down", "link_utilization",
                                          "packet_loss", "cpu_high", "storage_forecast",
                                          "tls_expiry", "check_failing", "snmp_no_data"});
  const auto names_before = rule_names(s->c, s->admin);
  CHECK(names_before.contains("Interface down"));
  CHECK(names_before.contains("Service check failing"));

  REQUIRE(s->c.del("/api/v1/alert-rules/" + std::to_string(packet_loss), s->admin).status == 204);
  auto expected = names_before;
  expected.erase("Packet loss above 20 %");
  CHECK(rule_names(s->c, s->admin) == expected);

  // A clean stop and a start: the set is not installed again.
  REQUIRE(s->server.terminate() == 0);
  s.emplace(dir.path());
  CHECK(rule_names(s->c, s->admin) == expected);
  CHECK(s->c.get("/api/v1/alert-rules/" + std::to_string(packet_loss), s->admin).status == 404);

  // Nor after a kill -9 and a start.
  s->server.kill9();
  s.emplace(dir.path());
  CHECK(rule_names(s->c, s->admin) == expected);
}

TEST_CASE("alerts: a firing alert restored after kill -9 resolves on the first sample below",
          "[alerts][integration]") {
  TempDir dir;
  std::optional<Running> s(std::in_place, dir.path());
  const auto rule = create_threshold_rule(s->c, s->admin, "Fan slow", "it_fan", 50, 0);

  const auto t0 = now_ms();
  push_samples(s->c, s->admin, {{"it_fan", 75, t0}});
  const auto id = single_alert(s->c, s->admin, rule, "firing").at("id").as_int64();
  REQUIRE(eventually(
      [&] { return history_entries_to(alert_detail(s->c, s->admin, id), "firing") == 1; }));

  s->server.kill9();
  s.emplace(dir.path());
  // The first sample after the restart is below the threshold: the alert the engine restored
  // resolves (it must not wait for the series to go above and back below first).
  push_samples(s->c, s->admin, {{"it_fan", 20, t0 + 1000}});
  CHECK(eventually([&] {
    auto list = alerts_of_rule(s->c, s->admin, rule);
    return list.size() == 1 && list.front().at("status") == "resolved";
  }));
  auto list = alerts_of_rule(s->c, s->admin, rule);
  INFO(boost::json::serialize(list));
  REQUIRE(list.size() == 1);
  CHECK(list.front().at("id").as_int64() == id);
  CHECK(list.front().at("resolve_reason") == "condition cleared");
}
