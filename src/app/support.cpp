// Config loading for the CLI, and the Runtime that builds the modules from the config.
#include "support.hpp"

#include <cstdio>
#include <filesystem>
#include <sys/stat.h>

#include <netpulse/core/random.hpp>

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
    std::fprintf(stderr, "netpulse: config file %s does not exist\n", file->c_str());
    return std::nullopt;
  }
  auto config = core::load_config(file, core::process_environment());
  if (!config) {
    report_startup_error("", config.error());
    return std::nullopt;
  }
  return std::move(config).value();
}

std::string database_path(const core::Config& config) {
  return (std::filesystem::path(config.storage.data_dir) / "netpulse.db").string();
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

namespace {
core::LogLevel level_of(const core::Config& c) {
  core::LogLevel l = core::LogLevel::kInfo;
  core::parse_log_level(c.log.level, l);
  return l;
}
}  // namespace

Runtime::Runtime(const core::Config& cfg)
    : config(cfg),
      log(clock, level_of(cfg),
          cfg.log.format == "json" ? core::Logger::Format::kJson : core::Logger::Format::kText),
      loop(std::make_unique<boost::asio::io_context>(1)),
      workers(
          std::make_unique<core::WorkerPool>(static_cast<std::size_t>(cfg.workers.threads),
                                             static_cast<std::size_t>(cfg.workers.max_queued))) {
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
    std::fprintf(stderr, "netpulse: cannot create data directory %s: %s\n",
                 config.storage.data_dir.c_str(), ec.message().c_str());
    return std::nullopt;
  }
  ::chmod(config.storage.data_dir.c_str(), 0750);
  db::Options o;
  o.path = database_path(config);
  o.synchronous_full = config.database.synchronous == "FULL";
  o.busy_timeout = std::chrono::milliseconds(config.database.busy_timeout_ms);
  o.write_queue_max = static_cast<std::size_t>(config.database.write_queue_max);
  o.max_batch = static_cast<std::size_t>(config.database.max_batch);
  o.reader_connections = static_cast<std::size_t>(config.database.reader_connections);
  auto database = db::Database::open(o, clock, log, &metrics);
  if (!database) {
    report_startup_error("database " + o.path, database.error());
    return std::nullopt;
  }
  return std::move(database).value();
}

std::optional<std::unique_ptr<auth::AuthService>> Runtime::open_auth(db::Database& database) {
  auth::Options o;
  o.data_dir = config.storage.data_dir;
  o.access_token_ttl_s = config.auth.access_token_ttl_s;
  o.refresh_token_ttl_s = config.auth.refresh_token_ttl_s;
  o.issuer = config.auth.issuer;
  o.audience = config.auth.audience;
  o.argon2_memory_kib = static_cast<std::size_t>(config.auth.argon2_memory_kib);
  o.argon2_passes = static_cast<std::size_t>(config.auth.argon2_passes);
  o.password_min_length = static_cast<std::size_t>(config.auth.password_min_length);
  o.password_max_length = static_cast<std::size_t>(config.auth.password_max_length);
  o.throttle_account_failures = static_cast<int>(config.auth.throttle_account_failures);
  o.throttle_ip_failures = static_cast<int>(config.auth.throttle_ip_failures);
  o.throttle_base_s = config.auth.throttle_base_s;
  o.throttle_max_s = config.auth.throttle_max_s;
  o.audit_retention_days = config.auth.audit_retention_days;
  o.api_key_default_ttl_days = config.auth.api_key_default_ttl_days;
  auto service =
      auth::AuthService::open(o, clock, database, *workers, loop->get_executor(), log, &metrics);
  if (!service) {
    report_startup_error("auth", service.error());
    return std::nullopt;
  }
  return std::move(service).value();
}

}  // namespace netpulse::app
