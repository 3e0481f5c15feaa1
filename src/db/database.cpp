// DatabaseImpl: the one SQLite file in WAL mode behind db::Database. open() configures the writer
// connection, brings the schema up to date (one transaction per migration, recorded in
// schema_migrations), opens a pool of read-only connections and starts the writer thread.
//
// The writer thread owns the only connection that writes. It waits for queued writes, takes up to
// `max_batch` of them and runs them in one transaction (group commit), each inside its own
// savepoint so a failing write is undone alone. After COMMIT every write's `done` is posted to the
// executor it named (or run on the writer thread for write_sync, which waits on a future). The
// queue is bounded; a write that does not fit, or arrives after close(), is refused with
// kServiceUnavailable, also posted, never called inline.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <fmt/format.h>
#include <sqlite3.h>

#include <netpulse/db/database.hpp>

#include "detail/sqlite_util.hpp"

namespace netpulse::db {

namespace {

constexpr std::string_view kComponent = "db";

// One queued write. An empty `reply_to` means `done` runs on the writer thread (write_sync).
struct WriteJob {
  WriteFn fn;
  boost::asio::any_io_executor reply_to;
  std::function<void(core::Result<void>)> done;
};

// The writer's figures; all null when the database was opened without a registry.
struct WriterMetrics {
  core::Histogram* commit_seconds = nullptr;
  core::Counter* writes_ok = nullptr;
  core::Counter* writes_error = nullptr;
  core::Counter* commits = nullptr;
  core::Histogram* batch_size = nullptr;
};

std::vector<double> batch_size_buckets() {
  std::vector<double> out;
  for (double b = 1; b <= 1024; b *= 2) out.push_back(b);
  return out;
}

core::Result<void> set_up_writer(Connection& conn, const Options& options) {
  auto mode = conn.prepare("PRAGMA journal_mode=WAL");
  if (!mode) return std::move(mode).error();
  auto row = mode->step();
  if (!row) return std::move(row).error();
  std::string got = *row ? mode->get_text(0) : std::string();
  if (got != "wal") {
    return core::Error(
        core::Errc::kDatabaseError,
        fmt::format("{}: cannot use WAL mode (journal_mode is \"{}\")", options.path, got));
  }
  return conn.exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                            : "PRAGMA synchronous=NORMAL");
}

// Applies one migration in its own transaction, recording it in schema_migrations.
core::Result<void> apply_migration(Connection& conn, const Migration& m, const core::Clock& clock) {
  auto body = [&]() -> core::Result<void> {
    if (auto r = conn.exec(m.sql); !r) return r;
    // A migration that rebuilds tables must leave every reference intact.
    auto check = conn.prepare("PRAGMA foreign_key_check");
    if (!check) return std::move(check).error();
    auto row = check->step();
    if (!row) return std::move(row).error();
    if (*row) {
      return core::Error(
          core::Errc::kDatabaseError,
          fmt::format("leaves a broken foreign key in table {}", check->get_text(0)));
    }
    auto record = conn.prepare(
        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)");
    if (!record) return std::move(record).error();
    record->bind(1, m.version).bind(2, m.name).bind(3, clock.unix_seconds());
    return record->run();
  };
  if (auto r = conn.exec("BEGIN IMMEDIATE"); !r) return r;
  auto r = body();
  if (r) r = conn.exec("COMMIT");
  if (!r && !sqlite3_get_autocommit(conn.handle())) (void)conn.exec("ROLLBACK");
  return r;
}

// Brings the schema up to date; returns the highest applied version.
core::Result<int> migrate(Connection& conn, const std::vector<Migration>& migrations,
                          const core::Clock& clock, core::Logger& log) {
  auto ledger = conn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  if (!ledger) return std::move(ledger).error();
  auto applied = detail::applied_versions(conn.handle());
  if (!applied) return std::move(applied).error();
  auto pending = detail::pending_of(*applied, migrations);
  if (!pending) return std::move(pending).error();
  for (const auto& m : *pending) {
    auto r = apply_migration(conn, m, clock);
    if (!r) {
      return core::Error(
          core::Errc::kDatabaseError,
          fmt::format("migration {} failed: {}", detail::migration_label(m), r.error().message));
    }
    log.info(kComponent, "applied migration {}", detail::migration_label(m));
    applied->insert(m.version);
  }
  return applied->empty() ? 0 : *applied->rbegin();
}

class DatabaseImpl final : public Database {
 public:
  DatabaseImpl(const Options& options, const core::Clock& clock, core::Logger& log,
               core::MetricsRegistry* metrics, std::unique_ptr<Connection> writer,
               std::vector<std::unique_ptr<Connection>> readers, int schema_version)
      : path_(options.path),
        write_queue_max_(std::max<std::size_t>(options.write_queue_max, 1)),
        max_batch_(std::max<std::size_t>(options.max_batch, 1)),
        schema_version_(schema_version),
        clock_(clock),
        log_(log),
        writer_(std::move(writer)),
        readers_(std::move(readers)) {
    for (auto& r : readers_) idle_readers_.push_back(r.get());
    if (metrics) {
      metrics->gauge_fn("netpulse_db_write_queue_depth",
                        "Writes waiting for the database writer thread",
                        [depth = queue_depth_] { return static_cast<double>(depth->load()); });
      // Mostly the page caches of the connections: bounded by their cache_size, not by the data.
      metrics->gauge_fn("netpulse_sqlite_memory_bytes",
                        "Heap bytes SQLite holds (page caches, statements; sqlite3_memory_used)",
                        [] { return static_cast<double>(sqlite3_memory_used()); });
      metrics_.commit_seconds = &metrics->histogram(
          "netpulse_db_commit_seconds", "Time to COMMIT one group transaction, in seconds",
          core::default_latency_buckets());
      const std::string writes_help = "Writes finished by the database writer, by outcome";
      metrics_.writes_ok =
          &metrics->counter("netpulse_db_writes_total", writes_help, {{"outcome", "ok"}});
      metrics_.writes_error =
          &metrics->counter("netpulse_db_writes_total", writes_help, {{"outcome", "error"}});
      metrics_.commits = &metrics->counter("netpulse_db_commits_total",
                                           "Group transactions committed by the database writer");
      metrics_.batch_size = &metrics->histogram(
          "netpulse_db_batch_size", "Writes per group transaction", batch_size_buckets());
    }
  }

