// Token-bucket rate limiting keyed by client IP or user. Each key gets `burst` tokens refilled at
// `rate` per second; a request takes one. Memory is bounded: past `max_keys` the table drops
// buckets that have refilled completely (they hold no state worth keeping), then the oldest.
// Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include <netpulse/core/clock.hpp>

namespace netpulse::api::detail {

class RateLimiter {
 public:
  RateLimiter(const core::Clock& clock, double rate_per_s, double burst,
              std::size_t max_keys = 100000);

  // Takes a token for `key`. Returns 0 when allowed, else the whole seconds to wait (≥ 1).
  std::int64_t acquire(std::string_view key);
  std::size_t size() const noexcept { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    core::SteadyTime updated;
  };
  void prune(core::SteadyTime now);

  const core::Clock& clock_;
  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace netpulse::api::detail
