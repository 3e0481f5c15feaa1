// The whole role × route permission matrix against the real binary, generated from the router:
// the routes come from GET /api/v1/openapi.json (built from the route table, each operation
// carrying `x-permission` or `security: []`), so a new route cannot skip the matrix, and a new
// permission name fails the test until the table below learns it. The table mirrors the house
// plan's roles; every principal (a user of each role in the system organization, an admin of a
// second organization, and API keys) calls every protected operation with harmless arguments
// (path ids 999999, an empty JSON object body) and must be refused with 403
// INSUFFICIENT_PERMISSIONS exactly when its role lacks the permission, and let through (neither
// 401 nor 403) otherwise. Without a token every protected operation answers 401.
#include <map>
#include <set>
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
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

const std::vector<std::string> kAllRoles = {"admin", "operator", "viewer", "api_user"};

// The house plan: which roles hold which permission. "orgs:admin" and "settings:admin" are held
// by no role as such; they need an admin of the system organization (see holds()).
const std::map<std::string, std::set<std::string>>& permission_table() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"self", {"admin", "operator", "viewer", "api_user"}},
      {"users:read", {"admin", "operator"}},
      {"users:write", {"admin"}},
      {"api_keys:read", {"admin", "operator"}},
      {"api_keys:write", {"admin"}},
      {"audit:read", {"admin"}},
      {"orgs:admin", {}},
      {"devices:read", {"admin", "operator", "viewer", "api_user"}},
      {"devices:write", {"admin", "operator"}},
      {"metrics:read", {"admin", "operator", "viewer", "api_user"}},
      {"metrics:write", {"admin", "operator", "api_user"}},
      {"alerts:read", {"admin", "operator", "viewer", "api_user"}},
      {"alerts:write", {"admin", "operator"}},
      {"reports:read", {"admin", "operator", "viewer"}},
      {"reports:write", {"admin", "operator"}},
      {"notifications:read", {"admin", "operator", "viewer"}},
      {"notifications:write", {"admin", "operator"}},
      {"dashboards:read", {"admin", "operator", "viewer", "api_user"}},
      {"dashboards:write", {"admin", "operator"}},
      {"settings:admin", {}},
  };
  return table;
}

struct Principal {
  std::string label;
  std::string role;
  bool system_org = true;
  bool api_key = false;
  std::string email;  // users only
  std::string password;
  std::string token;  // access token or API key
};

