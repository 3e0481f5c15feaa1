// The shared state behind ServiceChecker (include/netpulse/pollers/service_checks.hpp): the
// bound on checks in flight, the counters, and the registry of running checks that closing
// cancels. Each running check is a session object (TCP, HTTP, DNS) owned by its own pending
// handlers through a shared_ptr, and holding a shared_ptr to the engine; the engine keeps only
// weak pointers to the sessions, so there is no cycle. Closing sets `closed`, cancels every
// session (sockets and timers closed, so their handlers run soon with operation_aborted) and
// from then on every completion is dropped instead of delivered. All on the one loop: no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/service_checks.hpp>

namespace netpulse::pollers::detail {

// A running check, as the engine sees it.
class CheckSession {
 public:
  virtual ~CheckSession() = default;
  // Stops the check's I/O; its handlers still run (and then deliver nothing: the engine is closed).
  virtual void cancel() = 0;
};

class CheckEngine : public std::enable_shared_from_this<CheckEngine> {
 public:
  CheckEngine(const ServiceCheckOptions& options, boost::asio::any_io_executor loop,
              const core::Clock& clock);

  const ServiceCheckOptions& options() const noexcept { return options_; }
  const boost::asio::any_io_executor& loop() const noexcept { return loop_; }
  const core::Clock& clock() const noexcept { return clock_; }
  bool closed() const noexcept { return closed_; }
  ServiceCheckStats stats() const noexcept { return stats_; }
  std::uint16_t random_u16() { return static_cast<std::uint16_t>(random_()); }

  // Takes an in-flight slot for a new check; fails (kServiceUnavailable) when none is free or the
  // engine is closed. The slot is given back by complete() with the same id.
  core::Result<std::uint64_t> admit();
  // Registers the session holding slot `id` so that close() can cancel it.
  void attach(std::uint64_t id, const std::shared_ptr<CheckSession>& session);

  // Ends check `id`: frees its slot and posts `done(result)` unless the engine is closed (then,
  // and if it closes before the posted call runs, the callback is dropped).
  template <class T, class Done>
  void complete(std::uint64_t id, Done done, core::Result<T> result) {
    running_.erase(id);
    --stats_.in_flight;
    (result ? stats_.succeeded : stats_.failed)++;
    deliver(std::move(done), std::move(result));
  }
  // Posts `done(error)` for a check that never got a slot (refused or invalid).
  template <class T, class Done>
  void reject(Done done, core::Error error) {
    deliver(std::move(done), core::Result<T>(std::move(error)));
  }

  // Closes: cancels every running check and drops every callback from now on. Idempotent.
  void close();

  // The milliseconds between `start` and now on the clock's steady line.
  double elapsed_ms(core::SteadyTime start) const noexcept {
    return std::chrono::duration<double, std::milli>(clock_.steady_now() - start).count();
  }

 private:
  template <class Done, class R>
  void deliver(Done done, R result) {
    if (closed_) return;
    boost::asio::post(loop_, [self = shared_from_this(), done = std::move(done),
                              result = std::move(result)]() mutable {
      if (!self->closed_) done(std::move(result));
    });
  }

  ServiceCheckOptions options_;
  boost::asio::any_io_executor loop_;
  const core::Clock& clock_;
  bool closed_ = false;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<CheckSession>> running_;
  ServiceCheckStats stats_;
  std::mt19937 random_;
};

// Starts the HTTP(S) check (service_checks_http.cpp). `check` has been validated by the caller,
// which has taken slot `id`.
void start_http_check(const std::shared_ptr<CheckEngine>& engine, std::uint64_t id,
                      const HttpCheck& check, ServiceChecker::HttpDone done);

// Starts the DNS check (service_checks_dns.cpp), as above.
void start_dns_check(const std::shared_ptr<CheckEngine>& engine, std::uint64_t id,
                     const DnsCheck& check, ServiceChecker::DnsDone done);

// The error for a failed connect (refused, unreachable, other), naming the peer.
core::Error connect_error(const boost::system::error_code& ec, const std::string& peer);

}  // namespace netpulse::pollers::detail
