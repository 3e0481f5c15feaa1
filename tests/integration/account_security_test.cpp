// The real binary's account policies (issue 12, docs/security.md "Accounts, sessions and API
// keys"): the audit log holds authenticated actions only and counts the refused ones in /metrics;
// an attacker at one address cannot lock the administrator out at another, and the CLI unlocks;
// emails are unique per organization and another organization's users cannot be probed; API keys
// die with their creator and are clamped to its role; access tokens die with a password change,
// a reset or a deactivation; secret key files readable by others are refused at start-up.
#include <filesystem>
#include <thread>

#include <boost/json/serialize.hpp>
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

std::string login_body(const std::string& email, const std::string& password) {
  return R"({"email":")" + email + R"(","password":")" + password + R"("})";
}

// A login as if from `ip` (the server trusts 127.0.0.1 as a proxy in these tests).
HttpResponse login_from(HttpClient& c, const std::string& ip, const std::string& email,
                        const std::string& password) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/auth/login";
  r.headers = {{"Content-Type", "application/json"}, {"X-Forwarded-For", ip}};
  r.body = login_body(email, password);
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

// The value of one sample line of /metrics ("name{labels} value"), or -1 when absent.
double metric(HttpClient& c, const std::string& series) {
  auto res = c.get("/metrics");
  REQUIRE(res.status == 200);
  auto at = res.body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  auto start = at + 1 + series.size() + 1;
  return std::stod(res.body.substr(start, res.body.find('\n', start) - start));
}

// The whole audit log as the system administrator sees it, once the row of `request_id` is in
// (rows are written behind the answer).
boost::json::array audit_after(HttpClient& c, const std::string& admin,
                               const std::string& request_id) {
  for (int i = 0; i < 200; ++i) {
    auto res = c.get("/api/v1/audit?per_page=500", admin);
    REQUIRE(res.status == 200);
    auto rows = res.json().at("data").as_array();
    for (auto& row : rows) {
      if (row.at("request_id").as_string() == request_id) return rows;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("audit row of " << request_id << " never appeared");
  return {};
}

std::map<std::string, std::string> cli_env(const TempDir& dir) {
  return {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}};
}

}  // namespace

TEST_CASE("audit: refused requests are counted, not written; logins are audited by account",
          "[audit]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();

  // The flood: unauthenticated writes, forged tokens, failed logins.
  for (int i = 0; i < 20; ++i) {
    CHECK(c.post_json("/api/v1/users", "{}").status == 401);
  }
  for (int i = 0; i < 5; ++i) {
    CHECK(c.post_json("/api/v1/users", "{}", "forged.token.value").status == 401);
  }
  for (int i = 0; i < 4; ++i) {
    CHECK(c.post_json("/api/v1/auth/login", login_body("nobody@example.net", "wrong-password"))
              .status == 401);
  }

  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto created = c.post_json(
      "/api/v1/users", R"({"email":"noc@isp.example","role":"viewer","password":"noc-password-1"})",
      admin);
  REQUIRE(created.status == 201);
  auto rows = audit_after(c, admin, created.header("x-request-id"));

  int logins = 0;
  for (auto& row : rows) {
    INFO(boost::json::serialize(row));
    CHECK(row.at("actor").as_string() != "anonymous");
    CHECK(row.at("org_id").is_int64());
    if (row.at("action").as_string() == "POST /api/v1/auth/login") {
      ++logins;
      CHECK(row.at("actor").as_string() == kAdminEmail);
      CHECK(row.at("user_id").is_int64());
      CHECK(row.at("outcome").as_string() == "success");
    }
  }
  CHECK(logins == 1);
  CHECK(rows.size() == 2);  // the login and the user created

  CHECK(metric(c, R"(netpulse_audit_refused_total{reason="unauthenticated"})") == 25);
  CHECK(metric(c, R"(netpulse_auth_login_failures_total{reason="unknown_account"})") == 4);
}

