// A range query made from its parameters (the query string of GET /api/v1/query_range, or one
// object of POST /api/v1/query_batch), then run: the store's select, the evaluation and the JSON
// on the worker pool. routes_query.cpp and routes_query_batch.cpp share it.
#pragma once

#include <functional>
#include <string>

#include <netpulse/api/routes.hpp>
#include <netpulse/tsdb/query.hpp>
#include <netpulse/tsdb/store.hpp>

#include "metric_params.hpp"

namespace netpulse::api::detail {

struct PreparedRange {
  tsdb::SelectRequest request;
  tsdb::RangeQuery query;
  std::string tier_label;  // "raw", "5m", "1h"
};

// The query from its parameters (query, start, end, step, agg, fn, width, by, group, topk,
// points, tier), or INVALID_INPUT naming the parameter.
core::Result<PreparedRange> prepare_range(const ParamLookup& params, std::int64_t org_id,
                                          tsdb::Timestamp now, tsdb::Timestamp raw_retention_ms);
// Runs it; `done` gets the series as a JSON array's text, on the loop.
void run_range(const RouteDeps& deps, PreparedRange p,
               std::function<void(core::Result<std::string>)> done);
// {"series":<series_json>,"tier":..,"step":..}: the `data` of a range query's answer.
std::string range_data_json(const PreparedRange& p, const std::string& series_json);

}  // namespace netpulse::api::detail
