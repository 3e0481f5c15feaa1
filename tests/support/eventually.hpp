// Waiting, bounded, for something a separate process does (a server polling a device, a peer
// coming up): there is no event to wait on across processes, so the condition is polled.
#pragma once

#include <chrono>
#include <thread>

namespace netpulse::test {

// Calls `condition` every `interval` until it returns true (then true) or `limit` has passed
// (then false, after one last call).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(20),
                std::chrono::milliseconds interval = std::chrono::milliseconds(100)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace netpulse::test
