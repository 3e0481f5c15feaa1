// Tenancy against the real binary: two organizations on one server, A (the system organization)
// and B (a tenant made by A's admin, whose admin is added with the CLI because the API creates
// users only in the caller's own organization). Every org-owned route with an id, taken from the
// OpenAPI document so a new one cannot be forgotten, is tried across the boundary in both
// directions; each attempt must be refused (404 for org-owned records, 403 for the
// organizations routes) without showing the other side's data, and afterwards the other side
// finds its records unchanged and still usable. Lists (users, API keys, audit) of the tenant
// never contain the other organization's records, and the tenant's API keys are confined as
// its users are. The alert records (rules, alerts, incidents, silences, maintenance windows) are
// confined the same way, and neither side may name the other's devices, groups or rules in one.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

struct CreatedUser {
  std::int64_t id = 0;
  std::string email;
  std::string name;
  std::string password;
};

struct CreatedKey {
  std::int64_t id = 0;
  std::string key;
};

CreatedUser create_user(HttpClient& c, const std::string& admin, const std::string& email,
                        const std::string& name, const std::string& role,
                        const std::string& password) {
  auto res = c.post_json("/api/v1/users",
                         R"({"email":")" + email + R"(","name":")" + name + R"(","role":")" + role +
                             R"(","password":")" + password + R"("})",
                         admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return {res.json().at("data").at("id").as_int64(), email, name, password};
}

