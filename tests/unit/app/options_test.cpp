// The config-to-options mapping of every module (src/app/options.cpp): what each key of
// netpulse.toml becomes in the Options its module is opened with (units, shares, clamps), and what
// each engine of the pollers is opened with, derived from the poller's options.
#include "app/options.hpp"

#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/core/logger.hpp>

using namespace netpulse;

TEST_CASE("app: the ICMP engine's mode and room follow the poller's options", "[app][pollers]") {
  pollers::PollerOptions o;
  o.cycle.count = 3;
  o.scheduler.max_in_flight[0] = 2000;
  struct Case {
    std::string mode;
    pollers::IcmpModeChoice want;
  };
  for (const auto& c : std::vector<Case>{{"auto", pollers::IcmpModeChoice::kAuto},
                                         {"datagram", pollers::IcmpModeChoice::kDatagramOnly},
                                         {"raw", pollers::IcmpModeChoice::kRawOnly}}) {
    INFO(c.mode);
    o.icmp_mode = c.mode;
    CHECK(app::icmp_engine_options(o).mode == c.want);
  }
  CHECK(app::icmp_engine_options(o).max_in_flight == 6000);  // every ping of every cycle
  o.scheduler.max_in_flight[0] = 100'000;
  CHECK(app::icmp_engine_options(o).max_in_flight == 65'535);  // the ICMP id space
  o.scheduler.max_in_flight[0] = 0;
  CHECK(app::icmp_engine_options(o).max_in_flight == 1);
}

TEST_CASE("app: the SNMP engine gets the server's logger", "[app][pollers]") {
  // Poller::open used to build the client itself without one, so net-snmp's messages were
  // dropped in production.
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}, core::LogLevel::kDebug};
  pollers::PollerOptions o;
  o.scheduler.max_in_flight[1] = 500;
  const auto so = app::snmp_engine_options(o, &log);
  CHECK(so.logger == &log);
  CHECK(so.max_in_flight == 1000);  // two requests per SNMP run in flight
}

