// Metric query routes: range queries (raw, step-aggregated, rate/increase, grouped, top-k,
// downsampled, from the tier that fits), instant queries and the dashboard call. Reads are
// confined to the caller's organization; a range query's evaluation and its JSON are made on the
// worker pool, and the answer is spliced into the envelope as text.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <netpulse/core/json.hpp>
#include <netpulse/tsdb/aggregate.hpp>
#include <netpulse/tsdb/query.hpp>

#include "detail/handler.hpp"
#include "detail/metric_params.hpp"
#include "detail/range_query.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using tsdb::Timestamp;

constexpr Timestamp kMaxQueryRangeMs = 800LL * 86'400'000;
constexpr std::int64_t kMaxPointsPerSeries = 11'000;

core::Result<tsdb::Selector> selector_param(const ParamLookup& params, std::string_view name) {
  auto q = params(name);
  if (!q || q->empty())
    return core::invalid_field(name,
                               "required: a series selector such as "
                               "ifHCInOctets{host=\"core-1\"}");
  auto sel = tsdb::Selector::parse(*q);
  if (!sel) return core::invalid_field(name, sel.error().message);
  return sel;
}

boost::json::object series_json(const tsdb::ResultSeries& s) {
  boost::json::array points;
  points.reserve(s.points.size());
  for (const auto& p : s.points)
    points.push_back(boost::json::array{json_time(p.t), json_value(p.v)});
  return {{"metric", s.metric}, {"labels", json_labels(s.labels)}, {"points", std::move(points)}};
}

// The range query's options from the query string: start, end, step, agg, fn, width, by, group,
// topk and points (the selector and the tier are read apart).
core::Result<tsdb::RangeQuery> range_params(const ParamLookup& params, Timestamp now) {
  auto start = time_param(params, "start");
  if (!start) return start.error();
  auto end = time_param(params, "end");
  if (!end) return end.error();
  if (!*start) return core::invalid_field("start", "required: Unix time in seconds");
  Timestamp s = **start;
  Timestamp e = *end ? **end : now;
  if (e < s) return core::invalid_field("end", "must not be before start");
  if (e - s > kMaxQueryRangeMs)
    return core::invalid_field("end", "the range may be at most 800 days");
  auto step = duration_param(params, "step");
  if (!step) return step.error();
  tsdb::RangeQuery q;
  q.start = s;
  q.end = e;
  q.step = step->value_or(0);
  if (q.step > 0 && (e - s) / q.step + 1 > kMaxPointsPerSeries) {
    return core::invalid_field(
        "step", fmt::format("gives more than {} points per series: raise it or shorten the range",
                            kMaxPointsPerSeries));
  }
  if (auto agg = params("agg")) {
    auto a = tsdb::parse_agg(*agg);
    if (!a)
      return core::invalid_field("agg",
                                 "must be one of avg, min, max, sum, count, "
                                 "last, p50, p90, p95, p99");
    q.agg = *a;
  }
  if (auto fn = params("fn")) {
    auto f = tsdb::parse_range_fn(*fn);
    if (!f) return core::invalid_field("fn", "must be rate or increase");
    q.fn = *f;
  }
  if (auto w = params("width")) {
    if (*w == "32")
      q.width = tsdb::CounterWidth::k32;
    else if (*w == "64")
      q.width = tsdb::CounterWidth::k64;
    else
      return core::invalid_field("width", "must be 32 or 64 (counter width)");
  }
  if (auto by = params("by")) {
    q.group = true;
    std::string_view rest = *by;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      if (name != tsdb::kMetricNameLabel && !tsdb::valid_label_name(name))
        return core::invalid_field("by", "must be a comma-separated list of label names");
      q.group_by.emplace_back(name);
    }
    if (q.group_by.size() > 16) return core::invalid_field("by", "at most 16 labels");
  }
  if (auto g = params("group")) {
    auto a = tsdb::parse_agg(*g);
    if (!a)
      return core::invalid_field("group",
                                 "must be one of avg, min, max, sum, count, "
                                 "last, p50, p90, p95, p99");
    q.group = true;
    q.group_agg = *a;
  }
  if (q.group && q.step == 0) {
    return core::invalid_field("step", "grouping series (by/group) needs a step");
  }
  auto topk = int_param(params, "topk", 1, 10'000);
  if (!topk) return topk.error();
  if (*topk) q.topk = static_cast<std::size_t>(**topk);
  auto points = int_param(params, "points", 2, 100'000);
  if (!points) return points.error();
  if (*points) q.max_points = static_cast<std::size_t>(**points);
  return q;
}

// The tier a range query reads: what `tier` asks for; for auto (the default), raw unless the
// range is long for the step, or older than raw retention.
core::Result<std::optional<tsdb::Tier>> tier_param(const ParamLookup& params,
                                                   const tsdb::RangeQuery& q, Timestamp now,
                                                   Timestamp raw_retention_ms) {
  const Timestamp s = q.start;
  const Timestamp e = q.end;
  std::optional<tsdb::Tier> tier;
  std::string tier_choice = params("tier").value_or("auto");
  bool percentile = q.agg == tsdb::AggFn::kP50 || q.agg == tsdb::AggFn::kP90 ||
                    q.agg == tsdb::AggFn::kP95 || q.agg == tsdb::AggFn::kP99;
  if (tier_choice == "raw" || tier_choice == "1m") {
  } else if (tier_choice == "5m") {
    tier = tsdb::Tier::k5m;
  } else if (tier_choice == "1h") {
    tier = tsdb::Tier::k1h;
  } else if (tier_choice == "auto") {
    bool beyond_raw = s < now - raw_retention_ms;
    if (q.step >= 3'600'000 && (beyond_raw || (!percentile && e - s > 30LL * 86'400'000))) {
      tier = tsdb::Tier::k1h;
    } else if (q.step >= 300'000 && (beyond_raw || (!percentile && e - s > 7LL * 86'400'000))) {
      tier = tsdb::Tier::k5m;
    }
  } else {
    return core::invalid_field("tier", "must be auto, raw, 5m or 1h");
  }
  if (tier && q.step > 0 && q.step < tsdb::kTierWidthMs[static_cast<int>(*tier)]) {
    return core::invalid_field("step", "must be at least the tier's bucket width");
  }
  return tier;
}

}  // namespace

