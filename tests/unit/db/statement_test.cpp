// Connection and Statement: binding and reading every type, the per-connection statement cache,
// remembered bind errors, multi-statement exec, and how SQLite failures map to error codes.
#include <filesystem>

#include <catch2/catch.hpp>

#include <netpulse/db/statement.hpp>

#include "support/temp_dir.hpp"

using netpulse::core::Errc;
using netpulse::db::Connection;

namespace {

std::unique_ptr<Connection> open_rw(const std::string& path) {
  auto conn = Connection::open(path, Connection::Mode::kReadWrite, std::chrono::milliseconds(1000));
  REQUIRE(conn);
  return std::move(*conn);
}

}  // namespace

TEST_CASE("statement: binds and reads back every column type", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  REQUIRE(conn->exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT, o INTEGER)"));

  const std::string blob("a\0b\xff", 4);
  {
    auto ins = conn->prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    REQUIRE(ins);
    ins->bind(1, std::int64_t{1} << 40)
        .bind(2, 2.5)
        .bind(3, std::string("héllo"))
        .bind_blob(4, blob)
        .bind(5, std::nullopt)
        .bind(6, std::optional<int>(7));
    REQUIRE(ins->run());
    CHECK(conn->changes() == 1);
    CHECK(conn->last_insert_rowid() == 1);
  }
  auto sel = conn->prepare("SELECT i, d, s, b, n, o FROM t");
  REQUIRE(sel);
  auto row = sel->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(sel->get_int64(0) == (std::int64_t{1} << 40));
  CHECK(sel->get_double(1) == 2.5);
  CHECK(sel->get_text(2) == "héllo");
  CHECK(sel->get_blob(3) == blob);
  CHECK(sel->is_null(4));
  CHECK(sel->get_optional_text(4) == std::nullopt);
  CHECK(sel->get_optional_text(2) == std::optional<std::string>("héllo"));
  CHECK(sel->get_optional_int64(5) == std::optional<std::int64_t>(7));
  auto end = sel->step();
  REQUIRE(end);
  CHECK_FALSE(*end);
}

TEST_CASE("statement: a cached statement comes back unbound and rewound", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  {
    auto st = conn->prepare("SELECT ?1");
    REQUIRE(st);
    st->bind(1, 5);
    auto row = st->step();
    REQUIRE(row);
    REQUIRE(*row);
    CHECK(st->get_int64(0) == 5);
  }
  auto again = conn->prepare("SELECT ?1");
  REQUIRE(again);
  auto row = again->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(again->is_null(0));
}

TEST_CASE("statement: reset() clears bindings so the statement can be reused", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  REQUIRE(conn->exec("CREATE TABLE t(x INTEGER)"));
  auto ins = conn->prepare("INSERT INTO t VALUES (?1)");
  REQUIRE(ins);
  for (int i = 0; i < 3; ++i) {
    ins->bind(1, i);
    REQUIRE(ins->run());
    ins->reset();
  }
  auto count = conn->prepare("SELECT count(*), sum(x) FROM t");
  REQUIRE(count);
  REQUIRE(*count->step());
  CHECK(count->get_int64(0) == 3);
  CHECK(count->get_int64(1) == 3);
}

TEST_CASE("statement: the same SQL used while already iterating gets its own cursor",
          "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  REQUIRE(conn->exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);"));
  const char* sql = "SELECT x FROM t ORDER BY x";
  auto outer = conn->prepare(sql);
  REQUIRE(outer);
  std::vector<std::int64_t> seen;
  while (true) {
    auto row = outer->step();
    REQUIRE(row);
    if (!*row) break;
    seen.push_back(outer->get_int64(0));
    auto inner = conn->prepare(sql);
    REQUIRE(inner);
    int inner_rows = 0;
    while (true) {
      auto r = inner->step();
      REQUIRE(r);
      if (!*r) break;
      ++inner_rows;
    }
    CHECK(inner_rows == 3);
  }
  CHECK(seen == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("statement: a bind error is reported by the next step or run", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  REQUIRE(conn->exec("CREATE TABLE t(x INTEGER)"));
  auto ins = conn->prepare("INSERT INTO t VALUES (?1)");
  REQUIRE(ins);
  ins->bind(1, 1).bind(99, 2);
  auto r = ins->run();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kDatabaseError);
  CHECK_THAT(r.error().message, Catch::Contains("parameter 99"));
  auto step = ins->step();
  REQUIRE_FALSE(step);

  ins->reset();
  ins->bind(1, 1);
  CHECK(ins->run());
}

