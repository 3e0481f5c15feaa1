// Dashboards and the batch query against the real binary (issue 16): the default dashboard on the
// first listing; create, read, replace and delete; a save over a newer version refused with the
// name of who saved it; hostile bodies refused naming the field with nothing stored; viewers
// read and may not write; another organization sees nothing; a change reaches a client of the
// live feed's dashboards topic; POST /api/v1/query_batch answers each query in place, good and bad
// side by side, and refuses what is not a batch.
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"
#include "support/ws_client.hpp"

using namespace netpulse::test;
using netpulse::test::tsdb_http::create_user_token;
namespace json = boost::json;

namespace {

struct BoardsServer {
  TempDir dir;
  ServerProcess server{dir.path()};
  HttpClient c = server.client();
  std::string admin = login(c, kAdminEmail, kAdminPassword);
  std::string ops = create_user_token(c, admin, "ops@boards.example", "operator");
  std::string viewer = create_user_token(c, admin, "viewer@boards.example", "viewer");
};

json::value data_of(const HttpResponse& r, int status) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == status);
  return r.json().at("data");
}

std::string field_of(const HttpResponse& r) {
  const auto body = r.json();  // held: the pointer below points into it
  const auto* f = body.at("error").at("details").as_object().if_contains("field");
  return f ? std::string(f->as_string()) : std::string();
}

const std::string kBoard = R"({"name":"Core routers","time_range":"24h","panels":[
  {"id":"rtt","title":"RTT","kind":"timeseries","x":0,"y":0,"w":8,"h":5,
   "query":{"selector":"icmp_rtt_avg_ms{role=\"core\"}","topk":5},"unit":"ms"},
  {"id":"up","title":"Core","kind":"status","x":8,"y":0,"w":4,"h":5,"devices":{"tag":"core"}}]})";

}  // namespace

TEST_CASE("dashboards: the default one, CRUD, versions, roles and refusals", "[dashboards]") {
  BoardsServer s;
  auto& c = s.c;

  // The first listing gives the organization its default dashboard.
  auto list = data_of(c.get("/api/v1/dashboards", s.viewer), 200).as_array();
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("name") == "Network overview");
  CHECK(list[0].at("is_default") == true);
  CHECK(list[0].at("panel_count") == 7);
  CHECK_FALSE(list[0].as_object().contains("panels"));
  const auto default_id = list[0].at("id").as_int64();
  auto def = data_of(c.get("/api/v1/dashboards/" + std::to_string(default_id), s.viewer), 200);
  CHECK(def.at("panels").as_array().size() == 7);

  // An operator makes one; a viewer may not.
  CHECK(c.post_json("/api/v1/dashboards", kBoard, s.viewer).status == 403);
  auto made = data_of(c.post_json("/api/v1/dashboards", kBoard, s.ops), 201);
  const auto id = made.at("id").as_int64();
  const auto path = "/api/v1/dashboards/" + std::to_string(id);
  CHECK(made.at("version") == 1);
  CHECK(made.at("created_by") == "ops@boards.example");
  CHECK(made.at("time_range") == "24h");
  CHECK(made.at("panels").at(1).at("devices").at("tag") == "core");
  CHECK(made.at("panels").at(0).at("query").at("scale").to_number<double>() == 1);
  auto got = data_of(c.get(path, s.viewer), 200);
  CHECK(got.at("panels") == made.at("panels"));
  // The same name again (in another case) is a conflict.
  auto dup = c.post_json("/api/v1/dashboards", R"({"name":"CORE ROUTERS"})", s.ops);
  CHECK(dup.status == 409);
  CHECK(field_of(dup) == "name");

  // Saved from version 1 by the admin: version 2. The operator, also from version 1: refused,
  // told who saved it.
  auto edited = json::parse(kBoard).as_object();
  edited["version"] = 1;
  edited["description"] = "the core";
  auto saved = data_of(c.put_json(path, json::serialize(edited), s.admin), 200);
  CHECK(saved.at("version") == 2);
  CHECK(saved.at("updated_by") == kAdminEmail);
  edited["description"] = "mine";
  auto stale = c.put_json(path, json::serialize(edited), s.ops);
  INFO(stale.body);
  CHECK(stale.status == 409);
  CHECK(stale.json().at("error").at("message").as_string().find(kAdminEmail) != json::string::npos);
  CHECK(data_of(c.get(path, s.viewer), 200).at("description") == "the core");
  CHECK(c.put_json(path, kBoard, s.viewer).status == 403);

  // Hostile and malformed bodies: refused naming the field; nothing changes.
  struct Bad {
    std::string body;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {R"({"name":"x","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu{host="}}]})",
       "panels[0].query.selector"},
      {R"({"name":"x","panels":[{"kind":"iframe","x":0,"y":0}]})", "panels[0].kind"},
      {R"({"name":"x","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"cpu"},"html":"<script>"}]})",
       "panels[0].html"},
      {R"({"name":"x","panels":[{"kind":"stat","x":11,"y":0,"w":2,"query":{"selector":"cpu"}}]})",
       "panels[0].w"},
      {R"({"name":")" + std::string(5000, 'a') + R"("})", "name"},
  };
  for (const auto& b : bad) {
    INFO(b.body.substr(0, 200));
    auto r = c.put_json(path, b.body, s.ops);
    CHECK(r.status == 400);
    CHECK(field_of(r) == b.field);
  }
  CHECK(c.put_json(path, R"({"name":)", s.ops).status == 400);
  CHECK(data_of(c.get(path, s.viewer), 200).at("version") == 2);
  CHECK(c.get("/api/v1/dashboards/abc", s.viewer).status == 400);
  CHECK(c.get("/api/v1/dashboards/999999", s.viewer).status == 404);

  // Another organization sees none of it.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", s.admin);
  REQUIRE(org.status == 201);
  auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--name", "Boss",
                           "--role", "admin", "--org", "org-b", "--password", "boss-b-password"},
                          {{"NETPULSE_STORAGE_DATA_DIR", s.dir.path()}});
  REQUIRE(cli.exit_code == 0);
  auto other = login(c, "boss@org-b.example", "boss-b-password");
  auto theirs = data_of(c.get("/api/v1/dashboards", other), 200).as_array();
  REQUIRE(theirs.size() == 1);  // their own default one
  CHECK(theirs[0].at("id").as_int64() != default_id);
  CHECK(c.get(path, other).status == 404);
  CHECK(c.put_json(path, kBoard, other).status == 404);
  CHECK(c.del(path, other).status == 404);

  // Deleted by the operator; gone.
  CHECK(c.del(path, s.viewer).status == 403);
  CHECK(c.del(path, s.ops).status == 204);
  CHECK(c.get(path, s.viewer).status == 404);
  CHECK(data_of(c.get("/api/v1/dashboards", s.viewer), 200).as_array().size() == 1);
  CHECK(s.server.running());
}

