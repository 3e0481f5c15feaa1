// The server_settings table (include/netpulse/db/settings.hpp).
#include <netpulse/db/settings.hpp>
#include <netpulse/db/statement.hpp>

namespace netpulse::db {

core::Result<SavedSettingRows> load_saved_settings(Database& db) {
  return db.read([](Connection& c) -> core::Result<SavedSettingRows> {
    auto st = c.prepare("SELECT key, value, updated_by, updated_at FROM server_settings");
    if (!st) return std::move(st).error();
    SavedSettingRows out;
    while (true) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out[st->get_text(0)] = {st->get_text(1), st->get_text(2), st->get_int64(3)};
    }
    return out;
  });
}

void save_settings(Database& db, std::map<std::string, std::optional<std::string>> changes,
                   std::string updated_by, std::int64_t at, boost::asio::any_io_executor reply_to,
                   std::function<void(core::Result<void>)> done) {
  db.write(
      [changes = std::move(changes), by = std::move(updated_by),
       at](Connection& c) -> core::Result<void> {
        for (auto& [key, value] : changes) {
          auto st = value ? c.prepare(
                                "INSERT INTO server_settings (key, value, updated_by, updated_at) "
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET "
                                "value = excluded.value, updated_by = excluded.updated_by, "
                                "updated_at = excluded.updated_at")
                          : c.prepare("DELETE FROM server_settings WHERE key = ?1");
          if (!st) return std::move(st).error();
          st->bind(1, key);
          if (value) st->bind(2, *value).bind(3, by).bind(4, at);
          if (auto r = st->run(); !r) return r;
        }
        return core::ok();
      },
      std::move(reply_to), std::move(done));
}

core::Result<std::int64_t> delete_saved_settings_sync(Database& db,
                                                      const std::vector<std::string>& keys) {
  return db.write_sync<std::int64_t>([&keys](Connection& c) -> core::Result<std::int64_t> {
    std::int64_t deleted = 0;
    auto run = [&](const char* sql, const std::string* key) -> core::Result<void> {
      auto st = c.prepare(sql);
      if (!st) return std::move(st).error();
      if (key) st->bind(1, *key);
      if (auto r = st->run(); !r) return r;
      deleted += c.changes();
      return core::ok();
    };
    if (keys.empty()) {
      if (auto r = run("DELETE FROM server_settings", nullptr); !r) return r.error();
    }
    for (auto& key : keys) {
      if (auto r = run("DELETE FROM server_settings WHERE key = ?1", &key); !r) return r.error();
    }
    return deleted;
  });
}

}  // namespace netpulse::db
