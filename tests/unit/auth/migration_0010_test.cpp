// Migration 0010 (account hardening) on a database written by 0009: the users table is rebuilt
// without losing a row, a refresh token or an API key's creator (a rebuild with foreign keys on
// would cascade into both); keys without a creator are revoked; emails become unique per
// organization; user ids are never given again, not even those named only in the audit log.
#include <algorithm>

#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using namespace netpulse;

namespace {

std::vector<db::Migration> up_to(int version) {
  auto all = db::embedded_migrations();
  all.erase(std::remove_if(all.begin(), all.end(),
                           [&](const db::Migration& m) { return m.version > version; }),
            all.end());
  return all;
}

std::int64_t count(db::Database& database, const std::string& sql) {
  auto n = database.read([&](db::Connection& conn) -> core::Result<std::int64_t> {
    auto st = conn.prepare(sql);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    return st->get_int64(0);
  });
  REQUIRE(n);
  return *n;
}

}  // namespace

TEST_CASE("migration 0010: users rebuilt with their tokens and keys intact", "[auth][migration]") {
  test::TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}, core::LogLevel::kOff};
  test::TestEnv env{clock, log};
  db::Options options;
  options.path = dir.file("netpulse.db");
  options.migrations = up_to(9);
  {
    auto old = db::Database::open(options, env.env());
    REQUIRE(old);
    REQUIRE((*old)->schema_version() == 9);
    auto written = (*old)->write_sync([](db::Connection& conn) -> core::Result<void> {
      return conn.exec(
          "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
          "(1, 'System', 'system', 1, 1, 1), (2, 'Acme', 'acme', 0, 1, 1);"
          "INSERT INTO users (id, org_id, email, name, role, active, password_hash, "
          "password_changed_at, created_at, updated_at) VALUES "
          "(1, 1, 'admin@example.com', 'A', 'admin', 1, 'h1', 1, 1, 1), "
          "(2, 2, 'boss@acme.net', 'B', 'admin', 1, 'h2', 1, 1, 1);"
          "INSERT INTO refresh_tokens (token_hash, family_id, user_id, org_id, issued_at, "
          "expires_at) VALUES (x'01', 'f1', 1, 1, 1, 99), (x'02', 'f2', 2, 2, 1, 99);"
          "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, role, created_by, created_at) "
          "VALUES (1, 1, 'k1', 'p1', x'aa', 'admin', 1, 1), (2, 2, 'k2', 'p2', x'bb', 'api_user', "
          "2, 1), (3, 1, 'orphan', 'p3', x'cc', 'admin', NULL, 1);"
          "INSERT INTO audit_log (at, org_id, user_id, actor, action, status, outcome) VALUES "
          "(1, 1, 7, 'gone@example.com', 'POST /x', 200, 'success');");
    });
    REQUIRE(written);
  }

  options.migrations = db::embedded_migrations();
  auto migrated = db::Database::open(options, env.env());
  REQUIRE(migrated);
  auto& database = **migrated;
  CHECK(database.schema_version() >= 10);
  CHECK(count(database, "SELECT COUNT(*) FROM users") == 2);
  CHECK(count(database, "SELECT COUNT(*) FROM refresh_tokens") == 2);
  CHECK(count(database, "SELECT created_by FROM api_keys WHERE id = 1") == 1);
  CHECK(count(database, "SELECT created_by FROM api_keys WHERE id = 2") == 2);
  CHECK(count(database, "SELECT revoked_at IS NULL FROM api_keys WHERE id = 1") == 1);
  CHECK(count(database, "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = 3") == 1);
  CHECK(count(database, "SELECT SUM(tokens_valid_after) FROM users") == 0);

  auto added = database.write_sync([](db::Connection& conn) -> core::Result<void> {
    // The same email in another organization is fine now; twice in one is not.
    return conn.exec(
        "INSERT INTO users (org_id, email, name, role, active, password_hash, "
        "password_changed_at, created_at, updated_at) VALUES "
        "(2, 'ADMIN@example.com', 'C', 'viewer', 1, 'h3', 1, 1, 1)");
  });
  REQUIRE(added);
  CHECK(count(database, "SELECT MAX(id) FROM users") == 8);  // after the audit log's 7
  auto duplicate = database.write_sync([](db::Connection& conn) -> core::Result<void> {
    return conn.exec(
        "INSERT INTO users (org_id, email, name, role, active, password_hash, "
        "password_changed_at, created_at, updated_at) VALUES "
        "(2, 'admin@EXAMPLE.com', 'D', 'viewer', 1, 'h4', 1, 1, 1)");
  });
  CHECK_FALSE(duplicate);
}
