// Up/down decisions with flap damping; see detail/reachability.hpp.
#include "detail/reachability.hpp"

#include <algorithm>

namespace netpulse::pollers::detail {

bool Reachability::flapping(std::int64_t t, const ReachabilityOptions& o) const {
  const auto recent = std::count_if(changes_.begin(), changes_.end(),
                                    [&](std::int64_t at) { return at > t - o.flap_window_s; });
  return recent >= o.flap_changes;
}

std::optional<bool> Reachability::observe(bool answered, std::int64_t t,
                                          const ReachabilityOptions& o) {
  if (answered) {
    ++successes_;
    failures_ = 0;
  } else {
    ++failures_;
    successes_ = 0;
  }
  std::optional<bool> next;
  if (!up_) {
    next = answered;  // first verdict
  } else if (*up_ && failures_ >= std::max(1, o.down_after)) {
    next = false;
  } else if (!*up_ && answered) {
    const int needed = flapping(t, o) ? o.flap_up_after : o.up_after;
    if (successes_ >= std::max(1, needed)) next = true;
  }
  if (!next || next == up_) return std::nullopt;
  const bool first = !up_.has_value();
  up_ = next;
  if (!first) {
    changes_.push_back(t);
    while (changes_.size() > static_cast<std::size_t>(std::max(1, o.flap_changes))) {
      changes_.pop_front();
    }
  }
  return next;
}

}  // namespace netpulse::pollers::detail
