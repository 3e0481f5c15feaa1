// Configuration: the embedded defaults (config/netpulse.toml, carried in the binary), overlaid by
// an optional TOML file, overlaid by NETPULSE_<SECTION>_<KEY> environment variables. The embedded
// file is also the schema: a key it does not have, or a value of another type, is an error naming
// the key and its line. Loading reports every problem at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <netpulse/core/embedded.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::core {

struct Config {
  struct Tls {
    bool enabled = false;
    std::string cert_file;
    std::string key_file;
  };
  struct RateLimit {
    double per_ip_rps = 0;
    std::int64_t per_ip_burst = 0;
    double per_user_rps = 0;
    std::int64_t per_user_burst = 0;
  };
  struct Http {
    std::string listen_host;  // "127.0.0.1", "::1", "0.0.0.0"
    std::uint16_t listen_port = 0;
    std::int64_t max_connections = 0;
    std::int64_t max_connections_per_ip = 0;
    std::int64_t max_header_bytes = 0;
    std::int64_t max_body_bytes = 0;
    std::int64_t header_timeout_ms = 0;
    std::int64_t read_timeout_ms = 0;
    std::int64_t idle_timeout_ms = 0;
    std::int64_t write_timeout_ms = 0;
    std::int64_t shutdown_grace_ms = 0;
    std::int64_t gzip_min_bytes = 0;
    std::vector<std::string> cors_allowed_origins;
    std::vector<std::string> trusted_proxies;
    std::string metrics_token;
    Tls tls;
    RateLimit rate_limit;
  };
  struct Storage {
    std::string data_dir;
  };
  struct Database {
    std::string synchronous;  // "NORMAL" or "FULL"
    std::int64_t busy_timeout_ms = 0;
    std::int64_t write_queue_max = 0;
    std::int64_t max_batch = 0;
    std::int64_t reader_connections = 0;
  };
  struct Auth {
    std::int64_t access_token_ttl_s = 0;
    std::int64_t refresh_token_ttl_s = 0;
    std::string issuer;
    std::string audience;
    std::int64_t argon2_memory_kib = 0;
    std::int64_t argon2_passes = 0;
    std::int64_t password_min_length = 0;
    std::int64_t password_max_length = 0;
    std::int64_t throttle_account_failures = 0;
    std::int64_t throttle_ip_failures = 0;
    std::int64_t throttle_base_s = 0;
    std::int64_t throttle_max_s = 0;
    std::int64_t audit_retention_days = 0;
    std::int64_t api_key_default_ttl_days = 0;
  };
  struct Log {
    std::string level;
    std::string format;
    bool access_log = true;
  };
  struct Workers {
    std::int64_t threads = 0;
    std::int64_t max_queued = 0;
  };
  struct Tsdb {
    bool sync_full = false;
    std::int64_t chunk_samples = 0;
    std::int64_t max_series_per_org = 0;
    std::int64_t head_max_mb = 0;
    std::int64_t head_keep_h = 0;
    std::int64_t ooo_window_s = 0;
    std::int64_t future_limit_s = 0;
    std::int64_t retention_raw_days = 0;
    std::int64_t retention_5m_days = 0;
    std::int64_t retention_1h_days = 0;
    std::int64_t flush_interval_s = 0;
    std::int64_t checkpoint_interval_s = 0;
    std::int64_t checkpoint_log_mb = 0;
    std::int64_t retention_interval_s = 0;
    std::int64_t stale_check_interval_s = 0;
    double stale_factor = 0;
    std::int64_t stale_min_s = 0;
    std::int64_t max_batch_samples = 0;
  };

  struct Pollers {
    std::string icmp_mode;
    std::int64_t icmp_echoes = 0;
    std::int64_t icmp_echo_interval_ms = 0;
    std::int64_t icmp_timeout_ms = 0;
    std::int64_t down_after = 0;
    std::int64_t up_after = 0;
    std::int64_t flap_changes = 0;
    std::int64_t flap_window_s = 0;
    std::int64_t flap_up_after = 0;
    bool snmp = true;
    std::int64_t snmp_timeout_ms = 0;
    std::int64_t snmp_retries = 0;
    std::int64_t snmp_max_repetitions = 0;
    std::int64_t max_in_flight_icmp = 0;
    std::int64_t max_in_flight_snmp = 0;
    std::int64_t max_in_flight_service_checks = 0;
    std::string checks_ca_file;
    std::string traps_listen;
    std::vector<std::string> traps_communities;
    std::vector<std::string> traps_v3_users;
    double traps_rate_per_second = 0;
    std::int64_t traps_burst = 0;
  };

  struct Alerts {
    bool default_rules = true;
    std::int64_t flap_changes = 0;
    std::int64_t flap_window_s = 0;
    std::int64_t history_retention_days = 0;
    std::int64_t baseline_save_interval_s = 0;
    std::int64_t max_rules_per_org = 0;
    std::int64_t max_series_states = 0;
  };

  struct Notify {
    std::string external_url;  // "" : http(s)://<http.listen>
    std::int64_t max_attempts = 0;
    std::int64_t retry_base_ms = 0;
    std::int64_t retry_max_ms = 0;
    std::int64_t channel_concurrency = 0;
    std::int64_t total_concurrency = 0;
    std::int64_t http_timeout_ms = 0;
    std::int64_t unhealthy_after = 0;
    std::int64_t ack_link_ttl_s = 0;  // how long an acknowledgement link stays valid
    // [notify.smtp]: the relay every email goes through; no host, no email channels.
    std::string smtp_host;
    std::int64_t smtp_port = 0;
    std::string smtp_tls;  // "none", "starttls", "tls"
    std::string smtp_username;
    std::string smtp_password;
    std::string smtp_from;
    std::string smtp_ca_file;
    std::int64_t smtp_timeout_s = 0;
  };

