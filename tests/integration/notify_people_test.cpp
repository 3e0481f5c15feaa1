// People in the notifier against the real binary: a policy paging a user sends an SMS to the
// user's phone through the organization's gateway (a real HTTP receiver), the delivery log
// naming the user; users' contact methods (their own through
// /me/contacts, anyone's in the organization for admins) refused field by field; on-call
// schedules CRUD, who is on call now and the refusal to delete one a policy pages; and the in-app
// inbox, which each user sees alone — not another user's, not another organization's.
#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

using namespace netpulse::test;
namespace json = boost::json;

namespace {

std::int64_t created(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto doc = r.json();
  return doc.at("data").at("id").as_int64();
}

// The field an INVALID_INPUT answer names.
std::string refused_field(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(r.status == 400);
  REQUIRE(r.error_code() == "INVALID_INPUT");
  auto doc = r.json();
  return std::string(doc.at("error").at("details").at("field").as_string());
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct People {
  TempDir dir;
  ServerProcess server{dir.path(),
                       {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8"},
                        {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}}};
  HttpClient c = server.client();
  std::string admin, ana, ben, admin_b;
  std::int64_t admin_id = 0, ana_id = 0, ben_id = 0, admin_b_id = 0;

  People() {
    admin = login(c, kAdminEmail, kAdminPassword);
    admin_id = me(admin);
    ana_id = user("ana@org-a.example", "operator", "ana-a-password1");
    ben_id = user("ben@org-a.example", "viewer", "ben-a-password1");
    ana = login(c, "ana@org-a.example", "ana-a-password1");
    ben = login(c, "ben@org-a.example", "ben-a-password1");
    auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", admin);
    REQUIRE(org.status == 201);
    auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--role", "admin",
                             "--org", "org-b", "--password", "boss-b-password"},
                            {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
    INFO(cli.output);
    REQUIRE(cli.exit_code == 0);
    admin_b = login(c, "boss@org-b.example", "boss-b-password");
    admin_b_id = me(admin_b);
  }

  std::int64_t me(const std::string& token) {
    auto r = c.get("/api/v1/auth/me", token);
    REQUIRE(r.status == 200);
    auto doc = r.json();
    return doc.at("data").at("id").as_int64();
  }

  std::int64_t user(const std::string& email, const std::string& role,
                    const std::string& password) {
    return created(c.post_json("/api/v1/users",
                               R"({"email":")" + email + R"(","name":")" + email + R"(","role":")" +
                                   role + R"(","password":")" + password + R"("})",
                               admin));
  }

  json::array inbox(const std::string& token, const std::string& query = "") {
    auto r = c.get("/api/v1/me/notifications" + query, token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto doc = r.json();
    return doc.at("data").as_array();
  }
};

}  // namespace

