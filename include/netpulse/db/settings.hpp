// The server's settings saved from the web UI (migration 0017): dotted config key → the value
// as JSON text, with who saved it and when. What the keys mean and which may be saved is the
// config's business (core/config.hpp); this is only their storage.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/result.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::db {

struct SavedSetting {
  std::string value;  // JSON
  std::string updated_by;
  std::int64_t updated_at = 0;  // Unix seconds
};

using SavedSettingRows = std::map<std::string, SavedSetting>;

// Every saved setting (one small table; start-up and the settings routes).
core::Result<SavedSettingRows> load_saved_settings(Database& db);

// In one transaction: each key given a value is saved (replacing its row), each given none is
// deleted. `done` is posted to `reply_to` once committed.
void save_settings(Database& db, std::map<std::string, std::optional<std::string>> changes,
                   std::string updated_by, std::int64_t at, boost::asio::any_io_executor reply_to,
                   std::function<void(core::Result<void>)> done);

// Deletes the saved settings `keys` (every one when `keys` is empty), blocking until committed;
// returns how many there were. For the CLI (`netpulse settings reset`), never on the event loop.
core::Result<std::int64_t> delete_saved_settings_sync(Database& db,
                                                      const std::vector<std::string>& keys);

}  // namespace netpulse::db