CreatedKey create_key(HttpClient& c, const std::string& admin, const std::string& name,
                      const std::string& role) {
  auto res = c.post_json("/api/v1/api-keys",
                         R"({"name":")" + name + R"(","role":")" + role + R"("})", admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  auto data = res.json().at("data").as_object();
  return {data.at("id").as_int64(), std::string(data.at("key").as_string())};
}

std::int64_t me_id(HttpClient& c, const std::string& token) {
  auto me = c.get("/api/v1/auth/me", token);
  REQUIRE(me.status == 200);
  return me.json().at("data").at("id").as_int64();
}

std::int64_t me_org(HttpClient& c, const std::string& token) {
  auto me = c.get("/api/v1/auth/me", token);
  REQUIRE(me.status == 200);
  return me.json().at("data").at("org_id").as_int64();
}

// Every {placeholder} of the pattern becomes `id`.
std::string with_id(std::string pattern, std::int64_t id) {
  for (auto open = pattern.find('{'); open != std::string::npos; open = pattern.find('{')) {
    pattern.replace(open, pattern.find('}', open) - open + 1, std::to_string(id));
  }
  return pattern;
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

struct IdOperation {
  std::string method;
  std::string pattern;
};

// Every operation of the OpenAPI document whose path has a parameter.
std::vector<IdOperation> id_operations(HttpClient& c) {
  auto res = c.get("/api/v1/openapi.json");
  REQUIRE(res.status == 200);
  std::vector<IdOperation> out;
  auto res_json = res.json();
  for (auto& [path, item] : res_json.at("paths").as_object()) {
    if (std::string_view(path).find('{') == std::string_view::npos) continue;
    for (auto& [method, _] : item.as_object()) {
      out.push_back({upper(std::string(method)), std::string(path)});
    }
  }
  return out;
}

// A body that would change the record if the request were let through.
std::string damaging_body(const IdOperation& op) {
  if (op.pattern == "/api/v1/users/{id}/password") return R"({"password":"taken-over-pw-1"})";
  if (op.pattern == "/api/v1/users/{id}") return R"({"name":"taken over","active":false})";
  if (op.pattern == "/api/v1/organizations/{id}") return R"({"name":"taken over"})";
  if (op.pattern == "/api/v1/dashboards/{id}") return R"({"name":"taken over","panels":[]})";
  if (op.pattern == "/api/v1/devices/{id}") return R"({"name":"taken over","enabled":false})";
  if (op.pattern == "/api/v1/device-groups/{id}") return R"({"name":"taken over"})";
  if (op.pattern == "/api/v1/devices/{id}/checks") {
    return R"({"name":"planted","kind":"tcp","tcp":{"port":22}})";
  }
  if (op.pattern == "/api/v1/devices/{id}/checks/{check}") return R"({"enabled":false})";
  if (op.pattern == "/api/v1/alert-rules/{id}")
    return R"({"name":"taken over","kind":"device_down"})";
  if (op.pattern == "/api/v1/alerts/{id}/acknowledge") return R"({"note":"taken over"})";
  if (op.pattern == "/api/v1/alerts/{id}/resolve") return R"({"reason":"taken over"})";
  if (op.pattern == "/api/v1/alerts/{id}/comments") return R"({"text":"planted"})";
  if (op.pattern == "/api/v1/notification-channels/{id}") {
    return R"({"name":"taken over","enabled":false})";
  }
  if (op.pattern == "/api/v1/notification-policies/{id}") return R"({"name":"taken over"})";
  if (op.pattern == "/api/v1/oncall-schedules/{id}")
    return R"({"name":"taken over","rotation":{"users":[1],"start":"2026-01-05"}})";
  if (op.pattern == "/api/v1/maintenance-windows/{id}") {
    return R"({"name":"taken over","recurrence":"once","starts_at":1,"duration_s":3600,)"
           R"("scope":{"all_devices":true}})";
  }
  return "{}";
}

HttpResponse send(HttpClient& c, const std::string& method, const std::string& target,
                  const std::string& bearer, const std::string& body) {
  HttpRequest r;
  r.method = method;
  r.target = target;
  r.headers.emplace_back("Authorization", "Bearer " + bearer);
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body;
  }
  return c.send(r);
}

// The foreign records one side attacks, by the first path segment after /api/v1/.
struct Targets {
  std::vector<std::int64_t> users;
  std::vector<std::int64_t> api_keys;
  std::vector<std::int64_t> devices;
  std::vector<std::int64_t> device_groups;
  std::vector<std::int64_t> discovery_jobs;
  std::vector<std::int64_t> custom_oids;  // numeric stand-ins: job ids are random hex
  std::vector<std::int64_t> alert_rules;
  std::vector<std::int64_t> alerts;
  std::vector<std::int64_t> incidents;
  std::vector<std::int64_t> silences;
  std::vector<std::int64_t> maintenance_windows;
  std::vector<std::int64_t> notification_channels;
  std::vector<std::int64_t> notification_policies;
  std::vector<std::int64_t> notifications;
  std::vector<std::int64_t> oncall_schedules;
  std::vector<std::int64_t> inapp_notifications;
  std::vector<std::int64_t> dashboards;
  std::int64_t org_id = 0;
  std::vector<std::string> secrets;  // emails and names that must never appear in an answer
};

// Tries every id operation of `ops` with `token` on `targets`; each must be refused.
void attack(HttpClient& c, const std::vector<IdOperation>& ops, const std::string& token,
            const Targets& targets) {
  for (auto& op : ops) {
    std::vector<std::int64_t> ids;
    bool organizations = false;
    std::vector<std::string> codes = {"USER_NOT_FOUND", "API_KEY_NOT_FOUND"};
    if (op.pattern.rfind("/api/v1/devices/", 0) == 0) {
      ids = targets.devices;
      codes = {"DEVICE_NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/custom-oids/", 0) == 0) {
      ids = targets.custom_oids;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/discovery/", 0) == 0) {
      ids = targets.discovery_jobs;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/device-groups/", 0) == 0) {
      ids = targets.device_groups;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/alert-rules/", 0) == 0) {
      ids = targets.alert_rules;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/alerts/", 0) == 0) {
      ids = targets.alerts;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/incidents/", 0) == 0) {
      ids = targets.incidents;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/silences/", 0) == 0) {
      ids = targets.silences;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/maintenance-windows/", 0) == 0) {
      ids = targets.maintenance_windows;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/dashboards/", 0) == 0) {
      ids = targets.dashboards;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/notification-channels/", 0) == 0) {
      ids = targets.notification_channels;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/notification-policies/", 0) == 0) {
      ids = targets.notification_policies;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/notifications/", 0) == 0) {
      ids = targets.notifications;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/oncall-schedules/", 0) == 0) {
      ids = targets.oncall_schedules;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/me/notifications/", 0) == 0) {
      ids = targets.inapp_notifications;
      codes = {"NOT_FOUND"};
    } else if (op.pattern.rfind("/api/v1/users/", 0) == 0) {
      ids = targets.users;
    } else if (op.pattern.rfind("/api/v1/api-keys/", 0) == 0) {
      ids = targets.api_keys;
    } else if (op.pattern.rfind("/api/v1/organizations/", 0) == 0) {
      ids = {targets.org_id};
      organizations = true;
    } else if (op.pattern == "/api/v1/label/{name}/values" ||
               op.pattern == "/api/v1/metadata/{metric}") {
      // Keyed by a name within the caller's own organization, not by a record id: there is no
      // foreign id to try. tsdb_test.cpp checks that one org sees none of another's series,
      // labels or metadata.
      continue;
    } else if (op.pattern == "/api/v1/ack/{token}") {
      // Public, keyed by a signed token whose organization is in its signed claims, not by a
      // record id: there is no caller's organization to cross. A token of one organization
      // acts in that organization only (tests/unit/notify/notifier_ack_test.cpp,
      // tests/integration/notify_ack_test.cpp).
      continue;
    } else {
      FAIL("no cross-organization case for " << op.method << " " << op.pattern
                                             << ": add its org-owned record to this test");
    }
    for (auto id : ids) {
      auto target = with_id(op.pattern, id);
      auto res = send(c, op.method, target, token, damaging_body(op));
      INFO(op.method << " " << target << " -> " << res.status << " " << res.body);
      auto code = res.error_code();
      if (organizations) {
        CHECK(res.status == 403);
        CHECK(code == "INSUFFICIENT_PERMISSIONS");
      } else {
        CHECK(res.status == 404);
        CHECK(std::find(codes.begin(), codes.end(), code) != codes.end());
      }
      auto body = res.json();
      CHECK(body.is_object());
      if (body.is_object()) CHECK_FALSE(body.as_object().contains("data"));
      for (auto& secret : targets.secrets) CHECK(res.body.find(secret) == std::string::npos);
    }
  }
}

// Lists of `token`'s organization hold only its own records and none of `foreign`.
void check_lists_confined(HttpClient& c, const std::string& token, std::int64_t own_org,
                          const Targets& foreign, bool check_audit) {
  std::set<std::int64_t> foreign_users(foreign.users.begin(), foreign.users.end());
  std::set<std::int64_t> foreign_keys(foreign.api_keys.begin(), foreign.api_keys.end());
  auto users = c.get("/api/v1/users?per_page=500", token);
  REQUIRE(users.status == 200);
  auto users_json = users.json();
  for (auto& u : users_json.at("data").as_array()) {
    INFO(boost::json::serialize(u));
    CHECK(u.at("org_id").as_int64() == own_org);
    CHECK(foreign_users.count(u.at("id").as_int64()) == 0);
  }
  auto keys = c.get("/api/v1/api-keys?per_page=500", token);
  REQUIRE(keys.status == 200);
  auto keys_json = keys.json();
  for (auto& k : keys_json.at("data").as_array()) {
    INFO(boost::json::serialize(k));
    CHECK(k.at("org_id").as_int64() == own_org);
    CHECK(foreign_keys.count(k.at("id").as_int64()) == 0);
  }
  std::set<std::int64_t> foreign_devices(foreign.devices.begin(), foreign.devices.end());
  auto devices = c.get("/api/v1/devices?per_page=500", token);
  REQUIRE(devices.status == 200);
  auto devices_json = devices.json();
  CHECK_FALSE(devices_json.at("data").as_array().empty());
  for (auto& d : devices_json.at("data").as_array()) {
    CHECK(foreign_devices.count(d.at("id").as_int64()) == 0);
  }
  auto exported = c.get("/api/v1/devices/export", token);
  REQUIRE(exported.status == 200);
  auto topology = c.get("/api/v1/topology", token);
  REQUIRE(topology.status == 200);
  auto topology_json = topology.json();
  CHECK_FALSE(topology_json.at("data").at("nodes").as_array().empty());
  for (auto& n : topology_json.at("data").at("nodes").as_array()) {
    CHECK(foreign_devices.count(n.at("id").as_int64()) == 0);
    for (auto& p : n.at("parents").as_array()) CHECK(foreign_devices.count(p.as_int64()) == 0);
  }
  auto groups = c.get("/api/v1/device-groups?per_page=500", token);
  REQUIRE(groups.status == 200);
  for (auto& secret : foreign.secrets) {
    INFO(secret);
    CHECK(users.body.find(secret) == std::string::npos);
    CHECK(keys.body.find(secret) == std::string::npos);
    CHECK(devices.body.find(secret) == std::string::npos);
    CHECK(exported.body.find(secret) == std::string::npos);
    CHECK(topology.body.find(secret) == std::string::npos);
    CHECK(groups.body.find(secret) == std::string::npos);
  }
  if (!check_audit) return;
  auto audit = c.get("/api/v1/audit?per_page=500", token);
  REQUIRE(audit.status == 200);
  auto entries = audit.json().at("data").as_array();
  CHECK(!entries.empty());
  for (auto& e : entries) {
    INFO(boost::json::serialize(e));
    CHECK(e.at("org_id").is_int64());
    if (e.at("org_id").is_int64()) CHECK(e.at("org_id").as_int64() == own_org);
    if (e.at("user_id").is_int64()) CHECK(foreign_users.count(e.at("user_id").as_int64()) == 0);
    if (e.at("api_key_id").is_int64()) {
      CHECK(foreign_keys.count(e.at("api_key_id").as_int64()) == 0);
    }
  }
  for (auto& secret : foreign.secrets) {
    INFO(secret);
    CHECK(audit.body.find(secret) == std::string::npos);
  }
}

// The user is still there, unchanged, and still logs in with the password it was given.
void check_user_intact(HttpClient& c, const std::string& own_admin, const CreatedUser& u) {
  auto res = c.get("/api/v1/users/" + std::to_string(u.id), own_admin);
  INFO(res.body);
  REQUIRE(res.status == 200);
  auto data = res.json().at("data").as_object();
  CHECK(data.at("email").as_string() == u.email);
  CHECK(data.at("name").as_string() == u.name);
  CHECK(data.at("active").as_bool());
  auto again = c.post_json("/api/v1/auth/login",
                           R"({"email":")" + u.email + R"(","password":")" + u.password + R"("})");
  CHECK(again.status == 200);
}

// A device group and a device in it, made by `admin`; returns {device id, group id}.
std::pair<std::int64_t, std::int64_t> create_device(HttpClient& c, const std::string& admin,
                                                    const std::string& name,
                                                    const std::string& group) {
  auto g = c.post_json("/api/v1/device-groups", R"({"name":")" + group + R"("})", admin);
  INFO(g.body);
  REQUIRE(g.status == 201);
  // Both organizations use the same address: unique per organization only.
  auto d =
      c.post_json("/api/v1/devices",
                  R"({"name":")" + name + R"(","address":"192.0.2.1","groups":[")" + group +
                      R"("],"snmp":{"version":"2c","community":"community-of-)" + name + R"("}})",
                  admin);
  INFO(d.body);
  REQUIRE(d.status == 201);
  return {d.json().at("data").at("id").as_int64(), g.json().at("data").at("id").as_int64()};
}

