// Thin RAII wrappers over sqlite3 connections and prepared statements. Errors come back as
// Result with kDatabaseError (or kConflict for constraint violations) and SQLite's message.
//
//   auto st = conn.prepare("SELECT id, name FROM users WHERE org_id = ?1 AND email = ?2");
//   if (!st) return st.error();
//   st->bind(1, org_id).bind(2, email);
//   while (true) { auto row = st->step(); if (!row) return row.error(); if (!*row) break; ... }
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <netpulse/core/result.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace netpulse::db {

class Connection;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::nullopt_t);
  template <class T>
  Statement& bind(int index, const std::optional<T>& v) {
    return v ? bind(index, *v) : bind(index, std::nullopt);
  }
  Statement& bind_blob(int index, std::string_view bytes);

  // Advances: true when a row is ready, false when done.
  core::Result<bool> step();
  // Steps to completion (for INSERT/UPDATE/DELETE).
  core::Result<void> run();

  bool is_null(int col) const;
  std::int64_t get_int64(int col) const;
  double get_double(int col) const;
  std::string get_text(int col) const;
  std::optional<std::string> get_optional_text(int col) const;
  std::optional<std::int64_t> get_optional_int64(int col) const;
  std::string get_blob(int col) const;

  // Clears bindings and rewinds so the statement can be reused.
  void reset();

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, sqlite3* db, bool owned) : stmt_(stmt), db_(db), owned_(owned) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  bool owned_ = true;  // false: cached by the connection, only reset on destruction
  bool bind_failed_ = false;
  std::string bind_error_;
};

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens `path` with the given mode and busy timeout; creates the file in kReadWrite mode.
  static core::Result<std::unique_ptr<Connection>> open(const std::string& path, Mode mode,
                                                        std::chrono::milliseconds busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A prepared statement, cached per SQL text for the life of the connection. Use one statement
  // object at a time per SQL text (it is reset when the returned Statement is destroyed).
  core::Result<Statement> prepare(std::string_view sql);
  // Runs one or more statements with no parameters and no rows (DDL, PRAGMA, BEGIN...).
  core::Result<void> exec(std::string_view sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const noexcept { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Maps the last error of `db` to an Error (kConflict for constraint failures, else kDatabaseError).
core::Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace netpulse::db
