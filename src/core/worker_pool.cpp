// The worker pool's lifetime; the templates that queue work live in the header.
#include <netpulse/core/worker_pool.hpp>

namespace netpulse::core {

WorkerPool::WorkerPool(std::size_t threads, std::size_t max_queued)
    : pool_(threads == 0 ? 1 : threads), max_queued_(max_queued) {}

WorkerPool::~WorkerPool() {
  pool_.join();
}

}  // namespace netpulse::core
