// IoThread: an io_context run by one thread of its own, for network I/O that should not take
// turns on the event loop (the notifier's deliveries: a storm's thousands of connections,
// writes and reads, and the building and reading of their requests, would otherwise queue
// ahead of the API's requests). Handlers on it run one at a time, so an object that lives on it
// (core::HttpClient, the SMTP client) needs no locks; results are posted back to the loop.
//
// Threads: construct, post(), run_sync() and stop() from one thread (the loop). stop() (and the
// destructor) ends the thread and destroys the handlers still queued, without running them, on
// the caller's thread; objects living on the thread must have been destroyed there first
// (run_sync). After stop(), post() refuses and executor() must not be used.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace netpulse::core {

class IoThread {
 public:
  // `name`: the thread's name as `top -H` shows it (at most 15 characters are kept). `nice`:
  // the thread's nice value (0..19): above 0, the scheduler prefers the event loop and the
  // other threads when the CPUs are all busy (background work such as deliveries).
  explicit IoThread(std::string name, int nice = 0);
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::any_io_executor executor() noexcept { return io_->get_executor(); }
  // Queues `f` to run on the thread; false (and `f` dropped) once stopped.
  template <class F>
  bool post(F&& f) {
    if (!running()) return false;
    boost::asio::post(*io_, std::forward<F>(f));
    return true;
  }
  // Runs `f` on the thread and returns once it has run (to build or destroy what lives there);
  // an exception from `f` is rethrown here. Never from the thread itself. After stop(), runs
  // `f` on the caller's thread.
  void run_sync(const std::function<void()>& f);
  void stop();
  bool running() const noexcept { return thread_.joinable(); }

 private:
  std::optional<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace netpulse::core
