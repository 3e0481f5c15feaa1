// Tenancy holes of issue 12 against the real binary, each with two organizations on one server:
// A (the system organization) and B (a tenant made by A's admin, whose admin is added with the
// CLI). Traps from one address reach only the organization whose device's credentials they carry
// (a real `snmptrap`); deleting an organization stops its polling at once and leaves nothing of
// it behind for the next tenant (a device id is never given twice); /api/v1/pollers shows a
// tenant its own figures only, and the server's to system admins.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

// Organization B with an admin (made by the CLI on the live data dir); returns {org id, token}.
std::pair<std::int64_t, std::string> make_tenant(HttpClient& c, const std::string& admin_a,
                                                 const std::string& data_dir,
                                                 const std::string& slug) {
  auto org = c.post_json("/api/v1/organizations",
                         R"({"name":"Tenant )" + slug + R"(","slug":")" + slug + R"("})", admin_a);
  INFO(org.body);
  REQUIRE(org.status == 201);
  const auto id = org.json().at("data").at("id").as_int64();
  const std::string email = "boss@" + slug + ".example";
  auto cli = run_netpulse({"user", "add", "--email", email, "--name", "Boss", "--role", "admin",
                           "--org", slug, "--password", "boss-password-" + slug},
                          {{"NETPULSE_STORAGE_DATA_DIR", data_dir}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  return {id, login(c, email, "boss-password-" + slug)};
}

std::int64_t create_device(HttpClient& c, const std::string& token, const std::string& body) {
  auto r = c.post_json("/api/v1/devices", body, token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

std::string events_of(HttpClient& c, const std::string& token, std::int64_t device) {
  auto r = c.get("/api/v1/devices/" + std::to_string(device) + "/events?kind=trap", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.body;
}

// A v2c linkDown for ifIndex `index` with `community`, by Debian's snmptrap.
void send_trap(const std::string& endpoint, const std::string& community, int index) {
  TempDir tool_dir;
  const auto i = std::to_string(index);
  const std::string cmd = "MIBS= SNMPCONFPATH=/dev/null SNMP_PERSISTENT_DIR=" + tool_dir.path() +
                          " timeout 10 /usr/bin/snmptrap -M /dev/null -On -v 2c -c " + community +
                          " " + endpoint + " 4321 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1." + i +
                          " i " + i + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

boost::json::object pollers_of(HttpClient& c, const std::string& token) {
  auto r = c.get("/api/v1/pollers", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data").as_object();
}

}  // namespace

TEST_CASE("tenancy: a trap reaches only the organization whose device has its community",
          "[tenancy][traps]") {
  if (std::system("test -x /usr/bin/snmptrap") != 0) {
    FAIL("net-snmp's snmptrap is not installed (scripts/bootstrap installs it)");
  }
  TempDir dir;
  ServerProcess server(dir.path(),
                       {{"NETPULSE_POLLERS_TRAPS_V3_USERS",
                         "0x80001f8880aabbccdd07 bob SHA-256 bob-auth-1 AES bob-priv-1"}});
  auto c = server.client();
  auto admin_a = login(c, kAdminEmail, kAdminPassword);
  auto [org_b, admin_b] = make_tenant(c, admin_a, dir.path(), "org-b");

  // Both organizations have a device at the same address, each with its own community (SNMP
  // polls go to a port nothing listens on: only the traps matter here).
  const auto device_a =
      create_device(c, admin_a,
                    R"({"name":"edge-a","address":"127.0.0.1","poll_interval_s":3600,
          "snmp":{"version":"2c","community":"trap-comm-a","port":9}})");
  const auto device_b =
      create_device(c, admin_b,
                    R"({"name":"edge-b","address":"127.0.0.1","poll_interval_s":3600,
          "snmp":{"version":"2c","community":"trap-comm-b","port":9}})");

  auto server_view = pollers_of(c, admin_a);
  REQUIRE(server_view.contains("server"));
  const std::string ep(server_view.at("server").at("traps").at("listen").as_string());
  REQUIRE(ep.rfind("127.0.0.1:", 0) == 0);

  send_trap(ep, "trap-comm-a", 3);
  send_trap(ep, "trap-comm-b", 4);
  send_trap(ep, "not-a-community", 5);
  REQUIRE(eventually([&] {
    return pollers_of(c, admin_a).at("server").at("traps").at("received").as_int64() == 3;
  }));
  REQUIRE(eventually([&] {
    return events_of(c, admin_a, device_a).find("ifIndex 3") != std::string::npos &&
           events_of(c, admin_b, device_b).find("ifIndex 4") != std::string::npos;
  }));
  // Each organization sees its own trap only; the wrong community reached nobody.
  const auto seen_a = events_of(c, admin_a, device_a);
  const auto seen_b = events_of(c, admin_b, device_b);
  CHECK(seen_a.find("ifIndex 4") == std::string::npos);
  CHECK(seen_a.find("ifIndex 5") == std::string::npos);
  CHECK(seen_b.find("ifIndex 3") == std::string::npos);
  CHECK(seen_b.find("ifIndex 5") == std::string::npos);
  auto all_b = c.get("/api/v1/events?kind=trap", admin_b);
  INFO(all_b.body);
  CHECK(all_b.json().at("pagination").at("total").as_int64() == 1);

  // The drop is counted, by reason, for the system admin and in /metrics.
  auto traps = pollers_of(c, admin_a).at("server").at("traps").as_object();
  INFO(boost::json::serialize(traps));
  CHECK(traps.at("accepted").as_int64() == 2);
  CHECK(traps.at("dropped_community").as_int64() == 1);
  CHECK(traps.at("unmatched").as_int64() == 0);
  auto metrics = c.get("/metrics").body;
  CHECK(metrics.find("netpulse_traps_dropped_total{reason=\"community\"} 1") != std::string::npos);
  CHECK(metrics.find("netpulse_traps_accepted_total 2") != std::string::npos);
  // Each tenant counts its own accepted traps, and no drops (which may be another's).
  auto own_b = pollers_of(c, admin_b);
  CHECK(own_b.at("traps").at("accepted").as_int64() == 1);
  CHECK_FALSE(own_b.contains("server"));

  // SNMPv3: a configured sender's trap reaches a tenant's device whose own v3 credentials are
  // that user with those keys, not one with the user's name and other keys — and the system
  // organization's device (the configuration is the operator's grant to its own organization).
  auto [org_c, admin_c] = make_tenant(c, admin_a, dir.path(), "org-c");
  auto [org_d, admin_d] = make_tenant(c, admin_a, dir.path(), "org-d");
  auto v3_device = [&](const std::string& token, const std::string& auth_password) {
    return create_device(c, token,
                         R"({"name":"v3-edge","address":"127.0.0.1","poll_interval_s":3600,
                "snmp":{"version":"3","user":"bob","auth_protocol":"SHA-256","auth_password":")" +
                             auth_password +
                             R"(","priv_protocol":"AES","priv_password":"bob-priv-1","port":9}})");
  };
  const auto device_c = v3_device(admin_c, "bob-auth-1");
  const auto device_d = v3_device(admin_d, "not-bobs-key");
  {
    TempDir tool_dir;
    const std::string cmd =
        "MIBS= SNMPCONFPATH=/dev/null SNMP_PERSISTENT_DIR=" + tool_dir.path() +
        " timeout 10 /usr/bin/snmptrap -M /dev/null -On -v 3 -e 0x80001f8880aabbccdd07 -u bob"
        " -l authPriv -a SHA-256 -A bob-auth-1 -x AES -X bob-priv-1 " +
        ep + " 4321 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.6 i 6 >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  REQUIRE(eventually([&] {
    return events_of(c, admin_c, device_c).find("ifIndex 6") != std::string::npos &&
           events_of(c, admin_a, device_a).find("ifIndex 6") != std::string::npos;
  }));
  CHECK(events_of(c, admin_d, device_d).find("ifIndex 6") == std::string::npos);
  CHECK(events_of(c, admin_b, device_b).find("ifIndex 6") == std::string::npos);
  CHECK(pollers_of(c, admin_d).at("traps").at("accepted").as_int64() == 0);
  CHECK(server.running());
}

TEST_CASE("tenancy: a deleted organization's devices stop at once and its ids are never reused",
          "[tenancy][orgs]") {
  TempDir dir;
  // The service checks below run against loopback, which checks may not reach by default.
  ServerProcess server(dir.path(), {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"}});
  auto c = server.client();
  auto admin_a = login(c, kAdminEmail, kAdminPassword);
  const auto device_a = create_device(
      c, admin_a, R"({"name":"core-a","address":"127.0.0.1","poll_interval_s":3600})");
  auto [org_b, admin_b] = make_tenant(c, admin_a, dir.path(), "org-gone");
  // B's device is the newest one, with a service check and SNMP credentials.
  const auto device_b =
      create_device(c, admin_b,
                    R"({"name":"cpe-b","address":"127.0.0.2","poll_interval_s":3600,
          "snmp":{"version":"2c","community":"secret-of-b","port":9}})");
  REQUIRE(device_b > device_a);
  auto check = c.post_json("/api/v1/devices/" + std::to_string(device_b) + "/checks",
                           R"({"name":"ghost-check","kind":"tcp","tcp":{"port":9}})", admin_b);
  INFO(check.body);
  REQUIRE(check.status == 201);
  auto icmp_checks = [&] {
    return pollers_of(c, admin_a).at("server").at("kinds").at("icmp").at("checks").as_int64();
  };
  REQUIRE(icmp_checks() == 2);

  REQUIRE(c.del("/api/v1/organizations/" + std::to_string(org_b), admin_a).status == 204);
  // Its device leaves the poller's plan with the answer: not one more poll with its credentials.
  CHECK(icmp_checks() == 1);
  CHECK(pollers_of(c, admin_a).at("server").at("devices").as_int64() == 1);
  CHECK(c.get("/api/v1/devices", admin_b).status == 401);

  // The next device gets a new id, and nothing of the deleted tenant comes with any id.
  const auto next = create_device(
      c, admin_a, R"({"name":"core-a2","address":"127.0.0.3","poll_interval_s":3600})");
  CHECK(next > device_b);
  for (auto id : {device_b, next}) {
    auto checks = c.get("/api/v1/devices/" + std::to_string(id) + "/checks", admin_a);
    INFO(checks.body);
    CHECK(checks.body.find("ghost-check") == std::string::npos);
  }
  CHECK(c.get("/api/v1/devices/" + std::to_string(device_b), admin_a).status == 404);
  // After a restart too.
  server.terminate();
  ServerProcess again(dir.path());
  auto c2 = again.client();
  auto admin = login(c2, kAdminEmail, kAdminPassword);
  const auto after_restart = create_device(
      c2, admin, R"({"name":"core-a3","address":"127.0.0.4","poll_interval_s":3600})");
  CHECK(after_restart > next);
  CHECK(pollers_of(c2, admin).at("server").at("devices").as_int64() == 3);
}

TEST_CASE("tenancy: /api/v1/pollers shows a tenant its own figures; the server's to system admins",
          "[tenancy][pollers]") {
  TempDir dir;
  // The service checks below run against loopback, which checks may not reach by default.
  ServerProcess server(dir.path(), {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"}});
  auto c = server.client();
  auto admin_a = login(c, kAdminEmail, kAdminPassword);
  for (int i = 1; i <= 3; ++i) {
    create_device(c, admin_a,
                  R"({"name":"a)" + std::to_string(i) + R"(","address":"127.0.1.)" +
                      std::to_string(i) + R"(","poll_interval_s":3600})");
  }
  auto [org_b, admin_b] = make_tenant(c, admin_a, dir.path(), "org-p");
  const auto device_b =
      create_device(c, admin_b, R"({"name":"b1","address":"127.0.2.1","poll_interval_s":3600})");
  REQUIRE(c.post_json("/api/v1/devices/" + std::to_string(device_b) + "/checks",
                      R"({"name":"port-9","kind":"tcp","tcp":{"port":9}})", admin_b)
              .status == 201);

  auto b = pollers_of(c, admin_b);
  INFO(boost::json::serialize(b));
  CHECK(b.at("org_id").as_int64() == org_b);
  CHECK(b.at("devices").as_int64() == 1);
  CHECK(b.at("kinds").at("icmp").at("checks").as_int64() == 1);
  CHECK(b.at("kinds").at("tcp").at("checks").as_int64() == 1);
  CHECK(b.at("service_checks").at("pending").as_int64() == 1);
  std::int64_t statuses = 0;
  for (auto& [name, n] : b.at("statuses").as_object()) statuses += n.as_int64();
  CHECK(statuses == 1);
  // Engine figures (ICMP socket mode, trap receiver, the whole plan) are the server's.
  CHECK_FALSE(b.contains("server"));
  CHECK_FALSE(b.contains("icmp_mode"));

  auto a = pollers_of(c, admin_a);
  INFO(boost::json::serialize(a));
  CHECK(a.at("devices").as_int64() == 3);
  CHECK(a.at("kinds").at("tcp").at("checks").as_int64() == 0);
  REQUIRE(a.contains("server"));
  CHECK(a.at("server").at("devices").as_int64() == 4);
  CHECK(a.at("server").at("kinds").at("icmp").at("checks").as_int64() == 4);
  CHECK(a.at("server").as_object().contains("icmp_mode"));

  // An operator of the system organization is not a system admin.
  auto user = c.post_json(
      "/api/v1/users",
      R"({"email":"op@a.example","name":"Op","role":"operator","password":"operator-password"})",
      admin_a);
  REQUIRE(user.status == 201);
  auto op = login(c, "op@a.example", "operator-password");
  auto seen_by_op = pollers_of(c, op);
  CHECK(seen_by_op.at("devices").as_int64() == 3);
  CHECK_FALSE(seen_by_op.contains("server"));
}