// The device is still there, unchanged.
void check_device_intact(HttpClient& c, const std::string& own_admin, std::int64_t id,
                         const std::string& name) {
  auto res = c.get("/api/v1/devices/" + std::to_string(id), own_admin);
  INFO(res.body);
  REQUIRE(res.status == 200);
  CHECK(res.json().at("data").at("name").as_string() == name);
  CHECK(res.json().at("data").at("enabled").as_bool());
}

// An organization's alert records: a threshold rule, the alert a pushed sample raises on its
// device, a silence and a maintenance window, all named "<what>-of-<suffix>".
struct AlertRecords {
  std::int64_t rule = 0;
  std::int64_t alert = 0;
  std::int64_t silence = 0;
  std::int64_t window = 0;
};

std::int64_t created_id(const HttpResponse& res) {
  INFO(res.body);
  REQUIRE(res.status == 201);
  return res.json().at("data").at("id").as_int64();
}

// An organization's notification records: a webhook channel (to a name that never resolves, so
// its notifications stay pending) and a policy that sends every alert to it at once.
// Also an on-call schedule of the admin, and the admin's in-app notification from an in_app
// channel's "send test".
struct NotifyRecords {
  std::int64_t channel = 0;
  std::int64_t policy = 0;
  std::int64_t schedule = 0;
  std::int64_t inapp = 0;
};