TEST_CASE("notify people: contact methods are validated field by field and kept per user",
          "[notify][integration]") {
  People p;
  const auto hook = created(p.c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"hook","kind":"webhook","settings":{"url":"http://127.0.0.1:9/x"}})", p.admin));
  const auto gateway = created(p.c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"sms","kind":"sms_http","settings":{"url":"http://127.0.0.1:9/sms",)"
      R"("body_format":"form","body_template":"to={{to}}&text={{text}}","to":["+10000000000"]}})",
      p.admin));
  const std::vector<std::pair<std::string, std::string>> refused = {
      {R"({"sms":{"phone":"0712 345 678","channel_id":1}})", "sms.phone"},
      {R"({"sms":{"phone":"+254712345678","channel_id":)" + std::to_string(hook) + "}}",
       "sms.channel_id"},
      {R"({"telegram":{"chat_id":"12345","channel_id":)" + std::to_string(gateway) + "}}",
       "telegram.channel_id"},
      {R"({"email":{"address":"ana at example"}})", "email.address"},
      {R"({"quiet_hours":{"time_zone":"Europe/Atlantis","from":"22:00","to":"07:00"}})",
       "quiet_hours.time_zone"},
      {R"({"quiet_hours":{"from":"22:00","to":"7am"}})", "quiet_hours.to"},
      {R"({"pager":true})", "pager"},
  };
  for (const auto& [body, field] : refused) {
    INFO(body);
    CHECK(refused_field(p.c.put_json("/api/v1/me/contacts", body, p.ana)) == field);
  }
  const std::string good =
      R"({"email":{"enabled":false},"sms":{"phone":"+254712345678","channel_id":)" +
      std::to_string(gateway) +
      R"(},"quiet_hours":{"time_zone":"Africa/Nairobi","from":"22:00","to":"06:00",)"
      R"("weekdays":["sat","sun"]}})";
  auto put = p.c.put_json("/api/v1/me/contacts", good, p.ana);
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto got = p.c.get("/api/v1/me/contacts", p.ana);
  REQUIRE(got.status == 200);
  auto doc = got.json();
  CHECK(doc.at("data").at("sms").at("phone").as_string() == "+254712345678");
  CHECK(doc.at("data").at("quiet_hours").at("weekdays") == json::array{"sun", "sat"});
  // Ben's are his own: the defaults.
  auto bens = p.c.get("/api/v1/me/contacts", p.ben);
  REQUIRE(bens.status == 200);
  auto bdoc = bens.json();
  CHECK(bdoc.at("data").at("sms").is_null());
  CHECK(bdoc.at("data").at("email").at("enabled").as_bool());
  // An admin sets Ben's; Ben (a viewer) may not set Ana's; another organization's admin sees
  // neither.
  auto by_admin = p.c.put_json("/api/v1/users/" + std::to_string(p.ben_id) + "/contacts",
                               R"({"email":{"address":"ben-pager@org-a.example"}})", p.admin);
  REQUIRE(by_admin.status == 200);
  auto bens_now = p.c.get("/api/v1/me/contacts", p.ben).json();
  CHECK(bens_now.at("data").at("email").at("address").as_string() == "ben-pager@org-a.example");
  CHECK(
      p.c.put_json("/api/v1/users/" + std::to_string(p.ana_id) + "/contacts", "{}", p.ben).status ==
      403);
  auto foreign = p.c.get("/api/v1/users/" + std::to_string(p.ana_id) + "/contacts", p.admin_b);
  CHECK(foreign.status == 404);
  CHECK(foreign.body.find("254712345678") == std::string::npos);
}

