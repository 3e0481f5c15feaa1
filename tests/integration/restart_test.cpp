// Durability across restarts of the real binary: everything acknowledged with a 2xx before a
// SIGTERM, and before a kill -9, is there after a restart on the same data directory (users log
// in, API keys authenticate), and access and refresh tokens issued before the restart still work
// because the signing key lives in the data directory. `netpulse backup` taken while the server
// runs and writes gives a consistent copy (a prefix of the acknowledged writes) that a second
// server starts on; `netpulse migrate --dry-run` reports nothing pending on a live database and
// lists the migrations on an empty directory without creating the database.
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::CommandResult;
using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace fs = std::filesystem;

namespace {

struct User {
  std::string email;
  std::string password;
};

struct Key {
  std::int64_t id = 0;
  std::string key;
};

User create_user(HttpClient& c, const std::string& admin, const std::string& tag, int i) {
  User u{tag + "-" + std::to_string(i) + "@restart.example",
         "pw-" + tag + "-" + std::to_string(i) + "-restart"};
  auto res = c.post_json(
      "/api/v1/users",
      R"({"email":")" + u.email + R"(","role":"viewer","password":")" + u.password + R"("})",
      admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return u;
}

Key create_key(HttpClient& c, const std::string& admin, const std::string& name) {
  auto res =
      c.post_json("/api/v1/api-keys", R"({"name":")" + name + R"(","role":"api_user"})", admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  auto data = res.json().at("data").as_object();
  return {data.at("id").as_int64(), std::string(data.at("key").as_string())};
}

std::set<std::string> user_emails(HttpClient& c, const std::string& admin) {
  auto res = c.get("/api/v1/users?per_page=500", admin);
  INFO(res.body.substr(0, 500));
  REQUIRE(res.status == 200);
  std::set<std::string> out;
  auto res_json = res.json();
  for (auto& u : res_json.at("data").as_array()) {
    out.insert(std::string(u.at("email").as_string()));
  }
  return out;
}

// Every user is listed and logs in; every key authenticates.
void check_all_there(HttpClient& c, const std::string& admin, const std::vector<User>& users,
                     const std::vector<Key>& keys) {
  auto emails = user_emails(c, admin);
  for (auto& u : users) {
    INFO(u.email);
    CHECK(emails.count(u.email) == 1);
    auto res = c.post_json("/api/v1/auth/login",
                           R"({"email":")" + u.email + R"(","password":")" + u.password + R"("})");
    CHECK(res.status == 200);
  }
  for (auto& k : keys) {
    INFO("key " << k.id);
    auto me = c.get("/api/v1/auth/me", k.key);
    CHECK(me.status == 200);
  }
}

std::map<std::string, std::string> data_dir_env(const std::string& dir) {
  return {{"NETPULSE_STORAGE_DATA_DIR", dir}};
}

}  // namespace

TEST_CASE(
    "restart: what was acknowledged before SIGTERM and before kill -9 is all there after a "
    "restart, and earlier access and refresh tokens still work",
    "[restart]") {
  TempDir dir;
  std::vector<User> users;
  std::vector<Key> keys;
  std::string access;
  std::string refresh;

  {
    ServerProcess server(dir.path());
    auto c = server.client();
    auto res =
        c.post_json("/api/v1/auth/login", R"({"email":")" + std::string(kAdminEmail) +
                                              R"(","password":")" + kAdminPassword + R"("})");
    REQUIRE(res.status == 200);
    access = std::string(res.json().at("data").at("access_token").as_string());
    refresh = std::string(res.json().at("data").at("refresh_token").as_string());
    for (int i = 0; i < 30; ++i) users.push_back(create_user(c, access, "term", i));
    for (int i = 0; i < 5; ++i) keys.push_back(create_key(c, access, "term-" + std::to_string(i)));
    REQUIRE(server.terminate() == 0);
  }

  {
    ServerProcess server(dir.path());
    auto c = server.client();
    // Tokens issued by the previous process.
    auto me = c.get("/api/v1/auth/me", access);
    REQUIRE(me.status == 200);
    CHECK(me.json().at("data").at("email").as_string() == kAdminEmail);
    auto rotated = c.post_json("/api/v1/auth/refresh", R"({"refresh_token":")" + refresh + R"("})");
    INFO(rotated.body);
    REQUIRE(rotated.status == 200);
    refresh = std::string(rotated.json().at("data").at("refresh_token").as_string());
    CHECK(c.get("/api/v1/auth/me",
                std::string(rotated.json().at("data").at("access_token").as_string()))
              .status == 200);

    check_all_there(c, access, users, keys);

    // More writes, then kill -9 right after the last acknowledgement.
    for (int i = 0; i < 20; ++i) users.push_back(create_user(c, access, "kill", i));
    for (int i = 0; i < 3; ++i) keys.push_back(create_key(c, access, "kill-" + std::to_string(i)));
    auto last = create_user(c, access, "last", 0);
    users.push_back(last);
    server.kill9();
  }