  // The outbound address policy's lists (core/outbound.hpp); every entry parses as a network.
  struct Network {
    std::vector<std::string> outbound_deny;
    std::vector<std::string> fetch_deny;
    std::vector<std::string> outbound_allow;
  };

  Http http;
  Storage storage;
  Database database;
  Auth auth;
  Log log;
  Workers workers;
  Tsdb tsdb;
  Pollers pollers;
  Network network;
  Alerts alerts;
  Notify notify;
  // Not errors, but worth a line in the log (e.g. an unknown NETPULSE_* variable).
  std::vector<std::string> warnings;
};

// One thing wrong with a configuration. `line` is 0 when the problem is not in a file
// (an environment variable, a missing required value).
struct ConfigProblem {
  std::string source;  // file path, "environment" or "defaults"
  std::string key;     // dotted: "http.listen"
  int line = 0;
  std::string message;

  std::string to_string() const;  // "netpulse.toml:12: http.listen: ..."
};

// The environment, as name → value (only NETPULSE_* entries matter).
using Environment = std::map<std::string, std::string>;
// The current process environment.
Environment process_environment();

// The text of the embedded default config (identical to config/netpulse.toml).
std::string_view default_config_text();

// Loads defaults + optional file + environment. On failure the Error (kConfigError) carries
// every problem in details["problems"] and in its message, one per line.
Result<Config> load_config(const std::optional<std::string>& file, const Environment& env);

// Every problem with a config file (and the environment), without stopping at the first.
// Warnings (unknown NETPULSE_* variables) go to `warnings` when given.
std::vector<ConfigProblem> check_config(const std::optional<std::string>& file,
                                        const Environment& env,
                                        std::vector<std::string>* warnings = nullptr);

// ---- Settings saved from the web UI (Admin → Settings, docs/settings.md) ----
//
// Some keys may also be changed by a system administrator over the API. Those are saved in the
// database and win over the file and the environment (as a cluster setting wins over the file
// in Elasticsearch); taking one back returns the key to the file's, the environment's or the
// default value. Keys that decide how the server starts, listens, stores data or which addresses
// it may reach (http.listen, TLS, storage, database, network, file paths) stay in the file.

// Dotted key → the saved value as JSON text ("\"smtp.example.net\"", "25", "[\"a\"]").
using SavedSettings = std::map<std::string, std::string>;

enum class SettingApply {
  kFileOnly,  // the file or the environment only
  kLive,      // may be saved; takes effect at once
  kRestart,   // may be saved; takes effect at the next start
};
std::string_view setting_apply_name(SettingApply a) noexcept;  // "file", "live", "restart"

// One key of the schema (the embedded defaults), in the file's order.
struct SettingInfo {
  std::string key;          // "notify.smtp.host"
  std::string section;      // "notify.smtp"
  std::string type;         // "string", "integer", "number", "boolean", "list"
  std::string description;  // the comment above the key in config/netpulse.toml
  SettingApply apply = SettingApply::kFileOnly;
  bool secret = false;               // never shown: only whether it is set
  std::vector<std::string> choices;  // the values a string may take, when they are few
};
const std::vector<SettingInfo>& setting_catalog();
const SettingInfo* find_setting(std::string_view key);

// A key's values: in effect once loaded, before the saved one (the file's, the environment's or
// the default), and the saved one if any. Values are JSON of the key's type.
struct SettingState {
  const SettingInfo* info = nullptr;
  boost::json::value value;
  boost::json::value base;
  std::string base_source;  // "default", "file", "environment"
  std::optional<boost::json::value> saved;
  std::string saved_problem;  // why the saved value is left out ("" when it is in effect)
};

struct SettingsReport {
  Config config;                        // defaults + file + environment + the saved settings kept
  std::vector<SettingState> settings;   // every key of the catalog
  std::vector<ConfigProblem> problems;  // the file's and the environment's: a start would fail
  std::vector<ConfigProblem> ignored;   // saved settings left out, each with why
  SavedSettings kept;                   // the saved settings in effect
};

// Loads as a start would: defaults + file + environment + the saved settings that pass. A saved
// setting that does not (an unknown key, one not editable, a value refused) is left out with its
// problem, and the others kept; when the rest still fails only together (a relay host saved
// without a sender), all are left out.
SettingsReport settings_report(const std::optional<std::string>& file, const Environment& env,
                               const SavedSettings& saved);

// The problems `saved` put over the file and the environment has, none left out, beyond those
// the file and the environment have alone: what a change to the saved settings must not bring.
std::vector<ConfigProblem> saved_settings_problems(const std::optional<std::string>& file,
                                                   const Environment& env,
                                                   const SavedSettings& saved);

// Turns a JSON value into the saved text for `key`, or the reason it does not fit the key's type
// (a whole number for an integer, a list of strings for a list, ...).
Result<std::string> saved_setting_text(const SettingInfo& info, const boost::json::value& value);

// Start-up: settings_report for the file, the environment and the saved settings, after the
// file and the environment have passed on their own as load_config demands (a saved value does
// not make up for a broken file). The report's `config` is what the server runs with, `ignored`
// the saved settings left out, `settings` every key's value.
Result<SettingsReport> load_config_with_saved(const std::optional<std::string>& file,
                                              const Environment& env, const SavedSettings& saved);

// Parses "host:port" / "[v6]:port" into host and port; false when malformed.
bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port);

}  // namespace netpulse::core