TEST_CASE(
    "login throttle: an attacker at one address cannot lock the administrator out at "
    "another; the CLI unlocks",
    "[throttle]") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_TRUSTED_PROXIES", "127.0.0.1"},
                                    {"NETPULSE_AUTH_THROTTLE_ACCOUNT_FAILURES", "3"}});
  auto c = server.client();
  const std::string attacker = "203.0.113.66";
  const std::string office = "198.51.100.7";

  for (int i = 0; i < 3; ++i) {
    CHECK(login_from(c, attacker, kAdminEmail, "guess-" + std::to_string(i)).status == 401);
  }
  auto locked = login_from(c, attacker, kAdminEmail, kAdminPassword);
  CHECK(locked.status == 429);
  CHECK(locked.error_code() == "RATE_LIMIT_EXCEEDED");
  // The administrator, elsewhere, logs in.
  auto admin = login_from(c, office, kAdminEmail, kAdminPassword);
  INFO(admin.body);
  CHECK(admin.status == 200);
  // And the attacker's address is still locked out.
  CHECK(login_from(c, attacker, kAdminEmail, "guess-again").status == 429);

  // The lock of a whole account can be lifted from the shell while the server runs.
  auto cli = run_netpulse({"user", "unlock", "--email", kAdminEmail}, cli_env(dir));
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  CHECK(login_from(c, attacker, kAdminEmail, kAdminPassword).status == 200);
  auto unknown = run_netpulse({"user", "unlock", "--email", "ghost@example.net"}, cli_env(dir));
  CHECK(unknown.exit_code == 1);
}

TEST_CASE(
    "emails: unique per organization; another organization's users cannot be probed, "
    "login finds the account by its password or org",
    "[emails]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  REQUIRE(c.post_json("/api/v1/organizations", R"({"name":"Tenant B","slug":"tenant-b"})", admin)
              .status == 201);
  auto cli = run_netpulse({"user", "add", "--email", "boss@tenant-b.example", "--role", "admin",
                           "--org", "tenant-b", "--password", "tenant-b-boss-pw"},
                          cli_env(dir));
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  auto boss_b = login(c, "boss@tenant-b.example", "tenant-b-boss-pw");

  // A user of the system organization...
  create_user(c, admin, "shared@isp.example", "operator", "system-side-pw");
  // ...does not make the same email a conflict in tenant B: B learns nothing about it.
  auto in_b = c.post_json(
      "/api/v1/users",
      R"({"email":"Shared@isp.example","role":"viewer","password":"tenant-side-pw"})", boss_b);
  INFO(in_b.body);
  REQUIRE(in_b.status == 201);
  // Within one organization an email is still unique (and B may know its own users).
  auto again = c.post_json(
      "/api/v1/users",
      R"({"email":"shared@isp.example","role":"viewer","password":"tenant-side-pw2"})", boss_b);
  CHECK(again.status == 409);
  CHECK(again.error_code() == "USER_ALREADY_EXISTS");

  // Each password leads to its own account.
  auto as_b = login(c, "shared@isp.example", "tenant-side-pw");
  auto me_b = c.get("/api/v1/auth/me", as_b);
  REQUIRE(me_b.status == 200);
  CHECK(me_b.json().at("data").at("role").as_string() == "viewer");
  auto as_sys = login(c, "shared@isp.example", "system-side-pw");
  CHECK(c.get("/api/v1/auth/me", as_sys).json().at("data").at("role").as_string() == "operator");

  // A wrong password reads as for an unknown email.
  auto wrong = c.post_json("/api/v1/auth/login", login_body("shared@isp.example", "nope-nope"));
  auto unknown = c.post_json("/api/v1/auth/login", login_body("absent@isp.example", "nope-nope"));
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.json().at("error") == unknown.json().at("error"));

  // The same password in both: the organization must be named.
  auto id_b = in_b.json().at("data").at("id").as_int64();
  REQUIRE(c.put_json("/api/v1/users/" + std::to_string(id_b) + "/password",
                     R"({"password":"system-side-pw"})", boss_b)
              .status == 204);
  auto ambiguous =
      c.post_json("/api/v1/auth/login", login_body("shared@isp.example", "system-side-pw"));
  CHECK(ambiguous.status == 400);
  CHECK(ambiguous.error_code() == "INVALID_INPUT");
  CHECK(ambiguous.json().at("error").at("details").at("field").as_string() == "org");
  auto with_org =
      c.post_json("/api/v1/auth/login",
                  R"({"email":"shared@isp.example","password":"system-side-pw","org":"tenant-b"})");
  INFO(with_org.body);
  REQUIRE(with_org.status == 200);
  auto token = std::string(with_org.json().at("data").at("access_token").as_string());
  CHECK(c.get("/api/v1/auth/me", token).json().at("data").at("role").as_string() == "viewer");
  auto other_org = c.post_json(
      "/api/v1/auth/login",
      R"({"email":"shared@isp.example","password":"system-side-pw","org":"no-such-org"})");
  CHECK(other_org.status == 401);
  CHECK(other_org.json().at("error") == unknown.json().at("error"));
}