NotifyRecords create_notify_records(HttpClient& c, const std::string& admin, std::int64_t admin_id,
                                    const std::string& suffix) {
  NotifyRecords r;
  r.schedule =
      created_id(c.post_json("/api/v1/oncall-schedules",
                             R"({"name":"schedule-of-)" + suffix + R"(","rotation":{"users":[)" +
                                 std::to_string(admin_id) + R"(],"start":"2026-01-05"}})",
                             admin));
  const auto inbox = created_id(
      c.post_json("/api/v1/notification-channels",
                  R"({"name":"inbox-of-)" + suffix + R"(","kind":"in_app","settings":{}})", admin));
  auto test =
      c.post_json("/api/v1/notification-channels/" + std::to_string(inbox) + "/test", "{}", admin);
  INFO(test.body);
  REQUIRE(test.status == 200);
  REQUIRE(eventually([&] {
    auto list = c.get("/api/v1/me/notifications", admin);
    if (list.status != 200) return false;
    auto doc = list.json();
    if (doc.at("data").as_array().empty()) return false;
    r.inapp = doc.at("data").at(0).at("id").as_int64();
    return true;
  }));
  r.channel = created_id(
      c.post_json("/api/v1/notification-channels",
                  R"({"name":"channel-of-)" + suffix + R"(","kind":"webhook","settings":{"url":)" +
                      R"("https://hooks.invalid/channel-of-)" + suffix + R"("}})",
                  admin));
  r.policy = created_id(c.post_json(
      "/api/v1/notification-policies",
      R"({"name":"policy-of-)" + suffix + R"(","group_wait_s":0,"modes":{"warning":"immediate"},)" +
          R"("targets":[{"channel_id":)" + std::to_string(r.channel) + "}]}",
      admin));
  return r;
}

// The newest notification of `admin`'s organization, once there is one.
std::int64_t newest_notification(HttpClient& c, const std::string& admin) {
  std::int64_t id = 0;
  REQUIRE(eventually([&] {
    auto list = c.get("/api/v1/notifications", admin);
    if (list.status != 200 || list.json().at("data").as_array().empty()) return false;
    id = list.json().at("data").at(0).at("id").as_int64();
    return true;
  }));
  return id;
}

AlertRecords create_alert_records(HttpClient& c, const std::string& admin,
                                  const std::string& ingest_key, std::int64_t device,
                                  const std::string& suffix) {
  AlertRecords r;
  r.rule = created_id(c.post_json("/api/v1/alert-rules",
                                  R"({"name":"rule-of-)" + suffix +
                                      R"(","kind":"threshold","selector":"tenancy_temp",)"
                                      R"("condition":{"op":">","value":90},"for_s":0})",
                                  admin));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  HttpRequest write{"POST",
                    "/api/v2/write?precision=s",
                    {{"Authorization", "Token " + ingest_key}, {"Content-Type", "text/plain"}},
                    "tenancy_temp,device_id=" + std::to_string(device) + ",room=" + suffix +
                        " value=95 " + std::to_string(now_s - 1) + "\n"};
  auto written = c.send(write);
  INFO(written.body);
  REQUIRE(written.status == 204);
  REQUIRE(eventually([&] {
    auto list = c.get("/api/v1/alerts?rule=" + std::to_string(r.rule), admin);
    if (list.status != 200 || list.json().at("data").as_array().size() != 1) return false;
    r.alert = list.json().at("data").at(0).at("id").as_int64();
    return true;
  }));
  r.silence = created_id(c.post_json("/api/v1/silences",
                                     R"({"matchers":[{"name":"room","value":")" + suffix +
                                         R"("}],"starts_at":)" + std::to_string(now_s - 60) +
                                         R"(,"ends_at":)" + std::to_string(now_s + 3600) +
                                         R"(,"reason":"silence-of-)" + suffix + R"("})",
                                     admin));
  r.window = created_id(c.post_json(
      "/api/v1/maintenance-windows",
      R"({"name":"window-of-)" + suffix + R"(","recurrence":"once","starts_at":)" +
          std::to_string(now_s + 86'400) + R"(,"duration_s":3600,"scope":{"device_ids":[)" +
          std::to_string(device) + "]}}",
      admin));
  return r;
}