  ~DatabaseImpl() override { close(); }

  using Database::write;
  using Database::write_sync;

  // Starts the writer thread; called once by open().
  void start() {
    writer_running_ = true;
    writer_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "np-db-writer");  // as `top -H` shows it
      writer_loop();
    });
    writer_thread_id_ = writer_thread_.get_id();
  }

  void write(WriteFn fn, boost::asio::any_io_executor reply_to,
             std::function<void(core::Result<void>)> done) override {
    WriteJob job{std::move(fn), reply_to, std::move(done)};
    auto queued = enqueue(job);
    if (queued) return;
    boost::asio::post(
        reply_to, [done = std::move(job.done), error = std::move(queued).error()] { done(error); });
  }

  core::Result<void> write_sync(WriteFn fn) override {
    if (std::this_thread::get_id() == writer_thread_id_) {
      return core::Error(core::Errc::kInternalError,
                         "write_sync called from inside a write: it would wait for itself");
    }
    std::promise<core::Result<void>> promise;
    auto future = promise.get_future();
    WriteJob job{
        std::move(fn), {}, [&promise](core::Result<void> r) { promise.set_value(std::move(r)); }};
    if (auto queued = enqueue(job); !queued) return queued;
    return future.get();
  }

  core::Result<void> backup_to(const std::string& dest_path) override {
    auto lease = acquire_reader();
    return detail::backup_into(lease->handle(), dest_path);
  }

  core::Result<void> check_health() override {
    if (!writer_running_.load()) {
      return core::Error(core::Errc::kServiceUnavailable, "the database writer is not running");
    }
    return read([](Connection& conn) -> core::Result<void> {
      auto st = conn.prepare("SELECT 1");
      if (!st) return std::move(st).error();
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row || st->get_int64(0) != 1) {
        return core::Error(core::Errc::kDatabaseError, "SELECT 1 returned no row");
      }
      return core::ok();
    });
  }

  std::size_t write_queue_depth() const override { return queue_depth_->load(); }
  int schema_version() const override { return schema_version_; }
  const std::string& path() const override { return path_; }

  void close() override {
    std::lock_guard close_lock(close_mu_);
    {
      std::lock_guard lock(mu_);
      if (closing_ && !writer_thread_.joinable()) return;
      closing_ = true;
    }
    work_cv_.notify_all();
    if (!writer_thread_.joinable() || std::this_thread::get_id() == writer_thread_id_) return;
    writer_thread_.join();
    // Fold the WAL back into the main file so the file alone is the whole database.
    if (auto r = writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !r) {
      log_.warn(kComponent, "checkpoint at close: {}", r.error().message);
    }
    log_.debug(kComponent, "closed {}", path_);
  }

 protected:
  ReaderLease acquire_reader() override {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [this] { return !idle_readers_.empty(); });
    Connection* conn = idle_readers_.back();
    idle_readers_.pop_back();
    return ReaderLease(conn, ReaderDeleter{this});
  }

  void release_reader(Connection* conn) override {
    {
      std::lock_guard lock(readers_mu_);
      idle_readers_.push_back(conn);
    }
    readers_cv_.notify_one();
  }

 private:
  // Queues `job` (moving from it) or leaves it untouched and says why not.
  core::Result<void> enqueue(WriteJob& job) {
    {
      std::lock_guard lock(mu_);
      if (closing_) return core::Error(core::Errc::kServiceUnavailable, "the database is closed");
      if (queue_.size() >= write_queue_max_) {
        return core::Error(
            core::Errc::kServiceUnavailable,
            fmt::format("the database write queue is full ({} writes waiting)", queue_.size()));
      }
      queue_.push_back(std::move(job));
      queue_depth_->store(queue_.size());
    }
    work_cv_.notify_one();
    return core::ok();
  }

  void writer_loop() {
    std::vector<WriteJob> batch;
    while (true) {
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) break;  // closing, and everything queued is done
        std::size_t n = std::min(max_batch_, queue_.size());
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queue_depth_->store(queue_.size());
      }
      run_batch(batch);
      batch.clear();
    }
    writer_running_ = false;
  }

  // Runs one write; exceptions become kInternalError for that write alone.
  core::Result<void> invoke(WriteJob& job) {
    try {
      return job.fn(*writer_);
    } catch (const std::exception& e) {
      return core::Error(core::Errc::kInternalError, fmt::format("a write threw: {}", e.what()));
    } catch (...) {
      return core::Error(core::Errc::kInternalError, "a write threw a non-standard exception");
    }
  }

  // Runs `job` inside its own savepoint, undoing only it when it fails.
  core::Result<void> run_in_savepoint(WriteJob& job) {
    if (auto r = writer_->exec("SAVEPOINT netpulse_write"); !r) return r;
    auto result = invoke(job);
    if (sqlite3_get_autocommit(writer_->handle())) return result;  // transaction is gone
    if (result) {
      // Deferred foreign keys are only checked at COMMIT; catch them here so one write cannot
      // make the whole group fail.
      int deferred = 0;
      int high = 0;
      sqlite3_db_status(writer_->handle(), SQLITE_DBSTATUS_DEFERRED_FKS, &deferred, &high, 0);
      if (deferred > 0) {
        result = core::Error(core::Errc::kConflict, "FOREIGN KEY constraint failed (deferred)");
      } else if (auto rel = writer_->exec("RELEASE netpulse_write"); rel) {
        return result;
      } else {
        result = std::move(rel);
      }
    }
    (void)writer_->exec("ROLLBACK TO netpulse_write");
    (void)writer_->exec("RELEASE netpulse_write");
    return result;
  }

  void run_batch(std::vector<WriteJob>& batch) {
    sqlite3* handle = writer_->handle();
    std::vector<core::Result<void>> results(batch.size());
    std::size_t next = 0;
    while (next < batch.size()) {
      const std::size_t first = next;
      if (auto begin = writer_->exec("BEGIN IMMEDIATE"); !begin) {
        for (; next < batch.size(); ++next) results[next] = begin.error();
        break;
      }
      bool ended_early = false;
      while (next < batch.size() && !ended_early) {
        results[next] = run_in_savepoint(batch[next]);
        ended_early = sqlite3_get_autocommit(handle) != 0;
        ++next;
      }
      if (ended_early) {
        // A write ended the group transaction itself (SQLite rolls back on some errors, or it ran
        // COMMIT/ROLLBACK): no write in it can be vouched for. The rest get a fresh transaction.
        fail_ok_results(results, first, next,
                        core::Error(core::Errc::kDatabaseError,
                                    "the transaction holding this write was ended by a write in "
                                    "the same group"));
        continue;
      }
      auto started = clock_.steady_now();
      auto commit = writer_->exec("COMMIT");
      std::chrono::duration<double> took = clock_.steady_now() - started;
      if (!commit) {
        if (!sqlite3_get_autocommit(handle)) (void)writer_->exec("ROLLBACK");
        log_.error(kComponent, "group commit of {} writes failed: {}", next - first,
                   commit.error().message);
        fail_ok_results(results, first, next, commit.error());
        continue;
      }
      if (metrics_.commits) {
        metrics_.commits->inc();
        metrics_.commit_seconds->observe(took.count());
        metrics_.batch_size->observe(static_cast<double>(next - first));
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) reply(batch[i], std::move(results[i]));
  }

  static void fail_ok_results(std::vector<core::Result<void>>& results, std::size_t from,
                              std::size_t to, const core::Error& error) {
    for (std::size_t i = from; i < to; ++i) {
      if (results[i]) results[i] = error;
    }
  }

  void reply(WriteJob& job, core::Result<void> result) {
    if (metrics_.writes_ok) (result ? metrics_.writes_ok : metrics_.writes_error)->inc();
    if (!job.reply_to) {
      job.done(std::move(result));
      return;
    }
    boost::asio::post(job.reply_to,
                      [done = std::move(job.done), result = std::move(result)]() mutable {
                        done(std::move(result));
                      });
  }

  const std::string path_;
  const std::size_t write_queue_max_;
  const std::size_t max_batch_;
  const int schema_version_;
  const core::Clock& clock_;
  core::Logger& log_;
  WriterMetrics metrics_;

  // Declared before the readers so it is closed last: the last connection to close removes the
  // WAL files.
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<Connection*> idle_readers_;

  std::mutex mu_;  // guards queue_ and closing_
  std::condition_variable work_cv_;
  std::deque<WriteJob> queue_;
  bool closing_ = false;
  // Shared with the metrics registry's gauge, which may outlive this object.
  std::shared_ptr<std::atomic<std::size_t>> queue_depth_ =
      std::make_shared<std::atomic<std::size_t>>(0);

  std::mutex close_mu_;
  std::thread writer_thread_;
  std::thread::id writer_thread_id_;
  std::atomic<bool> writer_running_{false};
};

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