TEST_CASE("API keys: a system admin's key dies with its creator and follows the creator's role",
          "[api-keys]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto second_id = create_user(c, admin, "second@isp.example", "admin", "second-admin-pw");
  auto second = login(c, "second@isp.example", "second-admin-pw");
  auto created = c.post_json("/api/v1/api-keys", R"({"name":"automation","role":"admin"})", second);
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto key = std::string(created.json().at("data").at("key").as_string());
  // Without an expiry the configured default lifetime applies (365 days).
  CHECK(created.json().at("data").at("expires_at").is_string());
  CHECK(c.get("/api/v1/organizations", key).status == 200);

  // A key does not mint keys.
  auto minted = c.post_json("/api/v1/api-keys", R"({"name":"child","role":"viewer"})", key);
  CHECK(minted.status == 403);

  const auto user = "/api/v1/users/" + std::to_string(second_id);
  // Demoted creator: the key acts with the creator's role.
  REQUIRE(c.patch_json(user, R"({"role":"viewer"})", admin).status == 200);
  CHECK(c.get("/api/v1/organizations", key).status == 403);
  auto me = c.get("/api/v1/auth/me", key);
  REQUIRE(me.status == 200);
  CHECK(me.json().at("data").at("role").as_string() == "viewer");
  CHECK_FALSE(me.json().at("data").at("system_admin").as_bool());
  REQUIRE(c.patch_json(user, R"({"role":"admin"})", admin).status == 200);
  CHECK(c.get("/api/v1/organizations", key).status == 200);

  // Deactivated creator: the key stops; reactivated: it works again.
  REQUIRE(c.patch_json(user, R"({"active":false})", admin).status == 200);
  CHECK(c.get("/api/v1/organizations", key).status == 401);
  REQUIRE(c.patch_json(user, R"({"active":true})", admin).status == 200);
  CHECK(c.get("/api/v1/organizations", key).status == 200);

  // Deleted creator: the key is dead for good.
  REQUIRE(c.del(user, admin).status == 204);
  auto dead = c.get("/api/v1/organizations", key);
  CHECK(dead.status == 401);
  CHECK(dead.error_code() == "TOKEN_INVALID");

  // The CLI lists keys and revokes them.
  auto mine = c.post_json("/api/v1/api-keys", R"({"name":"telegraf","role":"api_user"})", admin);
  REQUIRE(mine.status == 201);
  auto mine_key = std::string(mine.json().at("data").at("key").as_string());
  auto mine_id = mine.json().at("data").at("id").as_int64();
  CHECK(c.get("/api/v1/auth/me", mine_key).status == 200);
  auto list = run_netpulse({"api-key", "list"}, cli_env(dir));
  INFO(list.output);
  REQUIRE(list.exit_code == 0);
  CHECK(list.output.find("telegraf") != std::string::npos);
  CHECK(list.output.find("automation") != std::string::npos);
  CHECK(list.output.find(mine_key) == std::string::npos);
  auto revoke = run_netpulse({"api-key", "revoke", std::to_string(mine_id)}, cli_env(dir));
  INFO(revoke.output);
  REQUIRE(revoke.exit_code == 0);
  CHECK(c.get("/api/v1/auth/me", mine_key).status == 401);
  CHECK(run_netpulse({"api-key", "revoke", "99999"}, cli_env(dir)).exit_code == 1);
}

