// Login throttling: consecutive failures per account and per source IP, with exponential lock-out.
// Private to the auth module. Not thread-safe: used on the event loop only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include <netpulse/core/clock.hpp>

namespace netpulse::auth::detail {

struct ThrottleOptions {
  int account_failures = 5;  // consecutive failures before an account is locked
  int ip_failures = 20;      // failures before a source IP is locked
  std::chrono::seconds base{1};
  std::chrono::seconds max{900};
  std::size_t max_entries = 100000;  // per kind (accounts, IPs); the oldest are evicted beyond it
};

// After `threshold` failures a key is locked for base * 2^(failures - threshold), capped at max.
// A key with no failure for `max` seconds past the end of its lock is forgotten. A success
// resets the account's count; IP counts are left to expire, so one good password does not clear
// an IP that is guessing at many accounts.
class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, ThrottleOptions options);

  // Seconds (rounded up) until a login for this account or from this IP may be tried; 0 when
  // neither is locked. `account` is matched case-insensitively.
  std::int64_t remaining_s(std::string_view account, std::string_view ip) const;
  void record_failure(std::string_view account, std::string_view ip);
  void record_success(std::string_view account);

  // Keys currently held (accounts + IPs); for tests of the memory bound.
  std::size_t size() const noexcept { return accounts_.size() + ips_.size(); }

 private:
  struct Entry {
    std::string key;
    int failures = 0;
    core::SteadyTime last_failure{};
    core::SteadyTime locked_until{};
  };
  // Entries in order of their last failure (oldest first) plus an index by key.
  struct Table {
    std::list<Entry> order;
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    std::size_t size() const noexcept { return index.size(); }
  };

  static std::string account_key(std::string_view account);
  std::int64_t remaining_in(const Table& table, const std::string& key) const;
  void fail(Table& table, const std::string& key, int threshold);
  bool stale(const Entry& e, core::SteadyTime now) const;

  const core::Clock& clock_;
  ThrottleOptions options_;
  Table accounts_;
  Table ips_;
};

}  // namespace netpulse::auth::detail
