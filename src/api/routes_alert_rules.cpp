// Alert rule routes: CRUD and backtest. The body is the rule as docs/alerts.md writes it
// (rule_from_json: types checked, unknown fields refused, validated naming the field); the
// read-only fields a GET shows (id, builtin, created_at, updated_at, status) may be sent back
// and are ignored, so a client can GET, edit and PUT.
#include <netpulse/alerts/rule_json.hpp>

#include "detail/alert_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

constexpr std::int64_t kDefaultBacktestMs = std::int64_t{24} * 3'600'000;

core::Result<alerts::Rule> rule_body(boost::json::object body) {
  for (auto field : {"id", "builtin", "created_at", "updated_at", "status"}) body.erase(field);
  return alerts::rule_from_json(body);
}

boost::json::object rule_schema() {
  return {{"type", "object"},
          {"description", "An alert rule (docs/alerts.md)."},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"kind", {{"type", "string"}}},
            {"selector", {{"type", "string"}}},
            {"condition", {{"type", "object"}}},
            {"for_s", {{"type", "integer"}}},
            {"severity", {{"type", "string"}}},
            {"scope", {{"type", "object"}}},
            {"labels", {{"type", "object"}}},
            {"annotations", {{"type", "object"}}},
            {"enabled", {{"type", "boolean"}}}}},
          {"required", boost::json::array{"name", "kind"}}};
}

