// GET /api/v1/topology against the real binary: every device of the organization as a small
// node with its parent links, no secret and no other organization's device, narrowed by group or
// tag (a parent outside the selection left out), and a viewer may read it.
#include <map>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

TEST_CASE("topology: the devices as nodes with their parents, narrowed by group or tag",
          "[devices][topology]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  REQUIRE(c.post_json("/api/v1/device-groups", R"({"name":"north"})", admin).status == 201);

  auto create = [&](const std::string& body) {
    auto r = c.post_json("/api/v1/devices", body, admin);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.json().at("data").at("id").as_int64();
  };
  const auto core = create(
      R"({"name":"core","address":"127.0.0.1","type":"router","enabled":false,"tags":["pop1"],)"
      R"("snmp":{"version":"2c","community":"topology-secret"}})");
  const auto dist = create(R"({"name":"dist","address":"127.0.0.2","type":"switch",)"
                           R"("enabled":false,"groups":["north"],"parents":[)" +
                           std::to_string(core) + "]}");
  const auto cpe = create(R"({"name":"cpe","address":"127.0.0.3","type":"cpe","enabled":false,)"
                          R"("groups":["north"],"tags":["pop1"],"parents":[)" +
                          std::to_string(dist) + "," + std::to_string(core) + "]}");

  auto r = c.get("/api/v1/topology", admin);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.body.find("topology-secret") == std::string::npos);
  auto doc = r.json().at("data").as_object();
  CHECK(doc.at("total").as_int64() == 3);
  CHECK(doc.at("edges").as_int64() == 3);
  CHECK(doc.at("truncated").as_bool() == false);
  std::map<std::int64_t, boost::json::object> nodes;
  for (auto& n : doc.at("nodes").as_array()) nodes[n.at("id").as_int64()] = n.as_object();
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[core].at("name") == "core");
  CHECK(nodes[core].at("address") == "127.0.0.1");
  CHECK(nodes[core].at("type") == "router");
  CHECK(nodes[core].at("status") == "unknown");
  CHECK(nodes[core].at("parents").as_array().empty());
  CHECK(nodes[dist].at("parents") == boost::json::array{core});
  CHECK(nodes[cpe].at("parents") == boost::json::array{core, dist});
  // Only what the map draws: no SNMP settings, no notes.
  CHECK(nodes[core].size() == 6);

  // A group: the core is not in it, so the distribution device is a root of that map.
  r = c.get("/api/v1/topology?group=north", admin);
  REQUIRE(r.status == 200);
  doc = r.json().at("data").as_object();
  CHECK(doc.at("total").as_int64() == 2);
  CHECK(doc.at("edges").as_int64() == 1);
  for (auto& n : doc.at("nodes").as_array()) {
    if (n.at("id").as_int64() == dist) CHECK(n.at("parents").as_array().empty());
    if (n.at("id").as_int64() == cpe) CHECK(n.at("parents") == boost::json::array{dist});
  }
  r = c.get("/api/v1/topology?tag=pop1", admin);
  REQUIRE(r.status == 200);
  doc = r.json().at("data").as_object();
  CHECK(doc.at("total").as_int64() == 2);
  CHECK(doc.at("edges").as_int64() == 1);
  r = c.get("/api/v1/topology?group=nowhere", admin);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("data").at("nodes").as_array().empty());

  // A viewer reads the map; without a token nothing.
  REQUIRE(c.post_json("/api/v1/users",
                      R"({"email":"viewer@example.net","password":"viewer-password-1",)"
                      R"("role":"viewer"})",
                      admin)
              .status == 201);
  auto viewer = login(c, "viewer@example.net", "viewer-password-1");
  CHECK(c.get("/api/v1/topology", viewer).status == 200);
  CHECK(c.get("/api/v1/topology", "").status == 401);
}
