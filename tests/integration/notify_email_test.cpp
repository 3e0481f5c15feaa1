// Email through the server: [notify.smtp] pointing at a real SMTP server (aiosmtpd,
// tests/support/smtp_peer.py), an email channel and a policy; an alert raised by an ingested
// sample arrives as one well-formed message whose subject names it; a relay that refuses with
// 550 makes a dead letter that keeps the server's answer. Without a relay, an email channel is
// refused when it is saved.
#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/smtp_peer.hpp"
#include "support/temp_dir.hpp"

using namespace netpulse;
using namespace netpulse::test;

namespace {

void raise_alert(HttpClient& c, const std::string& admin, const std::string& metric) {
  raise_threshold_alert(c, admin, ingest_key(c, admin), metric, "critical");
}

std::map<std::string, std::string> relay_env(std::uint16_t port) {
  return {{"NETPULSE_NOTIFY_SMTP_HOST", "127.0.0.1"},
          {"NETPULSE_NOTIFY_SMTP_PORT", std::to_string(port)},
          {"NETPULSE_NOTIFY_SMTP_TLS", "none"},
          {"NETPULSE_NOTIFY_SMTP_FROM", "netpulse@isp.example"},
          {"NETPULSE_NOTIFY_SMTP_TIMEOUT_S", "5"},
          {"NETPULSE_NOTIFY_RETRY_BASE_MS", "200"},
          {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}};
}

void email_policy(HttpClient& c, const std::string& admin) {
  const auto channel = created_id(c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"NOC mail","kind":"email","settings":{"to":["noc@isp.example"]}})", admin));
  created_id(c.post_json("/api/v1/notification-policies",
                         R"({"name":"mail","group_wait_s":0,"targets":[{"channel_id":)" +
                             std::to_string(channel) + "}]}",
                         admin));
}

}  // namespace

TEST_CASE("notify: an alert arrives by email through the configured relay",
          "[notify][integration][smtp]") {
  TempDir dir;
  SmtpPeer relay(dir, SmtpPeerOptions{});
  ServerProcess server(dir.path(), relay_env(relay.port()));
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  email_policy(c, admin);
  raise_alert(c, admin, "mail_temp");
  REQUIRE(eventually([&] { return relay.message_count() >= 1; }, std::chrono::seconds(20)));
  const auto m = relay.message(1);
  CHECK(m.at("mail_from").as_string() == "netpulse@isp.example");
  CHECK(m.at("rcpt_tos").as_array() == boost::json::array{"noc@isp.example"});
  CHECK(m.at("defects").as_array().empty());
  const auto& headers = m.at("headers").as_object();
  CHECK(std::string(headers.at("subject").as_string()).find("mail_temp high") != std::string::npos);
  CHECK(headers.contains("x-netpulse-delivery"));
  INFO(m.at("text"));
  CHECK(std::string(m.at("text").as_string()).find("mail_temp high") != std::string::npos);
  CHECK(std::string(m.at("html").as_string()).find("mail_temp high") != std::string::npos);
  REQUIRE(eventually([&] {
    auto l = c.get("/api/v1/notifications", admin);
    return l.status == 200 && l.json().at("data").as_array().size() == 1 &&
           l.json().at("data").at(0).at("status").as_string() == "delivered";
  }));
  CHECK(relay.message_count() == 1);
}

TEST_CASE("notify: a relay's 550 is a dead letter that keeps the server's answer",
          "[notify][integration][smtp]") {
  TempDir dir;
  SmtpPeerOptions refusing;
  refusing.refuse = "data";
  SmtpPeer relay(dir, refusing);
  ServerProcess server(dir.path(), relay_env(relay.port()));
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  email_policy(c, admin);
  raise_alert(c, admin, "mail_load");
  REQUIRE(eventually([&] {
    auto l = c.get("/api/v1/notifications/dead-letters", admin);
    return l.status == 200 && l.json().at("data").as_array().size() == 1;
  }));
  const auto l = c.get("/api/v1/notifications/dead-letters", admin).json();
  const auto& n = l.at("data").at(0);
  CHECK(n.at("attempts").as_int64() == 1);
  CHECK(n.at("last_status").as_int64() == 554);
  CHECK(std::string(n.at("last_error").as_string()).find("554") != std::string::npos);
}

TEST_CASE("notify: without a relay an email channel is refused when saved",
          "[notify][integration]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto r = c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"NOC mail","kind":"email","settings":{"to":["noc@isp.example"]}})", admin);
  INFO(r.body);
  CHECK(r.status == 400);
  CHECK(r.body.find("notify.smtp") != std::string::npos);
}
