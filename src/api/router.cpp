// Route matching: patterns are split into segments once, at add(); a "{name}" segment matches any
// one non-empty segment and binds it. Literal segments win over parameters when both could match.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include <netpulse/api/router.hpp>

#include "detail/url.hpp"

namespace netpulse::api {

namespace {

// Splits "/a/b/c" into {"a","b","c"} without allocating strings; at most kMaxSegments.
constexpr std::size_t kMaxSegments = 32;
std::size_t split(std::string_view path, std::array<std::string_view, kMaxSegments>& out) {
  std::size_t n = 0;
  std::size_t i = (!path.empty() && path[0] == '/') ? 1 : 0;
  while (i <= path.size()) {
    if (n == kMaxSegments) return kMaxSegments + 1;
    auto slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    out[n++] = path.substr(i, slash - i);
    i = slash + 1;
  }
  return n;
}

}  // namespace

void Router::add(Route route) {
  for (auto& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      std::fprintf(stderr, "duplicate route %s %s\n",
                   std::string(http::to_string(r.method)).c_str(), r.pattern.c_str());
      std::abort();
    }
  }
  std::array<std::string_view, kMaxSegments> parts;
  auto n = split(route.pattern, parts);
  if (n > kMaxSegments) {
    std::fprintf(stderr, "route pattern has too many segments: %s\n", route.pattern.c_str());
    std::abort();
  }
  std::vector<Segment> segs;
  for (std::size_t i = 0; i < n; ++i) {
    auto p = parts[i];
    bool param = p.size() >= 2 && p.front() == '{' && p.back() == '}';
    segs.push_back({std::string(param ? p.substr(1, p.size() - 2) : p), param});
  }
  routes_.push_back(std::move(route));
  segments_.push_back(std::move(segs));
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  Match m;
  std::array<std::string_view, kMaxSegments> parts;
  auto n = split(path, parts);
  if (n > kMaxSegments) return m;
  int best = -1;
  std::size_t best_index = 0;
  std::string decoded;
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    auto& segs = segments_[r];
    if (segs.size() != n) continue;
    // Score: literal segments matched (more literal = more specific); -1 when no match.
    int literal = 0;
    for (std::size_t i = 0; i < n && literal >= 0; ++i) {
      if (segs[i].is_param) {
        if (parts[i].empty() || !detail::percent_decode(parts[i], decoded, false)) literal = -1;
      } else if (segs[i].text != parts[i]) {
        literal = -1;
      } else {
        ++literal;
      }
    }
    if (literal < 0) continue;
    auto rm = routes_[r].method;
    if (std::find(m.allowed.begin(), m.allowed.end(), rm) == m.allowed.end()) {
      m.allowed.push_back(rm);
    }
    if (rm == method && literal > best) {
      best = literal;
      best_index = r;
    }
  }
  if (best < 0) return m;
  m.route = &routes_[best_index];
  auto& segs = segments_[best_index];
  for (std::size_t i = 0; i < n; ++i) {
    if (!segs[i].is_param) continue;
    detail::percent_decode(parts[i], decoded, false);
    m.params.emplace_back(segs[i].text, decoded);
  }
  return m;
}

}  // namespace netpulse::api