// An organization's dashboard "dashboard-of-<suffix>", with one panel on its own metric.
std::int64_t create_dashboard(HttpClient& c, const std::string& admin, const std::string& suffix) {
  return created_id(
      c.post_json("/api/v1/dashboards",
                  R"({"name":"dashboard-of-)" + suffix +
                      R"(","panels":[{"kind":"stat","x":0,"y":0,"query":{"selector":"temp_of_)" +
                      suffix + R"("}}]})",
                  admin));
}

// `token`'s organization lists its own dashboards only.
void check_dashboards_confined(HttpClient& c, const std::string& token,
                               const std::string& foreign_suffix) {
  auto res = c.get("/api/v1/dashboards", token);
  INFO(res.body);
  REQUIRE(res.status == 200);
  CHECK(res.body.find("dashboard-of-" + foreign_suffix) == std::string::npos);
}

// The dashboard is as it was made.
void check_dashboard_intact(HttpClient& c, const std::string& own_admin, std::int64_t id,
                            const std::string& suffix) {
  auto res = c.get("/api/v1/dashboards/" + std::to_string(id), own_admin);
  INFO(res.body);
  REQUIRE(res.status == 200);
  const auto body = res.json();
  CHECK(body.at("data").at("name").as_string() == "dashboard-of-" + suffix);
  CHECK(body.at("data").at("version").as_int64() == 1);
  CHECK(body.at("data").at("panels").as_array().size() == 1);
}

// The alert lists of `token`'s organization show none of `foreign`'s records.
void check_alert_lists_confined(HttpClient& c, const std::string& token,
                                const AlertRecords& foreign, const std::string& foreign_suffix) {
  struct List {
    std::string path;
    std::int64_t foreign_id;
  };
  for (auto& l : {List{"/api/v1/alert-rules?per_page=500", foreign.rule},
                  List{"/api/v1/alerts?per_page=500", foreign.alert},
                  List{"/api/v1/alerts?per_page=500&status=firing,acknowledged,resolved", 0},
                  List{"/api/v1/incidents?per_page=500", 0},
                  List{"/api/v1/silences?expired=true", foreign.silence},
                  List{"/api/v1/maintenance-windows", foreign.window}}) {
    auto res = c.get(l.path, token);
    INFO(l.path << " -> " << res.body);
    REQUIRE(res.status == 200);
    // Record ids are unique across organizations; the names and labels are the foreign side's.
    const auto listed = res.json();
    for (auto& item : listed.at("data").as_array()) {
      CHECK(item.at("id").as_int64() != l.foreign_id);
    }
    CHECK(res.body.find("-of-" + foreign_suffix) == std::string::npos);
    CHECK(res.body.find("room\":\"" + foreign_suffix) == std::string::npos);
  }
}

// The records are as they were made: the rule unchanged, the alert firing with no comment, the
// silence and the window there.
void check_alert_records_intact(HttpClient& c, const std::string& own_admin, const AlertRecords& r,
                                const std::string& suffix) {
  auto rule = c.get("/api/v1/alert-rules/" + std::to_string(r.rule), own_admin);
  INFO(rule.body);
  REQUIRE(rule.status == 200);
  CHECK(rule.json().at("data").at("name").as_string() == "rule-of-" + suffix);
  CHECK(rule.json().at("data").at("enabled").as_bool());
  auto alert = c.get("/api/v1/alerts/" + std::to_string(r.alert), own_admin);
  INFO(alert.body);
  REQUIRE(alert.status == 200);
  CHECK(alert.json().at("data").at("status").as_string() == "firing");
  CHECK(alert.json().at("data").at("comments").as_array().empty());
  auto silences = c.get("/api/v1/silences", own_admin);
  CHECK(silences.body.find("silence-of-" + suffix) != std::string::npos);
  auto window = c.get("/api/v1/maintenance-windows/" + std::to_string(r.window), own_admin);
  INFO(window.body);
  REQUIRE(window.status == 200);
  CHECK(window.json().at("data").at("name").as_string() == "window-of-" + suffix);
}

