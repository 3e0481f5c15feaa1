// `netpulse serve`: the composition root. Builds every module once from the config, wires them,
// runs the event loop, and on SIGTERM/SIGINT shuts down in order: stop accepting, let in-flight
// requests finish (within http.shutdown_grace_ms), finish slow work, commit queued writes.
// Tells systemd READY=1 / STOPPING=1 and feeds its watchdog when started as Type=notify.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/api/live.hpp>
#include <netpulse/api/routes.hpp>
#include <netpulse/api/server.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/db/settings.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/notify/notifier.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/tsdb/store.hpp>

#include "options.hpp"
#include "poller_engines.hpp"
#include "support.hpp"

namespace netpulse::app {

namespace {

std::optional<std::unique_ptr<tsdb::Store>> open_tsdb(const core::Config& c, db::Database& db,
                                                      Runtime& rt) {
  auto store = tsdb::Store::open(store_options(c), rt.env(), db);
  if (!store) {
    report_startup_error("time-series store", store.error());
    return std::nullopt;
  }
  return std::move(store).value();
}

void print_first_admin(const auth::BootstrapResult& b) {
  if (!b.created) return;
  std::string password =
      b.generated_password ? *b.generated_password : std::string("(from NETPULSE_ADMIN_PASSWORD)");
  std::printf(
      "\n"
      "==================================================================\n"
      " NetPulse first start: created the administrator account\n"
      "   email:    %s\n"
      "   password: %s\n"
      "%s"
      "==================================================================\n\n",
      b.admin_email.c_str(), password.c_str(),
      b.generated_password ? " Keep it now: it is not shown again.\n" : "");
  std::fflush(stdout);
}

// The notifier's view of users (it does not know the auth module): lookups by id and an
// organization's members, read through the auth service.
notify::DirectoryUser directory_user(const auth::User& u) {
  return {u.id, u.org_id, u.name, u.email, std::string(auth::role_name(u.role)), u.active};
}

notify::UserDirectory user_directory(auth::AuthService& auth) {
  notify::UserDirectory d;
  d.find = [&auth](std::int64_t org_id,
                   std::int64_t user_id) -> std::optional<notify::DirectoryUser> {
    auto u = auth.get_user(auth::OrgScope::trusted(org_id), user_id);
    if (!u) return std::nullopt;
    return directory_user(*u);
  };
  d.members = [&auth](std::int64_t org_id) {
    // Bounded: an organization of more than 10,000 users gets notices for the first ones only.
    constexpr int kPerPage = 500, kMaxPages = 20;
    std::vector<notify::DirectoryUser> out;
    for (int page = 1; page <= kMaxPages; ++page) {
      auto r = auth.list_users(auth::OrgScope::trusted(org_id), {page, kPerPage});
      if (!r) break;
      for (const auto& u : r->items) out.push_back(directory_user(u));
      if (static_cast<int>(r->items.size()) < kPerPage) break;
    }
    return out;
  };
  return d;
}

// Every organization (start-up: blocking reads).
core::Result<std::vector<auth::Organization>> all_orgs(auth::AuthService& auth) {
  std::vector<auth::Organization> out;
  for (int page = 1;; ++page) {
    auto r = auth.list_orgs(auth::SystemScope::trusted(), {page, 500});
    if (!r) return std::move(r).error();
    out.insert(out.end(), r->items.begin(), r->items.end());
    if (r->items.empty() || static_cast<std::int64_t>(out.size()) >= r->total) return out;
  }
}

// The settings saved from the web UI (Admin → Settings) go over the file and the environment.
// One that no longer passes (an upgrade removed its key, or refuses its value) is left out with
// a warning: a saved setting never stops the server from starting.
std::shared_ptr<api::RouteDeps::Settings> load_saved_settings(const CommandLine& cl,
                                                              const core::Environment& env,
                                                              db::Database& db,
                                                              core::Config& config, Runtime& rt) {
  auto s = std::make_shared<api::RouteDeps::Settings>();
  s->config_file = cl.option("config");
  if (s->config_file) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(*s->config_file, ec);
    if (!ec) s->config_file = absolute.string();
  }
  s->environment = env;
  core::SavedSettings saved;
  if (auto rows = db::load_saved_settings(db); rows) {
    for (auto& [key, row] : *rows) saved[key] = row.value;
  } else {
    rt.log.warn("app", "saved settings not read ({}): starting with the config file's",
                rows.error().message);
  }
  auto loaded = core::load_config_with_saved(s->config_file, env, saved);
  if (!loaded) {
    report_startup_error("", loaded.error());
    return nullptr;
  }
  for (auto& p : loaded->ignored) {
    rt.log.warn("app", "saved setting {} left out: {}", p.key, p.message);
  }
  if (!loaded->kept.empty()) {
    rt.log.info("app", "{} saved setting(s) from the web UI in effect", loaded->kept.size());
  }
  loaded->config.warnings = std::move(config.warnings);
  config = std::move(loaded->config);
  rt.config = config;
  core::LogLevel level;
  if (core::parse_log_level(config.log.level, level)) rt.log.set_level(level);
  for (auto& st : loaded->settings) s->running[st.info->key] = std::move(st.value);
  return s;
}

}  // namespace