TEST_CASE("dashboards: a save reaches the live feed's dashboards topic", "[dashboards][live]") {
  BoardsServer s;
  WsClient ws(s.server.port());
  ws.send_json({{"type", "auth"}, {"token", s.viewer}});
  REQUIRE(ws.wait_for("ready"));
  ws.send_json({{"type", "subscribe"}, {"topics", {"dashboards"}}});
  REQUIRE(ws.wait_for("subscribed"));
  auto made = data_of(s.c.post_json("/api/v1/dashboards", kBoard, s.ops), 201);
  auto msg = ws.wait_for("dashboard");
  REQUIRE(msg);
  CHECK(msg->at("data").at("id") == made.at("id"));
  CHECK(msg->at("data").at("version") == 1);
  CHECK(msg->at("data").at("by") == "ops@boards.example");
  CHECK(msg->at("data").at("deleted") == false);
}

TEST_CASE("query batch: each query answered in place, good and bad side by side",
          "[dashboards][query]") {
  BoardsServer s;
  auto& c = s.c;
  const auto key = ingest_key(c, s.admin);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  std::string lines;
  for (int i = 0; i < 10; ++i) {
    const auto t = std::to_string(now_s - 600 + i * 60);
    lines += "qb_temp,host=r1 value=" + std::to_string(40 + i) + " " + t + "\n";
    lines += "qb_temp,host=r2 value=" + std::to_string(60 + i) + " " + t + "\n";
    lines += "qb_octets,host=r1 value=" + std::to_string(i * 6000) + " " + t + "\n";
  }
  write_lines(c, key, lines);
  const auto start = std::to_string(now_s - 700);
  const std::string body = R"({"queries":[
      {"id":"temps","query":"qb_temp","start":)" +
                           start + R"(,"step":"60s"},
      {"id":"bad","query":"qb_temp{","start":)" +
                           start + R"(},
      {"id":"hot","query":"qb_temp","start":)" +
                           start + R"(,"step":60,"group":"max"},
      {"query":"qb_octets","start":)" +
                           start + R"(,"step":"60s","fn":"rate"},
      {"id":"badstep","query":"qb_temp","start":)" +
                           start + R"(,"step":"fast"}]})";
  auto res = c.post_json("/api/v1/query_batch", body, s.viewer);
  auto results = data_of(res, 200).at("results").as_array();
  REQUIRE(results.size() == 5);
  CHECK(results[0].at("id") == "temps");
  CHECK(results[0].at("series").as_array().size() == 2);
  CHECK(results[0].at("step").to_number<double>() == 60);
  CHECK(results[1].at("id") == "bad");
  CHECK(results[1].at("error").at("code") == "INVALID_INPUT");
  CHECK(results[1].at("error").at("details").at("field") == "queries[1].query");
  const auto& hot = results[2].at("series").as_array();
  REQUIRE(hot.size() == 1);
  CHECK(hot[0].at("points").as_array().back().at(1).to_number<double>() == 69);
  CHECK(results[3].at("id").is_null());
  const auto& rate = results[3].at("series").as_array();
  REQUIRE(rate.size() == 1);
  CHECK(rate[0].at("points").as_array().back().at(1).to_number<double>() == 100);
  CHECK(results[4].at("error").at("details").at("field") == "queries[4].step");

  // What is not a batch: refused naming the field.
  auto refused = [&](const std::string& b, const std::string& field) {
    auto r = c.post_json("/api/v1/query_batch", b, s.viewer);
    INFO(b.substr(0, 200) << " → " << r.body.substr(0, 300));
    CHECK(r.status == 400);
    CHECK(field_of(r) == field);
  };
  refused(R"({})", "queries");
  refused(R"({"queries":[]})", "queries");
  refused(R"({"queries":[1]})", "queries[0]");
  refused(R"({"queries":[{"query":"a","start":1,"sql":"x"}]})", "queries[0].sql");
  refused(R"({"queries":[{"query":"a","start":true}]})", "queries[0].start");
  refused(R"({"queries":[{"id":7,"query":"a","start":1}]})", "queries[0].id");
  refused(R"({"queries":[],"more":1})", "queries");
  std::string many = R"({"queries":[)";
  for (int i = 0; i < 51; ++i) many += std::string(i ? "," : "") + R"({"query":"a","start":1})";
  refused(many + "]}", "queries");
  CHECK(c.post_json("/api/v1/query_batch", body, "").status == 401);
  CHECK(s.server.running());
}
