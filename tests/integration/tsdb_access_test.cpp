// The time-series store through the real binary, who may read and write: viewers read but cannot
// write, API keys do both, and organizations see only their own series.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

TEST_CASE(
    "tsdb: viewers read but cannot write; API keys do both; organizations see only "
    "their own series",
    "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin_a = login(c, kAdminEmail, kAdminPassword);
  const auto key_a = create_key(c, admin_a, "collector-a");
  const auto viewer = create_user_token(c, admin_a, "viewer@org-a.example", "viewer");
  const std::int64_t t = (now_ms() / 1000 - 600) * 1000;
  const std::string lp = "ten_cpu,host=a value=1 " + std::to_string(t) + "\n";

  // A viewer may not write, in any format.
  for (const auto& [target, type, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/api/v2/write?precision=ms", "text/plain", lp},
           {"/write?precision=ms", "text/plain", lp},
           {"/api/v1/metrics", "application/json",
            R"({"metric_name":"ten_cpu","value":1,"tags":{"host":"a"}})"},
           {"/api/v1/metrics/csv", "text/csv",
            "metric,value,timestamp\nten_cpu,1," + std::to_string(t / 1000) + "\n"},
           {"/api/v1/kpis", "application/json", R"({"metric_name":"ten_cpu","value":1})"}}) {
    INFO(target);
    auto res = post(c, target, "Bearer " + viewer, type, body);
    check_envelope(res, 403, "INSUFFICIENT_PERMISSIONS");
  }
  // Nor with InfluxDB's scheme and a user token, nor without credentials.
  check_envelope(post(c, "/api/v2/write?precision=ms", "Token " + viewer, "text/plain", lp), 403,
                 "INSUFFICIENT_PERMISSIONS");
  check_envelope(post(c, "/api/v2/write?precision=ms", "", "text/plain", lp), 401);
  CHECK(range(c, admin_a, "ten_cpu", t - 1000, t + 1000).empty());

  // The API key writes and reads; the viewer reads.
  REQUIRE(write_lp(c, key_a, lp).status == 204);
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", viewer))) ==
        std::vector<std::string>{"a"});

  // Organization B, its admin made with the CLI on the live data directory.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", admin_a);
  INFO(org.body);
  REQUIRE(org.status == 201);
  auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--name", "Boss of B",
                           "--role", "admin", "--org", "org-b", "--password", "boss-b-password"},
                          {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  const auto admin_b = login(c, "boss@org-b.example", "boss-b-password");
  const auto key_b = create_key(c, admin_b, "collector-b");

  auto nothing_for = [&](const std::string& token) {
    CHECK(range(c, token, "ten_cpu", t - 1000, t + 1000).empty());
    CHECK(range(c, token, R"({host="a"})", t - 1000, t + 1000).empty());
    CHECK(data_of(c.get("/api/v1/query?query=ten_cpu&time=" + secs(t + 1000), token))
              .at("series")
              .as_array()
              .empty());
    CHECK(data_of(c.get("/api/v1/series", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/series?match[]=ten_cpu", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/labels", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/label/host/values", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/label/__name__/values", token)).as_array().empty());
    auto dash = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", token));
    CHECK(dash.at("aggregations").at("count").as_int64() == 0);
    CHECK(dash.at("series_count").as_int64() == 0);
  };
  nothing_for(admin_b);
  nothing_for(key_b);

  // B writes the same series key at the same time with another value: no conflict with A.
  REQUIRE(write_lp(c, key_b, "ten_cpu,host=a value=2 " + std::to_string(t) + "\n").status == 204);
  check_exact(points_of(c, admin_b, "ten_cpu", t - 1000, t + 1000), {{t, 2}});
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  auto dash_a = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", admin_a));
  CHECK(dash_a.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_a.at("aggregations").at("max").to_number<double>() == 1);
  auto dash_b = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", key_b));
  CHECK(dash_b.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_b.at("aggregations").at("max").to_number<double>() == 2);
  // Metric metadata is per organization too.
  auto meta =
      c.put_json("/api/v1/metadata/ten_cpu", R"({"type":"gauge","unit":"percent"})", admin_a);
  INFO(meta.body);
  REQUIRE(meta.status == 200);
  auto md_a = data_of(c.get("/api/v1/metadata?metric=ten_cpu", viewer));
  CHECK(md_a.at("type").as_string() == "gauge");
  CHECK(md_a.at("unit").as_string() == "percent");
  auto md_b = data_of(c.get("/api/v1/metadata?metric=ten_cpu", key_b));
  CHECK(md_b.at("type").as_string() == "unknown");
  CHECK(md_b.at("unit").as_string().empty());
  // B-only series stay in B.
  REQUIRE(write_lp(c, key_b, "only_b,host=b value=3 " + std::to_string(t) + "\n").status == 204);
  CHECK(range(c, admin_a, "only_b", t - 1000, t + 1000).empty());
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", admin_a))) ==
        std::vector<std::string>{"a"});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", admin_b))) ==
        std::vector<std::string>{"a", "b"});

  // Deleting B deletes its metrics; an organization made afterwards starts empty, under a new id.
  const auto org_b_id = org.json().at("data").at("id").as_int64();
  auto gone = c.del("/api/v1/organizations/" + std::to_string(org_b_id), admin_a);
  INFO(gone.body);
  REQUIRE(gone.status == 204);
  auto org_c = c.post_json("/api/v1/organizations", R"({"name":"Org C","slug":"org-c"})", admin_a);
  REQUIRE(org_c.status == 201);
  CHECK(org_c.json().at("data").at("id").as_int64() > org_b_id);
  auto cli_c = run_netpulse({"user", "add", "--email", "boss@org-c.example", "--name", "Boss of C",
                             "--role", "admin", "--org", "org-c", "--password", "boss-c-password"},
                            {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  REQUIRE(cli_c.exit_code == 0);
  nothing_for(login(c, "boss@org-c.example", "boss-c-password"));
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  // After a restart B's series stay gone (the deletion was checkpointed with the log).
  REQUIRE(server.terminate() == 0);
  ServerProcess again(dir.path(), tsdb_env());
  auto c2 = again.client();
  const auto admin_a2 = login(c2, kAdminEmail, kAdminPassword);
  CHECK(strings(data_of(c2.get("/api/v1/label/host/values", admin_a2))) ==
        std::vector<std::string>{"a"});
  const auto admin_c2 = login(c2, "boss@org-c.example", "boss-c-password");
  CHECK(data_of(c2.get("/api/v1/series", admin_c2)).as_array().empty());
  CHECK(data_of(c2.get("/api/v1/labels", admin_c2)).as_array().empty());
}
