// The settings a system administrator may change over the API (docs/settings.md): which keys,
// when each takes effect, the catalog of every key with its description (read from the comments
// of the embedded config/netpulse.toml), and the saved values put over the file and the
// environment with the same type checks as the file's.
#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include <netpulse/core/config.hpp>
#include <netpulse/core/json.hpp>

#include "detail/config_load.hpp"

namespace netpulse::core {

namespace {

using SA = SettingApply;

// The keys that may be saved from the web UI, and when a change takes effect. Live keys are
// applied by whoever holds them (app wires log.level into the logger and [notify]'s into the
// notifier); every other saved key waits for the next start. Everything else stays in the file:
// where the server listens and with which certificate, where it keeps data, which addresses it
// may reach, file paths on the server, and the engines' sizes.
struct Editable {
  std::string_view key;
  SettingApply apply;
};
constexpr std::array kEditable = {
    Editable{"http.cors_allowed_origins", SA::kRestart},
    Editable{"http.rate_limit.per_ip_rps", SA::kRestart},
    Editable{"http.rate_limit.per_ip_burst", SA::kRestart},
    Editable{"http.rate_limit.per_user_rps", SA::kRestart},
    Editable{"http.rate_limit.per_user_burst", SA::kRestart},
    Editable{"auth.access_token_ttl_s", SA::kRestart},
    Editable{"auth.refresh_token_ttl_s", SA::kRestart},
    Editable{"auth.password_min_length", SA::kRestart},
    Editable{"auth.throttle_account_failures", SA::kRestart},
    Editable{"auth.throttle_ip_failures", SA::kRestart},
    Editable{"auth.throttle_base_s", SA::kRestart},
    Editable{"auth.throttle_max_s", SA::kRestart},
    Editable{"auth.audit_retention_days", SA::kRestart},
    Editable{"auth.api_key_default_ttl_days", SA::kRestart},
    Editable{"log.level", SA::kLive},
    Editable{"log.access_log", SA::kRestart},
    Editable{"tsdb.retention_raw_days", SA::kRestart},
    Editable{"tsdb.retention_5m_days", SA::kRestart},
    Editable{"tsdb.retention_1h_days", SA::kRestart},
    Editable{"pollers.icmp_echoes", SA::kRestart},
    Editable{"pollers.icmp_echo_interval_ms", SA::kRestart},
    Editable{"pollers.icmp_timeout_ms", SA::kRestart},
    Editable{"pollers.down_after", SA::kRestart},
    Editable{"pollers.up_after", SA::kRestart},
    Editable{"pollers.flap_changes", SA::kRestart},
    Editable{"pollers.flap_window_s", SA::kRestart},
    Editable{"pollers.flap_up_after", SA::kRestart},
    Editable{"pollers.snmp_timeout_ms", SA::kRestart},
    Editable{"pollers.snmp_retries", SA::kRestart},
    Editable{"pollers.snmp_max_repetitions", SA::kRestart},
    Editable{"alerts.flap_changes", SA::kRestart},
    Editable{"alerts.flap_window_s", SA::kRestart},
    Editable{"alerts.history_retention_days", SA::kRestart},
    Editable{"notify.external_url", SA::kLive},
    Editable{"notify.max_attempts", SA::kRestart},
    Editable{"notify.retry_base_ms", SA::kRestart},
    Editable{"notify.retry_max_ms", SA::kRestart},
    Editable{"notify.unhealthy_after", SA::kLive},
    Editable{"notify.ack_link_ttl_s", SA::kLive},
    Editable{"notify.smtp.host", SA::kLive},
    Editable{"notify.smtp.port", SA::kLive},
    Editable{"notify.smtp.tls", SA::kLive},
    Editable{"notify.smtp.username", SA::kLive},
    Editable{"notify.smtp.password", SA::kLive},
    Editable{"notify.smtp.from", SA::kLive},
    Editable{"notify.smtp.timeout_s", SA::kLive},
};

// Shown only as set or not.
constexpr std::array<std::string_view, 4> kSecret = {"http.metrics_token", "notify.smtp.password",
                                                     "pollers.traps_communities",
                                                     "pollers.traps_v3_users"};

// Strings that take one of a few values (the loader's checks say the same).
std::vector<std::string> choices_of(std::string_view key) {
  if (key == "log.level") return {"trace", "debug", "info", "warn", "error", "off"};
  if (key == "log.format") return {"text", "json"};
  if (key == "database.synchronous") return {"NORMAL", "FULL"};
  if (key == "pollers.icmp_mode") return {"auto", "datagram", "raw", "off"};
  if (key == "notify.smtp.tls") return {"none", "starttls", "tls"};
  return {};
}

// Longest saved string and list: far beyond any real value, small beside a request body.
constexpr std::size_t kMaxStringBytes = 2048;
constexpr std::size_t kMaxListItems = 256;

std::string node_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "number";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::array:
      return "list";
    default:
      return "other";
  }
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// Reads the embedded file line by line: `[section]`, `key = value` (a list may go on over
// the next lines, which start with a space or a quote), and comment blocks. A key's description
// is the comment block just above it; keys below it without their own share it, up to a blank
// line or the next section.
std::vector<SettingInfo> build_catalog() {
  std::vector<SettingInfo> out;
  std::string_view text = default_config_text();
  std::string section, pending, current;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty()) {
      pending.clear();
      current.clear();
      continue;
    }
    if (line.front() == '#') {
      auto body = trim(line.substr(1));
      if (body.empty()) {
        if (!pending.empty()) pending += "\n";
      } else {
        if (!pending.empty() && pending.back() != '\n') pending += ' ';
        pending += body;
      }
      continue;
    }
    if (line.front() == '[') {
      auto close = line.find(']');
      section = std::string(line.substr(1, close == line.npos ? line.npos : close - 1));
      pending.clear();
      current.clear();
      continue;
    }
    auto eq = line.find(" = ");
    if (eq == std::string_view::npos || line.front() == ' ' || line.front() == '"') continue;
    if (!pending.empty()) {
      current = trim(pending);
      pending.clear();
    }
    SettingInfo info;
    info.section = section;
    info.key = section.empty() ? std::string(line.substr(0, eq))
                               : section + "." + std::string(line.substr(0, eq));
    const toml::node* node = detail::find_node(detail::defaults_table(), info.key);
    if (!node) continue;  // not a key of the schema (cannot happen with the embedded file)
    info.type = node_type_name(*node);
    info.description = current;
    for (auto& e : kEditable) {
      if (e.key == info.key) info.apply = e.apply;
    }
    info.secret = std::find(kSecret.begin(), kSecret.end(), info.key) != kSecret.end();
    info.choices = choices_of(info.key);
    out.push_back(std::move(info));
  }
  return out;
}

