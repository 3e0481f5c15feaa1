// Online backup: Database::backup_to and backup_file copy the database while the writer keeps
// committing, and the copy opens and passes PRAGMA integrity_check. An existing destination is
// never overwritten.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using netpulse::core::Errc;
using netpulse::core::Result;
using netpulse::db::Connection;
using netpulse::db::Database;

namespace {

struct Live {
  netpulse::test::TempDir dir;
  netpulse::core::ManualClock clock;
  netpulse::core::Logger log{clock, [](std::string_view) {}};
  netpulse::test::TestEnv env{clock, log};
  std::unique_ptr<Database> db;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer;

  Live() {
    netpulse::db::Options o;
    o.path = dir.file("live.db");
    o.migrations = {{1, "blobs", "CREATE TABLE blobs(id INTEGER PRIMARY KEY, body BLOB);"}};
    auto opened = Database::open(o, env.env());
    REQUIRE(opened);
    db = std::move(*opened);
  }
  ~Live() { stop_writing(); }

  // Commits rows of a few KiB, one transaction each, until stop_writing().
  void start_writing() {
    writer = std::thread([this] {
      const std::string body(4096, 'x');
      while (!stop) {
        auto r = db->write_sync([&](Connection& c) -> Result<void> {
          auto st = c.prepare("INSERT INTO blobs(body) VALUES (?1)");
          if (!st) return st.error();
          st->bind_blob(1, body);
          return st->run();
        });
        if (r) ++written;
      }
    });
    while (written < 50) std::this_thread::yield();
  }
  void stop_writing() {
    stop = true;
    if (writer.joinable()) writer.join();
  }
};

// Opens a copy read-only, checks its integrity and returns its row count.
std::int64_t check_copy(const std::string& path) {
  auto conn = Connection::open(path, Connection::Mode::kReadOnly, std::chrono::milliseconds(100));
  REQUIRE(conn);
  auto integrity = (*conn)->prepare("PRAGMA integrity_check");
  REQUIRE(integrity);
  auto row = integrity->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(integrity->get_text(0) == "ok");
  auto count = (*conn)->prepare("SELECT count(*) FROM blobs");
  REQUIRE(count);
  REQUIRE(*count->step());
  return count->get_int64(0);
}

}  // namespace

TEST_CASE("db backup: backup_to copies a consistent database while writes continue",
          "[db][backup]") {
  Live live;
  live.start_writing();
  const auto dest = live.dir.file("copy.db");
  REQUIRE(live.db->backup_to(dest));
  const int written_after = live.written;
  live.stop_writing();

  auto rows = check_copy(dest);
  CHECK(rows >= 50);
  CHECK(rows <= written_after);
  CHECK_FALSE(std::filesystem::exists(dest + ".tmp"));
  CHECK_FALSE(std::filesystem::exists(dest + "-wal"));
}

TEST_CASE("db backup: backup_file copies from another connection while the server writes",
          "[db][backup]") {
  Live live;
  live.start_writing();
  const auto dest = live.dir.file("copy.db");
  REQUIRE(netpulse::db::backup_file(live.db->path(), dest));
  live.stop_writing();
  CHECK(check_copy(dest) >= 50);
}

TEST_CASE("db backup: backup_file of a closed database leaves no WAL files behind",
          "[db][backup]") {
  Live live;
  live.start_writing();
  live.stop_writing();
  const auto src = live.db->path();
  live.db.reset();
  REQUIRE_FALSE(std::filesystem::exists(src + "-wal"));

  const auto dest = live.dir.file("copy.db");
  REQUIRE(netpulse::db::backup_file(src, dest));
  CHECK(check_copy(dest) == live.written);
  CHECK_FALSE(std::filesystem::exists(src + "-wal"));
  CHECK_FALSE(std::filesystem::exists(src + "-shm"));
}

TEST_CASE("db backup: an existing destination is refused and left alone", "[db][backup]") {
  Live live;
  const auto dest = live.dir.file("taken.db");
  { std::ofstream(dest) << "precious"; }
  auto r = live.db->backup_to(dest);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kInvalidInput);
  CHECK_THAT(r.error().message, Catch::Contains(dest));
  auto f = netpulse::db::backup_file(live.db->path(), dest);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == Errc::kInvalidInput);
  CHECK(std::filesystem::file_size(dest) == 8);
}

TEST_CASE("db backup: backup_file of a missing database fails and creates nothing",
          "[db][backup]") {
  netpulse::test::TempDir dir;
  auto r = netpulse::db::backup_file(dir.file("nope.db"), dir.file("copy.db"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kInvalidInput);
  CHECK(std::filesystem::is_empty(dir.path()));
}
