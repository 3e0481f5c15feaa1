// POST /api/v1/devices/bulk against the real binary: each action on many devices in one request
// (enable, disable, maintenance, tags, groups, delete), the answer naming which were done and
// why the others failed (another organization's device, a group that does not exist), bodies
// that are not a bulk action refused by field, viewers refused, and the audit log naming the
// action and its devices.
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

std::int64_t create_device(HttpClient& c, const std::string& token, int i) {
  auto r = c.post_json("/api/v1/devices",
                       R"({"name":"bulk-)" + std::to_string(i) + R"(","address":"127.0.3.)" +
                           std::to_string(i) + R"(","type":"cpe","enabled":true,"tags":["old"]})",
                       token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

boost::json::object device(HttpClient& c, const std::string& token, std::int64_t id) {
  auto r = c.get("/api/v1/devices/" + std::to_string(id), token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data").as_object();
}

std::string ids_json(const std::vector<std::int64_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

std::set<std::int64_t> id_set(const boost::json::value& v) {
  std::set<std::int64_t> out;
  for (auto& x : v.as_array()) out.insert(x.as_int64());
  return out;
}

}  // namespace

TEST_CASE("devices bulk: one action on many devices, each done or failed with its reason",
          "[devices][bulk]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(create_device(c, admin, i));
  REQUIRE(c.post_json("/api/v1/device-groups", R"({"name":"pop-east"})", admin).status == 201);
  const std::set<std::int64_t> all(ids.begin(), ids.end());
  auto bulk = [&](const std::string& body) {
    auto r = c.post_json("/api/v1/devices/bulk", body, admin);
    INFO(body << " -> " << r.body);
    REQUIRE(r.status == 200);
    return r.json().at("data").as_object();
  };

  auto r = bulk(R"({"ids":)" + ids_json(ids) + R"(,"action":"disable"})");
  CHECK(r.at("action") == "disable");
  CHECK(id_set(r.at("done")) == all);
  CHECK(r.at("failed").as_array().empty());
  for (auto id : ids) CHECK(device(c, admin, id).at("enabled") == false);

  r = bulk(R"({"ids":)" + ids_json({ids[0], ids[1]}) + R"(,"action":"enable"})");
  CHECK(id_set(r.at("done")) == std::set<std::int64_t>{ids[0], ids[1]});
  CHECK(device(c, admin, ids[0]).at("enabled") == true);
  CHECK(device(c, admin, ids[2]).at("enabled") == false);

  r = bulk(R"({"ids":)" + ids_json(ids) + R"(,"action":"maintenance_on"})");
  CHECK(id_set(r.at("done")) == all);
  CHECK(device(c, admin, ids[4]).at("maintenance") == true);
  CHECK(device(c, admin, ids[4]).at("status") == "maintenance");
  bulk(R"({"ids":)" + ids_json(ids) + R"(,"action":"maintenance_off"})");
  CHECK(device(c, admin, ids[4]).at("maintenance") == false);

  // Tags: added once (a repeat is not a second copy), removed; the others kept (sorted).
  bulk(R"({"ids":)" + ids_json(ids) + R"(,"action":"add_tags","tags":["fiber","old"]})");
  CHECK(device(c, admin, ids[3]).at("tags") == boost::json::array{"fiber", "old"});
  bulk(R"({"ids":)" + ids_json({ids[3]}) + R"(,"action":"remove_tags","tags":["old"]})");
  CHECK(device(c, admin, ids[3]).at("tags") == boost::json::array{"fiber"});
  CHECK(device(c, admin, ids[2]).at("tags") == boost::json::array{"fiber", "old"});

  // Groups: a group that exists; one that does not fails every device with the inventory's
  // reason, and nothing changes.
  r = bulk(R"({"ids":)" + ids_json(ids) + R"(,"action":"add_groups","groups":["pop-east"]})");
  CHECK(id_set(r.at("done")) == all);
  CHECK(device(c, admin, ids[0]).at("groups") == boost::json::array{"pop-east"});
  auto groups = c.get("/api/v1/device-groups", admin);
  CHECK(groups.json().at("data").at(0).at("device_count") == 5);
  r = bulk(R"({"ids":)" + ids_json({ids[0]}) + R"(,"action":"add_groups","groups":["nowhere"]})");
  CHECK(r.at("done").as_array().empty());
  REQUIRE(r.at("failed").as_array().size() == 1);
  CHECK(r.at("failed").at(0).at("id") == ids[0]);
  CHECK(r.at("failed").at(0).at("code") == "INVALID_INPUT");
  CHECK(std::string(r.at("failed").at(0).at("message").as_string()).find("nowhere") !=
        std::string::npos);
  CHECK(device(c, admin, ids[0]).at("groups") == boost::json::array{"pop-east"});
  bulk(R"({"ids":)" + ids_json({ids[0]}) + R"(,"action":"remove_groups","groups":["pop-east"]})");
  CHECK(device(c, admin, ids[0]).at("groups").as_array().empty());

  // Another organization's device and one that does not exist: failed, the rest done.
  REQUIRE(c.post_json("/api/v1/organizations", R"({"name":"Other ISP","slug":"other-isp"})", admin)
              .status == 201);
  auto cli =
      run_netpulse({"user", "add", "--email", "other@example.net", "--name", "Other", "--role",
                    "admin", "--org", "other-isp", "--password", "other-admin-password"},
                   {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  REQUIRE(cli.exit_code == 0);
  auto other = login(c, "other@example.net", "other-admin-password");
  auto foreign = c.post_json("/api/v1/devices",
                             R"({"name":"theirs","address":"127.0.4.1","enabled":false})", other);
  REQUIRE(foreign.status == 201);
  const auto foreign_id = foreign.json().at("data").at("id").as_int64();
  r = bulk(R"({"ids":)" + ids_json({ids[0], foreign_id, 999999, ids[0]}) +
           R"(,"action":"delete"})");
  CHECK(id_set(r.at("done")) == std::set<std::int64_t>{ids[0]});
  REQUIRE(r.at("failed").as_array().size() == 2);
  for (auto& f : r.at("failed").as_array()) CHECK(f.at("code") == "DEVICE_NOT_FOUND");
  CHECK(c.get("/api/v1/devices/" + std::to_string(ids[0]), admin).status == 404);
  CHECK(c.get("/api/v1/devices/" + std::to_string(foreign_id), other).status == 200);

  // The audit log names the action and its devices.
  auto audit = c.get("/api/v1/audit?per_page=100", admin);
  CHECK(audit.body.find("devices/bulk delete " + std::to_string(ids[0])) != std::string::npos);
}

TEST_CASE("devices bulk: bodies that are not a bulk action are refused by field; viewers refused",
          "[devices][bulk]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto id = create_device(c, admin, 1);
  const auto one = "[" + std::to_string(id) + "]";
  std::string many = "[";
  for (int i = 1; i <= 1001; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  many += "]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "ids"},
      {R"({"ids":[],"action":"enable"})", "ids"},
      {R"({"ids":)" + many + R"(,"action":"enable"})", "ids"},
      {R"({"ids":[-1],"action":"enable"})", "ids"},
      {R"({"ids":["1"],"action":"enable"})", "ids"},
      {R"({"ids":)" + one + "}", "action"},
      {R"({"ids":)" + one + R"(,"action":"explode"})", "action"},
      {R"({"ids":)" + one + R"(,"action":"add_tags"})", "tags"},
      {R"({"ids":)" + one + R"(,"action":"add_tags","tags":[]})", "tags"},
      {R"({"ids":)" + one + R"(,"action":"enable","tags":["x"]})", "tags"},
      {R"({"ids":)" + one + R"(,"action":"remove_groups"})", "groups"},
      {R"({"ids":)" + one + R"(,"action":"enable","everything":true})", "everything"},
  };
  for (auto& [body, field] : cases) {
    auto r = c.post_json("/api/v1/devices/bulk", body, admin);
    INFO(body.substr(0, 200) << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"field\":\"" + field + "\"") != std::string::npos);
  }
  CHECK(c.post_json("/api/v1/devices/bulk", "[1,2]", admin).status == 400);
  CHECK(c.post_json("/api/v1/devices/bulk", "{\"ids\":", admin).status == 400);
  // Nothing was changed by any of them.
  auto d = c.get("/api/v1/devices/" + std::to_string(id), admin).json().at("data");
  CHECK(d.at("enabled") == true);
  CHECK(d.at("tags") == boost::json::array{"old"});

  REQUIRE(c.post_json("/api/v1/users",
                      R"({"email":"viewer@example.net","password":"viewer-password-1",)"
                      R"("role":"viewer"})",
                      admin)
              .status == 201);
  auto viewer = login(c, "viewer@example.net", "viewer-password-1");
  auto r =
      c.post_json("/api/v1/devices/bulk", R"({"ids":)" + one + R"(,"action":"delete"})", viewer);
  CHECK(r.status == 403);
  CHECK(c.get("/api/v1/devices/" + std::to_string(id), admin).status == 200);
}
