// Raw sqlite3 helpers private to the db module: opening handles with exact flags, running plain
// SQL, reading and checking the migration ledger (schema_migrations), and the online-backup copy
// used by Database::backup_to and backup_file. They work on bare sqlite3 handles so that the
// one-off connections of the CLI paths (dry run, backup from another process) share them.
#include "detail/sqlite_util.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include <netpulse/db/statement.hpp>

namespace netpulse::db::detail {

void SqliteCloser::operator()(sqlite3* db) const noexcept {
  if (db) sqlite3_close_v2(db);
}

core::Result<SqliteHandle> open_handle(const std::string& target, int flags,
                                       std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return core::Error(core::Errc::kDatabaseError,
                       fmt::format("opening database {}: {}", target, why));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout.count()));
  auto fk = exec_raw(db.get(), "PRAGMA foreign_keys=ON", "enabling foreign keys");
  if (!fk) return std::move(fk).error();
  return db;
}

std::string file_uri(const std::string& path, std::string_view query) {
  std::string out = "file:";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  return out;
}

core::Result<void> exec_raw(sqlite3* db, std::string_view sql, std::string_view what) {
  std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite_error(db, what);
  }
  return core::ok();
}

core::Result<std::set<int>> applied_versions(sqlite3* db) {
  std::set<int> out;
  sqlite3_stmt* stmt = nullptr;
  constexpr const char* kExists =
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  if (sqlite3_prepare_v2(db, kExists, -1, &stmt, nullptr) != SQLITE_OK) {
    return sqlite_error(db, "reading the schema");
  }
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc == SQLITE_DONE) return out;
  if (rc != SQLITE_ROW) return sqlite_error(db, "reading the schema");

  if (sqlite3_prepare_v2(db, "SELECT version FROM schema_migrations", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    return sqlite_error(db, "reading schema_migrations");
  }
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out.insert(sqlite3_column_int(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return sqlite_error(db, "reading schema_migrations");
  return out;
}

core::Result<void> validate_migrations(const std::vector<Migration>& migrations) {
  int previous = 0;
  for (const auto& m : migrations) {
    if (m.version <= previous) {
      return core::Error(
          core::Errc::kInvalidInput,
          fmt::format("migration {} is out of order or duplicated (after version {})",
                      migration_label(m), previous));
    }
    previous = m.version;
  }
  return core::ok();
}

core::Result<std::vector<Migration>> pending_of(const std::set<int>& applied,
                                                const std::vector<Migration>& migrations) {
  int known = migrations.empty() ? 0 : migrations.back().version;
  if (!applied.empty() && *applied.rbegin() > known) {
    return core::Error(core::Errc::kSchemaTooNew,
                       fmt::format("database schema version {} is newer than this NetPulse (knows "
                                   "up to {}); upgrade NetPulse or restore a backup",
                                   *applied.rbegin(), known));
  }
  std::vector<Migration> out;
  for (const auto& m : migrations) {
    if (!applied.count(m.version)) out.push_back(m);
  }
  return out;
}

core::Result<void> backup_into(sqlite3* src, const std::string& dest_path) {
  std::error_code ec;
  if (std::filesystem::exists(dest_path, ec)) {
    return core::Error(core::Errc::kInvalidInput,
                       fmt::format("backup destination {} already exists", dest_path));
  }
  const std::string tmp_path = dest_path + ".tmp";
  std::filesystem::remove(tmp_path, ec);

  auto copy = [&]() -> core::Result<void> {
    auto dest =
        open_handle(tmp_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                    std::chrono::milliseconds(5000));
    if (!dest) return std::move(dest).error();
    sqlite3_backup* backup = sqlite3_backup_init(dest->get(), "main", src, "main");
    if (!backup) return sqlite_error(dest->get(), "starting backup");
    // One step of -1 copies every page under one read transaction on `src`: a consistent
    // snapshot however the writer carries on meanwhile.
    int rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      return core::Error(core::Errc::kDatabaseError,
                         fmt::format("backup to {}: {}", dest_path, sqlite3_errstr(rc)));
    }
    // The copy is a plain rollback-journal file: nothing beside it to carry along.
    return exec_raw(dest->get(), "PRAGMA journal_mode=DELETE", "finishing backup");
  }();
  if (!copy) {
    std::filesystem::remove(tmp_path, ec);
    return copy;
  }
  // link() refuses to replace an existing file, unlike rename().
  if (::link(tmp_path.c_str(), dest_path.c_str()) != 0) {
    int err = errno;
    std::filesystem::remove(tmp_path, ec);
    return core::Error(err == EEXIST ? core::Errc::kInvalidInput : core::Errc::kDatabaseError,
                       fmt::format("backup to {}: {}", dest_path, std::strerror(err)));
  }
  std::filesystem::remove(tmp_path, ec);
  return core::ok();
}

std::string migration_label(const Migration& m) {
  return fmt::format("{:04}_{}", m.version, m.name);
}

}  // namespace netpulse::db::detail
