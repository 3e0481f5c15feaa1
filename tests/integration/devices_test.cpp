// The device inventory against the real binary: the issue's device shapes (SNMP v2c and v3) in
// and out with secrets never returned, search/filter/sort/pages, 409s for a taken address and a
// parent cycle, groups, CSV import (all or nothing, issues by line and column) and export,
// hostile bodies, and persistence across a restart with the credentials still usable.
#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

HttpResponse post_csv(HttpClient& c, const std::string& target, const std::string& body,
                      const std::string& token, const std::string& type = "text/csv") {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", type}};
  r.body = body;
  return c.send(r);
}

std::vector<std::string> names_of(const HttpResponse& res) {
  std::vector<std::string> out;
  const auto json = res.json();
  for (auto& d : json.at("data").as_array()) {
    out.emplace_back(d.at("name").as_string());
  }
  return out;
}

const char* kSecrets[] = {"v2c-community-secret", "auth-password-secret", "priv-password-secret"};

void check_no_secrets(const HttpResponse& res) {
  for (auto* s : kSecrets) {
    INFO(s);
    CHECK(res.body.find(s) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("devices: the API's shapes in and out, never a secret back", "[devices]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  REQUIRE(c.post_json("/api/v1/device-groups", R"({"name":"core","description":"Core"})", admin)
              .status == 201);
  auto core = c.post_json("/api/v1/devices", R"({
      "name": "core-1", "address": "10.0.0.1", "type": "router",
      "tags": ["pop-a", "bgp"], "groups": ["core"], "location": "POP A rack 3",
      "snmp": {"version": "2c", "community": "v2c-community-secret", "port": 161}})",
                          admin);
  INFO(core.body);
  REQUIRE(core.status == 201);
  check_no_secrets(core);
  auto d = core.json().at("data").as_object();
  const auto core_id = d.at("id").as_int64();
  CHECK(d.at("status").as_string() == "unknown");
  CHECK(d.at("last_seen").is_null());
  CHECK(d.at("tags") == boost::json::array{"bgp", "pop-a"});
  CHECK(d.at("groups") == boost::json::array{"core"});
  for (auto* key : {"vendor", "model", "sys_descr", "uptime_s", "parents", "poll_interval_s"}) {
    CHECK(d.contains(key));
  }
  CHECK(d.at("snmp") == boost::json::object{{"version", "2c"}, {"port", 161}});

  auto olt = c.post_json("/api/v1/devices",
                         R"({
      "name": "olt-1", "address": "2001:db8::1:2", "type": "olt", "parents": [)" +
                             std::to_string(core_id) + R"(],
      "snmp": {"version": "3", "user": "monitor", "auth_protocol": "SHA-256",
               "auth_password": "auth-password-secret", "priv_protocol": "AES",
               "priv_password": "priv-password-secret", "context": "", "port": 1161}})",
                         admin);
  INFO(olt.body);
  REQUIRE(olt.status == 201);
  check_no_secrets(olt);
  const auto olt_id = olt.json().at("data").at("id").as_int64();
  CHECK(olt.json().at("data").at("snmp") == boost::json::object{{"version", "3"},
                                                                {"port", 1161},
                                                                {"user", "monitor"},
                                                                {"auth_protocol", "SHA-256"},
                                                                {"priv_protocol", "AES"},
                                                                {"context", ""}});

  // Reads, lists and the export carry no secret either.
  for (auto target : {"/api/v1/devices", "/api/v1/devices/export"}) {
    auto res = c.get(target, admin);
    REQUIRE(res.status == 200);
    check_no_secrets(res);
  }
  check_no_secrets(c.get("/api/v1/devices/" + std::to_string(olt_id), admin));

  SECTION("an address is unique per organization: 409 DEVICE_ALREADY_EXISTS") {
    auto dup = c.post_json("/api/v1/devices", R"({"name":"again","address":"10.0.0.1"})", admin);
    CHECK(dup.status == 409);
    CHECK(dup.error_code() == "DEVICE_ALREADY_EXISTS");
  }

  SECTION("a parent cycle is refused with its path") {
    auto cyc = c.patch_json("/api/v1/devices/" + std::to_string(core_id),
                            R"({"parents":[)" + std::to_string(olt_id) + "]}", admin);
    INFO(cyc.body);
    CHECK(cyc.status == 409);
    CHECK(cyc.error_code() == "CONFLICT");
    CHECK(cyc.body.find("core-1 -> olt-1 -> core-1") != std::string::npos);
    auto path = cyc.json().at("error").at("details").at("path");
    CHECK(path == boost::json::array{core_id, olt_id, core_id});
  }

  SECTION("search, filters, sort and pages") {
    for (int i = 0; i < 5; ++i) {
      auto r = c.post_json("/api/v1/devices",
                           R"({"name":"cpe-)" + std::to_string(i) + R"(","address":"10.1.0.)" +
                               std::to_string(i + 1) + R"(","type":"cpe","tags":["fiber"]})",
                           admin);
      REQUIRE(r.status == 201);
    }
    auto cpes = c.get("/api/v1/devices?type=cpe&sort=-name&per_page=2&page=2", admin);
    INFO(cpes.body);
    REQUIRE(cpes.status == 200);
    CHECK(names_of(cpes) == std::vector<std::string>{"cpe-2", "cpe-1"});
    CHECK(cpes.json().at("pagination").at("total").as_int64() == 5);
    CHECK(names_of(c.get("/api/v1/devices?search=POP%20A", admin)) ==
          std::vector<std::string>{"core-1"});
    CHECK(names_of(c.get("/api/v1/devices?group=core", admin)) ==
          std::vector<std::string>{"core-1"});
    CHECK(names_of(c.get("/api/v1/devices?parent=" + std::to_string(core_id), admin)) ==
          std::vector<std::string>{"olt-1"});
    CHECK(c.get("/api/v1/devices?tag=fiber", admin).json().at("pagination").at("total") == 5);
    for (auto bad : {"type=toaster", "status=sleepy", "sort=color", "enabled=maybe", "parent=x"}) {
      auto r = c.get(std::string("/api/v1/devices?") + bad, admin);
      INFO(bad << " " << r.body);
      CHECK(r.status == 400);
      CHECK(r.error_code() == "INVALID_INPUT");
    }
  }

  SECTION("patching SNMP without secrets keeps them; null removes SNMP") {
    auto p = c.patch_json("/api/v1/devices/" + std::to_string(olt_id),
                          R"({"snmp":{"version":"3","user":"monitor","auth_protocol":"SHA-256",
                               "priv_protocol":"AES","port":161}, "maintenance": true})",
                          admin);
    INFO(p.body);
    REQUIRE(p.status == 200);
    CHECK(p.json().at("data").at("snmp").at("port") == 161);
    CHECK(p.json().at("data").at("status") == "maintenance");
    auto other =
        c.patch_json("/api/v1/devices/" + std::to_string(olt_id),
                     R"({"snmp":{"version":"3","user":"other","auth_protocol":"SHA"}})", admin);
    CHECK(other.status == 400);
    CHECK(other.json().at("error").at("details").at("field") == "snmp.auth_password");
    auto off = c.patch_json("/api/v1/devices/" + std::to_string(olt_id), R"({"snmp":null})", admin);
    REQUIRE(off.status == 200);
    CHECK(off.json().at("data").at("snmp").is_null());
  }

  SECTION("delete") {
    REQUIRE(c.del("/api/v1/devices/" + std::to_string(core_id), admin).status == 204);
    CHECK(c.get("/api/v1/devices/" + std::to_string(core_id), admin).error_code() ==
          "DEVICE_NOT_FOUND");
    auto child = c.get("/api/v1/devices/" + std::to_string(olt_id), admin);
    CHECK(child.json().at("data").at("parents").as_array().empty());
    CHECK(c.del("/api/v1/devices/" + std::to_string(core_id), admin).status == 404);
  }
  CHECK(server.running());
}

