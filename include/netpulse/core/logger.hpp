// Logger: levelled, line-oriented log records to a sink (stderr by default), as text
// ("2026-01-01T00:00:00.000Z INFO  [api] message key=value") or one JSON object per line.
// Thread-safe; `app` makes one and hands it to every module. Format with fmt:
//   log.info("api", "listening on {}", endpoint);
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace netpulse::core {

class Clock;

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off"; false when unknown.
bool parse_log_level(std::string_view s, LogLevel& out);

class Logger {
 public:
  enum class Format { kText, kJson };
  using Sink = std::function<void(std::string_view line)>;

  // Writes to stderr.
  explicit Logger(const Clock& clock, LogLevel level = LogLevel::kInfo,
                  Format format = Format::kText);
  // Writes each finished line (with trailing '\n') to `sink`; for tests.
  Logger(const Clock& clock, Sink sink, LogLevel level = LogLevel::kInfo,
         Format format = Format::kText);

  void set_level(LogLevel level) noexcept { level_.store(level); }
  void set_format(Format f) noexcept { format_.store(f); }
  bool enabled(LogLevel level) const noexcept { return level >= level_.load(); }

  void write(LogLevel level, std::string_view component, std::string_view message);

  template <class... Args>
  void trace(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kTrace, comp, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void debug(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kDebug, comp, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void info(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kInfo, comp, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void warn(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kWarn, comp, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void error(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kError, comp, f, std::forward<Args>(a)...);
  }

 private:
  template <class... Args>
  void log(LogLevel level, std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
    if (!enabled(level)) return;
    write(level, comp, fmt::format(f, std::forward<Args>(a)...));
  }

  const Clock& clock_;
  Sink sink_;
  std::atomic<LogLevel> level_;
  std::atomic<Format> format_;
  std::mutex mu_;
};

}  // namespace netpulse::core