TEST_CASE("statement: an empty or moved-from statement fails instead of crashing",
          "[db][statement]") {
  netpulse::db::Statement empty;
  empty.bind(1, 1);
  CHECK_FALSE(empty.step());
  CHECK_FALSE(empty.run());

  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  auto st = conn->prepare("SELECT 1");
  REQUIRE(st);
  netpulse::db::Statement moved = std::move(*st);
  auto row = moved.step();
  REQUIRE(row);
  CHECK(*row);
  CHECK_FALSE(st->step());
}

TEST_CASE("connection: prepare takes one statement, exec runs many", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  auto two = conn->prepare("CREATE TABLE a(x); CREATE TABLE b(y);");
  REQUIRE_FALSE(two);
  CHECK_THAT(two.error().message, Catch::Contains("exec"));
  CHECK(conn->prepare("SELECT 1; -- trailing comment\n"));
  REQUIRE(conn->exec("CREATE TABLE a(x); CREATE TABLE b(y); INSERT INTO b VALUES (1);"));
  auto st = conn->prepare("SELECT count(*) FROM b");
  REQUIRE(st);
  REQUIRE(*st->step());
  CHECK(st->get_int64(0) == 1);
}

TEST_CASE("connection: errors map to stable codes with SQLite's message", "[db][statement]") {
  netpulse::test::TempDir dir;
  auto conn = open_rw(dir.file("s.db"));
  REQUIRE(
      conn->exec("CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
                 "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES "
                 "parent(id));"
                 "INSERT INTO parent VALUES (1, 'a');"));

  struct Case {
    const char* sql;
    Errc code;
    const char* message_part;
  };
  const Case cases[] = {
      {"INSERT INTO parent VALUES (2, 'a')", Errc::kConflict, "UNIQUE constraint failed"},
      {"INSERT INTO parent VALUES (1, 'b')", Errc::kConflict, "UNIQUE constraint failed"},
      {"INSERT INTO parent(id) VALUES (3)", Errc::kConflict, "NOT NULL constraint failed"},
      {"INSERT INTO child VALUES (1, 42)", Errc::kConflict, "FOREIGN KEY constraint failed"},
      {"INSERT INTO nosuch VALUES (1)", Errc::kDatabaseError, "no such table: nosuch"},
      {"SELEC 1", Errc::kDatabaseError, "syntax error"},
  };
  for (const auto& c : cases) {
    INFO(c.sql);
    auto r = conn->exec(c.sql);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == c.code);
    CHECK_THAT(r.error().message, Catch::Contains(c.message_part));
  }

  auto st = conn->prepare("INSERT INTO parent VALUES (?1, ?2)");
  REQUIRE(st);
  st->bind(1, 9).bind(2, "a");
  auto r = st->run();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kConflict);
  CHECK_THAT(r.error().message, Catch::Contains("parent.name"));
}

TEST_CASE("connection: read-only mode neither writes nor creates the file", "[db][statement]") {
  netpulse::test::TempDir dir;
  const auto missing = dir.file("missing.db");
  auto none = Connection::open(missing, Connection::Mode::kReadOnly, std::chrono::milliseconds(10));
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::kDatabaseError);
  CHECK_THAT(none.error().message, Catch::Contains(missing));
  CHECK_FALSE(std::filesystem::exists(missing));

  const auto path = dir.file("s.db");
  REQUIRE(open_rw(path)->exec("CREATE TABLE t(x)"));
  auto ro = Connection::open(path, Connection::Mode::kReadOnly, std::chrono::milliseconds(10));
  REQUIRE(ro);
  auto r = (*ro)->exec("INSERT INTO t VALUES (1)");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("readonly"));
}
