// RAII over sqlite3: Connection owns one sqlite3 handle and a cache of prepared statements keyed by
// SQL text; Statement wraps one sqlite3_stmt. A cached statement is not finalized when its wrapper
// dies, only reset and unbound, so the next prepare() of the same text skips SQLite's parser. Bind
// failures are remembered and reported by the next step()/run(), which keeps call sites a simple
// chain of bind() calls. Every failure becomes a core::Error through sqlite_error().
#include <fmt/format.h>
#include <sqlite3.h>

#include <netpulse/db/statement.hpp>

#include "detail/sqlite_util.hpp"

namespace netpulse::db {

namespace {

// The SQL of a statement, shortened for error messages.
std::string sql_excerpt(sqlite3_stmt* stmt) {
  constexpr std::size_t kMax = 120;
  const char* sql = stmt ? sqlite3_sql(stmt) : nullptr;
  if (!sql) return "?";
  std::string_view text(sql);
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// Prepares the first statement of `sql`; fails when more than one statement follows.
core::Result<sqlite3_stmt*> prepare_one(sqlite3* db, std::string_view sql, unsigned flags) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt, &tail);
  if (rc != SQLITE_OK) {
    return sqlite_error(db, fmt::format("preparing \"{}\"", sql.substr(0, 120)));
  }
  if (!stmt) {
    return core::Error(core::Errc::kDatabaseError,
                       fmt::format("preparing \"{}\": no SQL statement", sql.substr(0, 120)));
  }
  const char* end = sql.data() + sql.size();
  if (tail && tail < end) {
    // Whatever follows must be only whitespace, semicolons or comments.
    sqlite3_stmt* extra = nullptr;
    int rc2 = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &extra, nullptr);
    bool has_more = rc2 != SQLITE_OK || extra != nullptr;
    sqlite3_finalize(extra);
    if (has_more) {
      sqlite3_finalize(stmt);
      return core::Error(core::Errc::kDatabaseError,
                         fmt::format("preparing \"{}\": prepare() takes one statement; use exec()",
                                     sql.substr(0, 120)));
    }
  }
  return stmt;
}

}  // namespace

core::Error sqlite_error(sqlite3* db, std::string_view what) {
  if (!db) return core::Error(core::Errc::kDatabaseError, fmt::format("{}: out of memory", what));
  int code = sqlite3_extended_errcode(db);
  auto errc =
      (code & 0xff) == SQLITE_CONSTRAINT ? core::Errc::kConflict : core::Errc::kDatabaseError;
  boost::json::object details;
  details["sqlite_code"] = code;
  return core::Error(errc, fmt::format("{}: {}", what, sqlite3_errmsg(db)), std::move(details));
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(std::exchange(other.db_, nullptr)),
      owned_(other.owned_),
      bind_failed_(std::exchange(other.bind_failed_, false)),
      bind_error_(std::move(other.bind_error_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this == &other) return *this;
  this->~Statement();
  stmt_ = std::exchange(other.stmt_, nullptr);
  db_ = std::exchange(other.db_, nullptr);
  owned_ = other.owned_;
  bind_failed_ = std::exchange(other.bind_failed_, false);
  bind_error_ = std::move(other.bind_error_);
  return *this;
}

Statement::~Statement() {
  if (!stmt_) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  stmt_ = nullptr;
}

namespace {
// Records the first bind failure of a statement.
void note_bind(int rc, sqlite3* db, int index, bool& failed, std::string& error) {
  if (rc == SQLITE_OK || failed) return;
  failed = true;
  error = fmt::format("binding parameter {}: {}", index, db ? sqlite3_errstr(rc) : "no statement");
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = stmt_ ? sqlite3_bind_int64(stmt_, index, value) : SQLITE_MISUSE;
  note_bind(rc, db_, index, bind_failed_, bind_error_);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = stmt_ ? sqlite3_bind_double(stmt_, index, value) : SQLITE_MISUSE;
  note_bind(rc, db_, index, bind_failed_, bind_error_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc = stmt_ ? sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8)
                 : SQLITE_MISUSE;
  note_bind(rc, db_, index, bind_failed_, bind_error_);
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  int rc = stmt_ ? sqlite3_bind_null(stmt_, index) : SQLITE_MISUSE;
  note_bind(rc, db_, index, bind_failed_, bind_error_);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  int rc = stmt_ ? sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT)
                 : SQLITE_MISUSE;
  note_bind(rc, db_, index, bind_failed_, bind_error_);
  return *this;
}

core::Result<bool> Statement::step() {
  if (!stmt_) return core::Error(core::Errc::kDatabaseError, "step on an empty statement");
  if (bind_failed_) {
    return core::Error(core::Errc::kDatabaseError,
                       fmt::format("\"{}\": {}", sql_excerpt(stmt_), bind_error_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  auto err = sqlite_error(db_, fmt::format("running \"{}\"", sql_excerpt(stmt_)));
  // Rewind so a failed statement does not hold its transaction open; bindings stay.
  sqlite3_reset(stmt_);
  return err;
}

core::Result<void> Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return std::move(row).error();
    if (!*row) break;
  }
  sqlite3_reset(stmt_);
  return core::ok();
}

bool Statement::is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t Statement::get_int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

double Statement::get_double(int col) const {
  return sqlite3_column_double(stmt_, col);
}

std::string Statement::get_text(int col) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!text) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> Statement::get_optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return get_text(col);
}

std::optional<std::int64_t> Statement::get_optional_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return get_int64(col);
}

std::string Statement::get_blob(int col) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  if (!bytes) return {};
  return std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

void Statement::reset() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bind_failed_ = false;
  bind_error_.clear();
}

// ---- Connection ----

core::Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, Mode mode,
                                                           std::chrono::milliseconds busy_timeout) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  auto handle = detail::open_handle(path, flags, busy_timeout);
  if (!handle) return std::move(handle).error();
  return std::unique_ptr<Connection>(new Connection(handle->release()));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  detail::SqliteCloser{}(db_);
}

core::Result<Statement> Connection::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    // A cached statement still mid-iteration belongs to a live wrapper (a nested use of the same
    // text): hand out a private copy instead of rewinding someone else's cursor.
    if (!sqlite3_stmt_busy(it->second)) return Statement(it->second, db_, false);
    auto fresh = prepare_one(db_, sql, 0);
    if (!fresh) return std::move(fresh).error();
    return Statement(*fresh, db_, true);
  }
  auto stmt = prepare_one(db_, sql, SQLITE_PREPARE_PERSISTENT);
  if (!stmt) return std::move(stmt).error();
  cache_.emplace(std::string(sql), *stmt);
  return Statement(*stmt, db_, false);
}

core::Result<void> Connection::exec(std::string_view sql) {
  return detail::exec_raw(db_, sql, "exec");
}

std::int64_t Connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int Connection::changes() const {
  return sqlite3_changes(db_);
}

}  // namespace netpulse::db
