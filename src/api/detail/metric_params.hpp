// What the metric routes (ingest, queries, series) share: reading the query string (times,
// durations, bounded integers, booleans, repeated match[] selectors) with INVALID_INPUT errors that
// name the parameter, and writing times, values and labels as JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/api/context.hpp>
#include <netpulse/tsdb/selector.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::api::detail {

// --- query string ----------------------------------------------------------------------------

// A request's parameters by name: the query string's (query_lookup), or a JSON object's (the
// batch query). The readers below take either.
using ParamLookup = std::function<std::optional<std::string>(std::string_view)>;
ParamLookup query_lookup(const ContextPtr& ctx);

// Every (name, decoded value) pair of the query string, in order.
std::vector<std::pair<std::string, std::string>> query_pairs(const ContextPtr& ctx);
// Every decoded value of `name` in the request's query string (for repeated `match[]`).
std::vector<std::string> query_all(const ContextPtr& ctx, std::string_view name);
// Unix seconds, integer or decimal (kept to the millisecond) → ms.
std::optional<tsdb::Timestamp> parse_unix_seconds(std::string_view text);
// "300", "300s", "500ms", "5m", "1h", "7d", "1w" → ms (positive).
std::optional<tsdb::Timestamp> parse_duration_ms(std::string_view text);
// The query parameter `name` as a Unix time in seconds (→ ms); absent, or INVALID_INPUT.
core::Result<std::optional<tsdb::Timestamp>> time_param(const ParamLookup& params,
                                                        std::string_view name);
core::Result<std::optional<tsdb::Timestamp>> time_param(const ContextPtr& ctx,
                                                        std::string_view name);
// The query parameter `name` as a duration (→ ms); absent, or INVALID_INPUT.
core::Result<std::optional<tsdb::Timestamp>> duration_param(const ParamLookup& params,
                                                            std::string_view name);
core::Result<std::optional<tsdb::Timestamp>> duration_param(const ContextPtr& ctx,
                                                            std::string_view name);
// The query parameter `name` as an integer in [lo, hi]; absent, or INVALID_INPUT.
core::Result<std::optional<std::int64_t>> int_param(const ParamLookup& params,
                                                    std::string_view name, std::int64_t lo,
                                                    std::int64_t hi);
core::Result<std::optional<std::int64_t>> int_param(const ContextPtr& ctx, std::string_view name,
                                                    std::int64_t lo, std::int64_t hi);
// The query parameter `name` as true/1 or false/0 (absent: false), or INVALID_INPUT.
core::Result<bool> bool_param(const ContextPtr& ctx, std::string_view name);
// Every `match[]` (and `match`) selector, at most 16, or INVALID_INPUT naming match[].
core::Result<std::vector<tsdb::Selector>> match_params(const ContextPtr& ctx);

// --- JSON output -----------------------------------------------------------------------------

// Unix seconds as JSON: an integer for whole seconds, else a decimal.
boost::json::value json_time(tsdb::Timestamp t);
// A sample value as JSON: an integer when it is one (counters read back as they were written),
// else a double; NaN as null, infinities as "+Inf" / "-Inf".
boost::json::value json_value(double v);
// Labels as a JSON object.
boost::json::object json_labels(const tsdb::LabelSet& labels);

}  // namespace netpulse::api::detail
