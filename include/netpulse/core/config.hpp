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

// Parses "host:port" / "[v6]:port" into host and port; false when malformed.
bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port);

}  // namespace netpulse::core
