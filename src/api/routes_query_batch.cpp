// POST /api/v1/query_batch: up to 50 range queries in one request, each the parameters of GET
// /api/v1/query_range as a JSON object, each answered in place (its series, or its own error), so
// one bad panel does not blank a dashboard and a dashboard of many panels costs its viewer one
// request of their rate limit (docs/web.md). The queries run concurrently; the answer is spliced
// together as text once the last one is in.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/handler.hpp"
#include "detail/range_query.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

constexpr std::size_t kMaxQueries = 50;
constexpr std::size_t kMaxIdLength = 64;
constexpr std::array kParams = {"query", "start", "end",   "step", "agg",    "fn",
                                "width", "by",    "group", "topk", "points", "tier"};

// The error of query `index`, its field named inside the batch ("queries[3].step").
core::Error in_query(core::Error e, std::size_t index) {
  const auto prefix = fmt::format("queries[{}]", index);
  if (auto* field = e.details.if_contains("field"); field && field->is_string()) {
    const std::string name(field->as_string());
    e.details["field"] = prefix + "." + name;
    if (e.message.starts_with(name + ":")) e.message = prefix + "." + e.message;
  }
  return e;
}

std::string error_json(const core::Error& e) {
  return core::to_json_text(boost::json::object{
      {"error",
       {{"code", core::errc_name(e.code)}, {"message", e.message}, {"details", e.details}}}});
}

// One query's parameters as text, read from its object: strings as they are, numbers as
// written, an array of strings (by) joined with commas. kInvalidInput for anything else.
core::Result<std::map<std::string, std::string, std::less<>>> query_params(
    const boost::json::object& o, std::size_t index) {
  std::map<std::string, std::string, std::less<>> out;
  const auto prefix = fmt::format("queries[{}]", index);
  for (const auto& [k, v] : o) {
    if (k == "id") continue;
    if (std::find(kParams.begin(), kParams.end(), std::string_view(k)) == kParams.end())
      return core::invalid_field(prefix + "." + std::string(k), "not a parameter of a range query");
    const std::string field = prefix + "." + std::string(k);
    if (v.is_string()) {
      out.emplace(k, std::string(v.get_string()));
    } else if (v.is_int64() || v.is_uint64() || v.is_double()) {
      out.emplace(k, core::to_json_text(v));
    } else if (v.is_array() && k == "by") {
      std::string joined;
      for (const auto& label : v.get_array()) {
        if (!label.is_string()) return core::invalid_field(field, "must be label names");
        if (!joined.empty()) joined += ",";
        joined += label.get_string();
      }
      out.emplace(k, std::move(joined));
    } else if (!v.is_null()) {
      return core::invalid_field(field, "must be a string or a number");
    }
  }
  return out;
}

struct Batch {
  ContextPtr ctx;
  std::vector<std::string> ids;      // each query's "id" as JSON (or null)
  std::vector<std::string> results;  // each query's answer as JSON text
  std::size_t waiting = 0;

  void finish() {
    std::string data = R"({"results":[)";
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i) data += ',';
      // Each result is an object's text: its id goes in first.
      data += R"({"id":)";
      data += ids[i];
      data += ',';
      data.append(results[i], 1, std::string::npos);
    }
    data += "]}";
    ctx->reply({http::status::ok, fmt::format(R"({{"success":true,"data":{},"meta":{}}})", data,
                                              core::to_json_text(ctx->meta()))});
  }
};

void query_batch(const ContextPtr& ctx, const RouteDeps& deps) {
  const auto& body = ctx->body();
  const auto* list = body.if_contains("queries");
  if (list == nullptr || !list->is_array())
    return ctx->reply_error(core::invalid_field("queries", "required: an array of range queries"));
  const auto& queries = list->get_array();
  if (queries.empty() || queries.size() > kMaxQueries)
    return ctx->reply_error(
        core::invalid_field("queries", fmt::format("from 1 to {} queries", kMaxQueries)));
  for (const auto& [k, v] : body) {
    if (k != "queries")
      return ctx->reply_error(core::invalid_field(k, "not a field of a query batch"));
  }
  auto batch = std::make_shared<Batch>();
  batch->ctx = ctx;
  batch->ids.resize(queries.size(), "null");
  batch->results.resize(queries.size());
  const auto now = deps.clock.unix_millis();
  std::vector<std::pair<std::size_t, PreparedRange>> runs;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (!queries[i].is_object())
      return ctx->reply_error(
          core::invalid_field(fmt::format("queries[{}]", i), "must be an object"));
    const auto& o = queries[i].get_object();
    if (const auto* id = o.if_contains("id"); id && !id->is_null()) {
      if (!id->is_string() || id->get_string().size() > kMaxIdLength)
        return ctx->reply_error(core::invalid_field(
            fmt::format("queries[{}].id", i),
            fmt::format("must be a string of at most {} characters", kMaxIdLength)));
      batch->ids[i] = core::to_json_text(*id);
    }
    auto params = query_params(o, i);
    if (!params) return ctx->reply_error(params.error());
    auto lookup = [&p = *params](std::string_view name) -> std::optional<std::string> {
      auto it = p.find(name);
      if (it == p.end()) return std::nullopt;
      return it->second;
    };
    auto prepared = prepare_range(lookup, ctx->org_scope().org_id(), now, deps.raw_retention_ms);
    if (!prepared) {
      batch->results[i] = error_json(in_query(prepared.error(), i));
      continue;
    }
    runs.emplace_back(i, std::move(*prepared));
  }
  batch->waiting = runs.size();
  if (runs.empty()) return batch->finish();
  for (auto& [index, prepared] : runs) {
    PreparedRange shape;
    shape.tier_label = prepared.tier_label;
    shape.query.step = prepared.query.step;
    run_range(deps, std::move(prepared),
              [batch, index = index, shape = std::move(shape)](core::Result<std::string> series) {
                batch->results[index] = series ? range_data_json(shape, *series)
                                               : error_json(in_query(series.error(), index));
                if (--batch->waiting == 0) batch->finish();
              });
  }
}

}  // namespace

void register_query_batch_routes(Router& router, const RouteDeps& deps_in) {
  auto shared = std::make_shared<RouteDeps>(deps_in);
  const RouteDeps& deps = *shared;
  auto batch = make_route(
      http::verb::post, "/api/v1/query_batch", Permission::kMetricsRead,
      "Up to 50 range queries in one request: {\"queries\":[{\"id\",\"query\",\"start\",...}]}, "
      "each with the parameters of GET /api/v1/query_range and answered in place with its "
      "series or its own error.",
      "metrics", [shared, &deps](ContextPtr ctx) { query_batch(ctx, deps); }, Body::kJson);
  batch.doc.success_status = 200;
  batch.audited = false;
  router.add(std::move(batch));
}

}  // namespace netpulse::api::detail