TEST_CASE("app: the service checker has room for every TCP, HTTP and DNS check in flight",
          "[app][pollers]") {
  pollers::PollerOptions o;
  o.scheduler.max_in_flight = {2000, 500, 200, 100, 100};
  auto co = app::check_engine_options(o);
  CHECK(co.max_in_flight == 400);
  CHECK(co.max_timeout == std::chrono::milliseconds(60'000));
  o.scheduler.max_in_flight = {2000, 500, 0, 0, 0};
  CHECK(app::check_engine_options(o).max_in_flight == 1);
  o.scheduler.max_in_flight = {2000, 500, 90'000, 90'000, 0};
  CHECK(app::check_engine_options(o).max_in_flight == 100'000);
}

namespace {

// The defaults of config/netpulse.toml, as the server starts on them.
core::Config defaults() {
  auto c = core::load_config(std::nullopt, {});
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("app: the log level and format come from [log]", "[app][options]") {
  auto c = defaults();
  c.log.level = "debug";
  c.log.format = "json";
  CHECK(app::log_level(c) == core::LogLevel::kDebug);
  CHECK(app::log_format(c) == core::Logger::Format::kJson);
  c.log.level = "";
  c.log.format = "text";
  CHECK(app::log_level(c) == core::LogLevel::kInfo);
  CHECK(app::log_format(c) == core::Logger::Format::kText);
}

TEST_CASE("app: the database options name the file in the data directory", "[app][options]") {
  auto c = defaults();
  c.storage.data_dir = "/var/lib/netpulse";
  c.database.synchronous = "FULL";
  c.database.busy_timeout_ms = 2500;
  c.database.write_queue_max = 123;
  c.database.max_batch = 45;
  c.database.reader_connections = 6;
  auto o = app::database_options(c);
  CHECK(o.path == "/var/lib/netpulse/netpulse.db");
  CHECK(app::database_path(c) == o.path);
  CHECK(o.synchronous_full);
  CHECK(o.busy_timeout == std::chrono::milliseconds(2500));
  CHECK(o.write_queue_max == 123);
  CHECK(o.max_batch == 45);
  CHECK(o.reader_connections == 6);
  c.database.synchronous = "NORMAL";
  CHECK_FALSE(app::database_options(c).synchronous_full);
}

TEST_CASE("app: the auth options carry every [auth] key", "[app][options]") {
  auto c = defaults();
  c.storage.data_dir = "/d";
  c.auth.access_token_ttl_s = 600;
  c.auth.refresh_token_ttl_s = 86'400;
  c.auth.issuer = "iss";
  c.auth.audience = "aud";
  c.auth.argon2_memory_kib = 8192;
  c.auth.argon2_passes = 2;
  c.auth.password_min_length = 10;
  c.auth.password_max_length = 200;
  c.auth.throttle_account_failures = 4;
  c.auth.throttle_ip_failures = 40;
  c.auth.throttle_base_s = 3;
  c.auth.throttle_max_s = 300;
  c.auth.audit_retention_days = 90;
  c.auth.api_key_default_ttl_days = 30;
  auto o = app::auth_options(c);
  CHECK(o.data_dir == "/d");
  CHECK(o.access_token_ttl_s == 600);
  CHECK(o.refresh_token_ttl_s == 86'400);
  CHECK(o.issuer == "iss");
  CHECK(o.audience == "aud");
  CHECK(o.argon2_memory_kib == 8192);
  CHECK(o.argon2_passes == 2);
  CHECK(o.password_min_length == 10);
  CHECK(o.password_max_length == 200);
  CHECK(o.throttle_account_failures == 4);
  CHECK(o.throttle_ip_failures == 40);
  CHECK(o.throttle_base_s == 3);
  CHECK(o.throttle_max_s == 300);
  CHECK(o.audit_retention_days == 90);
  CHECK(o.api_key_default_ttl_days == 30);
}

TEST_CASE("app: the outbound policy is made from the three [network] lists", "[app][options]") {
  auto c = defaults();
  c.network.outbound_deny = {"10.0.0.0/8"};
  c.network.fetch_deny = {"192.0.2.0/24"};
  c.network.outbound_allow = {"10.1.0.0/16"};
  auto lists = app::outbound_lists(c);
  CHECK(lists.deny == c.network.outbound_deny);
  CHECK(lists.fetch_deny == c.network.fetch_deny);
  CHECK(lists.allow == c.network.outbound_allow);
  auto policy = core::OutboundPolicy::make(app::outbound_lists(defaults()));
  CHECK(policy);  // the defaults make a valid policy
}

TEST_CASE("app: the store options convert [tsdb]'s units to bytes and milliseconds",
          "[app][options]") {
  auto c = defaults();
  c.storage.data_dir = "/data";
  c.tsdb.sync_full = true;
  c.tsdb.chunk_samples = 120;
  c.tsdb.max_series_per_org = 5000;
  c.tsdb.head_max_mb = 256;
  c.tsdb.head_keep_h = 2;
  c.tsdb.ooo_window_s = 300;
  c.tsdb.future_limit_s = 60;
  c.tsdb.retention_raw_days = 7;
  c.tsdb.retention_5m_days = 90;
  c.tsdb.retention_1h_days = 730;
  c.tsdb.flush_interval_s = 5;
  c.tsdb.checkpoint_interval_s = 600;
  c.tsdb.checkpoint_log_mb = 64;
  c.tsdb.retention_interval_s = 3600;
  c.tsdb.stale_check_interval_s = 30;
  c.tsdb.stale_factor = 2.5;
  c.tsdb.stale_min_s = 120;
  c.tsdb.max_batch_samples = 50'000;
  auto o = app::store_options(c);
  CHECK(o.dir == "/data/tsdb");
  CHECK(o.sync_full);
  CHECK(o.chunk_samples == 120);
  CHECK(o.max_series_per_org == 5000);
  CHECK(o.head_max_bytes == 256u * 1024 * 1024);
  CHECK(o.head_keep_ms == 2 * 3'600'000);
  CHECK(o.ooo_window_ms == 300'000);
  CHECK(o.future_limit_ms == 60'000);
  CHECK(o.raw_retention_ms == 7 * 86'400'000LL);
  CHECK(o.retention_ms[0] == 7 * 86'400'000LL);
  CHECK(o.retention_ms[1] == 90 * 86'400'000LL);
  CHECK(o.retention_ms[2] == 730 * 86'400'000LL);
  CHECK(o.flush_interval == std::chrono::seconds(5));
  CHECK(o.checkpoint_interval == std::chrono::seconds(600));
  CHECK(o.checkpoint_log_bytes == 64u * 1024 * 1024);
  CHECK(o.retention_interval == std::chrono::seconds(3600));
  CHECK(o.stale_check_interval == std::chrono::seconds(30));
  CHECK(o.stale_factor == 2.5);
  CHECK(o.stale_min_ms == 120'000);
  CHECK(o.max_batch_samples == 50'000);
}

TEST_CASE("app: the inventory gets the data directory and the outbound policy", "[app][options]") {
  auto c = defaults();
  c.storage.data_dir = "/srv/np";
  c.network.outbound_deny = {"203.0.113.0/24"};
  auto policy = core::OutboundPolicy::make(app::outbound_lists(c));
  REQUIRE(policy);
  auto o = app::inventory_options(c, *policy);
  CHECK(o.data_dir == "/srv/np");
  CHECK_FALSE(
      o.outbound.check(boost::asio::ip::make_address("203.0.113.9"), core::OutboundPurpose::kPoll));
  CHECK(o.outbound.check(boost::asio::ip::make_address("198.51.100.9"),
                         core::OutboundPurpose::kPoll));
}

TEST_CASE("app: the poller options map [pollers] and share the check room by kind",
          "[app][options][pollers]") {
  auto c = defaults();
  auto& p = c.pollers;
  p.icmp_mode = "datagram";
  p.icmp_echoes = 4;
  p.icmp_echo_interval_ms = 250;
  p.icmp_timeout_ms = 900;
  p.down_after = 3;
  p.up_after = 2;
  p.flap_changes = 6;
  p.flap_window_s = 1200;
  p.flap_up_after = 5;
  p.snmp = false;
  p.snmp_timeout_ms = 1500;
  p.snmp_retries = 2;
  p.snmp_max_repetitions = 20;
  p.max_in_flight_icmp = 1000;
  p.max_in_flight_snmp = 64;
  p.max_in_flight_service_checks = 32;
  p.checks_ca_file = "/etc/ca.pem";
  p.traps_listen = "127.0.0.1:1162";
  p.traps_communities = {"public"};
  p.traps_v3_users = {"trapuser"};
  p.traps_rate_per_second = 50;
  p.traps_burst = 200;
  auto policy = core::OutboundPolicy::make(app::outbound_lists(c));
  REQUIRE(policy);
  auto o = app::poller_options(c, *policy, 7);
  CHECK(o.icmp_mode == "datagram");
  CHECK(o.cycle.count == 4);
  CHECK(o.cycle.interval == std::chrono::milliseconds(250));
  CHECK(o.cycle.timeout == std::chrono::milliseconds(900));
  CHECK(o.down_after == 3);
  CHECK(o.up_after == 2);
  CHECK(o.flap_changes == 6);
  CHECK(o.flap_window_s == 1200);
  CHECK(o.flap_up_after == 5);
  CHECK_FALSE(o.snmp);
  CHECK(o.snmp_timeout == std::chrono::milliseconds(1500));
  CHECK(o.snmp_retries == 2);
  CHECK(o.snmp_max_repetitions == 20);
  auto room = [&o](pollers::CheckKind k) {
    return o.scheduler.max_in_flight[static_cast<std::size_t>(k)];
  };
  CHECK(room(pollers::CheckKind::kIcmp) == 1000);
  CHECK(room(pollers::CheckKind::kSnmp) == 64);
  CHECK(room(pollers::CheckKind::kTcp) == 32);
  CHECK(room(pollers::CheckKind::kHttp) == 32);
  CHECK(room(pollers::CheckKind::kDns) == 32);
  CHECK(o.checks_ca_file == "/etc/ca.pem");
  CHECK(o.traps_listen == "127.0.0.1:1162");
  CHECK(o.traps_communities == std::vector<std::string>{"public"});
  CHECK(o.traps_v3_users == std::vector<std::string>{"trapuser"});
  CHECK(o.system_org_id == 7);
  CHECK(o.traps_rate_per_second == 50);
  CHECK(o.traps_burst == 200.0);
  // ...and the engines' room follows: 4 echoes per ICMP cycle, TCP + HTTP + DNS checks.
  CHECK(app::icmp_engine_options(o).max_in_flight == 4000);
  CHECK(app::check_engine_options(o).max_in_flight == 96);
}

TEST_CASE("app: the server options map [http] and the access log", "[app][options]") {
  auto c = defaults();
  auto& h = c.http;
  h.listen_host = "::1";
  h.listen_port = 9443;
  h.max_connections = 900;
  h.max_connections_per_ip = 30;
  h.max_header_bytes = 16'384;
  h.max_body_bytes = 1 << 22;
  h.header_timeout_ms = 7000;
  h.read_timeout_ms = 8000;
  h.idle_timeout_ms = 9000;
  h.write_timeout_ms = 10'000;
  h.gzip_min_bytes = 512;
  h.cors_allowed_origins = {"https://noc.example"};
  h.trusted_proxies = {"127.0.0.1"};
  h.tls.enabled = true;
  h.tls.cert_file = "/c.pem";
  h.tls.key_file = "/k.pem";
  h.rate_limit.per_ip_rps = 20;
  h.rate_limit.per_ip_burst = 40;
  h.rate_limit.per_user_rps = 10;
  h.rate_limit.per_user_burst = 25;
  c.log.access_log = false;
  auto o = app::server_options(c);
  CHECK(o.host == "::1");
  CHECK(o.port == 9443);
  CHECK(o.max_connections == 900);
  CHECK(o.max_connections_per_ip == 30);
  CHECK(o.max_header_bytes == 16'384);
  CHECK(o.max_body_bytes == (1u << 22));
  CHECK(o.header_timeout == std::chrono::milliseconds(7000));
  CHECK(o.read_timeout == std::chrono::milliseconds(8000));
  CHECK(o.idle_timeout == std::chrono::milliseconds(9000));
  CHECK(o.write_timeout == std::chrono::milliseconds(10'000));
  CHECK(o.gzip_min_bytes == 512);
  CHECK(o.cors_allowed_origins == h.cors_allowed_origins);
  CHECK(o.trusted_proxies == h.trusted_proxies);
  CHECK(o.tls);
  CHECK(o.tls_cert_file == "/c.pem");
  CHECK(o.tls_key_file == "/k.pem");
  CHECK(o.per_ip_rps == 20);
  CHECK(o.per_ip_burst == 40.0);
  CHECK(o.per_user_rps == 10);
  CHECK(o.per_user_burst == 25.0);
  CHECK_FALSE(o.access_log);
}

TEST_CASE("app: the routes get /metrics' token, the ingest sample cap and raw retention",
          "[app][options]") {
  auto c = defaults();
  c.http.metrics_token = "scrape-me";
  c.tsdb.max_batch_samples = 12'345;
  c.tsdb.retention_raw_days = 45;
  auto o = app::route_options(c);
  CHECK(o.metrics_token == "scrape-me");
  CHECK(o.ingest_max_samples == 12'345);
  CHECK(o.raw_retention_ms == 45 * 86'400'000LL);
}

TEST_CASE("app: the worker pool's size comes from [workers]", "[app][options]") {
  auto c = defaults();
  c.workers.threads = 3;
  c.workers.max_queued = 777;
  auto size = app::worker_pool_size(c);
  CHECK(size.threads == 3);
  CHECK(size.max_queued == 777);
}

TEST_CASE("app: the alert engine's options map [alerts]", "[app][options]") {
  auto c = defaults();
  // The shipped defaults.
  auto d = app::alert_engine_options(c);
  CHECK(d.install_default_rules);
  CHECK(d.flap_changes == 6);
  CHECK(d.flap_window_s == 1200);
  CHECK(d.history_retention_days == 180);
  c.alerts.default_rules = false;
  c.alerts.flap_changes = 4;
  c.alerts.flap_window_s = 600;
  c.alerts.history_retention_days = 30;
  c.alerts.baseline_save_interval_s = 120;
  c.alerts.max_rules_per_org = 50;
  c.alerts.max_series_states = 9'999;
  auto o = app::alert_engine_options(c);
  CHECK_FALSE(o.install_default_rules);
  CHECK(o.flap_changes == 4);
  CHECK(o.flap_window_s == 600);
  CHECK(o.history_retention_days == 30);
  CHECK(o.baseline_save_interval_s == 120);
  CHECK(o.max_rules_per_org == 50);
  CHECK(o.max_alert_states == 9'999);
}

TEST_CASE("app: acknowledgement links live as long as [notify] ack_link_ttl_s says",
          "[app][options]") {
  auto c = defaults();
  CHECK(app::notifier_options(c).ack_link_ttl_s == 86'400);  // the shipped default: a day
  c.notify.ack_link_ttl_s = 3'600;
  CHECK(app::notifier_options(c).ack_link_ttl_s == 3'600);
  // Out of range (here from the environment) is refused with the key named.
  auto env = core::Environment{{"NETPULSE_NOTIFY_ACK_LINK_TTL_S", "30"}};
  auto loaded = core::load_config(std::nullopt, env);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().message.find("notify.ack_link_ttl_s") != std::string::npos);
}