boost::json::value to_json(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return boost::json::string(n.as_string()->get());
    case toml::node_type::integer:
      return n.as_integer()->get();
    case toml::node_type::floating_point:
      return n.as_floating_point()->get();
    case toml::node_type::boolean:
      return n.as_boolean()->get();
    case toml::node_type::array: {
      boost::json::array a;
      for (auto& el : *n.as_array()) {
        if (auto s = el.as_string()) a.emplace_back(s->get());
      }
      return a;
    }
    default:
      return nullptr;
  }
}

// Whether the JSON value is one of the key's type, or the reason it is not.
Result<void> check_json(const SettingInfo& info, const boost::json::value& v) {
  auto bad = [&](std::string_view what) { return invalid_field(info.key, what); };
  if (info.type == "string") {
    if (!v.is_string()) return bad("must be a string");
    if (v.as_string().size() > kMaxStringBytes) {
      return bad(fmt::format("must be at most {} bytes", kMaxStringBytes));
    }
    if (v.as_string().find('\0') != boost::json::string::npos) {
      return bad("must not contain NUL characters");
    }
    return ok();
  }
  if (info.type == "integer") {
    if (v.is_int64()) return ok();
    if (v.is_uint64()) return bad("is too large");
    return bad("must be a whole number");
  }
  if (info.type == "number") {
    if (v.is_int64() || v.is_uint64()) return ok();
    if (v.is_double() && std::isfinite(v.as_double())) return ok();
    return bad("must be a number");
  }
  if (info.type == "boolean") {
    if (!v.is_bool()) return bad("must be true or false");
    return ok();
  }
  if (info.type == "list") {
    if (!v.is_array()) return bad("must be a list of strings");
    if (v.as_array().size() > kMaxListItems) {
      return bad(fmt::format("may have at most {} entries", kMaxListItems));
    }
    for (auto& el : v.as_array()) {
      if (!el.is_string()) return bad("must be a list of strings");
      if (el.as_string().size() > kMaxStringBytes) {
        return bad(fmt::format("entries must be at most {} bytes", kMaxStringBytes));
      }
    }
    return ok();
  }
  return bad("cannot be saved");
}

}  // namespace

std::string_view setting_apply_name(SettingApply a) noexcept {
  switch (a) {
    case SettingApply::kLive:
      return "live";
    case SettingApply::kRestart:
      return "restart";
    case SettingApply::kFileOnly:
      break;
  }
  return "file";
}

const std::vector<SettingInfo>& setting_catalog() {
  static const std::vector<SettingInfo> catalog = build_catalog();
  return catalog;
}

