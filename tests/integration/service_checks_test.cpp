// TCP, HTTP(S) and DNS checks of a device, against the real binary and real peers on loopback:
// nginx (plain and TLS, with a CA the server is told to trust through its config), dnsmasq, a
// listener the test opens and closes, and a port nothing listens on. Checks are created,
// refused with the field named, run now, run by the scheduler, disabled, changed and removed;
// their state, events and samples are read back through the API.
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/peers.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::Dnsmasq;
using netpulse::test::eventually;
using netpulse::test::free_tcp_port;
using netpulse::test::HttpClient;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::Nginx;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using netpulse::test::TestPki;

namespace {

struct Api {
  HttpClient& c;
  std::string token;
  std::string device;  // "/api/v1/devices/<id>"

  std::int64_t add(const std::string& body) {
    auto r = c.post_json(device + "/checks", body, token);
    INFO(body << " -> " << r.body);
    REQUIRE(r.status == 201);
    auto j = r.json();
    CHECK(j.at("data").at("state") == "pending");
    return j.at("data").at("id").as_int64();
  }
  // Runs the check now; its state afterwards.
  boost::json::object run(std::int64_t id) {
    auto r = c.post_json(device + "/checks/" + std::to_string(id) + "/run", "{}", token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json().at("data").as_object();
  }
  HttpResponse get(const std::string& path) { return c.get(path, token); }
};

std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

}  // namespace

TEST_CASE("service checks: TCP, HTTP(S) and DNS against real peers through the API",
          "[pollers][checks]") {
  TempDir peers_dir;
  const auto pki = TestPki::make(peers_dir);
  TempDir nginx_dir, dns_dir, dir;
  Nginx nginx(nginx_dir, pki);
  Dnsmasq dnsmasq(dns_dir);
  // The peers listen on loopback, which service checks may reach only when allowed.
  ServerProcess server(dir.path(), {{"NETPULSE_POLLERS_CHECKS_CA_FILE", pki.ca},
                                    {"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"}});
  auto c = server.client();
  Api api{c, login(c, kAdminEmail, kAdminPassword), ""};
  auto created = c.post_json(
      "/api/v1/devices",
      R"({"name":"web-1","address":"127.0.0.1","type":"server","poll_interval_s":300})", api.token);
  REQUIRE(created.status == 201);
  api.device = "/api/v1/devices/" + std::to_string(created.json().at("data").at("id").as_int64());
  const auto plain = "http://127.0.0.1:" + std::to_string(nginx.http_port());

  // --- refused bodies name the field ---------------------------------------------------------
  struct Bad {
    std::string body, field;
  };
  const std::vector<Bad> bad = {
      {R"({"kind":"tcp","tcp":{"port":80}})", "name"},
      {R"({"name":"x","kind":"smtp"})", "kind"},
      {R"({"name":"x","kind":"tcp"})", "tcp"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":0}})", "tcp.port"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":"80"}})", "tcp.port"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":80},"http":{}})", "http"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":80,"host":"evil"}})", "tcp.host"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":80},"interval_s":1})", "interval_s"},
      {R"({"name":"x","kind":"tcp","tcp":{"port":80},"timeout_ms":600000})", "timeout_ms"},
      {R"({"name":"x","kind":"http","http":{"url":"ftp://127.0.0.1/"}})", "http.url"},
      {R"({"name":"x","kind":"http","http":{"url":"http://user@127.0.0.1/"}})", "http.url"},
      {R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/#frag"}})", "http.url"},
      {R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/","method":"DELETE"}})",
       "http.method"},
      {R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/","expected_status":[500,200]}})",
       "http.expected_status"},
      {R"({"name":"x","kind":"dns","dns":{"query":"a..b"}})", "dns.query"},
      {R"({"name":"x","kind":"dns","dns":{"query":"a.test","type":"TXT"}})", "dns.type"},
      {R"({"name":"x","kind":"dns","dns":{"query":"a.test","expected":"::1"}})", "dns.expected"},
      {R"({"name":")" + std::string(100, 'n') + R"(","kind":"tcp","tcp":{"port":80}})", "name"},
      {R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/)" + std::string(3000, 'a') +
           R"("}})",
       "http.url"},
  };
  for (auto& b : bad) {
    auto r = c.post_json(api.device + "/checks", b.body, api.token);
    INFO(b.body.substr(0, 200) << " -> " << r.body.substr(0, 300));
    CHECK(r.status == 400);
    CHECK(r.error_code() == "INVALID_INPUT");
    const auto j = r.json();
    REQUIRE(j.is_object());
    REQUIRE(j.as_object().contains("error"));
    CHECK(str(j.at("error").at("details").at("field")) == b.field);
  }
  CHECK(c.post_json("/api/v1/devices/999999/checks",
                    R"({"name":"x","kind":"tcp","tcp":{"port":1}})", api.token)
            .status == 404);