// The backtest's range: "start" and "end" in Unix seconds (default: the last 24 hours).
core::Result<std::pair<std::int64_t, std::int64_t>> backtest_range(const ContextPtr& ctx,
                                                                   const core::Clock& clock) {
  Fields f(ctx->body());
  auto end = f.optional_int("end", 0, std::int64_t{32'503'680'000});
  if (!end) return end.error();
  auto start = f.optional_int("start", 0, std::int64_t{32'503'680'000});
  if (!start) return start.error();
  const auto end_ms = end->value_or(clock.unix_seconds()) * 1000;
  const auto start_ms = start->has_value() ? **start * 1000 : end_ms - kDefaultBacktestMs;
  return std::pair{start_ms, end_ms};
}

}  // namespace

void register_alert_rule_routes(Router& router, const RouteDeps& deps) {
  auto& engine = *deps.alerts;
  const auto& clock = deps.clock;
  using http::verb;

  auto list = make_route(
      verb::get, "/api/v1/alert-rules", Permission::kAlertsRead,
      "List the organization's alert rules, with what each tracks now.", "alerts",
      [&engine](ContextPtr ctx) {
        auto page = page_param(ctx);
        if (!page) return;
        auto scope = ctx->org_scope();
        const auto statuses = engine.rule_statuses(scope);
        reply_page(ctx, engine.list_rules(scope, *page), *page, [&](const alerts::StoredRule& r) {
          auto it = statuses.find(r.rule.id);
          const auto status = it == statuses.end() ? alerts::RuleStatus{} : it->second;
          return stored_rule_json(r, &status);
        });
      });
  list.doc.query = page_query();
  router.add(std::move(list));

  auto create = make_route(
      verb::post, "/api/v1/alert-rules", Permission::kAlertsWrite, "Create an alert rule.",
      "alerts",
      [&engine](ContextPtr ctx) {
        auto rule = rule_body(ctx->body());
        if (!rule) return ctx->reply_error(rule.error());
        engine.create_rule(ctx->org_scope(), std::move(*rule),
                           answer_created(ctx, "alert-rules", [](const alerts::StoredRule& r) {
                             return stored_rule_json(r);
                           }));
      },
      Body::kJson);
  create.doc.request_schema = rule_schema();
  router.add(std::move(create));

  router.add(make_route(
      verb::get, "/api/v1/alert-rules/{id}", Permission::kAlertsRead,
      "One alert rule, with what it tracks now.", "alerts", [&engine](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        auto scope = ctx->org_scope();
        auto status = engine.rule_status(scope, *id);
        reply_result(ctx, engine.get_rule(scope, *id), http::status::ok,
                     [&](const alerts::StoredRule& r) { return stored_rule_json(r, &status); });
      }));

  auto replace = make_route(
      verb::put, "/api/v1/alert-rules/{id}", Permission::kAlertsWrite,
      "Replace an alert rule. Its open alerts resolve; the new rule raises its own.", "alerts",
      [&engine](ContextPtr ctx) {
        auto id = target_id(ctx, "alert-rules");
        if (!id) return;
        auto rule = rule_body(ctx->body());
        if (!rule) return ctx->reply_error(rule.error());
        engine.replace_rule(
            ctx->org_scope(), *id, std::move(*rule),
            answer_json(ctx, [](const alerts::StoredRule& r) { return stored_rule_json(r); }));
      },
      Body::kJson);
  replace.doc.request_schema = rule_schema();
  router.add(std::move(replace));

  auto patch = make_route(
      verb::patch, "/api/v1/alert-rules/{id}", Permission::kAlertsWrite,
      "Change some fields of an alert rule (e.g. {\"enabled\": false}); the others stay.", "alerts",
      [&engine](ContextPtr ctx) {
        auto id = target_id(ctx, "alert-rules");
        if (!id) return;
        auto current = engine.get_rule(ctx->org_scope(), *id);
        if (!current) return ctx->reply_error(current.error());
        auto merged = alerts::rule_to_json(current->rule);
        for (auto& [k, v] : ctx->body()) merged[k] = v;
        auto rule = rule_body(std::move(merged));
        if (!rule) return ctx->reply_error(rule.error());
        engine.replace_rule(
            ctx->org_scope(), *id, std::move(*rule),
            answer_json(ctx, [](const alerts::StoredRule& r) { return stored_rule_json(r); }));
      },
      Body::kJson);
  patch.doc.request_schema = rule_schema();
  patch.doc.request_schema.erase("required");
  router.add(std::move(patch));

  router.add(make_route(verb::delete_, "/api/v1/alert-rules/{id}", Permission::kAlertsWrite,
                        "Delete an alert rule; its open alerts resolve.", "alerts",
                        [&engine](ContextPtr ctx) {
                          auto id = target_id(ctx, "alert-rules");
                          if (!id) return;
                          engine.remove_rule(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  auto backtest = make_route(
      verb::post, "/api/v1/alert-rules/{id}/backtest", Permission::kAlertsRead,
      "Replay a saved rule over stored samples: each would-be firing and clearing.", "alerts",
      [&engine, &clock](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        Fields f(ctx->body());
        if (auto r = f.only({"start", "end"}); !r) return ctx->reply_error(r.error());
        auto range = backtest_range(ctx, clock);
        if (!range) return ctx->reply_error(range.error());
        auto rule = engine.get_rule(ctx->org_scope(), *id);
        if (!rule) return ctx->reply_error(rule.error());
        engine.backtest(ctx->org_scope(), rule->rule, range->first, range->second,
                        answer_json(ctx, backtest_json));
      },
      Body::kJson);
  backtest.doc.success_status = 200;
  backtest.audited = false;
  router.add(std::move(backtest));

  auto backtest_unsaved = make_route(
      verb::post, "/api/v1/alert-rules/backtest", Permission::kAlertsRead,
      "Replay an unsaved rule (\"rule\") over stored samples.", "alerts",
      [&engine, &clock](ContextPtr ctx) {
        Fields f(ctx->body());
        if (auto r = f.only({"rule", "start", "end"}); !r) return ctx->reply_error(r.error());
        auto* body = ctx->body().if_contains("rule");
        if (!body || !body->is_object()) {
          return ctx->reply_error(core::invalid_field("rule", "must be an alert rule object"));
        }
        auto rule = rule_body(body->as_object());
        if (!rule) return ctx->reply_error(rule.error());
        auto range = backtest_range(ctx, clock);
        if (!range) return ctx->reply_error(range.error());
        engine.backtest(ctx->org_scope(), std::move(*rule), range->first, range->second,
                        answer_json(ctx, backtest_json));
      },
      Body::kJson);
  backtest_unsaved.doc.success_status = 200;
  backtest_unsaved.audited = false;
  router.add(std::move(backtest_unsaved));
}

}  // namespace netpulse::api::detail