TEST_CASE("devices: hostile and malformed bodies get a clear error naming the field", "[devices]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  struct Case {
    std::string body;
    std::string field;
  };
  const std::string huge(1 << 20, 'x');
  std::string many_tags = "[";
  for (int i = 0; i < 1000; ++i) many_tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  many_tags += "]";
  std::vector<Case> cases{
      {R"({"address":"10.0.0.1"})", "name"},
      {R"({"name":"x"})", "address"},
      {R"({"name":"x","address":"10.0.0.1","colour":"red"})", "colour"},
      {R"({"name":42,"address":"10.0.0.1"})", "name"},
      {R"({"name":"x","address":"10.0.0.1/8"})", "address"},
      {R"({"name":"x","address":"bad host!"})", "address"},
      {R"({"name":")" + huge + R"(","address":"10.0.0.1"})", "name"},
      {R"({"name":"x","address":"10.0.0.1","notes":")" + huge + R"("})", "notes"},
      {R"({"name":"x","address":"10.0.0.1","tags":)" + many_tags + "}", "tags"},
      {R"({"name":"x","address":"10.0.0.1","tags":"core"})", "tags"},
      {R"({"name":"x","address":"10.0.0.1","tags":[1]})", "tags"},
      {R"({"name":"x","address":"10.0.0.1","parents":[-1]})", "parents"},
      {R"({"name":"x","address":"10.0.0.1","parents":["a"]})", "parents"},
      {R"({"name":"x","address":"10.0.0.1","type":"toaster"})", "type"},
      {R"({"name":"x","address":"10.0.0.1","poll_interval_s":0})", "poll_interval_s"},
      {R"({"name":"x","address":"10.0.0.1","poll_interval_s":1e9})", "poll_interval_s"},
      {R"({"name":"x","address":"10.0.0.1","enabled":"yes"})", "enabled"},
      {R"({"name":"x","address":"10.0.0.1","snmp":"public"})", "snmp"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{}})", "snmp.version"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"4"}})", "snmp.version"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"2c"}})", "snmp.community"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"2c","community":"p","port":70000}})",
       "snmp.port"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"3","user":"u","auth_protocol":"SHA-1024","auth_password":"12345678"}})",
       "snmp.auth_protocol"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"3","user":"u","priv_protocol":"AES","priv_password":"12345678"}})",
       "snmp.priv_protocol"},
      {R"({"name":"x","address":"10.0.0.1","snmp":{"version":"2c","community":"p","extra":1}})",
       "snmp.extra"},
      {R"({"name":"x","address":"10.0.0.1","groups":["missing"]})", "groups"},
  };
  for (auto& tc : cases) {
    auto res = c.post_json("/api/v1/devices", tc.body, admin);
    INFO(tc.body.substr(0, 200) << " -> " << res.status << " " << res.body.substr(0, 300));
    CHECK(res.status == 400);
    CHECK(res.error_code() == "INVALID_INPUT");
    if (res.status == 400) {
      CHECK(res.json().at("error").at("details").at("field").as_string() == tc.field);
    }
  }
  auto not_json =
      c.send({"POST",
              "/api/v1/devices",
              {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}},
              "{\"name\":"});
  CHECK(not_json.status == 400);
  CHECK(not_json.error_code() == "MALFORMED_JSON");
  CHECK(c.get("/api/v1/devices", admin).json().at("pagination").at("total") == 0);
  CHECK(server.running());
}