TEST_CASE("access tokens: a password change, a reset and a deactivation end them at once",
          "[tokens]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto id = create_user(c, admin, "op@isp.example", "operator", "operator-pw-1");
  const auto user = "/api/v1/users/" + std::to_string(id);

  // Own change: the old token dies, the new password works at once (same second).
  auto before = login(c, "op@isp.example", "operator-pw-1");
  REQUIRE(c.put_json("/api/v1/auth/password",
                     R"({"current_password":"operator-pw-1","new_password":"operator-pw-2"})",
                     before)
              .status == 204);
  CHECK(c.get("/api/v1/auth/me", before).status == 401);
  auto after = login(c, "op@isp.example", "operator-pw-2");
  CHECK(c.get("/api/v1/auth/me", after).status == 200);

  // Admin reset.
  REQUIRE(c.put_json(user + "/password", R"({"password":"operator-pw-3"})", admin).status == 204);
  CHECK(c.get("/api/v1/auth/me", after).status == 401);
  auto third = login(c, "op@isp.example", "operator-pw-3");
  CHECK(c.get("/api/v1/auth/me", third).status == 200);

  // Deactivation: the token does not come back with a reactivation.
  REQUIRE(c.patch_json(user, R"({"active":false})", admin).status == 200);
  CHECK(c.get("/api/v1/auth/me", third).status == 401);
  REQUIRE(c.patch_json(user, R"({"active":true})", admin).status == 200);
  CHECK(c.get("/api/v1/auth/me", third).status == 401);

  // The CLI's reset too.
  auto fourth = login(c, "op@isp.example", "operator-pw-3");
  auto cli = run_netpulse(
      {"user", "passwd", "--email", "op@isp.example", "--password", "operator-pw-4"}, cli_env(dir));
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  CHECK(c.get("/api/v1/auth/me", fourth).status == 401);
  login(c, "op@isp.example", "operator-pw-4");
}

TEST_CASE("key files readable by others are refused at start-up, naming the file and the fix",
          "[keys]") {
  namespace fs = std::filesystem;
  TempDir dir;
  {
    ServerProcess server(dir.path());
    REQUIRE(server.terminate() == 0);
  }
  for (const std::string name : {"jwt.key", "credentials.key"}) {
    INFO(name);
    const auto path = dir.file(name);
    REQUIRE(fs::exists(path));
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    fs::permissions(path, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
    auto env = netpulse::test::default_server_env(dir.path());
    auto run = run_netpulse({"serve"}, env, std::chrono::seconds(20));
    INFO(run.output);
    CHECK(run.exit_code == 1);
    CHECK(run.output.find(path) != std::string::npos);
    CHECK(run.output.find("0644") != std::string::npos);
    CHECK(run.output.find("chmod 600") != std::string::npos);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }
  ServerProcess again(dir.path());
  CHECK(again.terminate() == 0);
}

TEST_CASE("organizations: a system administrator gives a new tenant its first admin over the API",
          "[security][organizations]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto sys = login(c, kAdminEmail, kAdminPassword);
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Tenant C","slug":"tenant-c"})", sys);
  REQUIRE(org.status == 201);
  const auto org_id = org.json().at("data").at("id").as_int64();
  const auto path = "/api/v1/organizations/" + std::to_string(org_id) + "/users";

  // A body with a fault is refused naming the field; an organization that does not exist is 404.
  auto bad = c.post_json(path, R"({"email":"boss@tenant-c.example","role":"admin"})", sys);
  CHECK(bad.status == 400);
  CHECK(bad.body.find("\"field\":\"password\"") != std::string::npos);
  CHECK(c.post_json("/api/v1/organizations/999999/users",
                    R"({"email":"x@y.example","role":"admin","password":"tenant-c-password"})", sys)
            .status == 404);

  auto made = c.post_json(path,
                          R"({"email":"boss@tenant-c.example","name":"Boss of C","role":"admin",)"
                          R"("password":"tenant-c-password"})",
                          sys);
  INFO(made.body);
  REQUIRE(made.status == 201);
  CHECK(made.json().at("data").at("org_id").as_int64() == org_id);
  auto boss = login(c, "boss@tenant-c.example", "tenant-c-password");
  auto me = c.get("/api/v1/auth/me", boss);
  CHECK(me.json().at("data").at("org_id").as_int64() == org_id);
  CHECK(me.json().at("data").at("role") == "admin");
  // The system organization's users list does not hold them; theirs does.
  CHECK(c.get("/api/v1/users?per_page=500", sys).body.find("tenant-c.example") ==
        std::string::npos);
  CHECK(c.get("/api/v1/users?per_page=500", boss).body.find("boss@tenant-c.example") !=
        std::string::npos);
  // A tenant's own admin is not a system administrator.
  auto refused = c.post_json(
      path, R"({"email":"more@tenant-c.example","role":"admin","password":"tenant-c-password"})",
      boss);
  CHECK(refused.status == 403);
  CHECK(refused.error_code() == "INSUFFICIENT_PERMISSIONS");
}