core::Result<std::unique_ptr<Database>> Database::open(const Options& options,
                                                       const core::Env& env) {
  const core::Clock& clock = env.clock;
  core::Logger& log = env.log;
  core::MetricsRegistry* metrics = &env.metrics;
  if (options.path.empty()) {
    return core::Error(core::Errc::kInvalidInput, "database path is empty");
  }
  if (auto valid = detail::validate_migrations(options.migrations); !valid) return valid.error();

  auto writer = Connection::open(options.path, Connection::Mode::kReadWrite, options.busy_timeout);
  if (!writer) return std::move(writer).error();
  if (auto r = set_up_writer(**writer, options); !r) return r.error();
  auto version = migrate(**writer, options.migrations, clock, log);
  if (!version) return std::move(version).error();

  std::vector<std::unique_ptr<Connection>> readers;
  std::size_t reader_count = std::max<std::size_t>(options.reader_connections, 1);
  for (std::size_t i = 0; i < reader_count; ++i) {
    auto reader = Connection::open(options.path, Connection::Mode::kReadOnly, options.busy_timeout);
    if (!reader) return std::move(reader).error();
    readers.push_back(std::move(*reader));
  }

  auto db = std::make_unique<DatabaseImpl>(options, clock, log, metrics, std::move(*writer),
                                           std::move(readers), *version);
  db->start();
  log.info(kComponent, "opened {} (schema version {}, {} readers)", options.path, *version,
           reader_count);
  return std::unique_ptr<Database>(std::move(db));
}