TEST_CASE("devices: CSV import is all or nothing; export reads back", "[devices][csv]") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_MAX_BODY_BYTES", "65536"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  REQUIRE(c.post_json("/api/v1/device-groups", R"({"name":"Edge"})", admin).status == 201);

  auto bad = post_csv(c, "/api/v1/devices/import",
                      "name,address,type,groups\n"
                      "a,10.2.0.1,router,Edge\n"
                      "b,10.2.0.1,router,\n"
                      "c,10.2.0.3,spaceship,\n"
                      "d,10.2.0.4,router,Nowhere\n",
                      admin);
  INFO(bad.body);
  REQUIRE(bad.status == 400);
  CHECK(bad.error_code() == "INVALID_INPUT");
  auto issues = bad.json().at("error").at("details").at("issues").as_array();
  REQUIRE(issues.size() == 3);
  std::vector<std::pair<std::int64_t, std::string>> where;
  for (auto& i : issues) {
    where.emplace_back(i.at("line").as_int64(), std::string(i.at("column").as_string()));
    CHECK_FALSE(i.at("message").as_string().empty());
  }
  std::sort(where.begin(), where.end());
  CHECK(where == std::vector<std::pair<std::int64_t, std::string>>{
                     {3, "address"}, {4, "type"}, {5, "groups"}});
  CHECK(c.get("/api/v1/devices", admin).json().at("pagination").at("total") == 0);

  auto good = post_csv(c, "/api/v1/devices/import",
                       "name,address,type,groups,parents,snmp_version,snmp_community\r\n"
                       "agg,10.2.0.1,switch,Edge,,2c,v2c-community-secret\r\n"
                       "\"cpe, north\",10.2.0.2,cpe,,10.2.0.1,,\r\n",
                       admin);
  INFO(good.body);
  REQUIRE(good.status == 201);
  CHECK(good.json().at("data").at("created") == 2);
  check_no_secrets(good);

  auto exported = c.get("/api/v1/devices/export", admin);
  REQUIRE(exported.status == 200);
  CHECK(exported.header("content-type").find("text/csv") == 0);
  CHECK(exported.body.find("\"cpe, north\"") != std::string::npos);
  check_no_secrets(exported);

  // Refusals: the wrong media type, an oversized body, compressed bodies.
  CHECK(post_csv(c, "/api/v1/devices/import", "name,address\n", admin, "application/json").status ==
        415);
  auto fresh = server.client();
  auto big = post_csv(fresh, "/api/v1/devices/import", std::string(100 << 10, 'x'), admin);
  CHECK(big.status == 413);
  CHECK(big.error_code() == "PAYLOAD_TOO_LARGE");
  CHECK(server.running());
}