// `admin` may not name the other organization's device, group or rule in a rule, a silence or a
// window: 400 naming the field, and nothing is saved.
void check_foreign_ids_refused(HttpClient& c, const std::string& admin, std::int64_t device,
                               std::int64_t group, std::int64_t rule) {
  const auto rules_before = c.get("/api/v1/alert-rules?per_page=500", admin);
  const auto silences_before = c.get("/api/v1/silences?expired=true", admin);
  const auto windows_before = c.get("/api/v1/maintenance-windows", admin);
  const auto d = std::to_string(device);
  const auto g = std::to_string(group);
  const auto when = R"("starts_at":1767225600,"ends_at":1767229200,"reason":"planted")";
  const auto window = R"({"name":"planted","recurrence":"once","starts_at":1767225600,)"
                      R"("duration_s":3600,"scope":)";
  struct Case {
    std::string path;
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/api/v1/alert-rules",
       R"({"name":"planted","kind":"device_down","scope":{"device_ids":[)" + d + "]}}",
       "scope.device_ids"},
      {"/api/v1/alert-rules",
       R"({"name":"planted","kind":"device_down","scope":{"group_ids":[)" + g + "]}}",
       "scope.group_ids"},
      {"/api/v1/silences", R"({"device_ids":[)" + d + "]," + when + "}", "device_ids"},
      {"/api/v1/silences", R"({"group_ids":[)" + g + "]," + when + "}", "group_ids"},
      {"/api/v1/silences", R"({"rule_ids":[)" + std::to_string(rule) + "]," + when + "}",
       "rule_ids"},
      {"/api/v1/maintenance-windows", window + std::string(R"({"device_ids":[)") + d + "]}}",
       "scope.device_ids"},
      {"/api/v1/maintenance-windows", window + std::string(R"({"group_ids":[)") + g + "]}}",
       "scope.group_ids"},
  };
  for (auto& k : cases) {
    auto res = c.post_json(k.path, k.body, admin);
    INFO(k.path << " " << k.body << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(res.error_code() == "INVALID_INPUT");
    auto body = res.json();
    if (body.is_object() && body.as_object().contains("error")) {
      CHECK(body.at("error").at("details").at("field").as_string() == k.field);
    }
  }
  auto strip_meta = [](const HttpResponse& r) {
    auto j = r.json();
    return boost::json::serialize(j.at("data"));
  };
  CHECK(strip_meta(c.get("/api/v1/alert-rules?per_page=500", admin)) == strip_meta(rules_before));
  CHECK(strip_meta(c.get("/api/v1/silences?expired=true", admin)) == strip_meta(silences_before));
  CHECK(strip_meta(c.get("/api/v1/maintenance-windows", admin)) == strip_meta(windows_before));
}

}  // namespace