  // --- TCP -------------------------------------------------------------------------------------
  const auto tcp_open = api.add(R"({"name":"nginx-port","kind":"tcp","tcp":{"port":)" +
                                std::to_string(nginx.http_port()) + "}}");
  auto s = api.run(tcp_open);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "passing");
  CHECK(s.at("last").at("connect_ms").to_number<double>() >= 0);
  CHECK(s.at("last_error").is_null());
  CHECK(s.at("runs") == 1);
  CHECK(s.at("tcp").at("port") == nginx.http_port());

  // A port nobody listens on fails (after its retry); then something listens there and it
  // passes again, with an event each way.
  const auto port = free_tcp_port();
  const auto flaky = api.add(R"({"name":"flaky","kind":"tcp","retries":1,"timeout_ms":2000,)"
                             R"("tcp":{"port":)" +
                             std::to_string(port) + "}}");
  s = api.run(flaky);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "SERVICE_UNAVAILABLE");
  CHECK(s.at("last").at("attempts") == 2);
  CHECK(s.at("failed_runs") == 1);
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor listener(io, {boost::asio::ip::make_address("127.0.0.1"), port});
    s = api.run(flaky);
    CHECK(s.at("state") == "passing");
    CHECK(s.at("runs") == 2);
  }
  // Events are written in batches: wait for both.
  HttpResponse events;
  CHECK(eventually(
      [&] {
        events = api.get(api.device + "/events?kind=check");
        return events.status == 200 &&
               events.body.find(R"(tcp check \"flaky\" fails: )") != std::string::npos &&
               events.body.find(R"(tcp check \"flaky\" passes again)") != std::string::npos;
      },
      std::chrono::seconds(10)));
  INFO(events.body);
  CHECK(events.body.find("nginx-port") == std::string::npos);  // passing from the start: quiet

  // --- HTTP and HTTPS ----------------------------------------------------------------------
  const auto http_ok = api.add(R"({"name":"plain","kind":"http","http":{"url":")" + plain +
                               R"(/","keyword":"plain nginx","expected_status":200}})");
  s = api.run(http_ok);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "passing");
  CHECK(s.at("last").at("http_status") == 200);
  CHECK(s.at("last").at("response_ms").to_number<double>() > 0);
  CHECK(s.at("http").at("expected_status") == boost::json::array{200, 200});

  const auto http_down =
      api.add(R"({"name":"down","kind":"http","http":{"url":")" + plain + R"(/down"}})");
  s = api.run(http_down);
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "UNEXPECTED_ANSWER");
  CHECK(s.at("last_error") == "HTTP status 503 is not in 200-399");
  CHECK(s.at("last").at("http_status") == 503);

  const auto keyword = api.add(R"({"name":"keyword","kind":"http","http":{"url":")" + plain +
                               R"(/","keyword":"not there"}})");
  s = api.run(keyword);
  CHECK(s.at("state") == "failing");
  CHECK(str(s.at("last_error")).find("\"not there\" is not in the body") != std::string::npos);

  // https://check.test:PORT/: the name is the certificate's, the connection goes to the device's
  // address, and the CA comes from pollers.checks_ca_file.
  const auto https = api.add(R"({"name":"tls","kind":"http","http":{"url":"https://check.test:)" +
                             std::to_string(nginx.https_port()) + R"(/","keyword":"secure"}})");
  s = api.run(https);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "passing");
  const auto days = s.at("last").at("tls_days_to_expiry").as_int64();
  CHECK((days == 29 || days == 30));

  // The same server by IP with a host name the certificate lacks... is not: 127.0.0.1 is in
  // its SANs. A name it lacks fails verification, unless verification is off.
  const auto wrong_name =
      api.add(R"({"name":"tls-name","kind":"http","http":{"url":"https://other.test:)" +
              std::to_string(nginx.https_port()) + R"(/"}})");
  s = api.run(wrong_name);
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "PROTOCOL_ERROR");
  CHECK(s.at("last").at("tls_days_to_expiry").is_int64());
  auto patched = c.patch_json(api.device + "/checks/" + std::to_string(wrong_name),
                              R"({"http":{"verify_tls":false}})", api.token);
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  CHECK(patched.json().at("data").at("state") == "pending");  // changed: starts again
  CHECK(str(patched.json().at("data").at("http").at("url")) ==
        "https://other.test:" + std::to_string(nginx.https_port()) + "/");
  CHECK(api.run(wrong_name).at("state") == "passing");

  // --- DNS -----------------------------------------------------------------------------------
  // The device is the DNS server (no server given): dnsmasq on the device's address.
  const auto dns_ok =
      api.add(R"({"name":"resolver","kind":"dns","dns":{"query":"check.test","port":)" +
              std::to_string(dnsmasq.port()) + R"(,"expected":"192.0.2.10"}})");
  s = api.run(dns_ok);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "passing");
  CHECK(s.at("last").at("answers") == boost::json::array{"192.0.2.10"});
  CHECK(s.at("last").at("resolution_ms").to_number<double>() >= 0);
  const auto dns_v6 =
      api.add(R"({"name":"resolver-v6","kind":"dns","dns":{"query":"check.test","type":"AAAA",)"
              R"("server":"127.0.0.1","port":)" +
              std::to_string(dnsmasq.port()) + R"(,"expected":"2001:db8::99"}})");
  s = api.run(dns_v6);
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error") == "2001:db8::99 is not among the answers (2001:db8::10)");
  const auto nx = api.add(R"({"name":"nx","kind":"dns","dns":{"query":"nx.test","port":)" +
                          std::to_string(dnsmasq.port()) + "}}");
  s = api.run(nx);
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "NOT_FOUND");

  // --- listing, detail, poll now, the store -------------------------------------------------
  auto list = api.get(api.device + "/checks");
  REQUIRE(list.status == 200);
  auto items = list.json().at("data").as_array();
  CHECK(items.size() == 10);
  auto detail = api.get(api.device).json().at("data").at("latest").at("checks");
  INFO(boost::json::serialize(detail));
  CHECK(detail.at("passing").as_int64() == 6);
  CHECK(detail.at("failing").as_int64() == 4);

  auto dup = c.post_json(api.device + "/checks",
                         R"({"name":"plain","kind":"tcp","tcp":{"port":80}})", api.token);
  CHECK(dup.status == 409);

  auto poll = c.post_json(api.device + "/poll", "{}", api.token);
  INFO(poll.body);
  REQUIRE(poll.status == 200);
  CHECK(poll.json().at("data").at("service_checks").as_array().size() == 10);

  auto q = api.get("/api/v1/query?query=check_up%7Bdevice%3D%22web-1%22%2Ccheck%3D%22plain%22%7D");
  INFO(q.body);
  CHECK(q.body.find("\"kind\":\"http\"") != std::string::npos);
  auto tls = api.get("/api/v1/query?query=tls_cert_expiry_days%7Bcheck%3D%22tls%22%7D");
  CHECK(tls.body.find("web-1") != std::string::npos);
  auto connect = api.get("/api/v1/query?query=tcp_connect_ms");
  CHECK(connect.body.find("nginx-port") != std::string::npos);

  // --- disabled, scheduled, removed ---------------------------------------------------------
  REQUIRE(c.patch_json(api.device + "/checks/" + std::to_string(keyword), R"({"enabled":false})",
                       api.token)
              .status == 200);
  auto disabled =
      c.post_json(api.device + "/checks/" + std::to_string(keyword) + "/run", "{}", api.token);
  CHECK(disabled.status == 409);
  CHECK(c.patch_json(api.device + "/checks/" + std::to_string(keyword), R"({"kind":"tcp"})",
                     api.token)
            .status == 400);

  // A check every 10 s runs by itself.
  REQUIRE(c.patch_json(api.device + "/checks/" + std::to_string(tcp_open), R"({"interval_s":10})",
                       api.token)
              .status == 200);
  CHECK(eventually(
      [&] {
        auto r = api.get(api.device + "/checks/" + std::to_string(tcp_open));
        return r.status == 200 && r.json().at("data").at("runs").as_int64() >= 1;
      },
      std::chrono::seconds(25)));
  auto health = api.get("/api/v1/pollers").json().at("data").at("kinds");
  INFO(boost::json::serialize(health));
  CHECK(health.at("tcp").at("checks").as_int64() == 2);
  CHECK(health.at("http").at("checks").as_int64() == 4);  // "keyword" is disabled
  CHECK(health.at("dns").at("checks").as_int64() == 3);

  REQUIRE(c.del(api.device + "/checks/" + std::to_string(flaky), api.token).status == 204);
  CHECK(api.get(api.device + "/checks/" + std::to_string(flaky)).status == 404);
  CHECK(c.post_json(api.device + "/checks/" + std::to_string(flaky) + "/run", "{}", api.token)
            .status == 404);

  // Everything but the state survives a restart.
  server.terminate();
  ServerProcess again(dir.path(), {{"NETPULSE_POLLERS_CHECKS_CA_FILE", pki.ca},
                                   {"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"}});
  auto c2 = again.client();
  Api api2{c2, login(c2, kAdminEmail, kAdminPassword), api.device};
  auto after = api2.get(api.device + "/checks");
  REQUIRE(after.status == 200);
  CHECK(after.json().at("data").as_array().size() == 9);
  CHECK(api2.run(https).at("state") == "passing");
}

