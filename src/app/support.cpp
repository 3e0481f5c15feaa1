// Config loading for the CLI, and the Runtime that builds the modules from the config.
#include "support.hpp"

#include <cstdio>
#include <filesystem>
#include <sys/stat.h>

#include <netpulse/core/random.hpp>

#include "options.hpp"

namespace netpulse::app {

void report_startup_error(std::string_view part, const core::Error& error) {
  const std::string code(core::errc_name(error.code));
  if (part.empty()) {
    std::fprintf(stderr, "netpulse: %s [%s]\n", error.message.c_str(), code.c_str());
  } else {
    std::fprintf(stderr, "netpulse: %.*s: %s [%s]\n", static_cast<int>(part.size()), part.data(),
                 error.message.c_str(), code.c_str());
  }
}

std::optional<core::Config> load_config_or_report(const CommandLine& cl) {
  auto file = cl.option("config");
  if (file && !std::filesystem::exists(*file)) {
    report_startup_error("",
                         {core::Errc::kConfigError, "config file " + *file + " does not exist"});
    return std::nullopt;
  }
  auto config = core::load_config(file, core::process_environment());
  if (!config) {
    report_startup_error("", config.error());
    return std::nullopt;
  }
  return std::move(config).value();
}

std::string generate_password() {
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  // Rejection sampling keeps every character equally likely.
  while (out.size() < 20) {
    for (unsigned char b : core::random_bytes(32)) {
      if (b < 256 - 256 % kAlphabet.size() && out.size() < 20)
        out += kAlphabet[b % kAlphabet.size()];
    }
  }
  return out;
}

Runtime::Runtime(const core::Config& cfg)
    : config(cfg),
      log(clock, log_level(cfg), log_format(cfg)),
      loop(std::make_unique<boost::asio::io_context>(1)),
      workers(std::make_unique<core::WorkerPool>(worker_pool_size(cfg).threads,
                                                 worker_pool_size(cfg).max_queued)) {
  for (auto& w : config.warnings) log.warn("config", "{}", w);
}

Runtime::~Runtime() {
  // Workers first (their results post to the loop), then the loop with whatever is still queued.
  workers.reset();
  loop.reset();
}

std::optional<std::unique_ptr<db::Database>> Runtime::open_database() {
  std::error_code ec;
  std::filesystem::create_directories(config.storage.data_dir, ec);
  if (ec) {
    report_startup_error("data directory " + config.storage.data_dir,
                         {core::Errc::kConfigError, "cannot create it: " + ec.message()});
    return std::nullopt;
  }
  ::chmod(config.storage.data_dir.c_str(), 0750);
  auto o = database_options(config);
  auto database = db::Database::open(o, env());
  if (!database) {
    report_startup_error("database " + o.path, database.error());
    return std::nullopt;
  }
  return std::move(database).value();
}

std::optional<std::unique_ptr<auth::AuthService>> Runtime::open_auth(db::Database& database) {
  auto service = auth::AuthService::open(auth_options(config), env(), database);
  if (!service) {
    report_startup_error("auth", service.error());
    return std::nullopt;
  }
  return std::move(service).value();
}

}  // namespace netpulse::app
