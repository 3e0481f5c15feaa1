// Login throttling: consecutive failures per (account, source address) and per source address,
// with exponential lock-out. Private to the auth module. Not thread-safe: used on the event loop
// only.
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
  int account_failures = 5;  // consecutive failures before an (account, source) pair is locked
  int ip_failures = 20;      // failures before a source address is locked
  std::chrono::seconds base{1};
  std::chrono::seconds max{900};
  std::size_t max_entries = 100000;  // per kind (pairs, sources); the oldest are evicted beyond it
};

// After `threshold` failures a key is locked for base * 2^(failures - threshold), capped at max.
// A key with no failure for `max` seconds past the end of its lock is forgotten.
//
// An account is locked per source address: failures from one address never lock the account for
// another, so an attacker cannot keep a user (an administrator) out by failing on purpose. An
// address that fails too often across accounts is locked as a whole. A success clears the pair;
// the address's count is left to expire, so one good password does not clear an address that is
// guessing at many accounts. IPv6 sources count per /64 (one host's usual allocation), IPv4 per
// address.
class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, ThrottleOptions options);

  // Seconds (rounded up) until a login for this account from this address may be tried; 0 when
  // neither the pair nor the address is locked. `account` is matched case-insensitively.
  std::int64_t remaining_s(std::string_view account, std::string_view ip) const;
  // The same for the address alone and for the pair alone.
  std::int64_t source_remaining_s(std::string_view ip) const;
  std::int64_t pair_remaining_s(std::string_view account, std::string_view ip) const;

  // Counts a failure against the pair and the address (none when `ip` is empty). Returns true
  // when this failure locked the pair (it reached the threshold).
  bool record_failure(std::string_view account, std::string_view ip);
  void record_success(std::string_view account, std::string_view ip);

  // Forgets the pair when its last failure happened before `unlocked_at_ms` (Unix ms): an
  // administrator unlocked the account since.
  void forgive(std::string_view account, std::string_view ip, std::int64_t unlocked_at_ms);

  // The key an address counts under: the /64 of an IPv6 address, an IPv4 address as is (also
  // when written IPv4-mapped), anything else unchanged.
  static std::string source_key(std::string_view ip);

  // Keys currently held (pairs + sources); for tests of the memory bound.
  std::size_t size() const noexcept { return pairs_.size() + sources_.size(); }

 private:
  struct Entry {
    std::string key;
    int failures = 0;
    core::SteadyTime last_failure{};
    std::int64_t last_failure_unix_ms = 0;
    core::SteadyTime locked_until{};
  };
  // Entries in order of their last failure (oldest first) plus an index by key.
  struct Table {
    std::list<Entry> order;
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    std::size_t size() const noexcept { return index.size(); }
  };

  static std::string pair_key(std::string_view account, std::string_view ip);
  std::int64_t remaining_in(const Table& table, const std::string& key) const;
  // Returns true when this failure reached the threshold.
  bool fail(Table& table, const std::string& key, int threshold);
  static void erase(Table& table, const std::string& key);
  bool stale(const Entry& e, core::SteadyTime now) const;

  const core::Clock& clock_;
  ThrottleOptions options_;
  Table pairs_;
  Table sources_;
};

}  // namespace netpulse::auth::detail
