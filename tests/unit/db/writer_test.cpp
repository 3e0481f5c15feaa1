// The writer thread: group commit, savepoint isolation of failing writes, the bounded queue,
// close(), results delivered once to the right executor, readers seeing committed writes, the
// synchronous option and the writer's metrics. Async results are collected by running an
// io_context on the test thread, always bounded in time.
#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/db/database.hpp>

#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

using netpulse::core::Errc;
using netpulse::core::Result;
using netpulse::db::Connection;
using netpulse::db::Database;

namespace {

struct Fixture {
  netpulse::test::TempDir dir;
  netpulse::core::ManualClock clock;
  netpulse::core::Logger log{clock, [](std::string_view) {}};
  netpulse::core::MetricsRegistry metrics;
  boost::asio::io_context ctx;
  netpulse::core::EventBus bus;
  netpulse::core::WorkerPool workers{1, 8};
  std::unique_ptr<Database> db;

  netpulse::core::Env env() { return {clock, log, metrics, bus, ctx.get_executor(), workers}; }

  explicit Fixture(netpulse::db::Options o = {}) {
    o.path = dir.file("np.db");
    o.migrations = {{1, "items",
                     "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT UNIQUE);"
                     "CREATE TABLE notes(id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL "
                     "REFERENCES items(id) DEFERRABLE INITIALLY DEFERRED);"}};
    o.reader_connections = 2;
    auto opened = Database::open(o, env());
    REQUIRE(opened);
    db = std::move(*opened);
  }

  // Runs the io_context until `done()` holds or 20 s pass.
  template <class Pred>
  bool run_until(Pred done) {
    return netpulse::test::run_until(ctx, done, std::chrono::seconds(20),
                                     std::chrono::milliseconds(5));
  }

  // Rows of `items` matching `where`, or -1 on failure. No assertions: called from many threads.
  std::int64_t count(const std::string& where = "1") {
    return db->read([&](Connection& c) -> std::int64_t {
      auto st = c.prepare("SELECT count(*) FROM items WHERE " + where);
      if (!st) return -1;
      auto row = st->step();
      if (!row || !*row) return -1;
      return st->get_int64(0);
    });
  }

  double commits() { return metrics.counter("netpulse_db_commits_total", "").value(); }
};

netpulse::db::WriteFn insert_item(std::int64_t id, std::string name) {
  return [id, name](Connection& c) -> Result<void> {
    auto st = c.prepare("INSERT INTO items(id, name) VALUES (?1, ?2)");
    if (!st) return st.error();
    st->bind(1, id).bind(2, name);
    return st->run();
  };
}

// A write that holds the writer until `release` is counted down, after saying it started.
netpulse::db::WriteFn blocker(std::latch& started, std::latch& release) {
  return [&started, &release](Connection&) -> Result<void> {
    started.count_down();
    release.wait();
    return netpulse::core::ok();
  };
}

}  // namespace

TEST_CASE("db writer: queued writes are grouped into few transactions, each done called once",
          "[db][writer]") {
  Fixture f;
  constexpr int kWrites = 1000;
  std::vector<int> calls(kWrites + 1, 0);
  std::vector<std::optional<Result<void>>> results(kWrites + 1);
  int finished = 0;
  std::latch started(1), release(1);

  // The first write holds the writer while the rest pile up, so grouping is certain.
  f.db->write(blocker(started, release), f.ctx.get_executor(), [&](Result<void> r) {
    ++calls[0];
    results[0] = std::move(r);
    ++finished;
  });
  std::thread producer([&] {
    started.wait();
    for (int i = 1; i <= kWrites; ++i) {
      netpulse::db::WriteFn fn = insert_item(i, "item" + std::to_string(i));
      if (i % 10 == 0) {
        fn = [i](Connection&) -> Result<void> {
          return netpulse::core::Error(Errc::kInvalidInput, "write " + std::to_string(i));
        };
      }
      f.db->write(std::move(fn), f.ctx.get_executor(), [&, i](Result<void> r) {
        ++calls[i];
        results[i] = std::move(r);
        ++finished;
      });
    }
    release.count_down();
  });
  REQUIRE(f.run_until([&] { return finished == kWrites + 1; }));
  producer.join();

  for (int i = 0; i <= kWrites; ++i) {
    INFO("write " << i);
    REQUIRE(calls[i] == 1);
    REQUIRE(results[i].has_value());
    if (i > 0 && i % 10 == 0) {
      REQUIRE_FALSE(*results[i]);
      CHECK(results[i]->error().message == "write " + std::to_string(i));
    } else {
      CHECK(*results[i]);
    }
  }
  CHECK(f.count() == 900);
  CHECK(f.count("id % 10 = 0") == 0);
  // 1 blocked write, then 1000 queued writes in groups of at most 512.
  CHECK(f.commits() <= 4);
  CHECK(f.metrics.counter("netpulse_db_writes_total", "", {{"outcome", "ok"}}).value() == 901);
  CHECK(f.metrics.counter("netpulse_db_writes_total", "", {{"outcome", "error"}}).value() == 100);
  auto rendered = f.metrics.render();
  CHECK_THAT(rendered, Catch::Contains("netpulse_db_batch_size_bucket{le=\"512\"}"));
  CHECK_THAT(rendered, Catch::Contains("netpulse_db_commit_seconds_count"));
  CHECK_THAT(rendered, Catch::Contains("netpulse_db_write_queue_depth 0"));
}

