// Env: the six things every module's open() takes, as one object — as LevelDB's Env is one object
// for files, threads and time. `app` owns them (app::Runtime) and hands the same Env to every
// module; a test makes its own (tests/support/test_env.hpp) with a ManualClock and a logger that
// writes nowhere.
//
// Every member is borrowed: the owner keeps them alive until every module opened with this Env is
// destroyed. The loop is the single event-loop thread: a module's callbacks are posted to it,
// never called inline from the call that was handed them.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>

namespace netpulse::core {

struct Env {
  const Clock& clock;                 // wall and monotonic time; the only source of "now"
  Logger& log;                        // the server's logger (thread-safe)
  MetricsRegistry& metrics;           // /metrics; modules register their series at open()
  EventBus& bus;                      // events between modules (published on the loop)
  boost::asio::any_io_executor loop;  // the event loop every callback is posted to
  WorkerPool& workers;                // slow work off the loop (hashing, compression, big reads)
};

}  // namespace netpulse::core