int cmd_serve(const CommandLine& cl) {
  auto config = load_config_or_report(cl);
  if (!config) return 2;
  Runtime rt(*config);
  auto& log = rt.log;
  auto& loop = *rt.loop;
  log.info("app", "NetPulse {} starting (data in {})", NETPULSE_VERSION, config->storage.data_dir);

  auto database = rt.open_database();
  if (!database) return 1;
  auto& db = **database;
  auto env = core::process_environment();
  auto settings = load_saved_settings(cl, env, db, *config, rt);
  if (!settings) return 2;

  auto auth_service = rt.open_auth(db);
  if (!auth_service) return 1;
  auto& auth = **auth_service;

  auto admin_email = env.count("NETPULSE_ADMIN_EMAIL") ? env["NETPULSE_ADMIN_EMAIL"]
                                                       : std::string("admin@netpulse.local");
  std::optional<std::string> admin_password;
  if (env.count("NETPULSE_ADMIN_PASSWORD")) admin_password = env["NETPULSE_ADMIN_PASSWORD"];
  auto boot = auth.ensure_bootstrap(admin_email, admin_password);
  if (!boot) {
    report_startup_error("first-start set-up", boot.error());
    return 1;
  }
  print_first_admin(*boot);

  auto& bus = rt.bus;
  auto tsdb_store = open_tsdb(*config, db, rt);
  if (!tsdb_store) return 1;
  auto& store = **tsdb_store;

  auto orgs = all_orgs(auth);
  if (!orgs) {
    report_startup_error("organizations", orgs.error());
    return 1;
  }
  std::int64_t system_org_id = 0;
  std::set<std::int64_t> org_ids;
  for (auto& o : *orgs) {
    org_ids.insert(o.id);
    if (o.is_system) system_org_id = o.id;
  }
  // Series of an organization deleted while its drop could not finish (a stop in between):
  // dropped now, as core::OrgDeleted would have.
  for (auto org : store.org_ids()) {
    if (org_ids.contains(org)) continue;
    log.info("app", "organization {} no longer exists: dropping its series", org);
    store.drop_org(org, [&log, org](core::Result<void> r) {
      if (!r) log.warn("app", "dropping organization {}'s series: {}", org, r.error().message);
    });
  }

  // The one outbound address policy, for every module that connects where a user said.
  auto outbound = core::OutboundPolicy::make(outbound_lists(*config));
  if (!outbound) {
    report_startup_error("", outbound.error());
    return 2;
  }

  auto inventory = devices::Inventory::open(inventory_options(*config, *outbound), rt.env(), db);
  if (!inventory) {
    report_startup_error("device inventory", inventory.error());
    return 1;
  }

  // tsdb knows nothing of devices: an organization's series reaching 80 % or 100 % of
  // tsdb.max_series_per_org becomes an organization-level event (no device) in the event log,
  // which GET /api/v1/events lists, so missing graphs come with a word to the operator.
  auto series_limit_events = bus.subscribe<tsdb::SeriesLimitReached>(
      [&inv = **inventory, &clock = rt.clock](const tsdb::SeriesLimitReached& e) {
        devices::DeviceEvent ev;
        ev.org_id = e.org_id;
        ev.at = clock.unix_seconds();
        ev.kind = "series_limit";
        ev.severity =
            e.level >= 100 ? devices::EventSeverity::kCritical : devices::EventSeverity::kWarning;
        ev.message = e.level >= 100
                         ? fmt::format(
                               "the organization has reached its limit of {} metric series "
                               "(tsdb.max_series_per_org): samples of new series are refused",
                               e.limit)
                         : fmt::format(
                               "the organization has {} metric series, {} % of its limit of {} "
                               "(tsdb.max_series_per_org); past it samples of new series are "
                               "refused",
                               e.series, e.level, e.limit);
        ev.details_json =
            fmt::format(R"({{"level":{},"series":{},"limit":{}}})", e.level, e.series, e.limit);
        inv.record_event(std::move(ev));
      });

  const auto poller_opts = poller_options(*config, *outbound, system_org_id);
  auto engines = open_poller_engines(poller_opts, loop.get_executor(), rt.clock, log);
  if (!engines) {
    report_startup_error("pollers", engines.error());
    return 1;
  }
  auto poller =
      pollers::Poller::open(poller_opts, rt.env(), std::move(*engines), **inventory, store);
  if (!poller) {
    report_startup_error("pollers", poller.error());
    return 1;
  }

  auto alert_engine =
      alerts::AlertEngine::open(alert_engine_options(*config), rt.env(), db, **inventory, store);
  if (!alert_engine) {
    report_startup_error("alerts", alert_engine.error());
    return 1;
  }

  auto notify_options = notifier_options(*config);
  notify_options.users = user_directory(auth);
  notify_options.open_alerts = [&engine = **alert_engine] { return engine.open_alerts(); };
  if (config->notify.external_url.empty()) {
    // Links in messages (the alert, the acknowledgement link) must be reachable from a phone.
    log.warn("notify",
             "[notify] external_url is not set: links in messages use {} (the listen address), "
             "which people may not reach; set it to the address they use",
             notify_options.external_url);
  }
  auto notifier = notify::Notifier::open(notify_options, rt.env(), db, *outbound);
  if (!notifier) {
    report_startup_error("notify", notifier.error());
    return 1;
  }

  auto dashboard_store = dashboards::Store::open(rt.env(), db);

  bool ready = false;
  api::Router router;
  api::RouteDeps deps{auth, db, rt.metrics, rt.clock, NETPULSE_VERSION, [&ready] { return ready; }};
  deps.tsdb = &store;
  deps.inventory = inventory->get();
  deps.poller = poller->get();
  deps.alerts = alert_engine->get();
  deps.notifier = notifier->get();
  deps.dashboards = dashboard_store.get();
  deps.workers = rt.workers.get();
  deps.loop = loop.get_executor();
  deps.bus = &bus;
  const auto route = route_options(*config);
  deps.metrics_token = route.metrics_token;
  deps.ingest_max_samples = route.ingest_max_samples;
  deps.raw_retention_ms = route.raw_retention_ms;
  deps.secure_cookies = route.secure_cookies;
  deps.session_cookie_max_age_s = route.session_cookie_max_age_s;
  settings->apply_live = [&log, &n = **notifier](const core::Config& c) {
    core::LogLevel level;
    if (core::parse_log_level(c.log.level, level)) log.set_level(level);
    n.apply_settings(notifier_options(c));
    log.info("app", "settings saved in the web UI applied");
  };
  deps.settings = settings;
  api::register_routes(router, deps);
  // The live feed (GET /api/v1/live): declared before the server, so it outlives it.
  auto live = api::LiveFeed::create(api::LiveOptions{}, loop.get_executor(), bus, auth, rt.clock,
                                    rt.metrics, &store);
  auto server = api::Server::open(server_options(*config), rt.env(), router, auth, live.get());
  if (!server) {
    report_startup_error("", server.error());
    return 1;
  }

  // Shutdown on the first SIGTERM/SIGINT; a second one stops at once.
  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  boost::asio::steady_timer hard_stop(loop);
  int signals_seen = 0;
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (++signals_seen > 1) {
        log.warn("app", "second signal: stopping now");
        loop.stop();
        return;
      }
      log.info("app", "signal {}: shutting down (grace {} ms)", signo,
               config->http.shutdown_grace_ms);
      ready = false;
      sd_notify(0, "STOPPING=1");
      auto grace = std::chrono::milliseconds(config->http.shutdown_grace_ms);
      (*server)->shutdown(grace, [&] { loop.stop(); });
      // If connections are still closing well after the grace period, stop regardless.
      hard_stop.expires_after(grace + std::chrono::seconds(2));
      hard_stop.async_wait([&](const boost::system::error_code& e) {
        if (!e) loop.stop();
      });
      wait_signal();
    });
  };
  wait_signal();

  // systemd watchdog: ping at half the interval systemd expects.
  boost::asio::steady_timer watchdog(loop);
  std::uint64_t watchdog_usec = 0;
  std::function<void()> feed_watchdog = [&] {
    sd_notify(0, "WATCHDOG=1");
    watchdog.expires_after(std::chrono::microseconds(watchdog_usec / 2));
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) feed_watchdog();
    });
  };
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) feed_watchdog();

  // Periodic upkeep hangs off one tick; each module decides from its Clock what is due (the auth
  // module: deleting old audit rows and expired refresh tokens).
  boost::asio::steady_timer upkeep(loop);
  std::function<void()> tick = [&] {
    auth.tick();
    upkeep.expires_after(std::chrono::seconds(60));
    upkeep.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };

  (*server)->start();
  (*poller)->start();
  tick();
  ready = true;
  auto ep = (*server)->local_endpoint();
  auto host = ep.address().is_v6() ? fmt::format("[{}]", ep.address().to_string())
                                   : ep.address().to_string();
  std::string url =
      fmt::format("{}://{}:{}", config->http.tls.enabled ? "https" : "http", host, ep.port());
  log.info("app", "listening on {}", url);
  std::printf("netpulse: listening on %s\n", url.c_str());
  std::fflush(stdout);
  sd_notify(0, "READY=1");

  loop.run();

  // Teardown in dependency order: the listener, slow work, queued writes. The loop, with anything
  // still queued on it, goes last (Runtime's destructor); late answers are dropped by then.
  server->reset();
  (*poller)->stop();
  poller->reset();
  // The notifier first: it stops taking the engine's events; what is pending stays in the outbox
  // for the next start.
  (*notifier)->close();
  // The alert engine's baselines are queued for the writer (committed by db.close() below).
  (*alert_engine)->close();
  (*alert_engine)->save_state([](core::Result<void>) {});
  // The store writes its final checkpoint (so the next start replays nothing), then slow work
  // finishes and queued writes commit.
  if (auto r = store.close(); !r) log.error("app", "tsdb: {}", r.error().message);
  rt.workers.reset();
  db.close();
  log.info("app", "stopped");
  return 0;
}

}  // namespace netpulse::app