TEST_CASE("db writer: one failing write does not undo the others in its batch", "[db][writer]") {
  Fixture f;
  std::latch started(1), release(1);
  std::vector<Result<void>> results;
  auto collect = [&](Result<void> r) { results.push_back(std::move(r)); };

  const double commits_before = f.commits();
  f.db->write(blocker(started, release), f.ctx.get_executor(), collect);
  started.wait();
  f.db->write(insert_item(1, "a"), f.ctx.get_executor(), collect);
  // Writes a row, then fails: its row must go, its neighbours' must stay.
  f.db->write(
      [](Connection& c) -> Result<void> {
        if (auto r = insert_item(2, "b")(c); !r) return r;
        return netpulse::core::Error(Errc::kInvalidInput, "changed my mind");
      },
      f.ctx.get_executor(), collect);
  f.db->write(insert_item(3, "a"), f.ctx.get_executor(), collect);  // duplicate name
  f.db->write(insert_item(4, "d"), f.ctx.get_executor(), collect);
  release.count_down();
  REQUIRE(f.run_until([&] { return results.size() == 5; }));

  CHECK(results[0]);
  CHECK(results[1]);
  REQUIRE_FALSE(results[2]);
  CHECK(results[2].error().message == "changed my mind");
  REQUIRE_FALSE(results[3]);
  CHECK(results[3].error().code == Errc::kConflict);
  CHECK(results[4]);
  CHECK(f.count() == 2);
  CHECK(f.count("id IN (1, 4)") == 2);
  // The blocker's own transaction, then one for the four writes.
  CHECK(f.commits() - commits_before == 2);
}

TEST_CASE("db writer: a deferred foreign key failure stays with the write that caused it",
          "[db][writer]") {
  Fixture f;
  std::latch started(1), release(1);
  std::vector<Result<void>> results;
  auto collect = [&](Result<void> r) { results.push_back(std::move(r)); };
  f.db->write(blocker(started, release), f.ctx.get_executor(), collect);
  started.wait();
  f.db->write(insert_item(1, "a"), f.ctx.get_executor(), collect);
  f.db->write([](Connection& c) { return c.exec("INSERT INTO notes(item_id) VALUES (404)"); },
              f.ctx.get_executor(), collect);
  f.db->write(insert_item(2, "b"), f.ctx.get_executor(), collect);
  release.count_down();
  REQUIRE(f.run_until([&] { return results.size() == 4; }));
  CHECK(results[1]);
  REQUIRE_FALSE(results[2]);
  CHECK(results[2].error().code == Errc::kConflict);
  CHECK(results[3]);
  CHECK(f.count() == 2);
}

TEST_CASE("db writer: a write that throws fails alone with an internal error", "[db][writer]") {
  Fixture f;
  auto thrown = f.db->write_sync([](Connection& c) -> Result<void> {
    (void)insert_item(1, "a")(c);
    throw std::runtime_error("boom");
  });
  REQUIRE_FALSE(thrown);
  CHECK(thrown.error().code == Errc::kInternalError);
  CHECK_THAT(thrown.error().message, Catch::Contains("boom"));
  CHECK(f.db->write_sync(insert_item(2, "b")));
  CHECK(f.count() == 1);
  CHECK(f.count("id = 2") == 1);
}

