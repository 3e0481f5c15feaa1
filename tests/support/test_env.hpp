// TestEnv: what a unit test hands to a module's open() (core::Env), owned in one place: a
// ManualClock (or a clock the test passes), a logger that keeps its lines for assertions (or one
// the test passes), a metrics registry, an event bus, an event loop and a small worker pool.
// Destroy the modules opened with it first; the workers are joined, then the loop is destroyed,
// as app::Runtime does.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>

namespace netpulse::test {

class TestEnv {
 public:
  // With its own ManualClock and logger.
  TestEnv() : TestEnv(own_clock_) {}
  // With a clock the test owns (a SystemClock for tests that wait on real sockets).
  explicit TestEnv(const core::Clock& clock)
      : clock_(&clock),
        own_log_(std::make_unique<core::Logger>(
            clock, [this](std::string_view line) { keep(line); }, core::LogLevel::kDebug)),
        log_(own_log_.get()) {}
  // With the test's clock and logger (whose sink the test asserts on).
  TestEnv(const core::Clock& clock, core::Logger& log) : clock_(&clock), log_(&log) {}
  ~TestEnv() {
    workers_.reset();
    loop_.reset();
  }
  TestEnv(const TestEnv&) = delete;
  TestEnv& operator=(const TestEnv&) = delete;

  core::Env env() {
    return core::Env{*clock_, *log_, metrics_, bus_, loop_->get_executor(), *workers_};
  }

  // The ManualClock of the default constructor (unused when the test passed its own clock).
  core::ManualClock& manual_clock() { return own_clock_; }
  boost::asio::io_context& loop() { return *loop_; }
  core::Logger& log() { return *log_; }
  core::MetricsRegistry& metrics() { return metrics_; }
  core::EventBus& bus() { return bus_; }
  core::WorkerPool& workers() { return *workers_; }

  // Every line the TestEnv's own logger wrote (none when the test passed its logger).
  std::vector<std::string> log_lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  void keep(std::string_view line) {
    std::lock_guard lock(mutex_);
    if (lines_.size() < 10'000) lines_.emplace_back(line);
  }

  core::ManualClock own_clock_;
  const core::Clock* clock_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::unique_ptr<core::Logger> own_log_;
  core::Logger* log_;
  core::MetricsRegistry metrics_;
  core::EventBus bus_;
  std::unique_ptr<boost::asio::io_context> loop_ = std::make_unique<boost::asio::io_context>(1);
  std::unique_ptr<core::WorkerPool> workers_ = std::make_unique<core::WorkerPool>(1, 64);
};

}  // namespace netpulse::test
