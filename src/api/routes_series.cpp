// Series routes: the organization's series usage against its limit, series and label discovery
// (names and values, selected by match[]), and metric metadata (type, unit, help). They read the
// store's index, not its samples, and answer on the loop.
#include <cmath>
#include <memory>
#include <string>

#include "detail/handler.hpp"
#include "detail/json_fields.hpp"
#include "detail/metric_params.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

boost::json::object metadata_json(const tsdb::MetricMetadata& md) {
  return {{"metric", md.metric},
          {"type", tsdb::metric_type_name(md.type)},
          {"unit", md.unit},
          {"help", md.help}};
}

// PUT /api/v1/metadata/{metric}.
void set_metadata(const RouteDeps& deps, const ContextPtr& ctx) {
  auto metric = std::string(ctx->param("metric"));
  if (!tsdb::valid_metric_name(metric))
    return ctx->reply_error(core::invalid_field("metric", "not a metric name"));
  Fields f(ctx->body());
  if (auto r = f.only({"type", "unit", "help"}); !r) return ctx->reply_error(r.error());
  auto type = f.optional_string("type", 16);
  if (!type) return ctx->reply_error(type.error());
  auto unit = f.optional_string("unit", 64);
  if (!unit) return ctx->reply_error(unit.error());
  auto help = f.optional_string("help", 1024);
  if (!help) return ctx->reply_error(help.error());
  tsdb::MetricMetadata md;
  md.metric = metric;
  if (*type) {
    auto t = tsdb::parse_metric_type(**type);
    if (!t)
      return ctx->reply_error(core::invalid_field("type", "must be gauge, counter or unknown"));
    md.type = *t;
  }
  md.unit = unit->value_or("");
  md.help = help->value_or("");
  ctx->set_audit_target("metadata/" + metric);
  deps.tsdb->set_metadata(ctx->org_scope().org_id(), md, [ctx, md](core::Result<void> r) {
    if (!r) return ctx->reply_error(r.error());
    ctx->reply_data(metadata_json(md));
  });
}

}  // namespace

void register_series_routes(Router& router, const RouteDeps& deps_in) {
  // Handlers outlive the caller's RouteDeps: they share one copy.
  auto shared = std::make_shared<RouteDeps>(deps_in);
  const RouteDeps& deps = *shared;
  using http::verb;

  router.add(make_route(
      verb::get, "/api/v1/metrics/usage", Permission::kMetricsRead,
      "Your organization's series against tsdb.max_series_per_org (events at 80 % and 100 %)",
      "metrics", [shared, &deps](ContextPtr ctx) {
        const auto u = deps.tsdb->series_usage(ctx->org_scope().org_id());
        const double pct =
            u.limit ? 100.0 * static_cast<double>(u.series) / static_cast<double>(u.limit) : 0.0;
        ctx->reply_data({{"series", u.series},
                         {"series_limit", u.limit},
                         {"percent", std::round(pct * 10) / 10},
                         {"level", u.series >= u.limit ? "full"
                                   : pct >= 80.0       ? "warning"
                                                       : "ok"}});
      }));

  auto series =
      make_route(verb::get, "/api/v1/series", Permission::kMetricsRead,
                 "Series matching the selectors (match[] may repeat)", "metrics",
                 [shared, &deps](ContextPtr ctx) {
                   auto sels = match_params(ctx);
                   if (!sels) return ctx->reply_error(sels.error());
                   auto limit = int_param(ctx, "limit", 1, 100'000);
                   if (!limit) return ctx->reply_error(limit.error());
                   auto list = deps.tsdb->series(ctx->org_scope().org_id(), *sels,
                                                 static_cast<std::size_t>(limit->value_or(1000)));
                   boost::json::array out;
                   for (const auto& s : list) {
                     out.push_back({{"metric", s.key.metric},
                                    {"labels", json_labels(s.key.labels)},
                                    {"last_timestamp", s.last_t ? json_time(s.last_t) : nullptr},
                                    {"last_value", s.last_t ? json_value(s.last_value) : nullptr},
                                    {"stale", s.stale}});
                   }
                   ctx->reply_data(std::move(out));
                 });
  series.doc.query = {{"match[]", "series selector (repeatable)"},
                      {"limit", "most series returned (default 1000)", "integer"}};
  router.add(std::move(series));

  auto labels = make_route(
      verb::get, "/api/v1/labels", Permission::kMetricsRead, "Label names of the (selected) series",
      "metrics", [shared, &deps](ContextPtr ctx) {
        auto sels = match_params(ctx);
        if (!sels) return ctx->reply_error(sels.error());
        boost::json::array out;
        for (auto& n : deps.tsdb->label_names(ctx->org_scope().org_id(), *sels))
          out.push_back(boost::json::string(n));
        ctx->reply_data(std::move(out));
      });
  labels.doc.query = {{"match[]", "series selector (repeatable)"}};
  router.add(std::move(labels));

  auto values = make_route(
      verb::get, "/api/v1/label/{name}/values", Permission::kMetricsRead,
      "Values of one label (__name__: metric names)", "metrics", [shared, &deps](ContextPtr ctx) {
        auto name = std::string(ctx->param("name"));
        if (name != tsdb::kMetricNameLabel && !tsdb::valid_label_name(name))
          return ctx->reply_error(core::invalid_field("name", "not a label name"));
        auto sels = match_params(ctx);
        if (!sels) return ctx->reply_error(sels.error());
        boost::json::array out;
        for (auto& v : deps.tsdb->label_values(ctx->org_scope().org_id(), name, *sels))
          out.push_back(boost::json::string(v));
        ctx->reply_data(std::move(out));
      });
  values.doc.query = {{"match[]", "series selector (repeatable)"}};
  router.add(std::move(values));

  auto metadata = make_route(
      verb::get, "/api/v1/metadata", Permission::kMetricsRead, "Metric metadata (type, unit, help)",
      "metrics", [shared, &deps](ContextPtr ctx) {
        auto metric = ctx->query("metric");
        if (!metric || !tsdb::valid_metric_name(*metric))
          return ctx->reply_error(core::invalid_field("metric", "required: a metric name"));
        auto md = deps.tsdb->metadata(ctx->org_scope().org_id(), *metric);
        if (!md) {
          md = tsdb::MetricMetadata{*metric, tsdb::MetricType::kUnknown, "", ""};
        }
        ctx->reply_data(metadata_json(*md));
      });
  metadata.doc.query = {{"metric", "metric name"}};
  router.add(std::move(metadata));

  router.add(make_route(
      verb::put, "/api/v1/metadata/{metric}", Permission::kMetricsWrite,
      "Set a metric's type (gauge/counter), unit and help", "metrics",
      [shared, &deps](ContextPtr ctx) { set_metadata(deps, ctx); }, Body::kJson));
}

}  // namespace netpulse::api::detail
