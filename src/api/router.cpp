// Route matching: patterns are split into segments once; a "{name}" segment matches any one
// non-empty segment and binds it. Literal segments win over parameters when both could match.
#include <cstdio>
#include <cstdlib>

#include <netpulse/api/router.hpp>

#include "detail/url.hpp"

namespace netpulse::api {

namespace {
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    auto slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

// Score: number of literal segments (more literal = more specific); -1 when no match.
int match_pattern(std::string_view pattern, const std::vector<std::string_view>& segs,
                  std::vector<std::pair<std::string, std::string>>* params) {
  auto pat = split(pattern);
  if (pat.size() != segs.size()) return -1;
  int literal = 0;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    auto p = pat[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      if (segs[i].empty()) return -1;
      std::string decoded;
      if (!detail::percent_decode(segs[i], decoded, false)) return -1;
      if (params) params->emplace_back(std::string(p.substr(1, p.size() - 2)), std::move(decoded));
    } else if (p != segs[i]) {
      return -1;
    } else {
      ++literal;
    }
  }
  return literal;
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
  routes_.push_back(std::move(route));
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  Match m;
  auto segs = split(path);
  int best = -1;
  for (auto& r : routes_) {
    int score = match_pattern(r.pattern, segs, nullptr);
    if (score < 0) continue;
    bool seen = false;
    for (auto v : m.allowed) seen = seen || v == r.method;
    if (!seen) m.allowed.push_back(r.method);
    if (r.method == method && score > best) {
      best = score;
      m.route = &r;
    }
  }
  if (m.route) match_pattern(m.route->pattern, segs, &m.params);
  return m;
}

}  // namespace netpulse::api
