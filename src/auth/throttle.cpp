// Login throttling. Each table (pairs of lower-cased email and source, sources) keeps one entry per
// key in a list ordered by last failure, so the oldest entry is always at the front: stale entries
// are dropped from the front as new failures arrive, and when a table reaches its bound the oldest
// entry is evicted. Memory is therefore bounded whatever an attacker sends. Time is the injected
// steady clock, so tests drive lock-outs with a ManualClock; each entry also keeps the wall time
// of its last failure, which an unlock stored in the database (by the CLI, another process) is
// compared with.
#include "detail/throttle.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace netpulse::auth::detail {

LoginThrottle::LoginThrottle(const core::Clock& clock, ThrottleOptions options)
    : clock_(clock), options_(options) {
  options_.account_failures = std::max(options_.account_failures, 1);
  options_.ip_failures = std::max(options_.ip_failures, 1);
  options_.max = std::max(options_.max, options_.base);
  options_.max_entries = std::max<std::size_t>(options_.max_entries, 1);
}

std::string LoginThrottle::source_key(std::string_view ip) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(ip, ec);
  if (ec) return std::string(ip);
  if (address.is_v4()) return address.to_v4().to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  // One subscriber usually gets a whole /64: counting per address would give an attacker 2^64
  // fresh starts.
  return boost::asio::ip::make_network_v6(v6, 64).canonical().to_string();
}

std::string LoginThrottle::pair_key(std::string_view account, std::string_view ip) {
  std::string key(account);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // '\n' cannot appear in an email (validation refuses control characters).
  key += '\n';
  key += source_key(ip);
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

std::int64_t LoginThrottle::source_remaining_s(std::string_view ip) const {
  if (ip.empty()) return 0;
  return remaining_in(sources_, source_key(ip));
}

std::int64_t LoginThrottle::pair_remaining_s(std::string_view account, std::string_view ip) const {
  return remaining_in(pairs_, pair_key(account, ip));
}

std::int64_t LoginThrottle::remaining_s(std::string_view account, std::string_view ip) const {
  return std::max(pair_remaining_s(account, ip), source_remaining_s(ip));
}

void LoginThrottle::erase(Table& table, const std::string& key) {
  auto it = table.index.find(key);
  if (it == table.index.end()) return;
  table.order.erase(it->second);
  table.index.erase(it);
}

bool LoginThrottle::fail(Table& table, const std::string& key, int threshold) {
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
  entry.last_failure_unix_ms = clock_.unix_millis();
  const bool locks = entry.failures >= threshold;
  if (locks) {
    // base * 2^(failures - threshold), computed so that the shift cannot overflow.
    const int doublings = std::min(entry.failures - threshold, 30);
    auto lock = options_.base * (std::int64_t{1} << doublings);
    if (lock > options_.max || lock < options_.base) lock = options_.max;
    entry.locked_until = now + lock;
  }
  const bool reached = entry.failures == threshold;
  table.order.push_back(std::move(entry));
  table.index[key] = std::prev(table.order.end());
  return reached;
}

bool LoginThrottle::record_failure(std::string_view account, std::string_view ip) {
  const bool locked = fail(pairs_, pair_key(account, ip), options_.account_failures);
  if (!ip.empty()) fail(sources_, source_key(ip), options_.ip_failures);
  return locked;
}

void LoginThrottle::record_success(std::string_view account, std::string_view ip) {
  erase(pairs_, pair_key(account, ip));
}

void LoginThrottle::forgive(std::string_view account, std::string_view ip,
                            std::int64_t unlocked_at_ms) {
  const auto key = pair_key(account, ip);
  auto it = pairs_.index.find(key);
  if (it == pairs_.index.end()) return;
  if (it->second->last_failure_unix_ms < unlocked_at_ms) erase(pairs_, key);
}

}  // namespace netpulse::auth::detail
