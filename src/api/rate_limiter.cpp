// Token buckets for the per-IP and per-user request limits.
#include "detail/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace netpulse::api::detail {

RateLimiter::RateLimiter(const core::Clock& clock, double rate_per_s, double burst,
                         std::size_t max_keys)
    : clock_(clock), rate_(rate_per_s), burst_(burst < 1 ? 1 : burst), max_keys_(max_keys) {}

std::int64_t RateLimiter::acquire(std::string_view key) {
  auto now = clock_.steady_now();
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) prune(now);
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  auto& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = (1.0 - b.tokens) / rate_;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait)));
}

void RateLimiter::prune(core::SteadyTime now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * rate_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (a flood of distinct keys all mid-bucket): drop the least recently used half.
  if (buckets_.size() >= max_keys_) {
    std::vector<std::pair<core::SteadyTime, std::string>> ages;
    ages.reserve(buckets_.size());
    for (auto& [k, b] : buckets_) ages.emplace_back(b.updated, k);
    std::nth_element(ages.begin(), ages.begin() + static_cast<long>(ages.size() / 2), ages.end());
    for (std::size_t i = 0; i < ages.size() / 2; ++i) buckets_.erase(ages[i].second);
  }
}

}  // namespace netpulse::api::detail
