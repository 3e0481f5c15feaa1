// The server's settings over the API (Admin → Settings, docs/settings.md), against the real
// binary: system administrators read every key and change the editable ones; a tenant's admin and
// an operator are refused; secrets never come back; every hostile body is refused by field and
// changes nothing; an SMTP relay saved here is used at once (an email channel, then a test
// message through a real SMTP server, then an alert's message linking to the external URL saved
// too); a setting that applies at the next start waits for it and is in effect after; a saved
// value the server refuses after is left out, and the server starts; `netpulse settings
// list|reset` from the shell.
#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "support/alert_fixture.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/smtp_peer.hpp"
#include "support/temp_dir.hpp"

using namespace netpulse;
using namespace netpulse::test;

namespace {

boost::json::object setting(const HttpResponse& res, const std::string& key) {
  REQUIRE(res.status == 200);
  const auto doc = res.json();
  for (auto& s : doc.at("data").at("settings").as_array()) {
    if (s.at("key").as_string() == key) return s.as_object();
  }
  FAIL("no setting " << key);
  return {};
}

std::string error_field(const HttpResponse& res) {
  INFO(res.body);
  REQUIRE(res.status == 400);
  const auto e = res.json().at("error").as_object();
  CHECK(e.at("code").as_string() == "INVALID_INPUT");
  return std::string(e.at("details").at("field").as_string());
}

void exec_sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE(
    "settings: system administrators read and change them; nobody else; secrets stay "
    "hidden; hostile bodies change nothing",
    "[settings][integration]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  auto all = c.get("/api/v1/settings", admin);
  INFO(all.body);
  REQUIRE(all.status == 200);
  const auto doc = all.json();
  const auto& data = doc.at("data");
  CHECK(data.at("settings").as_array().size() > 100);
  CHECK_FALSE(data.at("restart_required").as_bool());
  CHECK(data.at("problems").as_array().empty());
  auto listen = setting(all, "http.listen");
  CHECK(listen.at("apply").as_string() == "file");
  CHECK(listen.at("value").as_string().size() > 0);
  CHECK(listen.at("description").as_string().size() > 0);
  auto level = setting(all, "log.level");
  CHECK(level.at("apply").as_string() == "live");
  CHECK(level.at("choices").as_array().size() == 6);
  CHECK(level.at("saved").is_null());
  // The test environment sets the rate limits (default_server_env).
  CHECK(setting(all, "http.rate_limit.per_user_rps").at("base_source").as_string() ==
        "environment");

  // Others: a tenant's admin, an operator of the system organization.
  REQUIRE(c.post_json("/api/v1/organizations", R"({"name":"Tenant S","slug":"tenant-s"})", admin)
              .status == 201);
  auto orgs = c.get("/api/v1/organizations", admin).json().at("data").as_array();
  std::int64_t tenant = 0;
  for (auto& o : orgs) {
    if (o.at("slug").as_string() == "tenant-s") tenant = o.at("id").as_int64();
  }
  REQUIRE(c.post_json(
               "/api/v1/organizations/" + std::to_string(tenant) + "/users",
               R"({"email":"boss@tenant-s.example","role":"admin","password":"tenant-s-boss-pw"})",
               admin)
              .status == 201);
  REQUIRE(
      c.post_json("/api/v1/users",
                  R"({"email":"op@isp.example","role":"operator","password":"operator-pw-123"})",
                  admin)
          .status == 201);
  for (auto [email, pw] : {std::pair{"boss@tenant-s.example", "tenant-s-boss-pw"},
                           std::pair{"op@isp.example", "operator-pw-123"}}) {
    INFO(email);
    auto t = login(c, email, pw);
    CHECK(c.get("/api/v1/settings", t).status == 403);
    CHECK(c.patch_json("/api/v1/settings", R"({"log.level":"debug"})", t).status == 403);
  }
  CHECK(c.get("/api/v1/settings").status == 401);

  // Hostile and malformed bodies: refused by field; nothing saved.
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"nope.key":1})", admin)) == "nope.key");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"storage.data_dir":"/tmp"})", admin)) ==
        "storage.data_dir");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"http.listen":null})", admin)) ==
        "http.listen");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"network.outbound_allow":["0.0.0.0/0"]})",
                                 admin)) == "network.outbound_allow");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"pollers.down_after":"5"})", admin)) ==
        "pollers.down_after");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"pollers.down_after":0})", admin)) ==
        "pollers.down_after");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"pollers.down_after":1e300})", admin)) ==
        "pollers.down_after");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"log.level":"loud"})", admin)) ==
        "log.level");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"log.level":{"a":1}})", admin)) ==
        "log.level");
  CHECK(error_field(c.patch_json("/api/v1/settings",
                                 R"({"notify.smtp.host":")" + std::string(5000, 'h') + R"("})",
                                 admin)) == "notify.smtp.host");
  CHECK(error_field(c.patch_json("/api/v1/settings", R"({"http.cors_allowed_origins":["*"]})",
                                 admin)) == "http.cors_allowed_origins");
  CHECK(error_field(c.patch_json("/api/v1/settings", "{}", admin)) == "body");
  CHECK(error_field(c.patch_json("/api/v1/settings", "[1,2]", admin)) == "body");
  CHECK(c.patch_json("/api/v1/settings", R"({"log.level":)", admin).status == 400);
  std::string many = "{";
  for (int i = 0; i < 101; ++i)
    many += (i ? "," : "") + std::string(R"("k)") + std::to_string(i) + R"(":1)";
  CHECK(error_field(c.patch_json("/api/v1/settings", many + "}", admin)) == "body");
  // A relay without a sender: the problem names the field the change lacks.
  auto pair = c.patch_json("/api/v1/settings", R"({"notify.smtp.host":"127.0.0.1"})", admin);
  CHECK(error_field(pair) == "notify.smtp.from");
  CHECK(pair.json().at("error").at("details").at("problems").as_array().size() == 1);
  const auto unchanged = c.get("/api/v1/settings", admin).json();
  for (auto& s : unchanged.at("data").at("settings").as_array()) {
    INFO(s.at("key").as_string());
    CHECK(s.at("saved").is_null());
  }

  // A secret is saved, and never shown again; the audit log names the keys, not the values.
  auto saved =
      c.patch_json("/api/v1/settings",
                   R"({"notify.smtp.password":"hunter2-relay-secret","log.level":"debug"})", admin);
  INFO(saved.body);
  REQUIRE(saved.status == 200);
  CHECK(saved.body.find("hunter2") == std::string::npos);
  auto after = c.get("/api/v1/settings", admin);
  CHECK(after.body.find("hunter2") == std::string::npos);
  auto password = setting(after, "notify.smtp.password");
  CHECK(password.at("secret").as_bool());
  CHECK(password.at("value").is_null());
  CHECK(password.at("set").as_bool());
  CHECK_FALSE(password.at("base_set").as_bool());
  CHECK(password.at("saved").at("value").is_null());
  CHECK(password.at("saved").at("updated_by").as_string() == kAdminEmail);
  auto debug = setting(after, "log.level");
  CHECK(debug.at("value").as_string() == "debug");  // live: in effect at once
  CHECK_FALSE(debug.at("pending_restart").as_bool());
  CHECK(debug.at("base").as_string() == "info");
  REQUIRE(eventually([&] {
    auto a = c.get("/api/v1/audit?per_page=100", admin);
    return a.body.find("settings log.level,notify.smtp.password") != std::string::npos;
  }));
  CHECK(c.get("/api/v1/audit?per_page=100", admin).body.find("hunter2") == std::string::npos);
  CHECK(server.output().find("hunter2") == std::string::npos);

  // null takes a saved value back to the file's.
  REQUIRE(c.patch_json("/api/v1/settings", R"({"log.level":null})", admin).status == 200);
  auto back = setting(c.get("/api/v1/settings", admin), "log.level");
  CHECK(back.at("value").as_string() == "info");
  CHECK(back.at("saved").is_null());
}

