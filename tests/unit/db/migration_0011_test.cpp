// Migration 0011 (ids never reused) on a database that holds data: every row of the rebuilt
// tables (devices, their tags, groups and members, parent links, events, custom OIDs, service
// checks) is still there with its id, the indexes and foreign keys are back (cascades included),
// and from then on an id freed by a delete is never given again.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using netpulse::db::Connection;
using netpulse::db::Database;
using netpulse::db::Migration;

namespace {

constexpr int kVersion = 11;

struct Harness {
  netpulse::test::TempDir dir;
  netpulse::core::ManualClock clock;
  netpulse::core::Logger log{clock, [](std::string_view) {}, netpulse::core::LogLevel::kOff};
  netpulse::test::TestEnv env{clock, log};
  std::string path = dir.file("np.db");

  std::unique_ptr<Database> open(int up_to) {
    netpulse::db::Options o;
    o.path = path;
    o.reader_connections = 1;
    std::erase_if(o.migrations, [up_to](const Migration& m) { return m.version > up_to; });
    auto db = Database::open(o, env.env());
    REQUIRE(db);
    return std::move(*db);
  }
};

void exec(Database& db, const std::string& sql) {
  auto r = db.write_sync([&](Connection& c) { return c.exec(sql); });
  INFO(sql);
  REQUIRE(r);
}

std::int64_t scalar(Database& db, const std::string& sql) {
  auto r = db.read([&](Connection& c) -> std::int64_t {
    auto st = c.prepare(sql);
    REQUIRE(st);
    auto row = st->step();
    REQUIRE(row);
    return *row ? st->get_int64(0) : -1;
  });
  INFO(sql);
  return r;
}

std::vector<std::string> texts(Database& db, const std::string& sql) {
  return db.read([&](Connection& c) {
    auto st = c.prepare(sql);
    REQUIRE(st);
    std::vector<std::string> out;
    while (true) {
      auto row = st->step();
      REQUIRE(row);
      if (!*row) break;
      out.push_back(st->get_text(0));
    }
    return out;
  });
}

// A small inventory of two organizations, with gaps in the ids (deleted rows).
void fill(Database& db) {
  exec(db,
       "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
       "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
  exec(db,
       "INSERT INTO devices (id, org_id, name, address, type, snmp_version, snmp_secrets, "
       "created_at, updated_at) VALUES "
       "(1, 1, 'core', '192.0.2.1', 'router', '2c', x'0102', 10, 11), "
       "(3, 1, 'edge', '192.0.2.3', 'switch', '', NULL, 12, 13), "
       "(7, 2, 'cpe', '192.0.2.1', 'cpe', '3', x'03', 14, 15)");
  exec(db, "INSERT INTO device_tags (device_id, tag) VALUES (1, 'pop:a'), (3, 'pop:a')");
  exec(db,
       "INSERT INTO device_groups (id, org_id, name, created_at, updated_at) VALUES "
       "(2, 1, 'core', 0, 0), (5, 2, 'customers', 0, 0)");
  exec(db, "INSERT INTO device_group_members (group_id, device_id) VALUES (2, 1), (2, 3), (5, 7)");
  exec(db, "INSERT INTO device_parents (device_id, parent_id) VALUES (3, 1)");
  exec(db,
       "INSERT INTO device_events (id, org_id, device_id, at, kind, severity, message) VALUES "
       "(4, 1, 1, 100, 'status', 'info', 'core is up'), (9, 2, 7, 101, 'trap', 'warning', 'x'), "
       "(10, 1, NULL, 102, 'note', 'info', 'no device')");
  exec(db,
       "INSERT INTO custom_oids (id, org_id, device_id, device_type, oid, metric, kind, "
       "created_at) VALUES (6, 1, 1, NULL, '1.3.6.1.2.1.1.3.0', 'up', 'gauge', 0), "
       "(8, 2, NULL, 'cpe', '1.3.6.1.2.1.1.7.0', 'svc', 'gauge', 0)");
  exec(db,
       "INSERT INTO service_checks (id, org_id, device_id, name, kind, timeout_ms, retries, "
       "port, created_at, updated_at) VALUES (11, 2, 7, 'ssh', 'tcp', 1000, 1, 22, 0, 0), "
       "(12, 1, 3, 'web', 'tcp', 1000, 1, 80, 0, 0)");
}

}  // namespace

TEST_CASE("migration 0011: rows, indexes and foreign keys survive; freed ids are never reused",
          "[db][migrations]") {
  Harness h;
  {
    auto before = h.open(kVersion - 1);
    fill(*before);
    // Without it, SQLite hands out max(id) + 1: the freed id 7 would come back.
    before->close();
  }
  auto db = h.open(kVersion);
  REQUIRE(db->schema_version() >= kVersion);

  // Every row, with its id and contents.
  CHECK(texts(*db,
              "SELECT id || ':' || org_id || ':' || name || ':' || address || ':' || "
              "hex(snmp_secrets) FROM devices ORDER BY id") ==
        std::vector<std::string>{"1:1:core:192.0.2.1:0102",
                                 "3:1:edge:192.0.2.3:", "7:2:cpe:192.0.2.1:03"});
  CHECK(scalar(*db, "SELECT count(*) FROM device_tags") == 2);
  CHECK(texts(*db, "SELECT id || ':' || name FROM device_groups ORDER BY id") ==
        std::vector<std::string>{"2:core", "5:customers"});
  CHECK(scalar(*db, "SELECT count(*) FROM device_group_members") == 3);
  CHECK(scalar(*db, "SELECT count(*) FROM device_parents WHERE device_id = 3") == 1);
  CHECK(texts(*db,
              "SELECT id || ':' || coalesce(device_id, '-') || ':' || message FROM "
              "device_events ORDER BY id") ==
        std::vector<std::string>{"4:1:core is up", "9:7:x", "10:-:no device"});
  CHECK(texts(*db, "SELECT id || ':' || metric FROM custom_oids ORDER BY id") ==
        std::vector<std::string>{"6:up", "8:svc"});
  CHECK(texts(*db, "SELECT id || ':' || name FROM service_checks ORDER BY id") ==
        std::vector<std::string>{"11:ssh", "12:web"});

  // The indexes are back under their names; the references point at the rebuilt tables.
  auto indexes = texts(*db, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name");
  for (const char* name :
       {"device_group_members_device", "device_parents_parent", "device_events_org_at",
        "device_events_device_at", "custom_oids_org", "service_checks_org"}) {
    INFO(name);
    CHECK(std::find(indexes.begin(), indexes.end(), name) != indexes.end());
  }
  for (const char* table : {"device_tags", "device_group_members", "device_parents",
                            "device_events", "custom_oids", "service_checks"}) {
    INFO(table);
    auto parents =
        texts(*db, std::string("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('") + table +
                       "') ORDER BY 1");
    for (auto& p : parents) CHECK((p == "devices" || p == "organizations" || p == "device_groups"));
  }
  CHECK(scalar(*db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_new' ESCAPE '\\'") ==
        0);

  // Uniqueness rules still hold.
  auto dup = db->write_sync([](Connection& c) {
    return c.exec(
        "INSERT INTO devices (org_id, name, address, type, created_at, updated_at) VALUES "
        "(1, 'again', '192.0.2.1', 'router', 0, 0)");
  });
  CHECK_FALSE(dup);

  // Freed ids stay freed: the newest device, group, event, custom OID and check deleted, the
  // next of each gets a new id.
  exec(*db, "DELETE FROM devices WHERE id = 7");
  CHECK(scalar(*db, "SELECT count(*) FROM service_checks WHERE device_id = 7") == 0);  // cascade
  CHECK(scalar(*db, "SELECT count(*) FROM device_group_members WHERE device_id = 7") == 0);
  CHECK(scalar(*db, "SELECT count(*) FROM device_events WHERE device_id = 7") == 0);
  exec(*db,
       "INSERT INTO devices (org_id, name, address, type, created_at, updated_at) VALUES "
       "(1, 'new', '192.0.2.9', 'router', 0, 0)");
  CHECK(scalar(*db, "SELECT max(id) FROM devices") == 8);
  exec(*db, "DELETE FROM device_groups WHERE id = 5");
  exec(*db,
       "INSERT INTO device_groups (org_id, name, created_at, updated_at) VALUES (1, 'g', 0, 0)");
  CHECK(scalar(*db, "SELECT max(id) FROM device_groups") == 6);
  exec(*db, "DELETE FROM device_events WHERE id = 10");
  exec(*db,
       "INSERT INTO device_events (org_id, at, kind, severity, message) VALUES "
       "(1, 1, 'k', 'info', 'm')");
  CHECK(scalar(*db, "SELECT max(id) FROM device_events") == 11);
  exec(*db, "DELETE FROM service_checks WHERE id = 12");
  exec(*db,
       "INSERT INTO service_checks (org_id, device_id, name, kind, timeout_ms, retries, "
       "created_at, updated_at) VALUES (1, 1, 'n', 'tcp', 1000, 1, 0, 0)");
  CHECK(scalar(*db, "SELECT max(id) FROM service_checks") == 13);
  exec(*db, "DELETE FROM custom_oids WHERE id = 8");
  exec(*db,
       "INSERT INTO custom_oids (org_id, device_type, oid, metric, kind, created_at) VALUES "
       "(1, 'router', '1.3.6.1.2.1.1.3.0', 'm', 'gauge', 0)");
  CHECK(scalar(*db, "SELECT max(id) FROM custom_oids") == 9);

  // Deleting an organization still takes everything of it.
  exec(*db, "DELETE FROM organizations WHERE id = 1");
  CHECK(scalar(*db, "SELECT count(*) FROM devices") == 0);
  CHECK(scalar(*db, "SELECT count(*) FROM device_tags") == 0);
  CHECK(scalar(*db, "SELECT count(*) FROM device_events") == 0);
}
