// Schema migrations at Database::open and the dry run: applied in order, one transaction each,
// recorded in schema_migrations; nothing re-applied; a failing step rolls back and names itself;
// a database from a newer NetPulse is refused; pending_migrations never touches the file.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include <catch2/catch.hpp>

#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using netpulse::core::Errc;
using netpulse::db::Connection;
using netpulse::db::Database;
using netpulse::db::Migration;

namespace {

struct Harness {
  netpulse::core::ManualClock clock;
  std::mutex mu;
  std::vector<std::string> lines;
  netpulse::core::Logger log{clock, [this](std::string_view line) {
                               std::lock_guard lock(mu);
                               lines.emplace_back(line);
                             }};
  netpulse::test::TestEnv env{clock, log};
};

std::vector<Migration> three_steps() {
  return {
      {1, "first", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"},
      {2, "second", "ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"},
      {3, "third", "CREATE INDEX items_size ON items(size);"},
  };
}

netpulse::db::Options options_for(const std::string& path, std::vector<Migration> migrations) {
  netpulse::db::Options o;
  o.path = path;
  o.migrations = std::move(migrations);
  o.reader_connections = 1;
  return o;
}

// (version, name, applied_at) rows of schema_migrations, read with a plain connection.
std::vector<std::tuple<int, std::string, std::int64_t>> ledger(const std::string& path) {
  auto conn = Connection::open(path, Connection::Mode::kReadOnly, std::chrono::milliseconds(100));
  REQUIRE(conn);
  auto st = (*conn)->prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
  REQUIRE(st);
  std::vector<std::tuple<int, std::string, std::int64_t>> out;
  while (true) {
    auto row = st->step();
    REQUIRE(row);
    if (!*row) break;
    out.emplace_back(static_cast<int>(st->get_int64(0)), st->get_text(1), st->get_int64(2));
  }
  return out;
}

bool table_exists(const std::string& path, const std::string& table) {
  auto conn = Connection::open(path, Connection::Mode::kReadOnly, std::chrono::milliseconds(100));
  REQUIRE(conn);
  auto st = (*conn)->prepare("SELECT 1 FROM sqlite_master WHERE name = ?1");
  REQUIRE(st);
  st->bind(1, table);
  auto row = st->step();
  REQUIRE(row);
  return *row;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<int> versions(const std::vector<Migration>& ms) {
  std::vector<int> out;
  for (auto& m : ms) out.push_back(m.version);
  return out;
}

}  // namespace

TEST_CASE("migrations: the embedded steps are parsed from their file names, in order",
          "[db][migrations]") {
  auto ms = netpulse::db::embedded_migrations();
  REQUIRE_FALSE(ms.empty());
  CHECK(ms.front().version == 1);
  CHECK(ms.front().name == "foundation");
  CHECK_THAT(ms.front().sql, Catch::Contains("CREATE TABLE organizations"));
  for (std::size_t i = 1; i < ms.size(); ++i) CHECK(ms[i - 1].version < ms[i].version);
  CHECK(versions(netpulse::db::Options{}.migrations) == versions(ms));
}

TEST_CASE("migrations: the embedded schema applies to a new database", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  netpulse::db::Options o;
  o.path = dir.file("np.db");
  auto db = Database::open(o, h.env.env());
  REQUIRE(db);
  CHECK((*db)->schema_version() == netpulse::db::embedded_migrations().back().version);
  (*db)->close();
  CHECK(table_exists(o.path, "organizations"));
  CHECK(table_exists(o.path, "users"));
}

TEST_CASE("migrations: applied in version order, each recorded with its name and time",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  // Step 2 alters the table step 1 creates, so success alone shows the order.
  auto db = Database::open(options_for(path, three_steps()), h.env.env());
  REQUIRE(db);
  CHECK((*db)->schema_version() == 3);
  db->reset();

  const std::int64_t now = h.clock.unix_seconds();
  using Row = std::tuple<int, std::string, std::int64_t>;
  CHECK(ledger(path) == std::vector<Row>{{1, "first", now}, {2, "second", now}, {3, "third", now}});
  std::vector<std::string> applied;
  for (auto& line : h.lines) {
    if (line.find("applied migration") != std::string::npos) applied.push_back(line);
  }
  REQUIRE(applied.size() == 3);
  CHECK_THAT(applied[0], Catch::Contains("0001_first"));
  CHECK_THAT(applied[1], Catch::Contains("0002_second"));
  CHECK_THAT(applied[2], Catch::Contains("0003_third"));
}

TEST_CASE("migrations: a list out of order or with duplicates is refused", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  auto steps = three_steps();
  std::swap(steps[0], steps[1]);
  auto db = Database::open(options_for(dir.file("np.db"), steps), h.env.env());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == Errc::kInvalidInput);

  auto dup = three_steps();
  dup[2].version = 2;
  auto pending = Database::pending_migrations(dir.file("np.db"), dup);
  REQUIRE_FALSE(pending);
  CHECK(pending.error().code == Errc::kInvalidInput);
}

TEST_CASE("migrations: re-opening an up-to-date database applies nothing", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  REQUIRE(Database::open(options_for(path, three_steps()), h.env.env()));
  auto before = ledger(path);
  h.lines.clear();
  h.clock.advance(std::chrono::hours(1));

  auto db = Database::open(options_for(path, three_steps()), h.env.env());
  REQUIRE(db);
  CHECK((*db)->schema_version() == 3);
  db->reset();
  CHECK(ledger(path) == before);
  for (auto& line : h.lines) CHECK_THAT(line, !Catch::Contains("applied migration"));
}

TEST_CASE("migrations: a new step is applied on the next open", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  auto first_two = three_steps();
  first_two.pop_back();
  REQUIRE(Database::open(options_for(path, first_two), h.env.env()));
  CHECK(ledger(path).size() == 2);
  auto db = Database::open(options_for(path, three_steps()), h.env.env());
  REQUIRE(db);
  CHECK((*db)->schema_version() == 3);
  db->reset();
  CHECK(ledger(path).size() == 3);
  CHECK(table_exists(path, "items_size"));
}

TEST_CASE("migrations: a failing step rolls back entirely and names itself", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  auto steps = three_steps();
  steps[1] = {2, "broken", "CREATE TABLE half_done(x INTEGER); INSERT INTO nosuch VALUES (1);"};

  auto db = Database::open(options_for(path, steps), h.env.env());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == Errc::kDatabaseError);
  CHECK_THAT(db.error().message, Catch::Contains("0002_broken"));
  CHECK_THAT(db.error().message, Catch::Contains("no such table: nosuch"));