core::Result<std::vector<Migration>> Database::pending_migrations(
    const std::string& path, const std::vector<Migration>& migrations) {
  if (auto valid = detail::validate_migrations(migrations); !valid) return valid.error();
  if (!file_exists(path)) return migrations;
  // With no WAL beside it the file is the whole database and nothing is writing it: open it
  // immutable so SQLite creates no -wal/-shm files. Otherwise share the running server's WAL.
  const bool live = file_exists(path + "-wal");
  auto handle =
      detail::open_handle(detail::file_uri(path, live ? "mode=ro" : "mode=ro&immutable=1"),
                          SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                          std::chrono::milliseconds(5000));
  if (!handle) return std::move(handle).error();
  auto applied = detail::applied_versions(handle->get());
  if (!applied) return std::move(applied).error();
  return detail::pending_of(*applied, migrations);
}

core::Result<void> backup_file(const std::string& src_path, const std::string& dest_path) {
  if (!file_exists(src_path)) {
    return core::Error(core::Errc::kInvalidInput, fmt::format("no database at {}", src_path));
  }
  constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);
  constexpr int kCommon = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  core::Result<detail::SqliteHandle> src = core::Error(core::Errc::kInternalError, "unopened");
  if (!file_exists(src_path + "-wal")) {
    // No server has the file open. A read-only connection would leave behind the -wal/-shm files
    // it has to create; a read-write one (that only reads) removes them when it closes.
    src = detail::open_handle(detail::file_uri(src_path, "mode=rw"),
                              SQLITE_OPEN_READWRITE | kCommon, kBusyTimeout);
  }
  if (!src) {
    src = detail::open_handle(detail::file_uri(src_path, "mode=ro"), SQLITE_OPEN_READONLY | kCommon,
                              kBusyTimeout);
  }
  if (!src) return std::move(src).error();
  return detail::backup_into(src->get(), dest_path);
}

}  // namespace netpulse::db
