// Login throttling. Each table (accounts by lower-cased email, source IPs) keeps one entry per
// key in a list ordered by last failure, so the oldest entry is always at the front: stale
// entries are dropped from the front as new failures arrive, and when a table reaches its bound
// the oldest entry is evicted. Memory is therefore bounded whatever an attacker sends. Time is
// the injected steady clock, so tests drive lock-outs with a ManualClock.
#include "detail/throttle.hpp"

#include <algorithm>
#include <cctype>

namespace netpulse::auth::detail {

LoginThrottle::LoginThrottle(const core::Clock& clock, ThrottleOptions options)
    : clock_(clock), options_(options) {
  options_.account_failures = std::max(options_.account_failures, 1);
  options_.ip_failures = std::max(options_.ip_failures, 1);
  options_.max = std::max(options_.max, options_.base);
  options_.max_entries = std::max<std::size_t>(options_.max_entries, 1);
}

std::string LoginThrottle::account_key(std::string_view account) {
  std::string key(account);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return key;
}

bool LoginThrottle::stale(const Entry& e, core::SteadyTime now) const {
  return now >= std::max(e.locked_until, e.last_failure) + options_.max;
}

std::int64_t LoginThrottle::remaining_in(const Table& table, const std::string& key) const {
  auto it = table.index.find(key);
  if (it == table.index.end()) return 0;
  const auto now = clock_.steady_now();
  const auto& entry = *it->second;
  if (entry.locked_until <= now) return 0;
  const auto left = entry.locked_until - now;
  return std::chrono::ceil<std::chrono::seconds>(left).count();
}

std::int64_t LoginThrottle::remaining_s(std::string_view account, std::string_view ip) const {
  return std::max(remaining_in(accounts_, account_key(account)),
                  remaining_in(ips_, std::string(ip)));
}

void LoginThrottle::fail(Table& table, const std::string& key, int threshold) {
  const auto now = clock_.steady_now();
  while (!table.order.empty() && stale(table.order.front(), now)) {
    table.index.erase(table.order.front().key);
    table.order.pop_front();
  }

  Entry entry;
  if (auto it = table.index.find(key); it != table.index.end()) {
    entry = std::move(*it->second);
    table.order.erase(it->second);
    table.index.erase(it);
    if (stale(entry, now)) entry.failures = 0;
  } else {
    entry.key = key;
    if (table.size() >= options_.max_entries) {
      table.index.erase(table.order.front().key);
      table.order.pop_front();
    }
  }

  entry.failures = std::min(entry.failures + 1, 1 << 20);
  entry.last_failure = now;
  if (entry.failures >= threshold) {
    // base * 2^(failures - threshold), computed so that the shift cannot overflow.
    const int doublings = std::min(entry.failures - threshold, 30);
    auto lock = options_.base * (std::int64_t{1} << doublings);
    if (lock > options_.max || lock < options_.base) lock = options_.max;
    entry.locked_until = now + lock;
  }
  table.order.push_back(std::move(entry));
  table.index[key] = std::prev(table.order.end());
}

void LoginThrottle::record_failure(std::string_view account, std::string_view ip) {
  fail(accounts_, account_key(account), options_.account_failures);
  if (!ip.empty()) fail(ips_, std::string(ip), options_.ip_failures);
}

void LoginThrottle::record_success(std::string_view account) {
  auto it = accounts_.index.find(account_key(account));
  if (it == accounts_.index.end()) return;
  accounts_.order.erase(it->second);
  accounts_.index.erase(it);
}

}  // namespace netpulse::auth::detail