TEST_CASE("devices: survive a restart with their credentials", "[devices]") {
  TempDir dir;
  std::int64_t id = 0;
  {
    ServerProcess server(dir.path());
    auto c = server.client();
    auto admin = login(c, kAdminEmail, kAdminPassword);
    auto r = c.post_json("/api/v1/devices", R"({"name":"keep","address":"10.3.0.1",
        "snmp":{"version":"3","user":"u1","auth_protocol":"SHA","auth_password":"auth-password-secret"}})",
                         admin);
    INFO(r.body);
    REQUIRE(r.status == 201);
    id = r.json().at("data").at("id").as_int64();
    CHECK(server.terminate() == 0);
  }
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto r = c.get("/api/v1/devices/" + std::to_string(id), admin);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("data").at("snmp").at("user") == "u1");
  check_no_secrets(r);
  // The stored secret is still there: a patch without it passes the v3 rules.
  auto p = c.patch_json("/api/v1/devices/" + std::to_string(id),
                        R"({"snmp":{"version":"3","user":"u1","auth_protocol":"SHA"}})", admin);
  INFO(p.body);
  CHECK(p.status == 200);
}

TEST_CASE("devices: addresses refused by the outbound policy are refused when saved",
          "[devices][outbound]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  struct Refused {
    std::string address, rule;
  };
  for (const auto& r : std::vector<Refused>{{"169.254.169.254", "169.254.169.254/32"},
                                            {"::ffff:169.254.169.254", "169.254.169.254/32"},
                                            {"169.254.10.1", "169.254.0.0/16"},
                                            {"fd00:ec2::254", "fd00:ec2::254/128"},
                                            {"fe80::1:2", "fe80::/10"},
                                            {"100.100.100.200", "100.100.100.200/32"}}) {
    auto res =
        c.post_json("/api/v1/devices", R"({"name":"x","address":")" + r.address + R"("})", admin);
    INFO(r.address << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(res.error_code() == "OUTBOUND_DENIED");
    if (res.status != 400) continue;
    const auto e = res.json().at("error");
    CHECK(e.at("details").at("field") == "address");
    CHECK(e.at("details").at("rule") == r.rule.c_str());
    CHECK(e.at("details").at("list") == "network.outbound_deny");
    CHECK(std::string(e.at("message").as_string())
              .find("is refused by network.outbound_deny rule " + r.rule) != std::string::npos);
  }
  // Loopback is refused to service checks only: ICMP and SNMP may poll the server's own host.
  auto self = c.post_json("/api/v1/devices", R"({"name":"self","address":"127.0.0.1"})", admin);
  REQUIRE(self.status == 201);
  const auto self_path =
      "/api/v1/devices/" + std::to_string(self.json().at("data").at("id").as_int64());
  auto moved = c.patch_json(self_path, R"({"address":"169.254.169.254"})", admin);
  INFO(moved.body);
  CHECK(moved.status == 400);
  CHECK(moved.error_code() == "OUTBOUND_DENIED");
  CHECK(c.get(self_path, admin).json().at("data").at("address") == "127.0.0.1");

  auto imported = post_csv(c, "/api/v1/devices/import",
                           "name,address\n"
                           "fine,10.3.0.1\n"
                           "metadata,169.254.169.254\n",
                           admin);
  INFO(imported.body);
  REQUIRE(imported.status == 400);
  auto issues = imported.json().at("error").at("details").at("issues").as_array();
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line") == 3);
  CHECK(issues[0].at("column") == "address");
  CHECK(std::string(issues[0].at("message").as_string()).find("169.254.169.254/32") !=
        std::string::npos);
  CHECK(c.get("/api/v1/devices", admin).json().at("pagination").at("total") == 1);

  // An explicit allow opens link-local, but not the metadata address inside it (more specific).
  server.terminate();
  ServerProcess allowing(dir.path(), {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "169.254.0.0/16"}});
  auto c2 = allowing.client();
  auto admin2 = login(c2, kAdminEmail, kAdminPassword);
  CHECK(
      c2.post_json("/api/v1/devices", R"({"name":"ll","address":"169.254.10.1"})", admin2).status ==
      201);
  CHECK(c2.post_json("/api/v1/devices", R"({"name":"md","address":"169.254.169.254"})", admin2)
            .error_code() == "OUTBOUND_DENIED");
}

