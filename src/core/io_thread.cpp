// IoThread's thread: started at construction, joined by stop().
#include <algorithm>
#include <future>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <netpulse/core/io_thread.hpp>

namespace netpulse::core {

IoThread::IoThread(std::string name, int nice) {
  io_.emplace(1);
  work_.emplace(io_->get_executor());
  thread_ = std::thread([this, name = std::move(name), nice] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    // Linux's nice is per thread (setpriority on the thread id); raising it needs no privilege.
    // A failure only leaves the thread at the loop's priority.
    if (nice > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(nice, 19));
    io_->run();
  });
}

IoThread::~IoThread() {
  stop();
}

void IoThread::run_sync(const std::function<void()>& f) {
  if (!running()) return f();
  std::promise<void> done;
  boost::asio::post(*io_, [&] {
    try {
      f();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

void IoThread::stop() {
  if (!running()) return;
  work_.reset();
  io_->stop();
  thread_.join();
  io_.reset();  // the handlers never run are destroyed here
}

}  // namespace netpulse::core
