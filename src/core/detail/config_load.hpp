// The config loader's insides, shared by config.cpp (loading) and config_settings.cpp (the
// settings saved from the web UI and their catalog).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include <netpulse/core/config.hpp>

namespace netpulse::core::detail {

// The embedded defaults, parsed once: the schema.
const toml::table& defaults_table();

// The node at a dotted key, or null.
const toml::node* find_node(const toml::table& t, const std::string& dotted);

// NETPULSE_<SECTION>_<KEY> for a dotted key.
std::string env_name(const std::string& dotted);

struct Loaded {
  Config config;
  std::vector<ConfigProblem> problems;
  toml::table base;                       // defaults + file + environment
  toml::table merged;                     // base + saved settings
  std::map<std::string, int> file_lines;  // dotted key -> line, for every key the file set
};

Loaded load(const std::optional<std::string>& file, const Environment& env,
            const SavedSettings& saved);

// Puts each saved value over `merged` (config_settings.cpp). Problems name the key, with source
// "settings".
void apply_saved(const SavedSettings& saved, toml::table& merged,
                 std::vector<ConfigProblem>& problems);

inline constexpr std::string_view kSavedSource = "settings";

}  // namespace netpulse::core::detail
