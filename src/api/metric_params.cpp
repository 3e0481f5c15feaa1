// The query-string readers and JSON writers the metric route files share
// (detail/metric_params.hpp).
#include "detail/metric_params.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "detail/url.hpp"

namespace netpulse::api::detail {

using tsdb::Timestamp;

// Every (name, decoded value) pair of the query string.
std::vector<std::pair<std::string, std::string>> query_pairs(const ContextPtr& ctx) {
  std::vector<std::pair<std::string, std::string>> out;
  auto target = std::string_view(ctx->request().target());
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = part.find('=');
    std::string key, value;
    if (!percent_decode(part.substr(0, eq), key, true)) continue;
    if (eq != std::string_view::npos && !percent_decode(part.substr(eq + 1), value, true)) continue;
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// Every decoded value of `name` in the request's query string (for repeated `match[]`).
std::vector<std::string> query_all(const ContextPtr& ctx, std::string_view name) {
  std::vector<std::string> out;
  for (auto& [key, value] : query_pairs(ctx)) {
    if (key == name) out.push_back(std::move(value));
  }
  return out;
}

// Unix seconds, integer or decimal (kept to the millisecond) → ms.
std::optional<Timestamp> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  if (v < -1e13 || v > 1e13) return std::nullopt;
  return static_cast<Timestamp>(std::llround(v * 1000.0));
}

// "300", "300s", "500ms", "5m", "1h", "7d" → ms (positive).
std::optional<Timestamp> parse_duration_ms(std::string_view text) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  auto number = text.substr(0, i);
  auto unit = text.substr(i);
  double v = 0;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || ec != std::errc() || p != number.data() + number.size())
    return std::nullopt;
  double mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else if (unit == "w")
    mult = 7 * 86'400'000.0;
  else
    return std::nullopt;
  double ms = v * mult;
  if (!(ms >= 1) || ms > 1e13) return std::nullopt;
  return static_cast<Timestamp>(std::llround(ms));
}

core::Result<std::optional<Timestamp>> time_param(const ParamLookup& params,
                                                  std::string_view name) {
  auto v = params(name);
  if (!v) return std::optional<Timestamp>();
  auto t = parse_unix_seconds(*v);
  if (!t)
    return core::invalid_field(name,
                               "must be a Unix time in seconds (e.g. 1721199945 or "
                               "1721199945.5)");
  return std::optional<Timestamp>(*t);
}

core::Result<std::optional<Timestamp>> duration_param(const ParamLookup& params,
                                                      std::string_view name) {
  auto v = params(name);
  if (!v) return std::optional<Timestamp>();
  auto d = parse_duration_ms(*v);
  if (!d)
    return core::invalid_field(name,
                               "must be a duration: seconds, or a number with ms, s, "
                               "m, h, d or w (e.g. 60, 5m, 1h)");
  return std::optional<Timestamp>(*d);
}

core::Result<std::optional<std::int64_t>> int_param(const ParamLookup& params,
                                                    std::string_view name, std::int64_t lo,
                                                    std::int64_t hi) {
  auto v = params(name);
  if (!v) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    return core::invalid_field(name, fmt::format("must be an integer from {} to {}", lo, hi));
  }
  return std::optional<std::int64_t>(n);
}

ParamLookup query_lookup(const ContextPtr& ctx) {
  return [ctx](std::string_view name) { return ctx->query(name); };
}

core::Result<std::optional<Timestamp>> time_param(const ContextPtr& ctx, std::string_view name) {
  return time_param(query_lookup(ctx), name);
}

core::Result<std::optional<Timestamp>> duration_param(const ContextPtr& ctx,
                                                      std::string_view name) {
  return duration_param(query_lookup(ctx), name);
}

core::Result<std::optional<std::int64_t>> int_param(const ContextPtr& ctx, std::string_view name,
                                                    std::int64_t lo, std::int64_t hi) {
  return int_param(query_lookup(ctx), name, lo, hi);
}

core::Result<bool> bool_param(const ContextPtr& ctx, std::string_view name) {
  auto v = ctx->query(name);
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return core::invalid_field(name, "must be true or false");
}

// --- JSON output -----------------------------------------------------------------------------

// Unix seconds as JSON: an integer for whole seconds, else a decimal.
boost::json::value json_time(Timestamp t) {
  if (t % 1000 == 0) return t / 1000;
  return static_cast<double>(t) / 1000.0;
}

// A sample value as JSON: an integer when it is one (counters read back as they were written),
// else a double; NaN as null.
boost::json::value json_value(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0 && !(v == 0 && std::signbit(v)))
    return static_cast<std::int64_t>(v);
  return v;
}

boost::json::object json_labels(const tsdb::LabelSet& labels) {
  boost::json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

core::Result<std::vector<tsdb::Selector>> match_params(const ContextPtr& ctx) {
  std::vector<tsdb::Selector> out;
  auto values = query_all(ctx, "match[]");
  for (auto& v : query_all(ctx, "match")) values.push_back(std::move(v));
  if (values.size() > 16) return core::invalid_field("match[]", "at most 16 selectors");
  for (const auto& v : values) {
    auto sel = tsdb::Selector::parse(v);
    if (!sel) return core::invalid_field("match[]", sel.error().message);
    out.push_back(std::move(*sel));
  }
  return out;
}

}  // namespace netpulse::api::detail
