// `netpulse settings list|reset`: the settings saved from the web UI (docs/settings.md), from the
// shell. `reset` is the way back when a saved value locks people out of the web UI (a rate limit
// set too low, say): saved settings win over the file and the environment, so only taking them
// back undoes them. Works while the server runs (the database is shared); the server reads the
// change at its next start.
#include <cstdio>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/db/settings.hpp>

#include "cli.hpp"
#include "support.hpp"

namespace netpulse::app {

int cmd_settings(const CommandLine& cl) {
  const bool list = !cl.positional.empty() && cl.positional[0] == "list";
  const bool reset = !cl.positional.empty() && cl.positional[0] == "reset";
  std::vector<std::string> keys(cl.positional.begin() + (cl.positional.empty() ? 0 : 1),
                                cl.positional.end());
  if ((!list && !reset) || (list && !keys.empty()) ||
      (reset && keys.empty() == !cl.has_flag("all"))) {
    std::fprintf(stderr, "netpulse settings: list, or reset KEY... (or reset --all)\n");
    return 2;
  }
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  Runtime rt(*config);
  auto database = rt.open_database();
  if (!database) return 1;
  auto& db = **database;
  auto rows = db::load_saved_settings(db);
  if (!rows) {
    std::fprintf(stderr, "netpulse settings: %s\n", rows.error().message.c_str());
    return 1;
  }

  if (reset) {
    for (auto& key : keys) {
      if (!rows->count(key)) {
        std::fprintf(stderr, "netpulse settings reset: %s is not saved (see settings list)\n",
                     key.c_str());
        return 1;
      }
    }
    auto deleted = db::delete_saved_settings_sync(db, keys);
    if (!deleted) {
      std::fprintf(stderr, "netpulse settings reset: %s\n", deleted.error().message.c_str());
      return 1;
    }
    std::printf("%lld saved setting(s) taken back; restart NetPulse to apply the file's values\n",
                static_cast<long long>(*deleted));
    return 0;
  }

  core::SavedSettings saved;
  for (auto& [key, row] : *rows) saved[key] = row.value;
  auto report = core::settings_report(cl.option("config"), core::process_environment(), saved);
  std::map<std::string, std::string> why;
  for (auto& p : report.ignored) why[p.key] = p.message;
  std::printf("%-36s %-30s %-24s %-20s %s\n", "KEY", "VALUE", "SAVED BY", "AT", "NOTE");
  for (auto& [key, row] : *rows) {
    const auto* info = core::find_setting(key);
    std::string value = info && info->secret ? std::string("(secret)") : row.value;
    if (value.size() > 30) value = value.substr(0, 27) + "...";
    std::string note = why.count(key) ? "left out: " + why[key] : "";
    std::printf("%-36s %-30s %-24s %-20s %s\n", key.c_str(), value.c_str(), row.updated_by.c_str(),
                core::format_rfc3339_seconds(row.updated_at).c_str(), note.c_str());
  }
  return 0;
}

}  // namespace netpulse::app