TEST_CASE("db writer: a full queue refuses with SERVICE_UNAVAILABLE, posted not inline",
          "[db][writer]") {
  netpulse::db::Options o;
  o.write_queue_max = 2;
  Fixture f(o);
  std::latch started(1), release(1);
  std::vector<Result<void>> results;
  auto collect = [&](Result<void> r) { results.push_back(std::move(r)); };

  f.db->write(blocker(started, release), f.ctx.get_executor(), collect);
  started.wait();  // the blocker has left the queue
  f.db->write(insert_item(1, "a"), f.ctx.get_executor(), collect);
  f.db->write(insert_item(2, "b"), f.ctx.get_executor(), collect);
  CHECK(f.db->write_queue_depth() == 2);

  bool refused_called = false;
  std::optional<Result<void>> refused;
  f.db->write(insert_item(3, "c"), f.ctx.get_executor(), [&](Result<void> r) {
    refused_called = true;
    refused = std::move(r);
  });
  CHECK_FALSE(refused_called);
  auto sync = f.db->write_sync(insert_item(4, "d"));
  REQUIRE_FALSE(sync);
  CHECK(sync.error().code == Errc::kServiceUnavailable);

  REQUIRE(f.run_until([&] { return refused_called; }));
  REQUIRE_FALSE(*refused);
  CHECK(refused->error().code == Errc::kServiceUnavailable);
  CHECK_THAT(refused->error().message, Catch::Contains("full"));
  CHECK(results.empty());

  release.count_down();
  REQUIRE(f.run_until([&] { return results.size() == 3; }));
  for (auto& r : results) CHECK(r);
  CHECK(f.count() == 2);
}

TEST_CASE("db writer: close commits what is queued, then refuses writes", "[db][writer]") {
  Fixture f;
  std::latch started(1), release(1);
  std::vector<Result<void>> results;
  auto collect = [&](Result<void> r) { results.push_back(std::move(r)); };
  f.db->write(blocker(started, release), f.ctx.get_executor(), collect);
  started.wait();
  for (int i = 1; i <= 20; ++i) {
    f.db->write(insert_item(i, std::to_string(i)), f.ctx.get_executor(), collect);
  }
  std::thread closer([&] { f.db->close(); });
  release.count_down();
  closer.join();
  CHECK(f.count() == 20);
  CHECK(f.db->write_queue_depth() == 0);

  bool late_called = false;
  std::optional<Result<void>> late;
  f.db->write(insert_item(99, "late"), f.ctx.get_executor(), [&](Result<void> r) {
    late_called = true;
    late = std::move(r);
  });
  CHECK_FALSE(late_called);
  REQUIRE(f.run_until([&] { return late_called && results.size() == 21; }));
  REQUIRE_FALSE(*late);
  CHECK(late->error().code == Errc::kServiceUnavailable);
  for (auto& r : results) CHECK(r);

  auto sync = f.db->write_sync(insert_item(100, "later"));
  REQUIRE_FALSE(sync);
  CHECK(sync.error().code == Errc::kServiceUnavailable);
  auto health = f.db->check_health();
  REQUIRE_FALSE(health);
  CHECK(health.error().code == Errc::kServiceUnavailable);
  f.db->close();  // idempotent
}

TEST_CASE("db writer: after close and destruction only the database file remains", "[db][writer]") {
  Fixture f;
  REQUIRE(f.db->write_sync(insert_item(1, "a")));
  const auto path = f.db->path();
  f.db.reset();
  CHECK(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path + "-shm"));
}

TEST_CASE("db writer: readers see a write by the time its done runs", "[db][writer]") {
  Fixture f;
  CHECK(f.db->check_health());
  std::optional<std::int64_t> seen;
  f.db->write(insert_item(7, "seven"), f.ctx.get_executor(), [&](Result<void> r) {
    REQUIRE(r);
    seen = f.count("id = 7");
  });
  REQUIRE(f.run_until([&] { return seen.has_value(); }));
  CHECK(*seen == 1);
}

