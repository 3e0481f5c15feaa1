// Config to module options (options.hpp): what each `[section] key` of netpulse.toml becomes in the
// Options struct of the module that uses it. Pure functions; no module is opened here.
#include "options.hpp"

#include <algorithm>
#include <filesystem>

namespace netpulse::app {

core::LogLevel log_level(const core::Config& config) {
  core::LogLevel level = core::LogLevel::kInfo;
  core::parse_log_level(config.log.level, level);
  return level;
}

core::Logger::Format log_format(const core::Config& config) {
  return config.log.format == "json" ? core::Logger::Format::kJson : core::Logger::Format::kText;
}

std::string database_path(const core::Config& config) {
  return (std::filesystem::path(config.storage.data_dir) / "netpulse.db").string();
}

db::Options database_options(const core::Config& config) {
  db::Options o;
  o.path = database_path(config);
  o.synchronous_full = config.database.synchronous == "FULL";
  o.busy_timeout = std::chrono::milliseconds(config.database.busy_timeout_ms);
  o.write_queue_max = static_cast<std::size_t>(config.database.write_queue_max);
  o.max_batch = static_cast<std::size_t>(config.database.max_batch);
  o.reader_connections = static_cast<std::size_t>(config.database.reader_connections);
  return o;
}

auth::Options auth_options(const core::Config& config) {
  const auto& a = config.auth;
  auth::Options o;
  o.data_dir = config.storage.data_dir;
  o.access_token_ttl_s = a.access_token_ttl_s;
  o.refresh_token_ttl_s = a.refresh_token_ttl_s;
  o.issuer = a.issuer;
  o.audience = a.audience;
  o.argon2_memory_kib = static_cast<std::size_t>(a.argon2_memory_kib);
  o.argon2_passes = static_cast<std::size_t>(a.argon2_passes);
  o.password_min_length = static_cast<std::size_t>(a.password_min_length);
  o.password_max_length = static_cast<std::size_t>(a.password_max_length);
  o.throttle_account_failures = static_cast<int>(a.throttle_account_failures);
  o.throttle_ip_failures = static_cast<int>(a.throttle_ip_failures);
  o.throttle_base_s = a.throttle_base_s;
  o.throttle_max_s = a.throttle_max_s;
  o.audit_retention_days = a.audit_retention_days;
  o.api_key_default_ttl_days = a.api_key_default_ttl_days;
  return o;
}

core::OutboundLists outbound_lists(const core::Config& config) {
  return {config.network.outbound_deny, config.network.fetch_deny, config.network.outbound_allow};
}

tsdb::StoreOptions store_options(const core::Config& config) {
  const auto& t = config.tsdb;
  tsdb::StoreOptions o;
  o.dir = config.storage.data_dir + "/tsdb";
  o.sync_full = t.sync_full;
  o.chunk_samples = static_cast<std::size_t>(t.chunk_samples);
  o.max_series_per_org = static_cast<std::size_t>(t.max_series_per_org);
  o.head_max_bytes = static_cast<std::size_t>(t.head_max_mb) << 20;
  o.head_keep_ms = t.head_keep_h * 3'600'000;
  o.ooo_window_ms = t.ooo_window_s * 1000;
  o.future_limit_ms = t.future_limit_s * 1000;
  o.raw_retention_ms = t.retention_raw_days * 86'400'000;
  o.retention_ms[0] = o.raw_retention_ms;
  o.retention_ms[1] = t.retention_5m_days * 86'400'000;
  o.retention_ms[2] = t.retention_1h_days * 86'400'000;
  o.flush_interval = std::chrono::seconds(t.flush_interval_s);
  o.checkpoint_interval = std::chrono::seconds(t.checkpoint_interval_s);
  o.checkpoint_log_bytes = static_cast<std::size_t>(t.checkpoint_log_mb) << 20;
  o.retention_interval = std::chrono::seconds(t.retention_interval_s);
  o.stale_check_interval = std::chrono::seconds(t.stale_check_interval_s);
  o.stale_factor = t.stale_factor;
  o.stale_min_ms = t.stale_min_s * 1000;
  o.max_batch_samples = static_cast<std::size_t>(t.max_batch_samples);
  return o;
}

devices::InventoryOptions inventory_options(const core::Config& config,
                                            const core::OutboundPolicy& outbound) {
  devices::InventoryOptions o;
  o.data_dir = config.storage.data_dir;
  o.outbound = outbound;
  return o;
}

pollers::PollerOptions poller_options(const core::Config& config,
                                      const core::OutboundPolicy& outbound,
                                      std::int64_t system_org_id) {
  const auto& pc = config.pollers;
  pollers::PollerOptions o;
  o.icmp_mode = pc.icmp_mode;
  o.cycle.count = static_cast<std::size_t>(pc.icmp_echoes);
  o.cycle.interval = std::chrono::milliseconds(pc.icmp_echo_interval_ms);
  o.cycle.timeout = std::chrono::milliseconds(pc.icmp_timeout_ms);
  o.down_after = static_cast<int>(pc.down_after);
  o.up_after = static_cast<int>(pc.up_after);
  o.flap_changes = static_cast<int>(pc.flap_changes);
  o.flap_window_s = pc.flap_window_s;
  o.flap_up_after = static_cast<int>(pc.flap_up_after);
  o.snmp = pc.snmp;
  o.snmp_timeout = std::chrono::milliseconds(pc.snmp_timeout_ms);
  o.snmp_retries = static_cast<int>(pc.snmp_retries);
  o.snmp_max_repetitions = static_cast<int>(pc.snmp_max_repetitions);
  auto room = [&o](pollers::CheckKind kind) -> std::size_t& {
    return o.scheduler.max_in_flight[static_cast<std::size_t>(kind)];
  };
  room(pollers::CheckKind::kIcmp) = static_cast<std::size_t>(pc.max_in_flight_icmp);
  room(pollers::CheckKind::kSnmp) = static_cast<std::size_t>(pc.max_in_flight_snmp);
  for (auto kind : {pollers::CheckKind::kTcp, pollers::CheckKind::kHttp, pollers::CheckKind::kDns})
    room(kind) = static_cast<std::size_t>(pc.max_in_flight_service_checks);
  o.checks_ca_file = pc.checks_ca_file;
  o.outbound = outbound;
  o.traps_listen = pc.traps_listen;
  o.traps_communities = pc.traps_communities;
  o.traps_v3_users = pc.traps_v3_users;
  o.system_org_id = system_org_id;
  o.traps_rate_per_second = pc.traps_rate_per_second;
  o.traps_burst = static_cast<double>(pc.traps_burst);
  return o;
}

alerts::EngineOptions alert_engine_options(const core::Config& config) {
  const auto& a = config.alerts;
  alerts::EngineOptions o;
  o.install_default_rules = a.default_rules;
  o.flap_changes = static_cast<int>(a.flap_changes);
  o.flap_window_s = a.flap_window_s;
  o.history_retention_days = a.history_retention_days;
  o.baseline_save_interval_s = a.baseline_save_interval_s;
  o.max_rules_per_org = static_cast<std::size_t>(a.max_rules_per_org);
  o.max_alert_states = static_cast<std::size_t>(a.max_series_states);
  return o;
}

notify::NotifierOptions notifier_options(const core::Config& config) {
  const auto& n = config.notify;
  notify::NotifierOptions o;
  o.data_dir = config.storage.data_dir;
  o.external_url = n.external_url;
  if (o.external_url.empty()) {
    const auto& h = config.http;
    const bool v6 = h.listen_host.find(':') != std::string::npos;
    o.external_url = fmt::format("{}://{}{}{}:{}", h.tls.enabled ? "https" : "http", v6 ? "[" : "",
                                 h.listen_host, v6 ? "]" : "", h.listen_port);
  }
  while (!o.external_url.empty() && o.external_url.back() == '/') o.external_url.pop_back();
  o.max_attempts = static_cast<int>(n.max_attempts);
  o.retry_base_ms = n.retry_base_ms;
  o.retry_max_ms = n.retry_max_ms;
  o.channel_concurrency = static_cast<int>(n.channel_concurrency);
  o.total_concurrency = static_cast<int>(n.total_concurrency);
  o.http_timeout_ms = n.http_timeout_ms;
  o.unhealthy_after = static_cast<int>(n.unhealthy_after);
  o.ack_link_ttl_s = n.ack_link_ttl_s;
  o.smtp.host = n.smtp_host;
  o.smtp.port = static_cast<std::uint16_t>(n.smtp_port);
  o.smtp.tls = n.smtp_tls;
  o.smtp.username = n.smtp_username;
  o.smtp.password = n.smtp_password;
  o.smtp.from = n.smtp_from;
  o.smtp.ca_file = n.smtp_ca_file;
  o.smtp.timeout_ms = n.smtp_timeout_s * 1000;
  return o;
}

api::ServerOptions server_options(const core::Config& config) {
  const auto& h = config.http;
  api::ServerOptions o;
  o.host = h.listen_host;
  o.port = h.listen_port;
  o.max_connections = static_cast<std::size_t>(h.max_connections);
  o.max_connections_per_ip = static_cast<std::size_t>(h.max_connections_per_ip);
  o.max_header_bytes = static_cast<std::size_t>(h.max_header_bytes);
  o.max_body_bytes = static_cast<std::uint64_t>(h.max_body_bytes);
  o.header_timeout = std::chrono::milliseconds(h.header_timeout_ms);
  o.read_timeout = std::chrono::milliseconds(h.read_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(h.idle_timeout_ms);
  o.write_timeout = std::chrono::milliseconds(h.write_timeout_ms);
  o.gzip_min_bytes = static_cast<std::size_t>(h.gzip_min_bytes);
  o.cors_allowed_origins = h.cors_allowed_origins;
  o.trusted_proxies = h.trusted_proxies;
  o.tls = h.tls.enabled;
  o.tls_cert_file = h.tls.cert_file;
  o.tls_key_file = h.tls.key_file;
  o.per_ip_rps = h.rate_limit.per_ip_rps;
  o.per_ip_burst = static_cast<double>(h.rate_limit.per_ip_burst);
  o.per_user_rps = h.rate_limit.per_user_rps;
  o.per_user_burst = static_cast<double>(h.rate_limit.per_user_burst);
  o.access_log = config.log.access_log;
  return o;
}

RouteOptions route_options(const core::Config& config) {
  return {config.http.metrics_token, static_cast<std::size_t>(config.tsdb.max_batch_samples),
          config.tsdb.retention_raw_days * 86'400'000, config.http.tls.enabled,
          config.auth.refresh_token_ttl_s};
}

WorkerPoolSize worker_pool_size(const core::Config& config) {
  return {static_cast<std::size_t>(config.workers.threads),
          static_cast<std::size_t>(config.workers.max_queued)};
}

pollers::IcmpOptions icmp_engine_options(const pollers::PollerOptions& options) {
  pollers::IcmpOptions io;
  io.mode = options.icmp_mode == "datagram" ? pollers::IcmpModeChoice::kDatagramOnly
            : options.icmp_mode == "raw"    ? pollers::IcmpModeChoice::kRawOnly
                                            : pollers::IcmpModeChoice::kAuto;
  io.max_in_flight = std::min<std::size_t>(
      65'535, std::max<std::size_t>(1, options.scheduler.max_in_flight[0] * options.cycle.count));
  return io;
}

pollers::SnmpClientOptions snmp_engine_options(const pollers::PollerOptions& options,
                                               core::Logger* log) {
  pollers::SnmpClientOptions so;
  so.max_in_flight = std::max<std::size_t>(1, options.scheduler.max_in_flight[1] * 2);
  so.logger = log;
  return so;
}

pollers::ServiceCheckOptions check_engine_options(const pollers::PollerOptions& options) {
  pollers::ServiceCheckOptions co;
  co.max_in_flight = 0;
  for (auto kind :
       {pollers::CheckKind::kTcp, pollers::CheckKind::kHttp, pollers::CheckKind::kDns}) {
    co.max_in_flight += options.scheduler.max_in_flight[static_cast<std::size_t>(kind)];
  }
  co.max_in_flight = std::clamp<std::size_t>(co.max_in_flight, 1, 100'000);
  co.max_timeout = std::chrono::milliseconds(60'000);
  co.outbound = options.outbound;
  return co;
}

}  // namespace netpulse::app
