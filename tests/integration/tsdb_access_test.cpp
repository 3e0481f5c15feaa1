// The time-series store through the real binary, who may read and write: viewers read but cannot
// write, API keys do both, and organizations see only their own series. The cases share one
// server (TsdbServer) and make an organization of their own where they need a second one; the
// deletion case restarts, so it has a server of its own.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

namespace {

// Ten minutes ago, a whole second, in ms.
std::int64_t ten_minutes_ago() {
  return (now_ms() / 1000 - 600) * 1000;
}

// The shared server's first organization, with a viewer besides its admin and key, and the one
// time `t` at which its cases write ten_cpu (each writes the same sample, so that it passes alone).
struct OrgA {
  TsdbServer s{"collector-a"};
  std::string viewer = create_user_token(s.c, s.admin, "viewer@org-a.example", "viewer");
  std::int64_t t = ten_minutes_ago();
};

OrgA& org_a() {
  static OrgA shared;
  return shared;
}

struct Org {
  std::int64_t id = 0;
  std::string admin;  // its admin's access token
  std::string key;    // an api_user key of it
};

// Organization `slug`, made by the first organization's `admin`, and its admin made with the CLI
// on the live data directory `data_dir`.
Org make_org(HttpClient& c, const std::string& admin, const std::string& data_dir,
             const std::string& slug) {
  auto org = c.post_json("/api/v1/organizations",
                         R"({"name":"Org )" + slug + R"(","slug":")" + slug + R"("})", admin);
  INFO(org.body);
  REQUIRE(org.status == 201);
  const std::string email = "boss@" + slug + ".example", password = "boss-" + slug + "-password";
  auto cli = run_netpulse({"user", "add", "--email", email, "--name", "Boss of " + slug, "--role",
                           "admin", "--org", slug, "--password", password},
                          {{"NETPULSE_STORAGE_DATA_DIR", data_dir}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  Org out;
  out.id = org.json().at("data").at("id").as_int64();
  out.admin = login(c, email, password);
  out.key = create_key(c, out.admin, "collector-" + slug);
  return out;
}

// `token` sees no ten_cpu sample, nor any series, label or dashboard figure.
void check_sees_nothing(HttpClient& c, const std::string& token, std::int64_t t) {
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
}

std::string ten_cpu(const std::string& value, std::int64_t t) {
  return "ten_cpu,host=a value=" + value + " " + std::to_string(t) + "\n";
}

}  // namespace

TEST_CASE(
    "tsdb access: a viewer cannot write in any format nor with the Token scheme, and nobody "
    "writes without credentials",
    "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const std::int64_t t = a.t;
  const std::string lp = "ten_denied,host=a value=1 " + std::to_string(t) + "\n";
  for (const auto& [target, type, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/api/v2/write?precision=ms", "text/plain", lp},
           {"/write?precision=ms", "text/plain", lp},
           {"/api/v1/metrics", "application/json",
            R"({"metric_name":"ten_denied","value":1,"tags":{"host":"a"}})"},
           {"/api/v1/metrics/csv", "text/csv",
            "metric,value,timestamp\nten_denied,1," + std::to_string(t / 1000) + "\n"},
           {"/api/v1/kpis", "application/json", R"({"metric_name":"ten_denied","value":1})"}}) {
    INFO(target);
    auto res = post(c, target, "Bearer " + a.viewer, type, body);
    check_envelope(res, 403, "INSUFFICIENT_PERMISSIONS");
  }
  // Nor with InfluxDB's scheme and a user token, nor without credentials.
  check_envelope(post(c, "/api/v2/write?precision=ms", "Token " + a.viewer, "text/plain", lp), 403,
                 "INSUFFICIENT_PERMISSIONS");
  check_envelope(post(c, "/api/v2/write?precision=ms", "", "text/plain", lp), 401);
  CHECK(range(c, a.s.admin, "ten_denied", t - 1000, t + 1000).empty());
}

TEST_CASE("tsdb access: an API key writes and reads; a viewer reads", "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const std::int64_t t = a.t;
  REQUIRE(write_lp(c, a.s.key, ten_cpu("1", t)).status == 204);
  check_exact(points_of(c, a.s.key, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, a.viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", a.viewer))) ==
        std::vector<std::string>{"a"});
}

TEST_CASE(
    "tsdb access: a new organization, its admin and its keys see none of another's series, "
    "labels, instant values or dashboards",
    "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const std::int64_t t = a.t;
  REQUIRE(write_lp(c, a.s.key, ten_cpu("1", t)).status == 204);
  const auto b = make_org(c, a.s.admin, a.s.dir.path(), "org-b-empty");
  check_sees_nothing(c, b.admin, t);
  check_sees_nothing(c, b.key, t);
}

TEST_CASE(
    "tsdb access: two organizations store the same series key at the same time with other "
    "values, without conflict, each reading its own",
    "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const std::int64_t t = a.t;
  REQUIRE(write_lp(c, a.s.key, ten_cpu("1", t)).status == 204);
  const auto b = make_org(c, a.s.admin, a.s.dir.path(), "org-b-same-key");
  REQUIRE(write_lp(c, b.key, ten_cpu("2", t)).status == 204);
  check_exact(points_of(c, b.admin, "ten_cpu", t - 1000, t + 1000), {{t, 2}});
  check_exact(points_of(c, a.s.key, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, a.viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  auto dash_a = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", a.s.admin));
  CHECK(dash_a.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_a.at("aggregations").at("max").to_number<double>() == 1);
  auto dash_b = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", b.key));
  CHECK(dash_b.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_b.at("aggregations").at("max").to_number<double>() == 2);
}

TEST_CASE("tsdb access: metric metadata set in one organization is not another's", "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const auto b = make_org(c, a.s.admin, a.s.dir.path(), "org-b-metadata");
  auto meta =
      c.put_json("/api/v1/metadata/ten_cpu", R"({"type":"gauge","unit":"percent"})", a.s.admin);
  INFO(meta.body);
  REQUIRE(meta.status == 200);
  auto md_a = data_of(c.get("/api/v1/metadata?metric=ten_cpu", a.viewer));
  CHECK(md_a.at("type").as_string() == "gauge");
  CHECK(md_a.at("unit").as_string() == "percent");
  auto md_b = data_of(c.get("/api/v1/metadata?metric=ten_cpu", b.key));
  CHECK(md_b.at("type").as_string() == "unknown");
  CHECK(md_b.at("unit").as_string().empty());
}

TEST_CASE(
    "tsdb access: a series only one organization writes stays out of the other's queries and "
    "label values",
    "[tsdb]") {
  auto& a = org_a();
  auto& c = a.s.c;
  const std::int64_t t = a.t;
  REQUIRE(write_lp(c, a.s.key, ten_cpu("1", t)).status == 204);
  const auto b = make_org(c, a.s.admin, a.s.dir.path(), "org-b-only");
  REQUIRE(write_lp(c, b.key, ten_cpu("2", t)).status == 204);
  REQUIRE(write_lp(c, b.key, "only_b,host=b value=3 " + std::to_string(t) + "\n").status == 204);
  CHECK(range(c, a.s.admin, "only_b", t - 1000, t + 1000).empty());
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", a.s.admin))) ==
        std::vector<std::string>{"a"});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", b.admin))) ==
        std::vector<std::string>{"a", "b"});
}

TEST_CASE(
    "tsdb access: deleting an organization deletes its series, also across a restart; one "
    "made afterwards starts empty under a new id",
    "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin_a = login(c, kAdminEmail, kAdminPassword);
  const auto key_a = create_key(c, admin_a, "collector-a");
  const std::int64_t t = ten_minutes_ago();
  REQUIRE(write_lp(c, key_a, ten_cpu("1", t)).status == 204);
  const auto b = make_org(c, admin_a, dir.path(), "org-b");
  REQUIRE(write_lp(c, b.key, ten_cpu("2", t)).status == 204);
  REQUIRE(write_lp(c, b.key, "only_b,host=b value=3 " + std::to_string(t) + "\n").status == 204);

  auto gone = c.del("/api/v1/organizations/" + std::to_string(b.id), admin_a);
  INFO(gone.body);
  REQUIRE(gone.status == 204);
  const auto org_c = make_org(c, admin_a, dir.path(), "org-c");
  CHECK(org_c.id > b.id);
  check_sees_nothing(c, org_c.admin, t);
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", admin_a))) ==
        std::vector<std::string>{"a"});

  INFO("after a restart: the deletion was checkpointed with the log");
  REQUIRE(server.terminate() == 0);
  ServerProcess again(dir.path(), tsdb_env());
  auto c2 = again.client();
  const auto admin_a2 = login(c2, kAdminEmail, kAdminPassword);
  CHECK(strings(data_of(c2.get("/api/v1/label/host/values", admin_a2))) ==
        std::vector<std::string>{"a"});
  const auto admin_c2 = login(c2, "boss@org-c.example", "boss-org-c-password");
  CHECK(data_of(c2.get("/api/v1/series", admin_c2)).as_array().empty());
  CHECK(data_of(c2.get("/api/v1/labels", admin_c2)).as_array().empty());
}