TEST_CASE("settings: an SMTP relay saved in the web UI is used at once",
          "[settings][integration][smtp]") {
  TempDir dir;
  SmtpPeer relay(dir, SmtpPeerOptions{});
  ServerProcess server(dir.path(), {{"NETPULSE_ALERTS_DEFAULT_RULES", "false"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const std::string channel =
      R"({"name":"NOC mail","kind":"email","settings":{"to":["noc@isp.example"]}})";
  auto refused = c.post_json("/api/v1/notification-channels", channel, admin);
  CHECK(refused.status == 400);

  auto saved = c.patch_json("/api/v1/settings",
                            R"({"notify.smtp.host":"127.0.0.1","notify.smtp.port":)" +
                                std::to_string(relay.port()) +
                                R"(,"notify.smtp.tls":"none","notify.smtp.from":"ui@isp.example",)"
                                R"("notify.external_url":"https://noc.isp.example"})",
                            admin);
  INFO(saved.body);
  REQUIRE(saved.status == 200);
  CHECK_FALSE(saved.json().at("data").at("restart_required").as_bool());

  auto made = c.post_json("/api/v1/notification-channels", channel, admin);
  INFO(made.body);
  REQUIRE(made.status == 201);
  const auto id = made.json().at("data").at("id").as_int64();
  auto test =
      c.post_json("/api/v1/notification-channels/" + std::to_string(id) + "/test", "{}", admin);
  INFO(test.body);
  CHECK(test.status < 300);
  REQUIRE(eventually([&] { return relay.message_count() >= 1; }, std::chrono::seconds(20)));
  CHECK(relay.message(1).at("mail_from").as_string() == "ui@isp.example");

  // An alert's message links to the external URL saved here.
  REQUIRE(c.post_json("/api/v1/notification-policies",
                      R"({"name":"mail","group_wait_s":0,"targets":[{"channel_id":)" +
                          std::to_string(id) + "}]}",
                      admin)
              .status == 201);
  raise_threshold_alert(c, admin, ingest_key(c, admin), "ui_temp", "critical");
  REQUIRE(eventually([&] { return relay.message_count() >= 2; }, std::chrono::seconds(20)));
  const auto m = relay.message(2);
  INFO(m.at("text"));
  CHECK(std::string(m.at("text").as_string()).find("https://noc.isp.example/alerts/") !=
        std::string::npos);
}

TEST_CASE(
    "settings: one that applies at the next start waits for it; one refused after an "
    "upgrade is left out and the server starts",
    "[settings][integration]") {
  TempDir dir;
  {
    ServerProcess server(dir.path());
    auto c = server.client();
    auto admin = login(c, kAdminEmail, kAdminPassword);
    auto r = c.patch_json("/api/v1/settings", R"({"pollers.down_after":5})", admin);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.json().at("data").at("restart_required").as_bool());
    auto down = setting(c.get("/api/v1/settings", admin), "pollers.down_after");
    CHECK(down.at("value").as_int64() == 3);
    CHECK(down.at("next").as_int64() == 5);
    CHECK(down.at("pending_restart").as_bool());
    CHECK(down.at("saved").at("value").as_int64() == 5);
    REQUIRE(server.terminate() == 0);
  }
  // What an older or newer version may have left: a key this one does not have, a value it
  // refuses.
  exec_sql(dir.path() + "/netpulse.db",
           "INSERT INTO server_settings (key, value, updated_at) VALUES "
           "('pollers.retired_knob', '1', 0), ('pollers.up_after', '\"two\"', 0)");
  ServerProcess server(dir.path());
  CHECK(server.output().find("saved setting pollers.retired_knob left out") != std::string::npos);
  CHECK(server.output().find("saved setting pollers.up_after left out") != std::string::npos);
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto all = c.get("/api/v1/settings", admin);
  auto down = setting(all, "pollers.down_after");
  CHECK(down.at("value").as_int64() == 5);
  CHECK_FALSE(down.at("pending_restart").as_bool());
  CHECK_FALSE(all.json().at("data").at("restart_required").as_bool());
  auto up = setting(all, "pollers.up_after");
  CHECK(up.at("value").as_int64() == 1);
  CHECK(up.at("saved").at("problem").as_string() == "must be a whole number");
  CHECK(all.json().at("data").at("ignored").as_array().size() == 2);
  // Neither blocks a change; both can be deleted.
  CHECK(c.patch_json("/api/v1/settings", R"({"pollers.flap_up_after":4})", admin).status == 200);
  auto cleaned = c.patch_json("/api/v1/settings",
                              R"({"pollers.retired_knob":null,"pollers.up_after":null})", admin);
  INFO(cleaned.body);
  REQUIRE(cleaned.status == 200);
  CHECK(cleaned.json().at("data").at("ignored").as_array().empty());

  // From the shell, while the server runs: the saved settings listed, one taken back (the way
  // back from a value that locks people out of the web UI).
  const std::map<std::string, std::string> env{{"NETPULSE_STORAGE_DATA_DIR", dir.path()}};
  auto listed = run_netpulse({"settings", "list"}, env);
  INFO(listed.output);
  CHECK(listed.exit_code == 0);
  CHECK(listed.output.find("pollers.down_after") != std::string::npos);
  CHECK(listed.output.find("pollers.flap_up_after") != std::string::npos);
  CHECK(listed.output.find(kAdminEmail) != std::string::npos);
  auto reset = run_netpulse({"settings", "reset", "pollers.down_after"}, env);
  INFO(reset.output);
  CHECK(reset.exit_code == 0);
  CHECK(reset.output.find("1 saved setting(s) taken back") != std::string::npos);
  auto after = setting(c.get("/api/v1/settings", admin), "pollers.down_after");
  CHECK(after.at("saved").is_null());
  CHECK(after.at("next").as_int64() == 3);  // the file's value, at the next start
  CHECK(run_netpulse({"settings", "reset", "pollers.down_after"}, env).exit_code == 1);
  CHECK(run_netpulse({"settings", "reset"}, env).exit_code == 2);
  CHECK(run_netpulse({"settings"}, env).exit_code == 2);
  auto everything = run_netpulse({"settings", "reset", "--all"}, env);
  CHECK(everything.exit_code == 0);
  CHECK(everything.output.find("1 saved setting(s) taken back") != std::string::npos);
}