core::Result<PreparedRange> prepare_range(const ParamLookup& params, std::int64_t org_id,
                                          Timestamp now, Timestamp raw_retention_ms) {
  auto sel = selector_param(params, "query");
  if (!sel) return sel.error();
  auto q = range_params(params, now);
  if (!q) return q.error();
  auto tier = tier_param(params, *q, now, raw_retention_ms);
  if (!tier) return tier.error();
  PreparedRange p;
  p.query = std::move(*q);
  const Timestamp s = p.query.start;
  const Timestamp e = p.query.end;
  p.request.org_id = org_id;
  p.request.selectors.push_back(std::move(*sel));
  // rate/increase need the sample before each bucket: read one step earlier.
  p.request.start = p.query.fn != tsdb::RangeFn::kNone && p.query.step > 0 ? s - p.query.step : s;
  p.request.end = p.query.step > 0 ? e + p.query.step - 1 : e;
  p.request.tier = *tier;
  p.tier_label = *tier ? std::string(tsdb::tier_name(**tier)) : std::string("raw");
  return p;
}

std::string range_data_json(const PreparedRange& p, const std::string& series_json) {
  return fmt::format(R"({{"series":{},"tier":"{}","step":{}}})", series_json, p.tier_label,
                     p.query.step > 0
                         ? fmt::format("{}", static_cast<double>(p.query.step) / 1000.0)
                         : std::string("null"));
}

void run_range(const RouteDeps& deps, PreparedRange p,
               std::function<void(core::Result<std::string>)> done) {
  auto* workers = deps.workers;
  auto loop = deps.loop;
  auto request = std::move(p.request);
  deps.tsdb->select(
      std::move(request), [q = std::move(p.query), workers, loop, done = std::move(done)](
                              core::Result<std::vector<tsdb::SeriesData>> data) mutable {
        if (!data) return done(data.error());
        auto evaluate = [q, data = std::make_shared<std::vector<tsdb::SeriesData>>(
                                std::move(*data))]() -> core::Result<std::string> {
          auto result = tsdb::evaluate_range(q, std::move(*data));
          if (!result) return result.error();
          boost::json::array series;
          for (const auto& s : *result) series.push_back(series_json(s));
          return core::to_json_text(series);
        };
        auto r = workers->run<core::Result<std::string>>(std::move(evaluate), loop, done);
        if (!r) done(r.error());
      });
}