TEST_CASE("devices: a CSV import of a 50,000-row parent chain gets a 400, and the server lives",
          "[devices][csv]") {
  // Before the fix the import's cycle check recursed once per row on the db writer thread and
  // the server died of a stack overflow (SIGSEGV).
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto address = [](int i) {
    return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
           std::to_string(i & 255);
  };
  std::string csv = "name,address,parents\n";
  for (int i = 0; i < 50'000; ++i) {
    csv += "d" + std::to_string(i) + "," + address(i) + "," + (i ? address(i - 1) : "") + "\n";
  }
  HttpClient slow("127.0.0.1", server.port(), false, std::chrono::seconds(120));
  auto res = post_csv(slow, "/api/v1/devices/import", csv, admin);
  INFO(res.body.substr(0, 2000));
  REQUIRE(res.status == 400);
  CHECK(res.error_code() == "INVALID_INPUT");
  auto issues = res.json().at("error").at("details").at("issues").as_array();
  REQUIRE_FALSE(issues.empty());
  CHECK(issues[0].at("column") == "parents");
  CHECK(issues[0].at("line") == 2 + 64 + 1);  // the first row 65 links below the top
  CHECK(issues[0].at("message").as_string().find("64") != std::string::npos);
  REQUIRE(server.running());
  CHECK(c.get("/api/v1/devices", admin).json().at("pagination").at("total") == 0);
  CHECK(server.client().get("/alive").status == 200);
}
