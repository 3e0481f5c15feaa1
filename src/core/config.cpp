// Configuration loading. The embedded default file is the schema: every key the user may set
// appears there with a value of the right type. A user file and the environment are checked
// against it key by key, problems are collected (never stopping at the first), then the merged
// table is turned into the typed Config and its values checked for meaning.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <netpulse/core/config.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/outbound.hpp>

#include "detail/config_load.hpp"

extern char** environ;

namespace netpulse::core {

namespace embedded_config {
std::span<const EmbeddedFile> embedded_files();
}

namespace detail {

const toml::table& defaults_table() {
  static const toml::table table = toml::parse(default_config_text(), std::string_view("defaults"));
  return table;
}

}  // namespace detail

namespace {

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean (true/false)";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

int line_of(const toml::node& n) {
  return static_cast<int>(n.source().begin.line);
}

struct Collector {
  std::vector<ConfigProblem>& problems;
  std::string source;
  std::map<std::string, int> lines;  // dotted key -> line, for every key the file set
  void add(std::string key, int line, std::string msg) {
    problems.push_back({source, std::move(key), line, std::move(msg)});
  }
};

// Checks `user` against `schema` and copies accepted values into `merged`.
void overlay(const toml::table& schema, const toml::table& user, toml::table& merged,
             const std::string& prefix, Collector& out) {
  for (auto&& [k, node] : user) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const toml::node* expected = schema.get(k.str());
    if (!expected) {
      out.add(key, line_of(node),
              node.is_table() ? "unknown section" : "unknown key (not in the documented config)");
      continue;
    }
    if (expected->is_table()) {
      if (!node.is_table()) {
        out.add(key, line_of(node), "must be a table ([" + key + "])");
        continue;
      }
      overlay(*expected->as_table(), *node.as_table(), *merged.get(k.str())->as_table(), key, out);
      continue;
    }
    auto want = expected->type();
    auto got = node.type();
    if (want == toml::node_type::floating_point && got == toml::node_type::integer) {
      out.lines[key] = line_of(node);
      merged.insert_or_assign(k.str(), static_cast<double>(node.as_integer()->get()));
      continue;
    }
    if (want != got) {
      out.add(key, line_of(node), "must be " + type_name(want) + ", not " + type_name(got));
      continue;
    }
    if (got == toml::node_type::array) {
      bool ok = true;
      for (auto& el : *node.as_array()) {
        if (!el.is_string()) {
          out.add(key, line_of(el), "every element must be a string");
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    out.lines[key] = line_of(node);
    merged.insert_or_assign(k.str(), node);
  }
}

using detail::env_name;

// Every leaf key of the schema, dotted.
void leaf_keys(const toml::table& t, const std::string& prefix, std::vector<std::string>& out) {
  for (auto&& [k, node] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (node.is_table()) {
      leaf_keys(*node.as_table(), key, out);
    } else {
      out.push_back(key);
    }
  }
}

toml::node* find_path(toml::table& t, const std::string& dotted) {
  toml::table* cur = &t;
  std::size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    auto part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    toml::node* n = cur->get(part);
    if (!n) return nullptr;
    if (dot == std::string::npos) return n;
    cur = n->as_table();
    if (!cur) return nullptr;
    start = dot + 1;
  }
}

void apply_environment(const toml::table& schema, toml::table& merged, const Environment& env,
                       std::vector<ConfigProblem>& problems, std::vector<std::string>& warnings) {
  std::vector<std::string> keys;
  leaf_keys(schema, "", keys);
  std::vector<std::string> known_names = {"NETPULSE_ADMIN_EMAIL", "NETPULSE_ADMIN_PASSWORD"};
  for (auto& key : keys) {
    auto name = env_name(key);
    known_names.push_back(name);
    auto it = env.find(name);
    if (it == env.end()) continue;
    const std::string& text = it->second;
    toml::node* target = find_path(merged, key);
    auto bad = [&](std::string_view what) {
      problems.push_back(
          {"environment", key, 0, fmt::format("{}={:?} must be {}", name, text, what)});
    };
    switch (target->type()) {
      case toml::node_type::string:
        *target->as_string() = text;
        break;
      case toml::node_type::integer: {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || p != text.data() + text.size()) {
          bad("an integer");
        } else {
          *target->as_integer() = v;
        }
        break;
      }
      case toml::node_type::floating_point: {
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
          bad("a number");
        } else {
          *target->as_floating_point() = v;
        }
        break;
      }
      case toml::node_type::boolean: {
        if (text == "true" || text == "1" || text == "yes") {
          *target->as_boolean() = true;
        } else if (text == "false" || text == "0" || text == "no") {
          *target->as_boolean() = false;
        } else {
          bad("true or false");
        }
        break;
      }
      case toml::node_type::array: {
        // Comma-separated list; empty string is the empty list.
        toml::array arr;
        std::size_t start = 0;
        while (!text.empty() && start <= text.size()) {
          auto comma = text.find(',', start);
          auto item =
              text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          item.erase(0, item.find_first_not_of(' '));
          item.erase(item.find_last_not_of(' ') + 1);
          if (!item.empty()) arr.push_back(item);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        *target->as_array() = std::move(arr);
        break;
      }
      default:
        bad("a supported type");
        break;
    }
  }
  for (auto& [name, value] : env) {
    if (name.rfind("NETPULSE_", 0) != 0) continue;
    if (std::find(known_names.begin(), known_names.end(), name) != known_names.end()) continue;
    warnings.push_back(fmt::format("environment variable {} is not a NetPulse setting", name));
  }
}

struct Reader {
  const toml::table& t;
  std::vector<ConfigProblem>& problems;
  const toml::node& node(const std::string& key) const {
    return *find_path(const_cast<toml::table&>(t), key);
  }
  std::string str(const std::string& key) const { return node(key).as_string()->get(); }
  std::int64_t integer(const std::string& key) const { return node(key).as_integer()->get(); }
  double number(const std::string& key) const { return node(key).as_floating_point()->get(); }
  bool boolean(const std::string& key) const { return node(key).as_boolean()->get(); }
  std::vector<std::string> strings(const std::string& key) const {
    std::vector<std::string> out;
    for (auto& el : *node(key).as_array()) out.push_back(el.as_string()->get());
    return out;
  }
  void fail(const std::string& key, std::string msg) const {
    problems.push_back({"", key, line_of(node(key)), std::move(msg)});
  }
  std::int64_t ranged(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    auto v = integer(key);
    if (v < lo || v > hi) fail(key, fmt::format("must be between {} and {}, not {}", lo, hi, v));
    return v;
  }
};

Config to_config(const toml::table& merged, std::vector<ConfigProblem>& problems) {
  Reader r{merged, problems};
  Config c;
  auto listen = r.str("http.listen");
  if (!parse_listen_address(listen, c.http.listen_host, c.http.listen_port)) {
    r.fail("http.listen",
           "must be an IP address and port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\", not \"" +
               listen + "\"");
  }
  c.http.max_connections = r.ranged("http.max_connections", 1, 1'000'000);
  c.http.max_connections_per_ip = r.ranged("http.max_connections_per_ip", 0, 1'000'000);
  c.http.max_header_bytes = r.ranged("http.max_header_bytes", 1024, 1 << 20);
  c.http.max_body_bytes = r.ranged("http.max_body_bytes", 1024, std::int64_t{1} << 32);
  c.http.header_timeout_ms = r.ranged("http.header_timeout_ms", 100, 3'600'000);
  c.http.read_timeout_ms = r.ranged("http.read_timeout_ms", 100, 3'600'000);
  c.http.idle_timeout_ms = r.ranged("http.idle_timeout_ms", 100, 3'600'000);
  c.http.write_timeout_ms = r.ranged("http.write_timeout_ms", 100, 3'600'000);
  c.http.shutdown_grace_ms = r.ranged("http.shutdown_grace_ms", 0, 600'000);
  c.http.gzip_min_bytes = r.ranged("http.gzip_min_bytes", 0, std::int64_t{1} << 30);
  c.http.cors_allowed_origins = r.strings("http.cors_allowed_origins");
  for (auto& o : c.http.cors_allowed_origins) {
    if (o == "*" || (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)) {
      r.fail("http.cors_allowed_origins",
             "each origin must be an explicit http:// or https:// origin, not \"" + o + "\"");
    }
  }
  c.http.trusted_proxies = r.strings("http.trusted_proxies");
  c.http.metrics_token = r.str("http.metrics_token");
  if (!c.http.metrics_token.empty() &&
      (c.http.metrics_token.size() < 16 ||
       c.http.metrics_token.find_first_of(" \t\r\n") != std::string::npos)) {
    r.fail("http.metrics_token", "must be empty or at least 16 characters without spaces");
  }
  c.http.tls.enabled = r.boolean("http.tls.enabled");
  c.http.tls.cert_file = r.str("http.tls.cert_file");
  c.http.tls.key_file = r.str("http.tls.key_file");
  if (c.http.tls.enabled && c.http.tls.cert_file.empty()) {
    r.fail("http.tls.cert_file", "is required when http.tls.enabled = true");
  }
  if (c.http.tls.enabled && c.http.tls.key_file.empty()) {
    r.fail("http.tls.key_file", "is required when http.tls.enabled = true");
  }
  c.http.rate_limit.per_ip_rps = r.number("http.rate_limit.per_ip_rps");
  c.http.rate_limit.per_ip_burst = r.ranged("http.rate_limit.per_ip_burst", 1, 100'000'000);
  c.http.rate_limit.per_user_rps = r.number("http.rate_limit.per_user_rps");
  c.http.rate_limit.per_user_burst = r.ranged("http.rate_limit.per_user_burst", 1, 100'000'000);
  if (!(c.http.rate_limit.per_ip_rps > 0)) r.fail("http.rate_limit.per_ip_rps", "must be > 0");
  if (!(c.http.rate_limit.per_user_rps > 0)) r.fail("http.rate_limit.per_user_rps", "must be > 0");

  c.storage.data_dir = r.str("storage.data_dir");
  if (c.storage.data_dir.empty()) r.fail("storage.data_dir", "must not be empty");

  c.database.synchronous = r.str("database.synchronous");
  for (auto& ch : c.database.synchronous) {
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  if (c.database.synchronous != "NORMAL" && c.database.synchronous != "FULL") {
    r.fail("database.synchronous", "must be \"NORMAL\" or \"FULL\"");
  }
  c.database.busy_timeout_ms = r.ranged("database.busy_timeout_ms", 0, 600'000);
  c.database.write_queue_max = r.ranged("database.write_queue_max", 1, 10'000'000);
  c.database.max_batch = r.ranged("database.max_batch", 1, 100'000);
  c.database.reader_connections = r.ranged("database.reader_connections", 1, 64);

  c.auth.access_token_ttl_s = r.ranged("auth.access_token_ttl_s", 30, 86'400);
  c.auth.refresh_token_ttl_s = r.ranged("auth.refresh_token_ttl_s", 60, std::int64_t{365} * 86'400);
  c.auth.issuer = r.str("auth.issuer");
  c.auth.audience = r.str("auth.audience");
  if (c.auth.issuer.empty()) r.fail("auth.issuer", "must not be empty");
  if (c.auth.audience.empty()) r.fail("auth.audience", "must not be empty");
  c.auth.argon2_memory_kib =
      r.ranged("auth.argon2_memory_kib", 19'456, std::int64_t{4} * 1024 * 1024);
  c.auth.argon2_passes = r.ranged("auth.argon2_passes", 2, 100);
  c.auth.password_min_length = r.ranged("auth.password_min_length", 8, 1024);
  c.auth.password_max_length = r.ranged("auth.password_max_length", 128, 4096);
  c.auth.throttle_account_failures = r.ranged("auth.throttle_account_failures", 1, 1000);
  c.auth.throttle_ip_failures = r.ranged("auth.throttle_ip_failures", 1, 100'000);
  c.auth.throttle_base_s = r.ranged("auth.throttle_base_s", 1, 3600);
  c.auth.throttle_max_s = r.ranged("auth.throttle_max_s", 1, 86'400);
  c.auth.audit_retention_days = r.ranged("auth.audit_retention_days", 0, 36'500);
  c.auth.api_key_default_ttl_days = r.ranged("auth.api_key_default_ttl_days", 0, 3650);

  c.log.level = r.str("log.level");
  LogLevel lvl;
  if (!parse_log_level(c.log.level, lvl)) {
    r.fail("log.level", "must be one of trace, debug, info, warn, error, off");
  }
  c.log.format = r.str("log.format");
  if (c.log.format != "text" && c.log.format != "json") {
    r.fail("log.format", "must be \"text\" or \"json\"");
  }
  c.log.access_log = r.boolean("log.access_log");

  c.pollers.icmp_mode = r.str("pollers.icmp_mode");
  if (c.pollers.icmp_mode != "auto" && c.pollers.icmp_mode != "datagram" &&
      c.pollers.icmp_mode != "raw" && c.pollers.icmp_mode != "off") {
    r.fail("pollers.icmp_mode", "must be one of auto, datagram, raw, off");
  }
  c.pollers.icmp_echoes = r.ranged("pollers.icmp_echoes", 1, 100);
  c.pollers.icmp_echo_interval_ms = r.ranged("pollers.icmp_echo_interval_ms", 1, 10'000);
  c.pollers.icmp_timeout_ms = r.ranged("pollers.icmp_timeout_ms", 10, 60'000);
  c.pollers.down_after = r.ranged("pollers.down_after", 1, 100);
  c.pollers.up_after = r.ranged("pollers.up_after", 1, 100);
  c.pollers.flap_changes = r.ranged("pollers.flap_changes", 2, 1000);
  c.pollers.flap_window_s = r.ranged("pollers.flap_window_s", 1, 86'400);
  c.pollers.flap_up_after = r.ranged("pollers.flap_up_after", 1, 100);
  c.pollers.snmp = r.boolean("pollers.snmp");
  c.pollers.snmp_timeout_ms = r.ranged("pollers.snmp_timeout_ms", 10, 60'000);
  c.pollers.snmp_retries = r.ranged("pollers.snmp_retries", 0, 10);
  c.pollers.snmp_max_repetitions = r.ranged("pollers.snmp_max_repetitions", 1, 1000);
  c.pollers.max_in_flight_icmp = r.ranged("pollers.max_in_flight_icmp", 1, 65'535);
  c.pollers.max_in_flight_snmp = r.ranged("pollers.max_in_flight_snmp", 1, 100'000);
  c.pollers.max_in_flight_service_checks =
      r.ranged("pollers.max_in_flight_service_checks", 1, 10'000);
  c.pollers.checks_ca_file = r.str("pollers.checks_ca_file");
  c.pollers.traps_listen = r.str("pollers.traps_listen");
  c.pollers.traps_communities = r.strings("pollers.traps_communities");
  c.pollers.traps_v3_users = r.strings("pollers.traps_v3_users");
  c.pollers.traps_rate_per_second = r.number("pollers.traps_rate_per_second");
  if (!(c.pollers.traps_rate_per_second >= 0.1 && c.pollers.traps_rate_per_second <= 100'000)) {
    r.fail("pollers.traps_rate_per_second", "must be between 0.1 and 100000");
  }
  c.pollers.traps_burst = r.ranged("pollers.traps_burst", 1, 1'000'000);

  for (auto [key, out] : {std::pair{"network.outbound_deny", &c.network.outbound_deny},
                          {"network.fetch_deny", &c.network.fetch_deny},
                          {"network.outbound_allow", &c.network.outbound_allow}}) {
    *out = r.strings(key);
    for (std::size_t i = 0; i < out->size(); ++i) {
      if (auto network = parse_ip_network((*out)[i]); !network) {
        r.fail(key, fmt::format("entry {} \"{}\" {}", i + 1, (*out)[i], network.error().message));
      }
    }
  }

  c.alerts.default_rules = r.boolean("alerts.default_rules");
  c.alerts.flap_changes = r.ranged("alerts.flap_changes", 1, 15);
  c.alerts.flap_window_s = r.ranged("alerts.flap_window_s", 60, 86'400);
  c.alerts.history_retention_days = r.ranged("alerts.history_retention_days", 1, 36'500);
  c.alerts.baseline_save_interval_s = r.ranged("alerts.baseline_save_interval_s", 10, 86'400);
  c.alerts.max_rules_per_org = r.ranged("alerts.max_rules_per_org", 1, 1'000'000);
  c.alerts.max_series_states = r.ranged("alerts.max_series_states", 1, 1'000'000'000);

  c.notify.external_url = r.str("notify.external_url");
  if (!c.notify.external_url.empty() && c.notify.external_url.rfind("http://", 0) != 0 &&
      c.notify.external_url.rfind("https://", 0) != 0) {
    r.fail("notify.external_url", "must start with http:// or https://");
  }
  c.notify.max_attempts = r.ranged("notify.max_attempts", 1, 100);
  c.notify.retry_base_ms = r.ranged("notify.retry_base_ms", 100, 3'600'000);
  c.notify.retry_max_ms = r.ranged("notify.retry_max_ms", 1'000, 86'400'000);
  c.notify.channel_concurrency = r.ranged("notify.channel_concurrency", 1, 1'000);
  c.notify.total_concurrency = r.ranged("notify.total_concurrency", 1, 10'000);
  c.notify.http_timeout_ms = r.ranged("notify.http_timeout_ms", 100, 600'000);
  c.notify.unhealthy_after = r.ranged("notify.unhealthy_after", 1, 1'000);
  c.notify.ack_link_ttl_s = r.ranged("notify.ack_link_ttl_s", 60, 604'800);  // a week
  c.notify.smtp_host = r.str("notify.smtp.host");
  c.notify.smtp_port = r.ranged("notify.smtp.port", 1, 65'535);
  c.notify.smtp_tls = r.str("notify.smtp.tls");
  if (c.notify.smtp_tls != "none" && c.notify.smtp_tls != "starttls" &&
      c.notify.smtp_tls != "tls") {
    r.fail("notify.smtp.tls", "must be \"none\", \"starttls\" or \"tls\"");
  }
  c.notify.smtp_username = r.str("notify.smtp.username");
  c.notify.smtp_password = r.str("notify.smtp.password");
  c.notify.smtp_from = r.str("notify.smtp.from");
  if (!c.notify.smtp_host.empty() && c.notify.smtp_from.empty()) {
    r.fail("notify.smtp.from", "is required when notify.smtp.host is set (the sender address)");
  }
  c.notify.smtp_ca_file = r.str("notify.smtp.ca_file");
  c.notify.smtp_timeout_s = r.ranged("notify.smtp.timeout_s", 1, 600);

  c.workers.threads = r.ranged("workers.threads", 1, 64);
  c.workers.max_queued = r.ranged("workers.max_queued", 1, 1'000'000);

  c.tsdb.sync_full = r.boolean("tsdb.sync_full");
  c.tsdb.chunk_samples = r.ranged("tsdb.chunk_samples", 8, 1000);
  c.tsdb.max_series_per_org = r.ranged("tsdb.max_series_per_org", 1, 100'000'000);
  c.tsdb.head_max_mb = r.ranged("tsdb.head_max_mb", 1, 1'000'000);
  c.tsdb.head_keep_h = r.ranged("tsdb.head_keep_h", 1, std::int64_t{24} * 90);
  c.tsdb.ooo_window_s = r.ranged("tsdb.ooo_window_s", 0, std::int64_t{7} * 86'400);
  c.tsdb.future_limit_s = r.ranged("tsdb.future_limit_s", 0, 86'400);
  c.tsdb.retention_raw_days = r.ranged("tsdb.retention_raw_days", 1, 36'500);
  c.tsdb.retention_5m_days = r.ranged("tsdb.retention_5m_days", 1, 36'500);
  c.tsdb.retention_1h_days = r.ranged("tsdb.retention_1h_days", 1, 36'500);
  c.tsdb.flush_interval_s = r.ranged("tsdb.flush_interval_s", 1, 3600);
  c.tsdb.checkpoint_interval_s = r.ranged("tsdb.checkpoint_interval_s", 10, 86'400);
  c.tsdb.checkpoint_log_mb = r.ranged("tsdb.checkpoint_log_mb", 1, 1'000'000);
  c.tsdb.retention_interval_s = r.ranged("tsdb.retention_interval_s", 10, 86'400);
  c.tsdb.stale_check_interval_s = r.ranged("tsdb.stale_check_interval_s", 1, 3600);
  c.tsdb.stale_factor = r.number("tsdb.stale_factor");
  if (!(c.tsdb.stale_factor >= 1.5 && c.tsdb.stale_factor <= 1000)) {
    r.fail("tsdb.stale_factor", "must be between 1.5 and 1000");
  }
  c.tsdb.stale_min_s = r.ranged("tsdb.stale_min_s", 1, 86'400);
  c.tsdb.max_batch_samples = r.ranged("tsdb.max_batch_samples", 1, 10'000'000);
  if (c.tsdb.ooo_window_s * 1000 >= c.tsdb.head_keep_h * 3'600'000) {
    r.fail("tsdb.ooo_window_s", "must be shorter than tsdb.head_keep_h");
  }
  return c;
}

// A config file is small text; anything else is refused before parsing.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

// Reads `path` into `out`; the reason when it is not a readable regular file of at most
// kMaxConfigBytes without NUL bytes.
std::optional<std::string> read_config_file(const std::string& path, std::string& out) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return std::string("no such file");
  if (!std::filesystem::is_regular_file(status)) return std::string("not a regular file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return "cannot read: " + ec.message();
  if (size > kMaxConfigBytes) {
    return fmt::format("the file is {} bytes; a config file may be at most {} bytes", size,
                       kMaxConfigBytes);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open for reading");
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (out.find('\0') != std::string::npos)
    return std::string("contains NUL bytes: not a text file");
  return std::nullopt;
}

}  // namespace

namespace detail {

std::string env_name(const std::string& dotted) {
  std::string out = "NETPULSE_";
  for (char c : dotted) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

const toml::node* find_node(const toml::table& t, const std::string& dotted) {
  return find_path(const_cast<toml::table&>(t), dotted);
}

Loaded load(const std::optional<std::string>& file, const Environment& env,
            const SavedSettings& saved) {
  Loaded out;
  const toml::table& schema = defaults_table();
  toml::table merged = schema;
  Collector col{out.problems, file.value_or("")};
  if (file) {
    std::string text;
    if (auto why = read_config_file(*file, text)) {
      col.add("", 0, *why);
    } else {
      try {
        toml::table user = toml::parse(text, std::string_view(*file));
        overlay(schema, user, merged, "", col);
      } catch (const toml::parse_error& e) {
        col.add("", static_cast<int>(e.source().begin.line),
                fmt::format("not valid TOML: {}", e.description()));
      }
    }
  }
  apply_environment(schema, merged, env, out.problems, out.config.warnings);
  out.base = merged;
  apply_saved(saved, merged, out.problems);
  auto warnings = std::move(out.config.warnings);
  std::vector<ConfigProblem> value_problems;
  out.config = to_config(merged, value_problems);
  out.config.warnings = std::move(warnings);
  for (auto& p : value_problems) {
    // Blame whoever set the value last: the environment, the file (with its line), or defaults.
    p.line = 0;
    if (saved.count(p.key)) {
      p.source = std::string(kSavedSource);
    } else if (env.count(env_name(p.key))) {
      p.source = "environment (" + env_name(p.key) + ")";
    } else if (auto it = col.lines.find(p.key); it != col.lines.end()) {
      p.source = *file;
      p.line = it->second;
    } else {
      p.source = "defaults";
    }
    out.problems.push_back(std::move(p));
  }
  out.file_lines = std::move(col.lines);
  out.merged = std::move(merged);
  return out;
}

}  // namespace detail

std::string ConfigProblem::to_string() const {
  std::string where = source;
  if (line > 0) where += fmt::format(":{}", line);
  if (key.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: {}: {}", where, key, message);
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string_view default_config_text() {
  return embedded_config::embedded_files()[0].data;
}

namespace {

Error config_error(const std::vector<ConfigProblem>& problems) {
  std::string msg = "invalid configuration:";
  boost::json::array list;
  for (auto& p : problems) {
    msg += "\n  " + p.to_string();
    list.emplace_back(p.to_string());
  }
  boost::json::object details;
  details["problems"] = std::move(list);
  return Error(Errc::kConfigError, std::move(msg), std::move(details));
}

}  // namespace

Result<Config> load_config(const std::optional<std::string>& file, const Environment& env) {
  auto loaded = detail::load(file, env, {});
  if (loaded.problems.empty()) return std::move(loaded.config);
  return config_error(loaded.problems);
}

Result<SettingsReport> load_config_with_saved(const std::optional<std::string>& file,
                                              const Environment& env, const SavedSettings& saved) {
  if (auto base = detail::load(file, env, {}); !base.problems.empty()) {
    return config_error(base.problems);
  }
  auto report = settings_report(file, env, saved);
  if (!report.problems.empty()) return config_error(report.problems);
  return report;
}

std::vector<ConfigProblem> check_config(const std::optional<std::string>& file,
                                        const Environment& env,
                                        std::vector<std::string>* warnings) {
  auto loaded = detail::load(file, env, {});
  if (warnings) *warnings = loaded.config.warnings;
  return loaded.problems;
}

bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty() || p.empty()) return false;
  // The server binds an address, not a name: the host must be an IP literal.
  boost::system::error_code ec_addr;
  boost::asio::ip::make_address(std::string(h), ec_addr);
  if (ec_addr) return false;
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535) return false;
  host = std::string(h);
  port = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace netpulse::core
