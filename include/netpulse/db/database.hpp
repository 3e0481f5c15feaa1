// The database: one SQLite file in WAL mode. Exactly one connection ever writes or checkpoints —
// the writer, on its own thread, which takes queued writes and commits them in groups (one
// transaction for up to `max_batch` writes, each in its own savepoint so one failing write does not
// undo its neighbours). Readers use their own read-only connections. Schema changes are embedded
// migrations applied in order at open.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/db/statement.hpp>

namespace netpulse::db {

// One schema step: migrations/NNNN_name.sql.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

// The migrations embedded in this binary, in version order.
std::vector<Migration> embedded_migrations();

struct Options {
  std::string path;               // database file; its directory must exist
  bool synchronous_full = false;  // PRAGMA synchronous = FULL instead of NORMAL
  std::chrono::milliseconds busy_timeout{5000};
  std::size_t write_queue_max = 10000;  // writes waiting; beyond it write() refuses with 503
  std::size_t max_batch = 512;          // writes per group-commit transaction
  std::size_t reader_connections = 4;
  std::vector<Migration> migrations = embedded_migrations();
};

// A write: runs on the writer thread inside the group transaction (in its own savepoint).
// Returning an error rolls back this write only.
using WriteFn = std::function<core::Result<void>(Connection&)>;

class Database {
 public:
  // Opens (creating if needed) the database, applies pending migrations (each in one transaction,
  // recorded in schema_migrations), and starts the writer thread. Refuses with kSchemaTooNew when
  // the file was written by a newer NetPulse. Uses env's clock, log and metrics.
  static core::Result<std::unique_ptr<Database>> open(const Options& options, const core::Env& env);

  // Migrations that open() would apply to the file at `path`, without changing it (`--dry-run`).
  // Fails with kSchemaTooNew as open() would.
  static core::Result<std::vector<Migration>> pending_migrations(
      const std::string& path, const std::vector<Migration>& migrations = embedded_migrations());

  virtual ~Database() = default;

  // Queues `fn` for the writer. `done` is posted to `reply_to` once the transaction holding the
  // write has committed (or with the error that undid it). When the queue is full or the database
  // is closing, `done` gets kServiceUnavailable (posted, never called inline). Any thread.
  virtual void write(WriteFn fn, boost::asio::any_io_executor reply_to,
                     std::function<void(core::Result<void>)> done) = 0;

  // A write that produces a value.
  template <class T>
  void write(std::function<core::Result<T>(Connection&)> fn, boost::asio::any_io_executor reply_to,
             std::function<void(core::Result<T>)> done) {
    auto out = std::make_shared<std::optional<core::Result<T>>>();
    write(
        [fn = std::move(fn), out](Connection& c) -> core::Result<void> {
          out->emplace(fn(c));
          if (!out->value()) return out->value().error();
          return core::ok();
        },
        reply_to,
        [out, done = std::move(done)](core::Result<void> r) {
          if (!r) return done(std::move(r).error());
          done(std::move(**out));
        });
  }

  // Queues `fn` and blocks until it is committed. For start-up, the CLI and tests; never call it
  // on the event loop.
  virtual core::Result<void> write_sync(WriteFn fn) = 0;

  template <class T>
  core::Result<T> write_sync(std::function<core::Result<T>(Connection&)> fn) {
    std::optional<core::Result<T>> out;
    auto r = write_sync([&](Connection& c) -> core::Result<void> {
      out.emplace(fn(c));
      if (!*out) return out->error();
      return core::ok();
    });
    if (!r) return std::move(r).error();
    return std::move(*out);
  }

  // Runs `fn` with a read-only connection borrowed from the pool (waits if all are busy).
  // Sees every write whose `done` has been called. Any thread.
  template <class F>
  auto read(F&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto lease = acquire_reader();
    return fn(*lease);
  }

  // A consistent copy of the live database at `dest_path` (SQLite online backup API), taken
  // through a reader connection while writes continue.
  virtual core::Result<void> backup_to(const std::string& dest_path) = 0;

  // SELECT 1 through a reader and confirms the writer thread is alive.
  virtual core::Result<void> check_health() = 0;

  virtual std::size_t write_queue_depth() const = 0;
  virtual int schema_version() const = 0;
  virtual const std::string& path() const = 0;

  // Stops accepting writes, commits what is queued, stops the writer. Idempotent; also done by
  // the destructor.
  virtual void close() = 0;

 protected:
  struct ReaderDeleter {
    Database* db;
    void operator()(Connection* c) const { db->release_reader(c); }
  };
  using ReaderLease = std::unique_ptr<Connection, ReaderDeleter>;
  virtual ReaderLease acquire_reader() = 0;
  virtual void release_reader(Connection* c) = 0;
};

// A one-off consistent copy of the database file at `src_path` into `dest_path`, from another
// process while the server runs (`netpulse backup PATH`).
core::Result<void> backup_file(const std::string& src_path, const std::string& dest_path);

}  // namespace netpulse::db
