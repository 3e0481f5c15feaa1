// Log records: one line each, text or JSON, to stderr or a test sink, under one mutex so
// lines from different threads never interleave. Messages often carry text from outside (user
// agents, names, trap strings): control characters, invalid UTF-8 and bidirectional overrides are
// escaped here, in one place, so no field can forge a line or hide part of one.
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/text.hpp>

namespace netpulse::core {

namespace {
std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "TRACE";
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kOff:
      return "OFF";
  }
  return "INFO";
}
}  // namespace

bool parse_log_level(std::string_view s, LogLevel& out) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (auto& [name, level] : kLevels) {
    if (s == name) {
      out = level;
      return true;
    }
  }
  return false;
}

Logger::Logger(const Clock& clock, LogLevel level, Format format)
    : Logger(
          clock,
          [](std::string_view line) {
            // One write(2) per line keeps lines whole even with other writers on stderr.
            auto rc = ::write(STDERR_FILENO, line.data(), line.size());
            (void)rc;
          },
          level, format) {}

Logger::Logger(const Clock& clock, Sink sink, LogLevel level, Format format)
    : clock_(clock), sink_(std::move(sink)), level_(level), format_(format) {}

void Logger::write(LogLevel level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  std::string safe_component;
  std::string safe_message;
  if (!is_log_safe(component)) {
    append_log_safe(safe_component, component);
    component = safe_component;
  }
  if (!is_log_safe(message)) {
    append_log_safe(safe_message, message);
    message = safe_message;
  }
  auto ts = format_rfc3339(clock_.system_now());
  std::string line;
  if (format_.load() == Format::kJson) {
    line = fmt::format(R"({{"ts":"{}","level":"{}","component":{},"msg":{}}})", ts,
                       level_name(level), boost::json::serialize(boost::json::string(component)),
                       boost::json::serialize(boost::json::string(message)));
  } else {
    line = fmt::format("{} {:<5} [{}] {}", ts, level_name(level), component, message);
  }
  line.push_back('\n');
  std::lock_guard lock(mu_);
  sink_(line);
}

}  // namespace netpulse::core