namespace {

void query_range(const ContextPtr& ctx, const RouteDeps& deps) {
  auto p = prepare_range(query_lookup(ctx), ctx->org_scope().org_id(), deps.clock.unix_millis(),
                         deps.raw_retention_ms);
  if (!p) return ctx->reply_error(p.error());
  // tier and step, kept for the answer (run_range takes the request and the query).
  PreparedRange shape;
  shape.tier_label = p->tier_label;
  shape.query.step = p->query.step;
  run_range(deps, std::move(*p), [ctx, shape = std::move(shape)](core::Result<std::string> series) {
    if (!series) return ctx->reply_error(series.error());
    // The series array is serialised already (on the worker); splice it into the envelope.
    std::string body =
        fmt::format(R"({{"success":true,"data":{},"meta":{}}})", range_data_json(shape, *series),
                    core::to_json_text(ctx->meta()));
    ctx->reply({http::status::ok, std::move(body)});
  });
}

void query_instant(const ContextPtr& ctx, const RouteDeps& deps) {
  auto sel = selector_param(query_lookup(ctx), "query");
  if (!sel) return ctx->reply_error(sel.error());
  auto at = time_param(ctx, "time");
  if (!at) return ctx->reply_error(at.error());
  auto lookback = duration_param(ctx, "lookback");
  if (!lookback) return ctx->reply_error(lookback.error());
  Timestamp t = at->value_or(deps.clock.unix_millis());
  Timestamp lb = lookback->value_or(300'000);
  if (lb > 31LL * 86'400'000)
    return ctx->reply_error(core::invalid_field("lookback", "at most 31 days"));
  tsdb::SelectRequest req;
  req.org_id = ctx->org_scope().org_id();
  req.selectors.push_back(std::move(*sel));
  req.start = t - lb;
  req.end = t;
  deps.tsdb->select(std::move(req), [ctx](core::Result<std::vector<tsdb::SeriesData>> data) {
    if (!data) return ctx->reply_error(data.error());
    boost::json::array out;
    for (const auto& d : *data) {
      if (d.samples.empty()) continue;
      const auto& last = d.samples.back();
      out.push_back({{"metric", d.key.metric},
                     {"labels", json_labels(d.key.labels)},
                     {"value", boost::json::array{json_time(last.t), json_value(last.v)}}});
    }
    ctx->reply_data({{"series", std::move(out)}});
  });
}

void dashboard(const ContextPtr& ctx, const RouteDeps& deps) {
  auto metric = ctx->query("metric");
  if (!metric || !tsdb::valid_metric_name(*metric)) {
    return ctx->reply_error(core::invalid_field("metric", "required: a metric name"));
  }
  auto window_text = ctx->query("window").value_or("5m");
  auto window = parse_duration_ms(window_text);
  if (!window || *window > 31LL * 86'400'000) {
    return ctx->reply_error(
        core::invalid_field("window", "must be a duration of at most 31 days (e.g. 5m, 1h, 24h)"));
  }
  // Every other query parameter is a label filter: name=value.
  std::vector<tsdb::Matcher> filters;
  boost::json::object filter_json;
  for (auto& [k, v] : query_pairs(ctx)) {
    if (k == "metric" || k == "window") continue;
    if (!tsdb::valid_label_name(k)) {
      return ctx->reply_error(core::invalid_field(
          k, "unknown parameter: label filters are name=value with a label name"));
    }
    auto m = tsdb::Matcher::make(k, tsdb::MatchOp::kEqual, v);
    if (!m) return ctx->reply_error(m.error());
    filter_json[k] = v;
    filters.push_back(std::move(*m));
  }
  if (filters.size() > 16) return ctx->reply_error(core::invalid_field("filters", "at most 16"));
  std::string text = *metric;
  if (!filters.empty()) {
    text += "{";
    for (std::size_t i = 0; i < filters.size(); ++i) {
      if (i) text += ",";
      std::string escaped;
      for (char c : filters[i].value) {
        if (c == '\\' || c == '"') escaped.push_back('\\');
        if (c == '\n') {
          escaped += "\\n";
          continue;
        }
        escaped.push_back(c);
      }
      text += fmt::format("{}=\"{}\"", filters[i].name, escaped);
    }
    text += "}";
  }
  auto sel = tsdb::Selector::parse(text);
  if (!sel) return ctx->reply_error(core::invalid_field("filters", sel.error().message));
  Timestamp now = deps.clock.unix_millis();
  tsdb::SelectRequest req;
  req.org_id = ctx->org_scope().org_id();
  req.selectors.push_back(std::move(*sel));
  req.start = now - *window;
  req.end = now;
  deps.tsdb->select(std::move(req), [ctx, metric = *metric, window_text, filter_json](
                                        core::Result<std::vector<tsdb::SeriesData>> data) {
    if (!data) return ctx->reply_error(data.error());
    std::vector<double> values;
    std::size_t series = 0;
    for (const auto& d : *data) {
      if (!d.samples.empty()) ++series;
      for (const auto& s : d.samples) values.push_back(s.v);
    }
    boost::json::object aggs;
    if (values.empty()) {
      aggs = {{"avg", nullptr}, {"min", nullptr}, {"max", nullptr}, {"p95", nullptr}, {"count", 0}};
    } else {
      aggs = {{"avg", json_value(tsdb::aggregate(tsdb::AggFn::kAvg, values))},
              {"min", json_value(tsdb::aggregate(tsdb::AggFn::kMin, values))},
              {"max", json_value(tsdb::aggregate(tsdb::AggFn::kMax, values))},
              {"p95", json_value(tsdb::aggregate(tsdb::AggFn::kP95, values))},
              {"count", values.size()}};
    }
    ctx->reply_data({{"metric_name", metric},
                     {"window", window_text},
                     {"filters", filter_json},
                     {"series_count", series},
                     {"aggregations", std::move(aggs)}});
  });
}

}  // namespace

void register_query_routes(Router& router, const RouteDeps& deps_in) {
  // Handlers outlive the caller's RouteDeps: they share one copy.
  auto shared = std::make_shared<RouteDeps>(deps_in);
  const RouteDeps& deps = *shared;
  using http::verb;

  auto range = make_route(verb::get, "/api/v1/query_range", Permission::kMetricsRead,
                          "Range query: raw samples, or step-aggregated, rate/increase, grouped, "
                          "top-k, downsampled",
                          "metrics", [shared, &deps](ContextPtr ctx) { query_range(ctx, deps); });
  range.doc.query = {{"query", "series selector, e.g. ifHCInOctets{host=\"core-1\"}"},
                     {"start", "Unix seconds", "number"},
                     {"end", "Unix seconds (default: now)", "number"},
                     {"step", "bucket width: seconds or 30s, 5m, 1h (omit for raw samples)"},
                     {"agg", "avg (default), min, max, sum, count, last, p50, p90, p95, p99"},
                     {"fn", "rate or increase (counters)"},
                     {"width", "counter width for wrap detection: 32 or 64"},
                     {"by", "comma-separated labels to group series by"},
                     {"group", "how grouped series combine: sum (default), avg, min, max, ..."},
                     {"topk", "keep the k largest series", "integer"},
                     {"points", "at most this many points per series (min/max kept)", "integer"},
                     {"tier", "auto (default), raw, 5m, 1h"}};
  router.add(std::move(range));

  auto instant = make_route(verb::get, "/api/v1/query", Permission::kMetricsRead,
                            "Instant query: the latest sample of each selected series", "metrics",
                            [shared, &deps](ContextPtr ctx) { query_instant(ctx, deps); });
  instant.doc.query = {{"query", "series selector"},
                       {"time", "Unix seconds (default: now)", "number"},
                       {"lookback", "how far back to look for a sample (default 5m)"}};
  router.add(std::move(instant));

  auto board = make_route(verb::get, "/api/v1/dashboard", Permission::kMetricsRead,
                          "avg, min, max, p95 and count of a metric over a window; other "
                          "parameters filter by label (host=web-01)",
                          "metrics", [shared, &deps](ContextPtr ctx) { dashboard(ctx, deps); });
  board.doc.query = {{"metric", "metric name"}, {"window", "e.g. 5m (default), 1h, 24h"}};
  router.add(std::move(board));
}

}  // namespace netpulse::api::detail