TEST_CASE("db writer: done runs on the executor it was given", "[db][writer]") {
  Fixture f;
  const auto test_thread = std::this_thread::get_id();
  std::optional<std::thread::id> ran_on;
  f.db->write(insert_item(1, "a"), f.ctx.get_executor(),
              [&](Result<void>) { ran_on = std::this_thread::get_id(); });
  REQUIRE(f.run_until([&] { return ran_on.has_value(); }));
  CHECK(*ran_on == test_thread);
}

TEST_CASE("db writer: a constraint violation comes back as CONFLICT", "[db][writer]") {
  Fixture f;
  REQUIRE(f.db->write_sync(insert_item(1, "a")));
  auto dup = f.db->write_sync(insert_item(2, "a"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == Errc::kConflict);
  CHECK_THAT(dup.error().message, Catch::Contains("UNIQUE constraint failed: items.name"));
}

TEST_CASE("db writer: typed writes hand back their value", "[db][writer]") {
  Fixture f;
  auto id = f.db->write_sync(
      std::function<Result<std::int64_t>(Connection&)>([](Connection& c) -> Result<std::int64_t> {
        if (auto r = insert_item(5, "five")(c); !r) return r.error();
        return c.last_insert_rowid();
      }));
  REQUIRE(id);
  CHECK(*id == 5);

  std::optional<Result<std::string>> got;
  f.db->write(std::function<Result<std::string>(Connection&)>(
                  [](Connection&) -> Result<std::string> { return std::string("hello"); }),
              f.ctx.get_executor(),
              std::function<void(Result<std::string>)>([&](Result<std::string> r) { got = r; }));
  std::optional<Result<std::string>> failed;
  f.db->write(
      std::function<Result<std::string>(Connection&)>([](Connection&) -> Result<std::string> {
        return netpulse::core::Error(Errc::kNotFound, "nope");
      }),
      f.ctx.get_executor(),
      std::function<void(Result<std::string>)>([&](Result<std::string> r) { failed = r; }));
  REQUIRE(f.run_until([&] { return got && failed; }));
  REQUIRE(*got);
  CHECK(**got == "hello");
  REQUIRE_FALSE(*failed);
  CHECK(failed->error().code == Errc::kNotFound);
}

TEST_CASE("db writer: write_sync from inside a write fails instead of deadlocking",
          "[db][writer]") {
  Fixture f;
  Result<void> inner = netpulse::core::ok();
  auto outer = f.db->write_sync([&](Connection&) -> Result<void> {
    inner = f.db->write_sync(insert_item(1, "a"));
    return netpulse::core::ok();
  });
  CHECK(outer);
  REQUIRE_FALSE(inner);
  CHECK(inner.error().code == Errc::kInternalError);
}

TEST_CASE("db writer: write_sync needs no running io_context", "[db][writer]") {
  Fixture f;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (f.db->write_sync(insert_item(t * 100 + i, std::to_string(t * 100 + i)))) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 100);
  CHECK(f.count() == 100);
}

TEST_CASE("db writer: the synchronous option sets PRAGMA synchronous", "[db][writer]") {
  auto synchronous = [](Fixture& f) {
    auto v = f.db->write_sync(
        std::function<Result<std::int64_t>(Connection&)>([](Connection& c) -> Result<std::int64_t> {
          auto st = c.prepare("PRAGMA synchronous");
          if (!st) return st.error();
          auto row = st->step();
          if (!row) return row.error();
          return st->get_int64(0);
        }));
    REQUIRE(v);
    return *v;
  };
  SECTION("FULL") {
    netpulse::db::Options o;
    o.synchronous_full = true;
    Fixture f(o);
    CHECK(synchronous(f) == 2);
  }
  SECTION("NORMAL by default") {
    Fixture f;
    CHECK(synchronous(f) == 1);
  }
}

TEST_CASE("db: readers are read-only and shared between threads", "[db][readers]") {
  Fixture f;
  REQUIRE(f.db->write_sync(insert_item(1, "a")));
  auto r = f.db->read([](Connection& c) { return c.exec("INSERT INTO items VALUES (2, 'b')"); });
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("readonly"));

  // More concurrent readers than connections: they wait for one instead of failing.
  std::vector<std::thread> threads;
  std::atomic<int> seen{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) seen += static_cast<int>(f.count());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(seen == 120);
  CHECK(f.db->check_health());
}