const SettingInfo* find_setting(std::string_view key) {
  for (auto& s : setting_catalog()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Result<std::string> saved_setting_text(const SettingInfo& info, const boost::json::value& value) {
  if (info.apply == SettingApply::kFileOnly) {
    return invalid_field(info.key, "is set in the config file or the environment only");
  }
  if (auto r = check_json(info, value); !r) return std::move(r).error();
  return to_json_text(value);
}

namespace detail {

void apply_saved(const SavedSettings& saved, toml::table& merged,
                 std::vector<ConfigProblem>& problems) {
  auto problem = [&](const std::string& key, std::string message) {
    problems.push_back({std::string(kSavedSource), key, 0, std::move(message)});
  };
  for (auto& [key, text] : saved) {
    const SettingInfo* info = find_setting(key);
    if (!info) {
      problem(key, "is not a setting of this version");
      continue;
    }
    boost::system::error_code ec;
    auto value = parse_json(text, ec);
    if (ec) {
      problem(key, "the saved value is not valid JSON");
      continue;
    }
    auto text_ok = saved_setting_text(*info, value);
    if (!text_ok) {
      problem(key, text_ok.error().details.contains("reason")
                       ? std::string(text_ok.error().details.at("reason").as_string())
                       : text_ok.error().message);
      continue;
    }
    // The path exists: the catalog comes from the schema, and merged starts as the schema.
    auto dot = key.rfind('.');
    auto* parent = dot == std::string::npos
                       ? &merged
                       : const_cast<toml::node*>(find_node(merged, key.substr(0, dot)))->as_table();
    auto leaf = key.substr(dot == std::string::npos ? 0 : dot + 1);
    if (info->type == "string") {
      parent->insert_or_assign(leaf, std::string(value.as_string()));
    } else if (info->type == "integer") {
      parent->insert_or_assign(leaf, value.as_int64());
    } else if (info->type == "number") {
      double d = value.is_double()  ? value.as_double()
                 : value.is_int64() ? static_cast<double>(value.as_int64())
                                    : static_cast<double>(value.as_uint64());
      parent->insert_or_assign(leaf, d);
    } else if (info->type == "boolean") {
      parent->insert_or_assign(leaf, value.as_bool());
    } else {
      toml::array arr;
      for (auto& el : value.as_array()) arr.push_back(std::string(el.as_string()));
      parent->insert_or_assign(leaf, std::move(arr));
    }
  }
}

}  // namespace detail

SettingsReport settings_report(const std::optional<std::string>& file, const Environment& env,
                               const SavedSettings& saved) {
  SettingsReport out;
  out.kept = saved;
  auto loaded = detail::load(file, env, out.kept);
  // Each round leaves out the saved settings named by a problem; a problem can only name its
  // own key, so a few rounds end it.
  for (int round = 0; round < 4; ++round) {
    bool dropped = false;
    for (auto& p : loaded.problems) {
      if (p.source != detail::kSavedSource || !out.kept.count(p.key)) continue;
      out.ignored.push_back(p);
      out.kept.erase(p.key);
      dropped = true;
    }
    if (!dropped) break;
    loaded = detail::load(file, env, out.kept);
  }
  if (!out.kept.empty() && !loaded.problems.empty()) {
    auto base = detail::load(file, env, {});
    if (base.problems.size() < loaded.problems.size()) {
      // Problems the saved settings bring only together: none of them is kept.
      std::string why = "left out with the other saved settings: " + loaded.problems.front().key +
                        " " + loaded.problems.front().message;
      for (auto& [key, value] : out.kept) {
        out.ignored.push_back({std::string(detail::kSavedSource), key, 0, why});
      }
      out.kept.clear();
      loaded = std::move(base);
    }
  }
  out.config = std::move(loaded.config);
  out.problems = std::move(loaded.problems);
  std::map<std::string, std::string> why;
  for (auto& p : out.ignored) why[p.key] = p.message;
  for (auto& info : setting_catalog()) {
    SettingState st;
    st.info = &info;
    if (auto* n = detail::find_node(loaded.merged, info.key)) st.value = to_json(*n);
    if (auto* n = detail::find_node(loaded.base, info.key)) st.base = to_json(*n);
    st.base_source = env.count(detail::env_name(info.key)) ? "environment"
                     : loaded.file_lines.count(info.key)   ? "file"
                                                           : "default";
    if (auto it = saved.find(info.key); it != saved.end()) {
      boost::system::error_code ec;
      auto v = parse_json(it->second, ec);
      st.saved = ec ? boost::json::value(nullptr) : std::move(v);
      if (auto w = why.find(info.key); w != why.end()) st.saved_problem = w->second;
    }
    out.settings.push_back(std::move(st));
  }
  return out;
}

std::vector<ConfigProblem> saved_settings_problems(const std::optional<std::string>& file,
                                                   const Environment& env,
                                                   const SavedSettings& saved) {
  auto base = detail::load(file, env, {});
  auto loaded = detail::load(file, env, saved);
  std::vector<ConfigProblem> out;
  for (auto& p : loaded.problems) {
    bool known = std::any_of(base.problems.begin(), base.problems.end(), [&](const auto& b) {
      return b.key == p.key && b.message == p.message;
    });
    if (!known) out.push_back(p);
  }
  return out;
}

}  // namespace netpulse::core