TEST_CASE("notify people: on-call schedules CRUD, who is on call now, and in-use refusals",
          "[notify][integration]") {
  People p;
  const auto users = "[" + std::to_string(p.ana_id) + "," + std::to_string(p.ben_id) + "]";
  // Another organization's user is refused, naming the place.
  auto mixed = p.c.post_json("/api/v1/oncall-schedules",
                             R"({"name":"mixed","rotation":{"users":[)" + std::to_string(p.ana_id) +
                                 "," + std::to_string(p.admin_b_id) + R"(],"start":"2026-01-01"}})",
                             p.admin);
  CHECK(refused_field(mixed) == "rotation.users[1]");
  CHECK(refused_field(p.c.post_json("/api/v1/oncall-schedules",
                                    R"({"name":"x","time_zone":"Nowhere","rotation":{"users":)" +
                                        users + R"(,"start":"2026-01-01"}})",
                                    p.admin)) == "time_zone");

  // Daily at 00:00 UTC from 2026-01-01: Ana on even days since, Ben on odd ones.
  const auto id = created(p.c.post_json("/api/v1/oncall-schedules",
                                        R"({"name":"NOC-L1","time_zone":"UTC","rotation":{)"
                                        R"("users":)" +
                                            users +
                                            R"(,"handover":{"time":"00:00"},"length_days":1,)"
                                            R"("start":"2026-01-01"}})",
                                        p.admin));
  const auto path = "/api/v1/oncall-schedules/" + std::to_string(id);
  const auto t = now_ms();
  const std::int64_t day = 86'400'000, start = 1'767'225'600'000;
  const auto expected = ((t - start) / day) % 2 == 0 ? p.ana_id : p.ben_id;
  auto current = p.c.get(path + "/current", p.ben);  // viewers read schedules
  INFO(current.body);
  REQUIRE(current.status == 200);
  auto now = current.json();
  CHECK(now.at("data").at("user_id").as_int64() == expected);
  CHECK(now.at("data").at("shifts").as_array().size() >= 14);
  CHECK(now.at("data").at("shifts").at(1).at("user_id").as_int64() ==
        (expected == p.ana_id ? p.ben_id : p.ana_id));

  // An override for the other user, covering now, wins until it ends.
  const auto other = expected == p.ana_id ? p.ben_id : p.ana_id;
  auto schedule = p.c.get(path, p.admin).json().at("data").as_object();
  schedule["name"] = "NOC-L1 (renamed)";
  schedule["overrides"] = json::array{json::object{{"user_id", other},
                                                   {"start_ms", t - 3'600'000},
                                                   {"end_ms", t + 3'600'000},
                                                   {"reason", "swap"}}};
  auto put = p.c.put_json(path, json::serialize(schedule), p.admin);
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto after = p.c.get(path + "/current", p.admin).json();
  CHECK(after.at("data").at("user_id").as_int64() == other);
  CHECK(after.at("data").at("shifts").at(0).at("override").as_bool());
  auto list = p.c.get("/api/v1/oncall-schedules", p.admin).json();
  REQUIRE(list.at("data").as_array().size() == 1);
  CHECK(list.at("data").at(0).at("name").as_string() == "NOC-L1 (renamed)");
  // Operators manage schedules, viewers do not; another organization does not see it.
  CHECK(p.c.put_json(path, json::serialize(schedule), p.ben).status == 403);
  CHECK(p.c.get(path, p.admin_b).status == 404);
  CHECK(p.c.get("/api/v1/oncall-schedules", p.admin_b).json().at("data").as_array().empty());

  // A policy paging it: the schedule cannot be deleted; a policy naming another org's user or a
  // missing schedule is refused naming the target.
  const auto policy =
      created(p.c.post_json("/api/v1/notification-policies",
                            R"({"name":"night","targets":[{"user_id":)" + std::to_string(p.ana_id) +
                                R"(}],"escalation":[{"after_s":300,"targets":[{"schedule_id":)" +
                                std::to_string(id) + "}]}]}",
                            p.admin));
  CHECK(refused_field(p.c.post_json(
            "/api/v1/notification-policies",
            R"({"name":"bad","targets":[{"user_id":)" + std::to_string(p.admin_b_id) + "}]}",
            p.admin)) == "targets[0]");
  CHECK(refused_field(p.c.post_json("/api/v1/notification-policies",
                                    R"({"name":"bad","targets":[{"user_id":)" +
                                        std::to_string(p.ana_id) +
                                        R"(}],"escalation":[{"after_s":60,)"
                                        R"("targets":[{"schedule_id":999}]}]})",
                                    p.admin)) == "escalation[0].targets[0]");
  auto del = p.c.del(path, p.admin);
  INFO(del.body);
  CHECK(del.status == 409);
  CHECK(del.body.find("night") != std::string::npos);
  REQUIRE(p.c.del("/api/v1/notification-policies/" + std::to_string(policy), p.admin).status ==
          204);
  CHECK(p.c.del(path, p.admin).status == 204);
  CHECK(p.c.get(path, p.admin).status == 404);
}