bool holds(const Principal& p, const std::string& permission) {
  if (permission == "orgs:admin" || permission == "settings:admin") {
    return p.role == "admin" && p.system_org;
  }
  auto it = permission_table().find(permission);
  return it != permission_table().end() && it->second.count(p.role) > 0;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool has_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// "/api/v1/users/{id}/password" -> "/api/v1/users/999999/password".
std::string fill_path_params(const std::string& pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      auto close = pattern.find('}', i);
      REQUIRE(close != std::string::npos);
      out += "999999";
      i = close;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

HttpResponse call(HttpClient& c, const std::string& method, const std::string& path,
                  const std::string& bearer) {
  HttpRequest r;
  r.method = method;
  r.target = path;
  if (!bearer.empty()) r.headers.emplace_back("Authorization", "Bearer " + bearer);
  if (has_body(method)) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = "{}";
  }
  return c.send(r);
}

std::int64_t create_user(HttpClient& c, const std::string& admin, const std::string& email,
                         const std::string& role, const std::string& password) {
  auto res = c.post_json(
      "/api/v1/users",
      R"({"email":")" + email + R"(","role":")" + role + R"(","password":")" + password + R"("})",
      admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return res.json().at("data").at("id").as_int64();
}

std::string create_api_key(HttpClient& c, const std::string& admin, const std::string& name,
                           const std::string& role) {
  auto res = c.post_json("/api/v1/api-keys",
                         R"({"name":")" + name + R"(","role":")" + role + R"("})", admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return std::string(res.json().at("data").at("key").as_string());
}

struct Operation {
  std::string method;      // "GET"
  std::string pattern;     // "/api/v1/users/{id}"
  std::string permission;  // "" when public
  bool security_empty = false;
};

std::vector<Operation> operations_of(const boost::json::value& doc) {
  std::vector<Operation> ops;
  for (auto& [path, item] : doc.at("paths").as_object()) {
    for (auto& [method, op_value] : item.as_object()) {
      auto& op = op_value.as_object();
      Operation o;
      o.method = upper(std::string(method));
      o.pattern = std::string(path);
      if (auto* perm = op.if_contains("x-permission"))
        o.permission = std::string(perm->as_string());
      if (auto* sec = op.if_contains("security")) {
        o.security_empty = sec->is_array() && sec->as_array().empty();
      }
      ops.push_back(std::move(o));
    }
  }
  return ops;
}

std::string describe(const Operation& op) {
  return op.method + " " + op.pattern + " (" +
         (op.permission.empty() ? std::string("public") : op.permission) + ")";
}

}  // namespace

TEST_CASE(
    "permissions: every protected route of the OpenAPI document grants exactly the house "
    "plan's roles, for users of every role, a non-system admin and API keys",
    "[permissions]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();

  auto doc_res = c.get("/api/v1/openapi.json");
  REQUIRE(doc_res.status == 200);
  auto doc = doc_res.json();
  REQUIRE(doc.is_object());
  auto ops = operations_of(doc);

  // Sanity: the document lists at least the routes we know exist, with the right protection.
  std::map<std::string, std::string> known = {
      {"POST /api/v1/auth/login", ""},
      {"POST /api/v1/auth/refresh", ""},
      {"GET /api/v1/openapi.json", ""},
      {"GET /alive", ""},
      {"GET /api/v1/auth/me", "self"},
      {"POST /api/v1/auth/logout", "self"},
      {"PUT /api/v1/auth/password", "self"},
      {"GET /api/v1/users", "users:read"},
      {"POST /api/v1/users", "users:write"},
      {"GET /api/v1/users/{id}", "users:read"},
      {"PATCH /api/v1/users/{id}", "users:write"},
      {"DELETE /api/v1/users/{id}", "users:write"},
      {"PUT /api/v1/users/{id}/password", "users:write"},
      {"GET /api/v1/organization", "self"},
      {"GET /api/v1/organizations", "orgs:admin"},
      {"POST /api/v1/organizations", "orgs:admin"},
      {"DELETE /api/v1/organizations/{id}", "orgs:admin"},
      {"GET /api/v1/settings", "settings:admin"},
      {"PATCH /api/v1/settings", "settings:admin"},
      {"GET /api/v1/api-keys", "api_keys:read"},
      {"POST /api/v1/api-keys", "api_keys:write"},
      {"DELETE /api/v1/api-keys/{id}", "api_keys:write"},
      {"GET /api/v1/audit", "audit:read"},
      // Alerts (issue 14): everyone who reads alerts reads rules, alerts, incidents, silences
      // and windows, and may backtest; operators change them and act on alerts.
      {"GET /api/v1/alert-rules", "alerts:read"},
      {"POST /api/v1/alert-rules", "alerts:write"},
      {"GET /api/v1/alert-rules/{id}", "alerts:read"},
      {"PUT /api/v1/alert-rules/{id}", "alerts:write"},
      {"PATCH /api/v1/alert-rules/{id}", "alerts:write"},
      {"DELETE /api/v1/alert-rules/{id}", "alerts:write"},
      {"POST /api/v1/alert-rules/{id}/backtest", "alerts:read"},
      {"POST /api/v1/alert-rules/backtest", "alerts:read"},
      {"GET /api/v1/alerts", "alerts:read"},
      {"GET /api/v1/alerts/{id}", "alerts:read"},
      {"POST /api/v1/alerts/{id}/acknowledge", "alerts:write"},
      {"POST /api/v1/alerts/{id}/resolve", "alerts:write"},
      {"POST /api/v1/alerts/{id}/comments", "alerts:write"},
      {"GET /api/v1/incidents", "alerts:read"},
      {"GET /api/v1/incidents/{id}", "alerts:read"},
      {"GET /api/v1/silences", "alerts:read"},
      {"POST /api/v1/silences", "alerts:write"},
      {"DELETE /api/v1/silences/{id}", "alerts:write"},
      {"GET /api/v1/maintenance-windows", "alerts:read"},
      {"POST /api/v1/maintenance-windows", "alerts:write"},
      {"GET /api/v1/maintenance-windows/{id}", "alerts:read"},
      {"PUT /api/v1/maintenance-windows/{id}", "alerts:write"},
      {"DELETE /api/v1/maintenance-windows/{id}", "alerts:write"},
      {"GET /api/v1/oncall-schedules", "notifications:read"},
      {"POST /api/v1/oncall-schedules", "notifications:write"},
      {"GET /api/v1/oncall-schedules/{id}", "notifications:read"},
      {"PUT /api/v1/oncall-schedules/{id}", "notifications:write"},
      {"DELETE /api/v1/oncall-schedules/{id}", "notifications:write"},
      {"GET /api/v1/oncall-schedules/{id}/current", "notifications:read"},
      {"GET /api/v1/me/contacts", "self"},
      {"PUT /api/v1/me/contacts", "self"},
      {"GET /api/v1/users/{id}/contacts", "users:read"},
      {"PUT /api/v1/users/{id}/contacts", "users:write"},
      {"GET /api/v1/me/notifications", "self"},
      {"POST /api/v1/me/notifications/{id}/read", "self"},
      {"POST /api/v1/me/notifications/read-all", "self"},
      // Acknowledgement links (issue 15): public, the signed token is the credential.
      {"GET /api/v1/ack/{token}", ""},
      {"POST /api/v1/ack/{token}", ""},
  };
  std::map<std::string, std::string> documented;
  for (auto& op : ops) documented[op.method + " " + op.pattern] = op.permission;
  for (auto& [route, perm] : known) {
    INFO(route);
    REQUIRE(documented.count(route) == 1);
    CHECK(documented[route] == perm);
  }

  // Every operation is either protected (x-permission, a known name) or explicitly public.
  std::size_t protected_ops = 0;
  for (auto& op : ops) {
    INFO(describe(op));
    if (op.permission.empty()) {
      CHECK(op.security_empty);
    } else {
      ++protected_ops;
      CHECK_FALSE(op.security_empty);
      CHECK(permission_table().count(op.permission) == 1);
    }
  }
  REQUIRE(protected_ops >= 15);

  // Principals: users of every role in the system organization, an admin of a second
  // organization (created with the CLI: the API creates users only in the caller's own org),
  // and API keys.
  auto admin = login(c, kAdminEmail, kAdminPassword);
  std::vector<Principal> principals;
  principals.push_back({"system admin", "admin", true, false, kAdminEmail, kAdminPassword, admin});
  for (auto& role : {"operator", "viewer", "api_user"}) {
    Principal p{std::string("system ") + role,
                role,
                true,
                false,
                std::string(role) + "@matrix.example",
                std::string("pw-") + role + "-matrix",
                ""};
    create_user(c, admin, p.email, p.role, p.password);
    p.token = login(c, p.email, p.password);
    principals.push_back(p);
  }
  auto org =
      c.post_json("/api/v1/organizations", R"({"name":"Tenant B","slug":"tenant-b"})", admin);
  INFO(org.body);
  REQUIRE(org.status == 201);
  {
    auto cli = run_netpulse({"user", "add", "--email", "admin@tenant-b.example", "--role", "admin",
                             "--org", "tenant-b", "--password", "tenant-b-admin-pw"},
                            {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
    INFO(cli.output);
    REQUIRE(cli.exit_code == 0);
    Principal p{"tenant admin",      "admin", false, false, "admin@tenant-b.example",
                "tenant-b-admin-pw", ""};
    p.token = login(c, p.email, p.password);
    principals.push_back(p);
  }
  for (auto& role : {"api_user", "viewer"}) {
    Principal p{std::string("system API key ") + role, role, true, true, "", "", ""};
    p.token = create_api_key(c, admin, std::string("matrix-") + role, role);
    principals.push_back(p);
  }

  // The server's own view of each principal agrees with the table.
  for (auto& p : principals) {
    INFO(p.label);
    auto me = c.get("/api/v1/auth/me", p.token);
    REQUIRE(me.status == 200);
    auto data = me.json().at("data").as_object();
    CHECK(data.at("role").as_string() == p.role);
    CHECK(data.at("type").as_string() == (p.api_key ? "api_key" : "user"));
    std::set<std::string> reported;
    for (auto& perm : data.at("permissions").as_array()) {
      reported.insert(std::string(perm.as_string()));
    }
    std::set<std::string> expected;
    for (auto& [perm, _] : permission_table()) {
      if (holds(p, perm)) expected.insert(perm);
    }
    CHECK(reported == expected);
    CHECK(data.at("system_admin").as_bool() == (p.role == "admin" && p.system_org));
  }

  std::size_t checked = 0;
  for (auto& op : ops) {
    if (op.permission.empty()) continue;
    auto path = fill_path_params(op.pattern);
    for (auto& p : principals) {
      INFO(describe(op) << " as " << p.label << " [" << p.role << "]");
      std::string token = p.token;
      // Logout revokes the token it is called with: use a fresh one so the others stay valid.
      if (op.method == "POST" && op.pattern == "/api/v1/auth/logout" && !p.api_key) {
        token = login(c, p.email, p.password);
      }
      auto res = call(c, op.method, path, token);
      INFO(res.status << " " << res.body);
      if (op.method == "PUT" && op.pattern == "/api/v1/auth/password" && p.api_key) {
        // An API key holds "self" but has no password to change: refused by the handler.
        CHECK(res.status == 403);
        CHECK(res.error_code() == "INSUFFICIENT_PERMISSIONS");
      } else if (holds(p, op.permission)) {
        CHECK(res.status != 401);
        CHECK(res.status != 403);
        CHECK(res.status < 500);
      } else {
        CHECK(res.status == 403);
        CHECK(res.error_code() == "INSUFFICIENT_PERMISSIONS");
        auto body = res.json();
        if (body.is_object() && body.as_object().contains("error")) {
          auto& details = body.at("error").at("details");
          CHECK(details.is_object());
          if (details.is_object() && details.as_object().contains("required")) {
            CHECK(details.at("required").as_string() == op.permission);
          }
        }
      }
      ++checked;
    }
  }
  CHECK(checked == protected_ops * principals.size());

  // The principals' tokens were not consumed by the matrix (logout used fresh ones).
  for (auto& p : principals) {
    INFO(p.label);
    CHECK(c.get("/api/v1/auth/me", p.token).status == 200);
  }
  CHECK(server.running());
}

TEST_CASE(
    "permissions: every protected route answers 401 AUTHENTICATION_REQUIRED without a token "
    "and every public route answers without one",
    "[permissions]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto doc_res = c.get("/api/v1/openapi.json");
  REQUIRE(doc_res.status == 200);
  auto ops = operations_of(doc_res.json());
  REQUIRE(!ops.empty());

  std::size_t protected_ops = 0;
  for (auto& op : ops) {
    auto path = fill_path_params(op.pattern);
    INFO(describe(op));
    auto res = call(c, op.method, path, "");
    INFO(res.status << " " << res.body);
    if (op.permission.empty()) {
      CHECK(res.status != 401);
      CHECK(res.status != 403);
      CHECK(res.status < 500);
    } else {
      ++protected_ops;
      CHECK(res.status == 401);
      CHECK(res.error_code() == "AUTHENTICATION_REQUIRED");
      CHECK(res.header("www-authenticate").rfind("Bearer", 0) == 0);
    }
  }
  CHECK(protected_ops >= 15);
  CHECK(server.running());
}
