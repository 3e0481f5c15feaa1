// Turning a test's event loop until something happened, bounded in wall time: the one loop every
// unit test that drives a module on an io_context needs (callbacks land there, never inline).
#pragma once

#include <chrono>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace netpulse::test {

// Runs `io` until `done()` holds or `limit` of wall time has passed; true when `done()` holds.
// A loop that had run out of work is restarted first, and a work guard keeps it waiting (in
// `slice`-long turns) for completions other threads post, instead of returning at once.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::steady_clock::duration limit = std::chrono::seconds(20),
               std::chrono::milliseconds slice = std::chrono::milliseconds(20)) {
  io.restart();
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(slice);
  return done();
}

}  // namespace netpulse::test