TEST_CASE("notify people: each user sees and marks only their own in-app notifications",
          "[notify][integration]") {
  People p;
  // An in_app channel for Ana alone, and one for every user of the organization.
  const auto just_ana =
      created(p.c.post_json("/api/v1/notification-channels",
                            R"({"name":"ana only","kind":"in_app","settings":{"user_ids":[)" +
                                std::to_string(p.ana_id) + "]}}",
                            p.admin));
  const auto everyone =
      created(p.c.post_json("/api/v1/notification-channels",
                            R"({"name":"everyone","kind":"in_app","settings":{}})", p.admin));
  for (auto ch : {just_ana, everyone}) {
    auto r = p.c.post_json("/api/v1/notification-channels/" + std::to_string(ch) + "/test", "{}",
                           p.admin);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto doc = r.json();
    CHECK(doc.at("data").at("delivered").as_bool());
  }
  REQUIRE(eventually([&] { return p.inbox(p.ana).size() == 2; }));
  REQUIRE(eventually([&] { return p.inbox(p.ben).size() == 1; }));
  CHECK(p.inbox(p.admin).size() == 1);
  CHECK(p.inbox(p.admin_b).empty());

  const auto anas = p.inbox(p.ana);
  const auto first = anas.at(0).at("id").as_int64();
  const auto read = "/api/v1/me/notifications/" + std::to_string(first) + "/read";
  // Neither Ben nor another organization's admin can mark it.
  CHECK(p.c.post_json(read, "{}", p.ben).status == 404);
  CHECK(p.c.post_json(read, "{}", p.admin_b).status == 404);
  CHECK(p.inbox(p.ana).size() == 2);
  auto mark = p.c.post_json(read, "{}", p.ana);
  INFO(mark.body);
  CHECK(mark.status == 204);
  CHECK(p.inbox(p.ana).size() == 1);
  auto all = p.inbox(p.ana, "?all=true");
  REQUIRE(all.size() == 2);
  CHECK(all.at(0).at("read").as_bool());
  CHECK(p.c.get("/api/v1/me/notifications?all=maybe", p.ana).status == 400);
  // read-all marks Ana's only.
  auto read_all = p.c.post_json("/api/v1/me/notifications/read-all", "{}", p.ana);
  REQUIRE(read_all.status == 200);
  auto rdoc = read_all.json();
  CHECK(rdoc.at("data").at("marked").as_int64() == 1);
  CHECK(p.inbox(p.ana).empty());
  CHECK(p.inbox(p.ben).size() == 1);
  // Paged as other lists.
  auto paged = p.c.get("/api/v1/me/notifications?all=true&per_page=1", p.ana);
  REQUIRE(paged.status == 200);
  auto pdoc = paged.json();
  CHECK(pdoc.at("data").as_array().size() == 1);
  CHECK(pdoc.at("pagination").at("total").as_int64() == 2);
}

TEST_CASE("notify people: an alert paging a user reaches their phone and the log names them",
          "[notify][integration]") {
  People p;
  WebhookReceiver gateway(p.dir, "sms", {"200"});
  const auto sms = created(p.c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"sms","kind":"sms_http","settings":{"url":")" + gateway.url("/send") +
          R"(","body_format":"form","body_template":"to={{to}}&text={{text}}",)"
          R"("to":["+10000000000"]}})",
      p.admin));
  REQUIRE(p.c.put_json("/api/v1/me/contacts",
                       R"({"email":{"enabled":false},"sms":{"phone":"+254712345678",)"
                       R"("channel_id":)" +
                           std::to_string(sms) + "}}",
                       p.ana)
              .status == 200);
  created(p.c.post_json("/api/v1/notification-policies",
                        R"({"name":"page ana","group_wait_s":0,"modes":{"warning":"immediate"},)"
                        R"("targets":[{"user_id":)" +
                            std::to_string(p.ana_id) + "}]}",
                        p.admin));
  created(p.c.post_json("/api/v1/alert-rules",
                        R"({"name":"people_temp high","kind":"threshold",)"
                        R"("selector":"people_temp","condition":{"op":">","value":90},"for_s":0})",
                        p.admin));
  const auto ingest = ingest_key(p.c, p.admin);
  write_lines(p.c, ingest,
              "people_temp,host=core-1 value=95 " + std::to_string(now_ms() / 1000 - 1) + "\n");

  REQUIRE(eventually([&] { return gateway.requests().size() == 1; }, std::chrono::seconds(30)));
  const auto request = gateway.requests().front();
  const std::string body(request.at("body").as_string());
  CHECK(body.find("to=%2B254712345678") != std::string::npos);
  CHECK(body.find("10000000000") == std::string::npos);
  json::array log;
  REQUIRE(eventually([&] {
    auto r = p.c.get("/api/v1/notifications", p.admin);
    if (r.status != 200) return false;
    auto doc = r.json();
    log = doc.at("data").as_array();
    return log.size() == 1 && log.at(0).at("status").as_string() == "delivered";
  }));
  CHECK(log.at(0).at("recipient_user").as_int64() == p.ana_id);
  CHECK(log.at(0).at("channel_id").as_int64() == sms);
  // And Ana's inbox has it, unread; Ben's does not.
  REQUIRE(eventually([&] { return p.inbox(p.ana).size() == 1; }));
  CHECK(p.inbox(p.ben).empty());
}
