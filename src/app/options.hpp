// The configuration of every module, derived from the server's config: pure functions, one per
// module, so that what `[tsdb] head_max_mb = 256` or `[pollers] icmp_echoes = 3` becomes in the
// module's Options (units, clamps, derived values) is written in one place and unit-tested
// (tests/unit/app/options_test.cpp). The composition root (serve.cpp, support.cpp) only calls them.
// The pollers' engines take options derived from the poller's own (the last three functions).
#pragma once

#include <cstdint>
#include <string>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/api/server.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/notify/notifier.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::app {

// [log] level: the level it names; info when it names none (the config loader refuses bad ones).
core::LogLevel log_level(const core::Config& config);
// [log] format: "json" is JSON lines, anything else text.
core::Logger::Format log_format(const core::Config& config);

// <data_dir>/netpulse.db
std::string database_path(const core::Config& config);

// [database]: the file of database_path(), synchronous FULL or NORMAL, queue and batch sizes.
db::Options database_options(const core::Config& config);

// [auth]: token lifetimes, Argon2id cost, password length bounds, throttling, retention.
auth::Options auth_options(const core::Config& config);

// [network]: the lists of the one outbound address policy (core::OutboundPolicy::make).
core::OutboundLists outbound_lists(const core::Config& config);

// [tsdb]: <data_dir>/tsdb; MiB to bytes, hours/days/seconds to milliseconds; the retention of
// the raw, 5-minute and 1-hour tiers.
tsdb::StoreOptions store_options(const core::Config& config);

// The device inventory: its data directory (the sealed-credentials key lives there) and the
// outbound policy it checks service-check targets against.
devices::InventoryOptions inventory_options(const core::Config& config,
                                            const core::OutboundPolicy& outbound);

// [pollers]: the ICMP cycle, the up/down/flap verdicts, SNMP, the scheduler's room per check kind
// (TCP, HTTP and DNS share max_in_flight_service_checks), traps; `system_org_id` receives traps
// that match no device.
pollers::PollerOptions poller_options(const core::Config& config,
                                      const core::OutboundPolicy& outbound,
                                      std::int64_t system_org_id);

// [alerts]: the default rules, flapping, history retention, how often baselines are saved, bounds.
alerts::EngineOptions alert_engine_options(const core::Config& config);

// [notify]: links, delivery attempts and back-off, concurrency, channel health; the data dir
// (the credentials key). The external URL defaults to http(s)://<http.listen>.
notify::NotifierOptions notifier_options(const core::Config& config);

// [http] and [log] access_log: the listener, its limits and timeouts, TLS, rate limits.
api::ServerOptions server_options(const core::Config& config);

// The routes' share of the config: /metrics' bearer token ([http] metrics_token), the samples
// one ingest request may carry ([tsdb] max_batch_samples) and the raw retention that picks a
// query's tier ([tsdb] retention_raw_days). serve.cpp copies them into api::RouteDeps.
struct RouteOptions {
  std::string metrics_token;
  std::size_t ingest_max_samples = 0;
  tsdb::Timestamp raw_retention_ms = 0;
  bool secure_cookies = false;                // [http.tls] enabled
  std::int64_t session_cookie_max_age_s = 0;  // [auth] refresh_token_ttl_s
};
RouteOptions route_options(const core::Config& config);

// [workers]: the threads of the pool for slow work and the jobs it may queue.
struct WorkerPoolSize {
  std::size_t threads = 0;
  std::size_t max_queued = 0;
};
WorkerPoolSize worker_pool_size(const core::Config& config);

// ICMP: the socket mode of pollers.icmp_mode ("auto", "datagram", "raw"), room for every ping
// the scheduler may have in flight (at most the 65,535 ICMP ids).
pollers::IcmpOptions icmp_engine_options(const pollers::PollerOptions& options);
// SNMP: twice the scheduler's SNMP runs in flight; net-snmp's own messages go to `log` at debug
// level (null drops them).
pollers::SnmpClientOptions snmp_engine_options(const pollers::PollerOptions& options,
                                               core::Logger* log);
// Service checks: the TCP, HTTP and DNS runs the scheduler may have in flight (1..100,000),
// timeouts up to 60 s, and the outbound address policy.
pollers::ServiceCheckOptions check_engine_options(const pollers::PollerOptions& options);

}  // namespace netpulse::app