TEST_CASE(
    "service checks: the outbound policy refuses loopback, metadata and names resolving to them, "
    "literals when saved and the rest when run",
    "[pollers][checks][outbound]") {
  TempDir dir;
  ServerProcess server(dir.path());  // the default policy
  auto c = server.client();
  Api api{c, login(c, kAdminEmail, kAdminPassword), ""};
  // ICMP/SNMP may poll the server's own host: the device itself is fine.
  auto created =
      c.post_json("/api/v1/devices",
                  R"({"name":"self","address":"127.0.0.1","poll_interval_s":300})", api.token);
  INFO(created.body);
  REQUIRE(created.status == 201);
  api.device = "/api/v1/devices/" + std::to_string(created.json().at("data").at("id").as_int64());

  // --- literals are refused when saved, naming the field, the address and the rule ------------
  struct Refused {
    std::string body, field, address, list, rule;
  };
  const std::vector<Refused> refused = {
      {R"({"name":"x","kind":"tcp","tcp":{"port":80}})", "device.address", "127.0.0.1",
       "network.fetch_deny", "127.0.0.0/8"},
      {R"({"name":"x","kind":"http","http":{"url":"http://169.254.169.254/latest/meta-data/","use_device_address":false}})",
       "http.url", "169.254.169.254", "network.outbound_deny", "169.254.169.254/32"},
      {R"({"name":"x","kind":"http","http":{"url":"http://[::ffff:169.254.169.254]/","use_device_address":false}})",
       "http.url", "169.254.169.254", "network.outbound_deny", "169.254.169.254/32"},
      {R"({"name":"x","kind":"http","http":{"url":"http://[fd00:ec2::254]/","use_device_address":false}})",
       "http.url", "fd00:ec2::254", "network.outbound_deny", "fd00:ec2::254/128"},
      {R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1:8080/api/v1/users","use_device_address":false}})",
       "http.url", "127.0.0.1", "network.fetch_deny", "127.0.0.0/8"},
      {R"({"name":"x","kind":"http","http":{"url":"http://portal.test/","use_device_address":true}})",
       "device.address", "127.0.0.1", "network.fetch_deny", "127.0.0.0/8"},
      {R"({"name":"x","kind":"dns","dns":{"query":"a.test"}})", "device.address", "127.0.0.1",
       "network.fetch_deny", "127.0.0.0/8"},
      {R"({"name":"x","kind":"dns","dns":{"query":"a.test","server":"169.254.169.254"}})",
       "dns.server", "169.254.169.254", "network.outbound_deny", "169.254.169.254/32"},
  };
  for (auto& r : refused) {
    auto res = c.post_json(api.device + "/checks", r.body, api.token);
    INFO(r.body << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(res.error_code() == "OUTBOUND_DENIED");
    const auto j = res.json();
    REQUIRE(j.is_object());
    REQUIRE(j.as_object().contains("error"));
    const auto& e = j.at("error");
    CHECK(str(e.at("details").at("field")) == r.field);
    CHECK(str(e.at("details").at("address")) == r.address);
    CHECK(str(e.at("details").at("rule")) == r.rule);
    // "address 169.254.169.254 is refused by ..." ("address ::ffff:169.254.169.254
    // (169.254.169.254) is refused by ..." for the mapped form).
    const auto message = str(e.at("message"));
    CHECK(message.starts_with("address "));
    CHECK(message.find(r.address + (r.body.find("::ffff:") == std::string::npos ? "" : ")") +
                       " is refused by " + r.list + " rule " + r.rule) != std::string::npos);
  }
  CHECK(api.get(api.device + "/checks").json().at("data").as_array().empty());

  // --- names are judged once resolved: saved, then refused when run ---------------------------
  // "2852039166" is 169.254.169.254 to the system resolver (inet_aton); "localhost" is
  // loopback from /etc/hosts. Neither needs DNS.
  const auto metadata_by_number = api.add(
      R"({"name":"by-number","kind":"http","timeout_ms":3000,)"
      R"("http":{"use_device_address":false,"url":"http://2852039166/latest/meta-data/"}})");
  auto s = api.run(metadata_by_number);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "OUTBOUND_DENIED");
  CHECK(str(s.at("last_error"))
            .find("address 169.254.169.254 is refused by network.outbound_deny rule "
                  "169.254.169.254/32") != std::string::npos);

  const auto local_api = api.add(R"({"name":"local-api","kind":"http","timeout_ms":3000,)"
                                 R"("http":{"use_device_address":false,"url":"http://localhost:)" +
                                 std::to_string(server.port()) + R"(/api/v1/openapi.json"}})");
  s = api.run(local_api);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "OUTBOUND_DENIED");
  CHECK(str(s.at("last_error")).find("is refused by network.fetch_deny rule") != std::string::npos);

  // A device known by a name that resolves to loopback: its TCP check is refused when run.
  auto named =
      c.post_json("/api/v1/devices",
                  R"({"name":"named","address":"localhost","poll_interval_s":300})", api.token);
  REQUIRE(named.status == 201);
  Api by_name{c, api.token,
              "/api/v1/devices/" + std::to_string(named.json().at("data").at("id").as_int64())};
  const auto port_scan = by_name.add(R"({"name":"scan","kind":"tcp","tcp":{"port":)" +
                                     std::to_string(server.port()) + "}}");
  s = by_name.run(port_scan);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "OUTBOUND_DENIED");
  CHECK(s.at("last").at("connect_ms").is_null());
  CHECK(server.running());
}