TEST_CASE(
    "tenancy: admins and API keys of one organization are refused every org-owned route "
    "of the other, see none of its data, and nothing changes",
    "[tenancy]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();

  // Organization A: the system organization, its admin, a user and an API key.
  auto admin_a = login(c, kAdminEmail, kAdminPassword);
  const auto org_a = me_org(c, admin_a);
  const auto admin_a_id = me_id(c, admin_a);
  auto user_a =
      create_user(c, admin_a, "alice@org-a.example", "Alice of A", "viewer", "alice-a-password");
  auto key_a = create_key(c, admin_a, "collector-a", "api_user");
  auto key_a_admin = create_key(c, admin_a, "automation-a", "admin");

  // Organization B: made by A's admin; its admin through the CLI, on the live data dir.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", admin_a);
  INFO(org.body);
  REQUIRE(org.status == 201);
  const auto org_b = org.json().at("data").at("id").as_int64();
  auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--name", "Boss of B",
                           "--role", "admin", "--org", "org-b", "--password", "boss-b-password"},
                          {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  auto admin_b = login(c, "boss@org-b.example", "boss-b-password");
  REQUIRE(me_org(c, admin_b) == org_b);
  const auto admin_b_id = me_id(c, admin_b);
  auto user_b =
      create_user(c, admin_b, "bob@org-b.example", "Bob of B", "operator", "bob-b-password1");
  REQUIRE(c.get("/api/v1/users/" + std::to_string(user_b.id), admin_b).status == 200);
  auto key_b = create_key(c, admin_b, "collector-b", "api_user");
  auto key_b_admin = create_key(c, admin_b, "automation-b", "admin");
  {
    auto me = c.get("/api/v1/auth/me", key_b_admin.key);
    REQUIRE(me.status == 200);
    CHECK(me.json().at("data").at("org_id").as_int64() == org_b);
  }

  auto [device_a, group_a] = create_device(c, admin_a, "router-of-a", "group-of-a");
  auto [device_b, group_b] = create_device(c, admin_b, "router-of-b", "group-of-b");
  auto custom_oid = [&](const std::string& admin, std::int64_t device) {
    auto r = c.post_json("/api/v1/custom-oids",
                         R"({"device_id":)" + std::to_string(device) +
                             R"(,"oid":"1.3.6.1.2.1.1.3.0","metric":"uptime_ticks"})",
                         admin);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.json().at("data").at("id").as_int64();
  };
  const auto oid_a = custom_oid(admin_a, device_a);
  const auto oid_b = custom_oid(admin_b, device_b);
  const auto notify_a = create_notify_records(c, admin_a, admin_a_id, "a");
  const auto notify_b = create_notify_records(c, admin_b, admin_b_id, "b");
  const auto alerts_a = create_alert_records(c, admin_a, key_a.key, device_a, "a");
  const auto alerts_b = create_alert_records(c, admin_b, key_b.key, device_b, "b");
  const auto notification_a = newest_notification(c, admin_a);
  const auto notification_b = newest_notification(c, admin_b);
  const auto dashboard_a = create_dashboard(c, admin_a, "a");
  const auto dashboard_b = create_dashboard(c, admin_b, "b");

  Targets in_a;
  in_a.devices = {device_a};
  in_a.discovery_jobs = {1};
  in_a.custom_oids = {oid_a};
  in_a.device_groups = {group_a};
  in_a.alert_rules = {alerts_a.rule};
  in_a.alerts = {alerts_a.alert};
  in_a.incidents = {1};  // no incident without a device down (pollers_test); the id is tried
  in_a.silences = {alerts_a.silence};
  in_a.maintenance_windows = {alerts_a.window};
  in_a.notification_channels = {notify_a.channel};
  in_a.notification_policies = {notify_a.policy};
  in_a.oncall_schedules = {notify_a.schedule};
  in_a.inapp_notifications = {notify_a.inapp};
  in_a.notifications = {notification_a};
  in_a.dashboards = {dashboard_a};
  in_a.users = {user_a.id, admin_a_id};
  in_a.api_keys = {key_a.id, key_a_admin.id};
  in_a.org_id = org_a;
  in_a.secrets = {user_a.email,
                  user_a.name,
                  kAdminEmail,
                  "collector-a",
                  "automation-a",
                  "router-of-a",
                  "community-of-router-of-a",
                  "group-of-a",
                  "rule-of-a",
                  "silence-of-a",
                  "window-of-a",
                  "channel-of-a",
                  "policy-of-a",
                  "schedule-of-a",
                  "dashboard-of-a"};
  Targets in_b;
  in_b.devices = {device_b};
  in_b.discovery_jobs = {1};
  in_b.custom_oids = {oid_b};
  in_b.device_groups = {group_b};
  in_b.alert_rules = {alerts_b.rule};
  in_b.alerts = {alerts_b.alert};
  in_b.incidents = {1};
  in_b.silences = {alerts_b.silence};
  in_b.maintenance_windows = {alerts_b.window};
  in_b.notification_channels = {notify_b.channel};
  in_b.notification_policies = {notify_b.policy};
  in_b.oncall_schedules = {notify_b.schedule};
  in_b.inapp_notifications = {notify_b.inapp};
  in_b.notifications = {notification_b};
  in_b.dashboards = {dashboard_b};
  in_b.users = {user_b.id, admin_b_id};
  in_b.api_keys = {key_b.id, key_b_admin.id};
  in_b.org_id = org_b;
  in_b.secrets = {user_b.email,
                  user_b.name,
                  "boss@org-b.example",
                  "collector-b",
                  "automation-b",
                  "router-of-b",
                  "community-of-router-of-b",
                  "group-of-b",
                  "rule-of-b",
                  "silence-of-b",
                  "window-of-b",
                  "channel-of-b",
                  "policy-of-b",
                  "schedule-of-b",
                  "dashboard-of-b"};

  auto ops = id_operations(c);
  REQUIRE(ops.size() >= 8);

  // B against A.
  {
    attack(c, ops, admin_b, in_a);
    attack(c, ops, key_b_admin.key, in_a);
    // B's api_user key lacks the permissions altogether.
    CHECK(c.get("/api/v1/users/" + std::to_string(user_a.id), key_b.key).status == 403);
    CHECK(c.get("/api/v1/users", key_b.key).status == 403);
    CHECK(c.get("/api/v1/audit", key_b.key).status == 403);
    // The organizations routes are for system admins only.
    for (auto* path : {"/api/v1/organizations", "/api/v1/organizations?per_page=500"}) {
      for (auto* token : {&admin_b, &key_b_admin.key}) {
        auto res = c.get(path, *token);
        INFO(path << " " << res.body);
        CHECK(res.status == 403);
        CHECK(res.error_code() == "INSUFFICIENT_PERMISSIONS");
      }
    }
    auto create = c.post_json("/api/v1/organizations", R"({"name":"Evil","slug":"evil"})", admin_b);
    CHECK(create.status == 403);
    // B's own organization is B.
    auto own = c.get("/api/v1/organization", admin_b);
    REQUIRE(own.status == 200);
    CHECK(own.json().at("data").at("id").as_int64() == org_b);
    CHECK(own.json().at("data").at("is_system").as_bool() == false);

    check_lists_confined(c, admin_b, org_b, in_a, true);
    check_lists_confined(c, key_b_admin.key, org_b, in_a, true);
    // Alert records: B's lists (its api_user key reads alerts too) never show A's; B may not
    // name A's devices, groups or rules; A's records are untouched.
    for (auto* token : {&admin_b, &key_b_admin.key, &key_b.key}) {
      check_alert_lists_confined(c, *token, alerts_a, "a");
    }
    check_foreign_ids_refused(c, admin_b, device_a, group_a, alerts_a.rule);
    check_alert_records_intact(c, admin_a, alerts_a, "a");

    // A finds everything as it was: users unchanged and able to log in, keys still working.
    check_user_intact(c, admin_a, user_a);
    check_device_intact(c, admin_a, device_a, "router-of-a");
    check_dashboards_confined(c, admin_b, "a");
    check_dashboard_intact(c, admin_a, dashboard_a, "a");
    CHECK(c.get("/api/v1/auth/me", admin_a).status == 200);
    CHECK(c.get("/api/v1/auth/me", key_a.key).status == 200);
    CHECK(c.get("/api/v1/auth/me", key_a_admin.key).status == 200);
    auto keys = c.get("/api/v1/api-keys?per_page=500", admin_a);
    REQUIRE(keys.status == 200);
    std::size_t active_a_keys = 0;
    auto keys_json = keys.json();
    for (auto& k : keys_json.at("data").as_array()) {
      if (k.at("active").as_bool()) ++active_a_keys;
    }
    CHECK(active_a_keys == 2);
    auto orgs = c.get("/api/v1/organizations/" + std::to_string(org_a), admin_a);
    REQUIRE(orgs.status == 200);
    CHECK(orgs.json().at("data").at("is_system").as_bool());
  }

  // B's requests that name A's credentials or emails: refused, and A keeps them.
  {
    auto a_login =
        c.post_json("/api/v1/auth/login", R"({"email":")" + user_a.email + R"(","password":")" +
                                              user_a.password + R"("})");
    REQUIRE(a_login.status == 200);
    auto refresh_a = std::string(a_login.json().at("data").at("refresh_token").as_string());
    // Logging out with another user's refresh token revokes only the caller's own token.
    auto b_session = login(c, "boss@org-b.example", "boss-b-password");
    HttpRequest logout{
        "POST",
        "/api/v1/auth/logout",
        {{"Authorization", "Bearer " + b_session}, {"Content-Type", "application/json"}},
        R"({"refresh_token":")" + refresh_a + R"("})"};
    auto out = c.send(logout);
    CHECK(out.status == 204);
    auto rotated =
        c.post_json("/api/v1/auth/refresh", R"({"refresh_token":")" + refresh_a + R"("})");
    INFO(rotated.body);
    CHECK(rotated.status == 200);

    // Emails are unique per organization (docs/security.md): B may have its own user with A's
    // email, and the answer tells B nothing about A. A's user is untouched and still logs in.
    auto taken = c.post_json(
        "/api/v1/users",
        R"({"email":")" + user_a.email + R"(","role":"viewer","password":"some-password-1"})",
        admin_b);
    INFO(taken.body);
    REQUIRE(taken.status == 201);
    CHECK(taken.body.find(user_a.name) == std::string::npos);
    CHECK(taken.json().at("data").at("org_id").as_int64() == org_b);
    const auto namesake =
        "/api/v1/users/" + std::to_string(taken.json().at("data").at("id").as_int64());
    CHECK(me_org(c, login(c, user_a.email, user_a.password)) == org_a);
    auto moved = c.patch_json("/api/v1/users/" + std::to_string(user_b.id),
                              R"({"email":")" + user_a.email + R"("})", admin_b);
    INFO(moved.body);
    CHECK(moved.status == 409);  // B's namesake has it within B
    // B drops its namesake again, so that B's lists below hold nothing named like A's records.
    REQUIRE(c.del(namesake, admin_b).status == 204);
    check_user_intact(c, admin_a, user_a);
  }

  // A against B.
  {
    // Org-owned routes are scoped to the caller's organization even for a system admin; only the
    // organizations routes reach across, and those are checked by the permission matrix.
    std::vector<IdOperation> org_owned;
    for (auto& op : ops) {
      if (op.pattern.rfind("/api/v1/organizations/", 0) != 0) org_owned.push_back(op);
    }
    attack(c, org_owned, admin_a, in_b);
    attack(c, org_owned, key_a_admin.key, in_b);
    check_lists_confined(c, admin_a, org_a, in_b, false);
    check_user_intact(c, admin_b, user_b);
    check_device_intact(c, admin_b, device_b, "router-of-b");
    check_dashboards_confined(c, admin_a, "b");
    check_dashboard_intact(c, admin_b, dashboard_b, "b");
    check_alert_lists_confined(c, admin_a, alerts_b, "b");
    check_foreign_ids_refused(c, admin_a, device_b, group_b, alerts_b.rule);
    check_alert_records_intact(c, admin_b, alerts_b, "b");
    CHECK(c.get("/api/v1/auth/me", admin_b).status == 200);
    CHECK(c.get("/api/v1/auth/me", key_b.key).status == 200);
    CHECK(c.get("/api/v1/auth/me", key_b_admin.key).status == 200);
    // B's audit log holds only B's own requests, even after A's attempts on B's records.
    check_lists_confined(c, admin_b, org_b, in_a, true);
  }
  CHECK(server.running());
}