  {
    ServerProcess server(dir.path());
    auto c = server.client();
    REQUIRE(c.get("/api/v1/auth/me", access).status == 200);
    check_all_there(c, access, users, keys);
    // The refresh token rotated (and acknowledged) just before the kill is the live one.
    auto rotated = c.post_json("/api/v1/auth/refresh", R"({"refresh_token":")" + refresh + R"("})");
    INFO(rotated.body);
    CHECK(rotated.status == 200);
    auto emails = user_emails(c, access);
    CHECK(emails.size() == users.size() + 1);  // plus the bootstrap admin
    CHECK(server.terminate() == 0);
  }
}

TEST_CASE(
    "restart: netpulse backup while the server writes gives a consistent copy a second "
    "server runs on",
    "[restart]") {
  TempDir dir;
  TempDir backup_dir;
  const auto backup_path = backup_dir.file("netpulse-backup.db");
  ServerProcess server(dir.path());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  std::vector<User> before;
  for (int i = 0; i < 10; ++i) before.push_back(create_user(c, admin, "before", i));

  // The backup runs in another process while this thread keeps writing, each write acknowledged
  // before the next is sent (so the commit order is the order below).
  std::atomic<bool> backup_done{false};
  CommandResult backup;
  std::string backup_error;
  std::thread runner([&] {
    try {
      backup = run_netpulse({"backup", backup_path}, data_dir_env(dir.path()));
    } catch (const std::exception& e) {
      backup_error = e.what();
    }
    backup_done = true;
  });
  std::vector<User> during;
  for (int i = 0; i < 200 && !backup_done; ++i)
    during.push_back(create_user(c, admin, "during", i));
  runner.join();
  INFO(backup_error);
  INFO(backup.output);
  REQUIRE(backup_error.empty());
  REQUIRE(backup.exit_code == 0);
  // Written after the backup finished: cannot be in it.
  std::vector<User> after;
  for (int i = 0; i < 3; ++i) after.push_back(create_user(c, admin, "after", i));

  TempDir restored;
  fs::copy_file(backup_path, restored.file("netpulse.db"));
  fs::copy_file(dir.file("jwt.key"), restored.file("jwt.key"));
  fs::permissions(restored.file("jwt.key"), fs::perms::owner_read | fs::perms::owner_write);

  ServerProcess second(restored.path());
  auto c2 = second.client();
  auto health = c2.get("/health");
  CHECK(health.status == 200);
  // A token of the first server is valid here: same key, same users.
  CHECK(c2.get("/api/v1/auth/me", admin).status == 200);
  auto admin2 = login(c2, kAdminEmail, kAdminPassword);
  auto emails = user_emails(c2, admin2);
  for (auto& u : before) {
    INFO(u.email);
    CHECK(emails.count(u.email) == 1);
  }
  // A consistent snapshot holds a prefix of the writes made during the backup.
  std::size_t present = 0;
  while (present < during.size() && emails.count(during[present].email)) ++present;
  for (std::size_t i = present; i < during.size(); ++i) {
    INFO(during[i].email << " is in the copy although an earlier write is not");
    CHECK(emails.count(during[i].email) == 0);
  }
  for (auto& u : after) {
    INFO(u.email);
    CHECK(emails.count(u.email) == 0);
  }
  CHECK(emails.size() == 1 + before.size() + present);
  // The copy's users log in.
  auto res = c2.post_json("/api/v1/auth/login", R"({"email":")" + before.back().email +
                                                    R"(","password":")" + before.back().password +
                                                    R"("})");
  CHECK(res.status == 200);
  CHECK(second.terminate() == 0);
  CHECK(server.terminate() == 0);
}

TEST_CASE(
    "restart: migrate --dry-run finds nothing pending on a live database, and on an empty "
    "directory lists 0001_foundation without creating the database",
    "[restart]") {
  TempDir dir;
  {
    ServerProcess server(dir.path());
    auto r = run_netpulse({"migrate", "--dry-run"}, data_dir_env(dir.path()));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("nothing to apply") != std::string::npos);
    CHECK(r.output.find("0001_foundation") == std::string::npos);
    CHECK(server.running());
    auto c = server.client();
    CHECK(c.get("/health").status == 200);
    CHECK(server.terminate() == 0);
  }
  {
    auto r = run_netpulse({"migrate", "--dry-run"}, data_dir_env(dir.path()));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("nothing to apply") != std::string::npos);
  }

  TempDir empty;
  auto r = run_netpulse({"migrate", "--dry-run"}, data_dir_env(empty.path()));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("0001_foundation") != std::string::npos);
  CHECK_FALSE(fs::exists(empty.file("netpulse.db")));
  CHECK_FALSE(fs::exists(empty.file("netpulse.db-wal")));
  CHECK_FALSE(fs::exists(empty.file("netpulse.db-shm")));
  CHECK(fs::is_empty(empty.path()));
}
