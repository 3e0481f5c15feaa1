// WorkerPool: a few threads for slow work (password hashing, compression, big reads) so the event
// loop never blocks. `run(work, done)` executes `work` on a worker and posts `done(result)` back
// to the given executor (normally the loop). The queue is bounded: when full, run() refuses at once
// with kServiceUnavailable so callers can answer 503 instead of piling up.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t max_queued);
  ~WorkerPool();  // waits for queued work to finish

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `work()` on a worker, then `done(std::move(result))` on `reply_to`.
  template <class R>
  Result<void> run(std::function<R()> work, boost::asio::any_io_executor reply_to,
                   std::function<void(R)> done) {
    // Reserve a slot first so that concurrent callers cannot overshoot the bound together.
    if (queued_.fetch_add(1) >= max_queued_) {
      --queued_;
      return Error(Errc::kServiceUnavailable, "worker pool queue is full");
    }
    boost::asio::post(
        pool_, [this, work = std::move(work), reply_to, done = std::move(done)]() mutable {
          --queued_;
          auto result = std::make_shared<R>(work());
          boost::asio::post(
              reply_to, [done = std::move(done), result]() mutable { done(std::move(*result)); });
        });
    return ok();
  }

  // Runs `work()` on a worker and waits for it (for CLI and start-up code, never on the loop).
  template <class R>
  R run_sync(std::function<R()> work) {
    std::promise<R> p;
    auto f = p.get_future();
    boost::asio::post(pool_, [&] { p.set_value(work()); });
    return f.get();
  }

  std::size_t queued() const noexcept { return queued_.load(); }

 private:
  boost::asio::thread_pool pool_;
  std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
};

}  // namespace netpulse::core