  // Step 1 stays applied; nothing of step 2 (or 3) happened.
  CHECK(ledger(path).size() == 1);
  CHECK(table_exists(path, "items"));
  CHECK_FALSE(table_exists(path, "half_done"));
  CHECK_FALSE(table_exists(path, "items_size"));

  // Once fixed, the next open carries on from step 2.
  auto fixed = Database::open(options_for(path, three_steps()), h.env.env());
  REQUIRE(fixed);
  CHECK((*fixed)->schema_version() == 3);
}

TEST_CASE("migrations: a step that leaves a broken foreign key is refused", "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  std::vector<Migration> steps = {
      {1, "parents", "CREATE TABLE parent(id INTEGER PRIMARY KEY);"},
      {2, "orphans",
       "PRAGMA defer_foreign_keys = ON;"
       "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));"
       "INSERT INTO child VALUES (1, 99);"},
  };
  auto db = Database::open(options_for(dir.file("np.db"), steps), h.env.env());
  REQUIRE_FALSE(db);
  CHECK_THAT(db.error().message, Catch::Contains("0002_orphans"));
  CHECK(ledger(dir.file("np.db")).size() == 1);
}

TEST_CASE("migrations: a database from a newer NetPulse is refused with both versions",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  REQUIRE(Database::open(options_for(path, three_steps()), h.env.env()));
  auto older = three_steps();
  older.resize(1);

  auto db = Database::open(options_for(path, older), h.env.env());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == Errc::kSchemaTooNew);
  CHECK(db.error().message ==
        "database schema version 3 is newer than this NetPulse (knows up to 1); upgrade NetPulse "
        "or restore a backup");

  auto dry = Database::pending_migrations(path, older);
  REQUIRE_FALSE(dry);
  CHECK(dry.error().code == Errc::kSchemaTooNew);
  CHECK(dry.error().message == db.error().message);
}

TEST_CASE("migrations: the dry run of a missing file lists every step and creates nothing",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("np.db");
  auto pending = Database::pending_migrations(path, three_steps());
  REQUIRE(pending);
  CHECK(versions(*pending) == std::vector<int>{1, 2, 3});
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("migrations: the dry run lists only what is pending and leaves the file untouched",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  auto first = three_steps();
  first.resize(1);
  REQUIRE(Database::open(options_for(path, first), h.env.env()));
  REQUIRE_FALSE(std::filesystem::exists(path + "-wal"));
  const auto bytes = slurp(path);
  const auto mtime = std::filesystem::last_write_time(path);

  auto pending = Database::pending_migrations(path, three_steps());
  REQUIRE(pending);
  CHECK(versions(*pending) == std::vector<int>{2, 3});
  CHECK(slurp(path) == bytes);
  CHECK(std::filesystem::last_write_time(path) == mtime);
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path + "-shm"));
  CHECK(ledger(path).size() == 1);
}

TEST_CASE("migrations: the dry run sees a live database's schema through its WAL",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  Harness h;
  const auto path = dir.file("np.db");
  auto db = Database::open(options_for(path, three_steps()), h.env.env());
  REQUIRE(db);
  auto pending = Database::pending_migrations(path, three_steps());
  REQUIRE(pending);
  CHECK(pending->empty());
}

TEST_CASE("migrations: the dry run of a file without schema_migrations lists every step",
          "[db][migrations]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("plain.db");
  {
    auto conn =
        Connection::open(path, Connection::Mode::kReadWrite, std::chrono::milliseconds(100));
    REQUIRE(conn);
    REQUIRE((*conn)->exec("CREATE TABLE other(x)"));
  }
  auto pending = Database::pending_migrations(path, three_steps());
  REQUIRE(pending);
  CHECK(pending->size() == 3);
}