TEST_CASE("service checks: a redirect hop to a refused address is refused when run",
          "[pollers][checks][outbound]") {
  TempDir peers_dir;
  const auto pki = TestPki::make(peers_dir);
  TempDir nginx_dir, dir;
  Nginx nginx(nginx_dir, pki);
  // 127.0.0.1 allowed; the rest of loopback stays refused (fetch_deny 127.0.0.0/8).
  ServerProcess server(dir.path(), {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.1"}});
  auto c = server.client();
  Api api{c, login(c, kAdminEmail, kAdminPassword), ""};
  auto created =
      c.post_json("/api/v1/devices",
                  R"({"name":"web","address":"127.0.0.1","poll_interval_s":300})", api.token);
  REQUIRE(created.status == 201);
  api.device = "/api/v1/devices/" + std::to_string(created.json().at("data").at("id").as_int64());
  const auto plain = "http://127.0.0.1:" + std::to_string(nginx.http_port());

  const auto ok = api.add(R"({"name":"ok","kind":"http","http":{"url":")" + plain + R"(/"}})");
  CHECK(api.run(ok).at("state") == "passing");

  const auto to_metadata = api.add(R"({"name":"to-metadata","kind":"http","timeout_ms":3000,)"
                                   R"("http":{"max_redirects":3,"url":")" +
                                   plain + R"(/to-metadata"}})");
  auto s = api.run(to_metadata);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "OUTBOUND_DENIED");
  CHECK(str(s.at("last_error"))
            .find("address 169.254.169.254 is refused by network.outbound_deny rule "
                  "169.254.169.254/32 (redirect 1 to http://169.254.169.254/latest/meta-data/)") !=
        std::string::npos);

  const auto to_loopback = api.add(R"({"name":"to-loopback","kind":"http","timeout_ms":3000,)"
                                   R"("http":{"max_redirects":3,"url":")" +
                                   plain + R"(/to-other-loopback"}})");
  s = api.run(to_loopback);
  INFO(boost::json::serialize(s));
  CHECK(s.at("state") == "failing");
  CHECK(s.at("last_error_code") == "OUTBOUND_DENIED");
  CHECK(str(s.at("last_error"))
            .find("address 127.0.0.2 is refused by network.fetch_deny rule 127.0.0.0/8") !=
        std::string::npos);
}
