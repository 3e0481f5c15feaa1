// Private helpers of the db module shared by the connection wrappers, the migration runner and
// backup: raw sqlite3 handles opened with exact flags (for the read-only, create-nothing opens of
// `pending_migrations` and `backup_file`), reading schema_migrations, and the online backup copy.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/db/database.hpp>

struct sqlite3;

namespace netpulse::db::detail {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept;
};
// An open sqlite3 connection, closed (sqlite3_close_v2) when it goes away.
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;

// Opens `target` (a path, or a "file:" URI when `flags` has SQLITE_OPEN_URI) with `flags`,
// extended result codes on, the given busy timeout and `PRAGMA foreign_keys=ON`.
core::Result<SqliteHandle> open_handle(const std::string& target, int flags,
                                       std::chrono::milliseconds busy_timeout);

// A "file:" URI for `path`, percent-escaping what a URI would misread; `query` is appended as is.
std::string file_uri(const std::string& path, std::string_view query);

// Runs SQL that returns no rows we care about (no parameters). `what` prefixes the error.
core::Result<void> exec_raw(sqlite3* db, std::string_view sql, std::string_view what);

// The versions recorded in schema_migrations; empty when the table does not exist.
core::Result<std::set<int>> applied_versions(sqlite3* db);

// Checks that `migrations` are in strictly increasing version order with valid versions.
core::Result<void> validate_migrations(const std::vector<Migration>& migrations);

// The migrations not yet in `applied`, in version order. kSchemaTooNew when `applied` holds a
// version above every known migration.
core::Result<std::vector<Migration>> pending_of(const std::set<int>& applied,
                                                const std::vector<Migration>& migrations);

// A consistent copy of `src`'s main database into a new file at `dest_path`: written to
// `dest_path + ".tmp"`, then linked into place so a reader never sees a half-written file.
// kInvalidInput when `dest_path` already exists.
core::Result<void> backup_into(sqlite3* src, const std::string& dest_path);

// "0001_foundation" style label for logs and errors.
std::string migration_label(const Migration& m);

}  // namespace netpulse::db::detail
