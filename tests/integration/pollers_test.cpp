// The pollers against the real binary and real peers: a device on 127.0.0.1 with a real snmpd
// (v2c and v3 SHA-256/AES) is pinged and polled — "poll now" answers with ICMP figures and the
// SNMP outcome, the inventory learns sysDescr and the vendor, the interfaces appear with their
// counters in the store, and the poller's health shows in /api/v1/pollers and /metrics. A host in
// a network namespace the test makes (veth pair) goes down when its link is taken down, and a
// device behind it becomes unreachable rather than down.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"
#include "support/server_process.hpp"
#include "support/snmpd.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::sh;
using netpulse::test::SnmpdProcess;
using netpulse::test::TempDir;

namespace {

std::int64_t create_device(HttpClient& c, const std::string& token, const std::string& body) {
  auto r = c.post_json("/api/v1/devices", body, token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

HttpResponse poll_now(HttpClient& c, const std::string& token, std::int64_t id) {
  return c.post_json("/api/v1/devices/" + std::to_string(id) + "/poll", "{}", token);
}

// A network namespace with one end of a veth pair; the other end stays in ours. Removed (with
// both ends) when it goes.
struct NetnsHost {
  std::string ns, host_if, peer_if, host_ip, peer_ip, child_ip;
  bool ok = false;
  NetnsHost() {
    // The namespaces of earlier runs that were killed before their destructor ran: their test
    // process (whose PID is in the name) is gone.
    netpulse::test::remove_stale_namespaces("np-test-", "npv");
    const auto tag = std::to_string(::getpid());
    ns = "np-test-" + tag;
    host_if = "npv" + tag;
    peer_if = "npp" + tag;
    const auto octet = std::to_string(::getpid() % 200 + 20);
    host_ip = "10.231." + octet + ".1";
    peer_ip = "10.231." + octet + ".2";
    child_ip = "10.231." + octet + ".6";  // a second address in the namespace, behind peer_ip
    netpulse::test::require_installed("/usr/bin/ip", "iproute2");
    ok = sh("ip netns add " + ns) == 0 &&
         sh("ip link add " + host_if + " type veth peer name " + peer_if) == 0 &&
         sh("ip link set " + peer_if + " netns " + ns) == 0 &&
         sh("ip addr add " + host_ip + "/30 dev " + host_if) == 0 &&
         sh("ip link set " + host_if + " up") == 0 &&
         sh("ip netns exec " + ns + " ip addr add " + peer_ip + "/30 dev " + peer_if) == 0 &&
         sh("ip netns exec " + ns + " ip link set " + peer_if + " up") == 0 &&
         sh("ip netns exec " + ns + " ip link set lo up") == 0 &&
         sh("ip netns exec " + ns + " ip addr add " + child_ip + "/32 dev " + peer_if) == 0 &&
         sh("ip route add " + child_ip + "/32 via " + peer_ip) == 0;
  }
  ~NetnsHost() {
    sh("ip link del " + host_if);
    sh("ip netns del " + ns);
  }
  void take_down() {
    REQUIRE(sh("ip netns exec " + ns + " ip link set " + peer_if + " down") == 0);
  }
};

}  // namespace

TEST_CASE("pollers: ICMP and SNMP v2c/v3 against a real snmpd on loopback", "[pollers]") {
  TempDir dir;
  TempDir agent_dir;
  SnmpdProcess agent(agent_dir.path());
  ServerProcess server(dir.path(),
                       {{"NETPULSE_POLLERS_TRAPS_V3_USERS",
                         "0x80001f8880aabbccdd02 trapper SHA-256 authpass1 AES privpass1"},
                        // The operator's trap community: for the system organization's devices.
                        {"NETPULSE_POLLERS_TRAPS_COMMUNITIES", "public"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto port = std::to_string(agent.port());

  const auto v2 =
      create_device(c, admin,
                    R"({"name":"lo-v2c","address":"127.0.0.1","type":"server","poll_interval_s":300,
          "snmp":{"version":"2c","community":"public","port":)" +
                        port + "}}");
  const auto v3 =
      create_device(c, admin,
                    R"({"name":"lo-v3","address":"127.0.0.2","type":"server","poll_interval_s":300,
          "snmp":{"version":"3","user":"sha256aes","auth_protocol":"SHA-256",
                  "auth_password":"sha256-auth-pw","priv_protocol":"AES",
                  "priv_password":"sha256-priv-pw","port":)" +
                        port + "}}");
  // The v3 device starts on 127.0.0.2 (snmpd listens on 127.0.0.1 only) and moves to the agent's
  // address once the v2c device is gone: an address is unique per organization.

  // A custom OID for this device (sysUpTime.0 in seconds) and one for every server.
  auto custom = c.post_json("/api/v1/custom-oids",
                            R"({"device_id":)" + std::to_string(v2) +
                                R"(,"oid":"1.3.6.1.2.1.1.3.0","metric":"custom_uptime_s",)"
                                R"("scale":0.01,"unit":"s"})",
                            admin);
  INFO(custom.body);
  REQUIRE(custom.status == 201);
  REQUIRE(c.post_json("/api/v1/custom-oids",
                      R"({"device_type":"server","oid":"1.3.6.1.2.1.1.8.0",)"
                      R"("metric":"custom_services"})",
                      admin)
              .status == 201);
  CHECK(c.post_json("/api/v1/custom-oids",
                    R"({"device_type":"server","oid":"sysUpTime.0",)"
                    R"("metric":"x"})",
                    admin)
            .status == 400);

  auto r = poll_now(c, admin, v2);
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto report = r.json().at("data").as_object();
  CHECK(report.at("status") == "up");
  CHECK(report.at("icmp").at("received").as_int64() == 3);
  CHECK(report.at("icmp").at("loss_pct").to_number<double>() == 0.0);
  CHECK(report.at("icmp_outcome").at("ok").as_bool());
  CHECK(report.at("snmp_outcome").at("ok").as_bool());
  CHECK(report.at("snmp_values").as_int64() > 10);

  auto device = c.get("/api/v1/devices/" + std::to_string(v2), admin);
  REQUIRE(device.status == 200);
  auto d = device.json().at("data").as_object();
  CHECK(d.at("sys_descr").as_string().find("Linux") != std::string::npos);
  CHECK(d.at("sys_object_id").as_string().rfind("1.3.6.1.4.1.8072", 0) == 0);
  CHECK(d.at("vendor") == "Net-SNMP");
  CHECK(d.at("uptime_s").is_int64());
  CHECK(d.at("last_seen").is_string());
  CHECK(d.at("latest").at("icmp").at("received") == 3);

  auto ifs = c.get("/api/v1/devices/" + std::to_string(v2) + "/interfaces", admin);
  INFO(ifs.body);
  REQUIRE(ifs.status == 200);
  auto list = ifs.json().at("data").as_array();
  REQUIRE_FALSE(list.empty());
  bool saw_lo = false;
  for (auto& i : list) {
    if (i.at("name") == "lo") {
      saw_lo = true;
      CHECK(i.at("oper_status") == 1);
      CHECK(i.at("hc_counters").as_bool());
    }
  }
  CHECK(saw_lo);
  // A second poll gives rates.
  REQUIRE(poll_now(c, admin, v2).status == 200);
  auto again = c.get("/api/v1/devices/" + std::to_string(v2) + "/interfaces", admin);
  const auto again_json = again.json();
  for (auto& i : again_json.at("data").as_array()) {
    if (i.at("name") == "lo") CHECK(i.at("in_bps").is_number());
  }

  // The counters are in the store under the device's labels.
  auto q = c.get("/api/v1/query?query=ifHCInOctets%7Bdevice%3D%22lo-v2c%22%2CifName%3D%22lo%22%7D",
                 admin);
  INFO(q.body);
  REQUIRE(q.status == 200);
  CHECK(q.body.find("\"lo\"") != std::string::npos);
  auto uptime = c.get("/api/v1/query?query=custom_uptime_s%7Bdevice%3D%22lo-v2c%22%7D", admin);
  INFO(uptime.body);
  CHECK(uptime.body.find("custom_uptime_s") != std::string::npos);
  auto services = c.get("/api/v1/query?query=custom_services", admin);
  CHECK(services.body.find("lo-v2c") != std::string::npos);
  auto storage = c.get("/api/v1/query?query=hrStorageSizeBytes%7Bdevice%3D%22lo-v2c%22%7D", admin);
  INFO(storage.body);
  CHECK(storage.body.find("\"type\":\"ram\"") != std::string::npos);
  auto rtt = c.get("/api/v1/query?query=icmp_rtt_avg_ms%7Bdevice%3D%22lo-v2c%22%7D", admin);
  CHECK(rtt.body.find("lo-v2c") != std::string::npos);

  // v3 authPriv (SHA-256/AES): point the device at the agent's address.
  auto moved =
      c.patch_json("/api/v1/devices/" + std::to_string(v3), R"({"address":"127.0.0.1"})", admin);
  CHECK(moved.status == 409);  // the v2c device has that address: unique per organization
  REQUIRE(c.del("/api/v1/devices/" + std::to_string(v2), admin).status == 204);
  REQUIRE(c.patch_json("/api/v1/devices/" + std::to_string(v3), R"({"address":"127.0.0.1"})", admin)
              .status == 200);
  auto v3poll = poll_now(c, admin, v3);
  INFO(v3poll.body);
  REQUIRE(v3poll.status == 200);
  CHECK(v3poll.json().at("data").at("snmp_outcome").at("ok").as_bool());

  // The device's v3 auth password edited to a wrong one: the poll answers with the SNMP failure,
  // the device stays up on ICMP. Edited back, the next poll works again, in the same process
  // (net-snmp keeps one set of keys per agent engine and user, which the engine replaces:
  // docs/snmp.md, "v3 keys").
  auto set_v3_auth_password = [&](const std::string& auth_password) {
    return c
        .patch_json("/api/v1/devices/" + std::to_string(v3),
                    R"({"snmp":{"version":"3","user":"sha256aes","auth_protocol":"SHA-256",
                            "auth_password":")" +
                        auth_password + R"(","priv_protocol":"AES",
                            "priv_password":"sha256-priv-pw","port":)" +
                        port + "}}",
                    admin)
        .status;
  };
  REQUIRE(set_v3_auth_password("not-the-password") == 200);
  auto bad = poll_now(c, admin, v3);
  INFO(bad.body);
  REQUIRE(bad.status == 200);
  CHECK_FALSE(bad.json().at("data").at("snmp_outcome").at("ok").as_bool());
  CHECK(bad.json().at("data").at("snmp_outcome").at("error").as_string().find("SNMP") !=
        std::string::npos);
  CHECK(bad.json().at("data").at("status") == "up");
  REQUIRE(set_v3_auth_password("sha256-auth-pw") == 200);
  auto good_again = poll_now(c, admin, v3);
  INFO(good_again.body);
  REQUIRE(good_again.status == 200);
  CHECK(good_again.json().at("data").at("snmp_outcome").at("ok").as_bool());

  // A linkDown trap from the agent's address becomes an event of the device there: the v3
  // device has no community of its own, but it is the system organization's, for which
  // pollers.traps_communities holds (docs/traps.md, "Which devices a trap reaches").
  {
    auto listen =
        c.get("/api/v1/pollers", admin).json().at("data").at("server").at("traps").at("listen");
    INFO(boost::json::serialize(listen));
    const std::string ep(listen.as_string());
    REQUIRE(ep.rfind("127.0.0.1:", 0) == 0);
    TempDir tool_dir;
    const std::string cmd =
        "MIBS= SNMPCONFPATH=/dev/null SNMP_PERSISTENT_DIR=" + tool_dir.path() +
        " timeout 10 /usr/bin/snmptrap -M /dev/null -On -v 2c -c public " + ep +
        " 4321 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.3 i 3 1.3.6.1.2.1.2.2.1.2.3 s eth2";
    REQUIRE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0);
    CHECK(eventually([&] {
      auto events = c.get("/api/v1/devices/" + std::to_string(v3) + "/events?kind=trap", admin);
      return events.status == 200 && events.body.find("linkDown ifIndex 3") != std::string::npos;
    }));
    {
      // The event keeps the trap's varbinds, the objects NetPulse knows named.
      auto events = c.get("/api/v1/devices/" + std::to_string(v3) + "/events?kind=trap", admin);
      const auto body = events.json();
      const auto& items = body.at("data").as_array();
      REQUIRE_FALSE(items.empty());
      const auto& details = items.front().at("details");
      INFO(boost::json::serialize(details));
      CHECK(details.at("varbind_count").as_int64() == 2);
      const auto& vbs = details.at("varbinds").as_array();
      REQUIRE(vbs.size() == 2);
      CHECK(vbs[0].at("name").as_string() == "ifIndex.3");
      CHECK(vbs[0].at("type").as_string() == "Integer32");
      CHECK(vbs[0].at("value").as_int64() == 3);
      CHECK(vbs[1].at("oid").as_string() == "1.3.6.1.2.1.2.2.1.2.3");
      CHECK(vbs[1].at("name").as_string() == "ifDescr.3");
      CHECK(vbs[1].at("value").as_string() == "eth2");
    }
    auto decoded = c.get("/api/v1/pollers", admin).json().at("data").at("server").at("traps");
    CHECK(decoded.at("decoded").as_int64() == 1);

    // An SNMPv3 authPriv trap from a user of pollers.traps_v3_users (SHA-256/AES): every
    // configured sender reaches the system organization's devices.
    const std::string v3_trap =
        "MIBS= SNMPCONFPATH=/dev/null SNMP_PERSISTENT_DIR=" + tool_dir.path() +
        " timeout 10 /usr/bin/snmptrap -M /dev/null -On -v 3 -e 0x80001f8880aabbccdd02 -u trapper"
        " -l authPriv -a SHA-256 -A authpass1 -x AES -X privpass1 " +
        ep + " 4321 1.3.6.1.6.3.1.1.5.4 1.3.6.1.2.1.2.2.1.1.7 i 7";
    REQUIRE(std::system((v3_trap + " >/dev/null 2>&1").c_str()) == 0);
    CHECK(eventually([&] {
      auto events = c.get("/api/v1/devices/" + std::to_string(v3) + "/events?kind=trap", admin);
      return events.status == 200 && events.body.find("linkUp ifIndex 7") != std::string::npos;
    }));
    // A wrong password is dropped by USM.
    auto wrong = v3_trap;
    wrong.replace(wrong.find("-A authpass1"), 12, "-A wrongpass1");
    REQUIRE(std::system((wrong + " >/dev/null 2>&1").c_str()) == 0);
    CHECK(eventually([&] {
      auto t = c.get("/api/v1/pollers", admin).json().at("data").at("server").at("traps");
      return t.at("dropped_v3_security").as_int64() == 1;
    }));
  }

  // Poller health.
  auto health = c.get("/api/v1/pollers", admin);
  INFO(health.body);
  REQUIRE(health.status == 200);
  auto h = health.json().at("data").as_object();
  CHECK((h.at("server").at("icmp_mode") == "raw" || h.at("server").at("icmp_mode") == "datagram"));
  CHECK(h.at("kinds").at("icmp").at("runs_ok").as_int64() >= 3);
  CHECK(h.at("kinds").at("snmp").at("runs_failed").as_int64() >= 1);
  auto metrics = c.get("/metrics");
  CHECK(metrics.body.find("netpulse_poller_runs_total{kind=\"icmp\",outcome=\"ok\"}") !=
        std::string::npos);
  CHECK(metrics.body.find("netpulse_devices{status=\"up\"} 1") != std::string::npos);
  CHECK(server.running());
}

TEST_CASE("pollers: discovery scans a loopback /29 with ICMP and SNMP, tenant-confined",
          "[pollers][discovery]") {
  TempDir dir;
  TempDir agent_dir;
  SnmpdProcess agent(agent_dir.path());
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  create_device(c, admin, R"({"name":"known","address":"127.0.0.1"})");
  const auto port = std::to_string(agent.port());
  auto start = c.post_json("/api/v1/discovery",
                           R"({"cidr":"127.0.0.0/29","timeout_ms":500,"snmp":[
                                {"version":"2c","community":"wrong","port":)" +
                               port + R"(},
                                {"version":"2c","community":"public","port":)" +
                               port + "}]}",
                           admin);
  INFO(start.body);
  REQUIRE(start.status == 202);
  const auto id = std::string(start.json().at("data").at("id").as_string());
  CHECK(start.json().at("data").at("progress").at("total") == 6);
  boost::json::value job;
  REQUIRE(eventually([&] {
    auto r = c.get("/api/v1/discovery/" + id, admin);
    job = r.json().at("data");
    return job.at("state") == "done";
  }));
  INFO(boost::json::serialize(job));
  CHECK(job.at("progress").at("scanned") == 6);
  CHECK(job.at("progress").at("answered") == 6);  // every loopback address answers ICMP
  CHECK(job.at("progress").at("snmp").as_int64() >= 1);
  bool saw_agent = false;
  for (auto& h : job.at("hosts").as_array()) {
    if (h.at("address") != "127.0.0.1") continue;
    saw_agent = true;
    CHECK(h.at("snmp_credential") == 1);  // the second set answered
    CHECK(h.at("proposal").at("vendor") == "Net-SNMP");
    CHECK(h.at("proposal").at("type") == "server");
    CHECK(h.at("existing_device_id").is_int64());
    CHECK(h.at("proposal").at("snmp").at("version") == "2c");
    CHECK(h.at("proposal").at("snmp").as_object().if_contains("community") == nullptr);
  }
  CHECK(saw_agent);
  CHECK(c.get("/api/v1/discovery", admin).json().at("data").as_array().size() == 1);

  // Bounds and bad input.
  for (auto body : {R"({"cidr":"10.0.0.0/8"})", R"({"cidr":"10.0.0.0"})", R"({"cidr":"x/24"})",
                    R"({"cidr":"fd00::/64"})", R"({"cidr":"10.0.0.0/24","icmp":false})"}) {
    auto r = c.post_json("/api/v1/discovery", body, admin);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
  }
  // A bad credential set is named by its place in the list.
  {
    auto r = c.post_json("/api/v1/discovery",
                         R"({"cidr":"127.0.0.0/30","snmp":[{"version":"2c","community":"public"},)"
                         R"({"version":"2c","community":""}]})",
                         admin);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("details").at("field") == "snmp[1].community");
    CHECK(std::string(r.json().at("error").at("message").as_string()).starts_with("snmp[1]."));
  }
  // Another organization's admin cannot read the job.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Other","slug":"other"})", admin);
  REQUIRE(org.status == 201);
  auto cli =
      netpulse::test::run_netpulse({"user", "add", "--email", "x@other.example", "--role", "admin",
                                    "--org", "other", "--password", "other-password-1"},
                                   {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  REQUIRE(cli.exit_code == 0);
  auto other = login(c, "x@other.example", "other-password-1");
  CHECK(c.get("/api/v1/discovery/" + id, other).status == 404);
  CHECK(c.get("/api/v1/discovery", other).json().at("data").as_array().empty());
  CHECK(server.running());
}

TEST_CASE(
    "pollers: the outbound policy: a device whose name resolves to a refused address is not "
    "polled, and discovery skips refused addresses",
    "[pollers][discovery][outbound]") {
  TempDir dir;
  // The default deny list plus 127.0.0.4/31.
  ServerProcess server(
      dir.path(),
      {{"NETPULSE_NETWORK_OUTBOUND_DENY",
        "0.0.0.0/8,169.254.0.0/16,169.254.169.254/32,100.100.100.200/32,224.0.0.0/4,"
        "255.255.255.255/32,::/128,fe80::/10,fd00:ec2::254/128,ff00::/8,127.0.0.4/31"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  // "0xa9fea9fe" is a host name to the inventory and 169.254.169.254 to the system resolver
  // (inet_aton): saved, then refused at poll time, for ICMP and SNMP alike.
  const auto meta = create_device(c, admin,
                                  R"({"name":"meta","address":"0xa9fea9fe","poll_interval_s":300,
                                      "snmp":{"version":"2c","community":"public"}})");
  auto r = poll_now(c, admin, meta);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto report = r.json().at("data");
  const std::string refused =
      "address 169.254.169.254 is refused by network.outbound_deny rule 169.254.169.254/32";
  CHECK_FALSE(report.at("icmp_outcome").at("ok").as_bool());
  CHECK(std::string(report.at("icmp_outcome").at("error").as_string()).find(refused) !=
        std::string::npos);
  CHECK_FALSE(report.at("snmp_outcome").at("ok").as_bool());
  CHECK(std::string(report.at("snmp_outcome").at("error").as_string()).find(refused) !=
        std::string::npos);

  // A literal in the configured deny list is refused when saved.
  auto denied = c.post_json("/api/v1/devices", R"({"name":"lo4","address":"127.0.0.5"})", admin);
  CHECK(denied.status == 400);
  CHECK(denied.error_code() == "OUTBOUND_DENIED");

  // 127.0.0.0/29 holds six hosts; .4 and .5 are refused and skipped.
  auto start =
      c.post_json("/api/v1/discovery", R"({"cidr":"127.0.0.0/29","timeout_ms":500})", admin);
  INFO(start.body);
  REQUIRE(start.status == 202);
  CHECK(start.json().at("data").at("progress").at("total") == 4);
  CHECK(start.json().at("data").at("progress").at("skipped") == 2);
  const auto id = std::string(start.json().at("data").at("id").as_string());
  boost::json::value job;
  REQUIRE(eventually([&] {
    job = c.get("/api/v1/discovery/" + id, admin).json().at("data");
    return job.at("state") == "done";
  }));
  INFO(boost::json::serialize(job));
  CHECK(job.at("progress").at("scanned") == 4);
  CHECK(job.at("progress").at("answered") == 4);
  std::vector<std::string> found;
  for (auto& h : job.at("hosts").as_array()) found.emplace_back(h.at("address").as_string());
  std::sort(found.begin(), found.end());
  CHECK(found == std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.6"});

  // A range that is refused whole is refused, naming the rule.
  auto metadata = c.post_json("/api/v1/discovery", R"({"cidr":"169.254.169.0/24"})", admin);
  INFO(metadata.body);
  CHECK(metadata.status == 400);
  CHECK(metadata.error_code() == "OUTBOUND_DENIED");
  CHECK(metadata.body.find("169.254.0.0/16") != std::string::npos);
  CHECK(server.running());
}

TEST_CASE("pollers: a host in a network namespace goes down; its child becomes unreachable",
          "[pollers][netns]") {
  NetnsHost host;
  REQUIRE(host.ok);  // this machine can make namespaces (support/catch_main.cpp probed it)
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_POLLERS_DOWN_AFTER", "2"},
                                    {"NETPULSE_POLLERS_ICMP_TIMEOUT_MS", "300"},
                                    {"NETPULSE_POLLERS_ICMP_ECHO_INTERVAL_MS", "50"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto gw = create_device(c, admin,
                                R"({"name":"ns-gw","address":")" + host.peer_ip +
                                    R"(","type":"router","poll_interval_s":1})");
  const auto child = create_device(c, admin,
                                   R"({"name":"ns-cpe","address":")" + host.child_ip +
                                       R"(","type":"cpe","poll_interval_s":1,"parents":[)" +
                                       std::to_string(gw) + "]}");
  auto status_of = [&](std::int64_t id) {
    auto r = c.get("/api/v1/devices/" + std::to_string(id), admin);
    return std::string(r.json().at("data").at("status").as_string());
  };
  CHECK(eventually([&] { return status_of(gw) == "up"; }));
  CHECK(eventually([&] { return status_of(child) == "up"; }));

  host.take_down();
  CHECK(eventually([&] { return status_of(gw) == "down"; }));
  CHECK(eventually([&] { return status_of(child) == "unreachable"; }));
  auto down = c.get("/api/v1/devices?status=down", admin);
  CHECK(down.json().at("pagination").at("total") == 1);
  // The event log has the gateway's way down, newest first.
  CHECK(eventually([&] {
    auto events = c.get("/api/v1/devices/" + std::to_string(gw) + "/events?kind=status", admin);
    return events.status == 200 && events.body.find("ns-gw is down (was up)") != std::string::npos;
  }));
  auto critical = c.get("/api/v1/events?severity=critical", admin);
  REQUIRE(critical.status == 200);
  CHECK(critical.json().at("pagination").at("total").as_int64() >= 1);
  CHECK(server.running());
}

TEST_CASE("pollers: after a restart the interfaces are known at once and the first poll has rates",
          "[pollers]") {
  TempDir dir;
  TempDir agent_dir;
  SnmpdProcess agent(agent_dir.path());
  std::int64_t id = 0;
  {
    ServerProcess server(dir.path());
    auto c = server.client();
    auto admin = login(c, kAdminEmail, kAdminPassword);
    id = create_device(c, admin,
                       R"({"name":"lo-restart","address":"127.0.0.1","poll_interval_s":3600,
                           "snmp":{"version":"2c","community":"public","port":)" +
                           std::to_string(agent.port()) + "}}");
    REQUIRE(poll_now(c, admin, id).status == 200);
    REQUIRE(server.terminate() == 0);
  }
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto path = "/api/v1/devices/" + std::to_string(id) + "/interfaces";
  auto before = c.get(path, admin);
  INFO(before.body);
  REQUIRE(before.status == 200);
  bool listed = false;
  const auto before_json = before.json();
  for (auto& i : before_json.at("data").as_array()) {
    if (i.at("name") != "lo") continue;
    listed = true;
    CHECK(i.at("oper_status") == 1);
    CHECK(i.at("admin_status") == 1);
    CHECK(i.at("in_bps").is_null());  // no rate before a poll of this run
  }
  CHECK(listed);
  auto runs = [&] {
    return c.get("/api/v1/pollers", admin)
        .json()
        .at("data")
        .at("server")
        .at("kinds")
        .at("snmp")
        .at("runs_started")
        .as_int64();
  };
  CHECK(runs() == 0);
  REQUIRE(poll_now(c, admin, id).status == 200);
  CHECK(runs() == 1);
  auto after = c.get(path, admin);
  INFO(after.body);
  bool rated = false;
  const auto after_json = after.json();
  for (auto& i : after_json.at("data").as_array()) {
    if (i.at("name") == "lo") rated = i.at("in_bps").is_number();
  }
  CHECK(rated);  // from the counters stored before the restart
}
