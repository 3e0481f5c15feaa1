// Canonical series keys: how the index stores a series once, compactly.
//
//   key = org (8 bytes, big-endian two's complement) | metric | ( NUL name NUL value )*
//
// with labels sorted by name. Names never contain NUL (they are [a-zA-Z0-9_:]) and label values
// are refused with NUL, so the encoding is unambiguous. The SQLite index stores the key without
// the org prefix (tsdb_series.key) next to org_id.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb::detail {

inline constexpr std::size_t kOrgPrefixBytes = 8;

// The hash the series index and KeyedBatch use for a canonical key.
inline std::size_t series_key_hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

inline void append_org_prefix(std::string& out, std::int64_t org) {
  auto u = static_cast<std::uint64_t>(org);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

inline std::int64_t org_of_key(std::string_view key) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < kOrgPrefixBytes && i < key.size(); ++i)
    u = (u << 8) | static_cast<unsigned char>(key[i]);
  return static_cast<std::int64_t>(u);
}

// The org-prefixed canonical key of (org, metric, labels); `labels` sorted by name.
inline std::string encode_series_key(std::int64_t org, const SeriesKey& k) {
  std::string out;
  std::size_t n = kOrgPrefixBytes + k.metric.size();
  for (const auto& [name, value] : k.labels) n += 2 + name.size() + value.size();
  out.reserve(n);
  append_org_prefix(out, org);
  out.append(k.metric);
  for (const auto& [name, value] : k.labels) {
    out.push_back('\0');
    out.append(name);
    out.push_back('\0');
    out.append(value);
  }
  return out;
}

// Walks a canonical key without the org prefix: metric, then (name, value) pairs.
class KeyView {
 public:
  explicit KeyView(std::string_view unprefixed) : rest_(unprefixed) {
    auto p = rest_.find('\0');
    metric_ = rest_.substr(0, p);
    rest_ = p == std::string_view::npos ? std::string_view() : rest_.substr(p + 1);
  }
  std::string_view metric() const { return metric_; }
  // The next label; false when there is none.
  bool next(std::string_view& name, std::string_view& value) {
    if (rest_.empty()) return false;
    auto p = rest_.find('\0');
    if (p == std::string_view::npos) return false;
    name = rest_.substr(0, p);
    rest_ = rest_.substr(p + 1);
    auto q = rest_.find('\0');
    value = rest_.substr(0, q);
    rest_ = q == std::string_view::npos ? std::string_view() : rest_.substr(q + 1);
    return true;
  }
  // The value of label `name`, "" when absent.
  static std::string_view label(std::string_view unprefixed, std::string_view name) {
    KeyView v(unprefixed);
    std::string_view n, val;
    while (v.next(n, val)) {
      if (n == name) return val;
    }
    return {};
  }

 private:
  std::string_view metric_;
  std::string_view rest_;
};

inline SeriesKey decode_series_key(std::string_view unprefixed) {
  SeriesKey k;
  KeyView v(unprefixed);
  k.metric = std::string(v.metric());
  std::string_view n, val;
  while (v.next(n, val)) k.labels.emplace_back(std::string(n), std::string(val));
  return k;
}

}  // namespace netpulse::tsdb::detail
