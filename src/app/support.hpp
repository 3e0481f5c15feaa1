// The composition root's building blocks: loading the config, and a Runtime that owns the clock,
// logger, metrics, event bus, worker pool and event loop (the core::Env every module is opened
// with) and builds the modules from the config.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/error.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>

#include "cli.hpp"

namespace netpulse::app {

// A start-up error on stderr, one way for every part of the server: "netpulse: <part>: <message>
// [<CODE>]" (the stable code of core::errc_name; no part: "netpulse: <message> [<CODE>]").
void report_startup_error(std::string_view part, const core::Error& error);

// Loads defaults + --config + environment; prints every problem to stderr on failure.
std::optional<core::Config> load_config_or_report(const CommandLine& cl);

// A random 20-character password from an alphabet without look-alike characters.
std::string generate_password();

struct Runtime {
  explicit Runtime(const core::Config& config);
  ~Runtime();

  // Creates the data directory (0750) and opens the database; reports failures to stderr.
  std::optional<std::unique_ptr<db::Database>> open_database();
  std::optional<std::unique_ptr<auth::AuthService>> open_auth(db::Database& database);

  // What every module's open() takes, borrowed from the members below.
  core::Env env() { return {clock, log, metrics, bus, loop->get_executor(), *workers}; }

  core::Config config;
  core::SystemClock clock;
  core::Logger log;
  core::MetricsRegistry metrics;
  core::EventBus bus;
  std::unique_ptr<boost::asio::io_context> loop;
  std::unique_ptr<core::WorkerPool> workers;
};

}  // namespace netpulse::app
