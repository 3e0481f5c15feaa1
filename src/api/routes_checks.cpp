// Service check routes: a device's TCP, HTTP(S) and DNS checks (CRUD), their state as the pollers
// left it, and "run now". Bodies are read field by field here (types, sizes; the URL against the
// HTTP check's own parser); the inventory checks the rest and names the field. The shapes are in
// docs/service_checks.md.

#include <fmt/format.h>

#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using devices::ServiceCheck;
using devices::ServiceKind;

boost::json::object kind_json(const ServiceCheck& c) {
  switch (c.kind) {
    case ServiceKind::kTcp:
      return {{"port", c.port}};
    case ServiceKind::kHttp:
      return {{"url", c.url},
              {"method", c.method},
              {"expected_status", boost::json::array{c.status_min, c.status_max}},
              {"keyword", c.keyword},
              {"verify_tls", c.verify_tls},
              {"max_redirects", c.max_redirects},
              {"use_device_address", c.use_device_address}};
    case ServiceKind::kDns:
      return {{"query", c.query},
              {"type", c.record_type},
              {"server", c.server.empty() ? boost::json::value(nullptr) : c.server.c_str()},
              {"port", c.port},
              {"expected", c.expected.empty() ? boost::json::value(nullptr) : c.expected.c_str()}};
  }
  return {};
}

// The check with its state; `status` is null when the pollers do not run (or not yet know) it.
boost::json::object check_json(const ServiceCheck& c, const pollers::ServiceCheckStatus* status) {
  const auto kind = devices::service_kind_name(c.kind);
  boost::json::object o{{"id", c.id},
                        {"device_id", c.device_id},
                        {"name", c.name},
                        {"kind", kind},
                        {"enabled", c.enabled},
                        {"interval_s", c.interval_s ? boost::json::value(*c.interval_s) : nullptr},
                        {"timeout_ms", c.timeout_ms},
                        {"retries", c.retries},
                        {"created_at", core::format_rfc3339_seconds(c.created_at)},
                        {"updated_at", core::format_rfc3339_seconds(c.updated_at)}};
  o[kind] = kind_json(c);
  if (status) {
    auto s = service_check_status_json(*status);
    for (auto& [k, v] : s) {
      if (k != "check_id") o[k] = v;
    }
  } else {
    o["state"] = "pending";
  }
  return o;
}

const pollers::ServiceCheckStatus* find_status(
    const std::vector<pollers::ServiceCheckStatus>& statuses, std::int64_t id) {
  for (auto& s : statuses) {
    if (s.check_id == id) return &s;
  }
  return nullptr;
}

// The "tcp" object of a body onto `c`.
core::Result<void> read_tcp(Fields& k, ServiceCheck& c) {
  if (auto r = k.only({"port"}); !r) return r;
  auto port = k.optional_int("port", 1, 65535);
  if (!port) return port.error();
  if (*port) c.port = static_cast<int>(**port);
  if (c.port == 0) return core::invalid_field("tcp.port", "is required");
  return core::ok();
}

// The "http" object of a body onto `c`; the URL is checked by the HTTP check's own parser.
core::Result<void> read_http(const boost::json::object& p, Fields& k, ServiceCheck& c) {
  if (auto r = k.only({"url", "method", "expected_status", "keyword", "verify_tls", "max_redirects",
                       "use_device_address"});
      !r) {
    return r;
  }
  auto url = k.optional_string("url", 2048, false);
  if (!url) return url.error();
  if (*url) {
    auto normalized = pollers::normalize_http_url(**url);
    if (!normalized) {
      return core::invalid_field("http.url", normalized.error().message);
    }
    c.url = *normalized;
  }
  if (c.url.empty()) return core::invalid_field("http.url", "is required");
  auto method = k.optional_string("method", 8, false);
  if (!method) return method.error();
  if (*method) c.method = **method;
  if (auto* st = p.if_contains("expected_status")) {
    auto bound = [](const boost::json::value& v) -> std::optional<int> {
      if (!v.is_int64() || v.as_int64() < 100 || v.as_int64() > 599) return std::nullopt;
      return static_cast<int>(v.as_int64());
    };
    std::optional<int> lo, hi;
    if (st->is_array() && st->as_array().size() == 2) {
      lo = bound(st->as_array()[0]);
      hi = bound(st->as_array()[1]);
    } else {
      lo = hi = bound(*st);
    }
    if (!lo || !hi || *lo > *hi) {
      return core::invalid_field("http.expected_status",
                                 "must be a status (100-599) or a range [min, max]");
    }
    c.status_min = *lo;
    c.status_max = *hi;
  }
  auto keyword = k.optional_string("keyword", 1024);
  if (!keyword) return keyword.error();
  if (*keyword) c.keyword = **keyword;
  auto verify = k.optional_bool("verify_tls");
  if (!verify) return verify.error();
  if (*verify) c.verify_tls = **verify;
  auto redirects = k.optional_int("max_redirects", 0, 10);
  if (!redirects) return redirects.error();
  if (*redirects) c.max_redirects = static_cast<int>(**redirects);
  auto device_address = k.optional_bool("use_device_address");
  if (!device_address) return device_address.error();
  if (*device_address) c.use_device_address = **device_address;
  return core::ok();
}

// The "dns" object of a body onto `c`.
core::Result<void> read_dns(const boost::json::object& p, Fields& k, ServiceCheck& c) {
  if (auto r = k.only({"query", "type", "server", "port", "expected"}); !r) return r;
  auto query = k.optional_string("query", 1024, false);
  if (!query) return query.error();
  if (*query) c.query = **query;
  if (c.query.empty()) return core::invalid_field("dns.query", "is required");
  auto type = k.optional_string("type", 8, false);
  if (!type) return type.error();
  if (*type) c.record_type = **type;
  auto port = k.optional_int("port", 1, 65535);
  if (!port) return port.error();
  if (*port) c.port = static_cast<int>(**port);
  // null clears server / expected (back to the device's address / any answer).
  for (auto [field, out] : {std::pair<std::string_view, std::string*>{"server", &c.server},
                            {"expected", &c.expected}}) {
    if (auto* v = p.if_contains(field); v && v->is_null()) {
      out->clear();
      continue;
    }
    auto text = k.optional_string(field, 64);
    if (!text) return text.error();
    if (*text) *out = **text;
  }
  return core::ok();
}

// Reads a body onto `c`: every field for a new check (`create`), the given ones for a patch.
core::Result<void> read_check(const boost::json::object& body, ServiceCheck& c, bool create) {
  Fields f(body);
  if (auto r = f.only(
          {"name", "kind", "enabled", "interval_s", "timeout_ms", "retries", "tcp", "http", "dns"});
      !r) {
    return r;
  }
  // Required when creating, optional in a patch; never empty.
  auto text = [&f, create](std::string_view field,
                           std::size_t max) -> core::Result<std::optional<std::string>> {
    if (!create) return f.optional_string(field, max, false);
    auto v = f.required_string(field, max);
    if (!v) return std::move(v).error();
    return std::optional<std::string>(std::move(*v));
  };
  auto name = text("name", 1024);
  if (!name) return name.error();
  if (*name) c.name = **name;
  auto kind_text = text("kind", 16);
  if (!kind_text) return kind_text.error();
  if (*kind_text) {
    auto kind = devices::parse_service_kind(**kind_text);
    if (!kind) return core::invalid_field("kind", "must be tcp, http or dns");
    if (!create && *kind != c.kind) {
      return core::invalid_field("kind", "cannot change; create a new check instead");
    }
    c.kind = *kind;
  }
  auto enabled = f.optional_bool("enabled");
  if (!enabled) return enabled.error();
  if (*enabled) c.enabled = **enabled;
  if (auto* interval = body.if_contains("interval_s")) {
    if (interval->is_null()) {
      c.interval_s.reset();
    } else {
      auto v = f.optional_int("interval_s", 10, 86'400);
      if (!v) return v.error();
      c.interval_s = static_cast<int>(**v);
    }
  }
  auto timeout = f.optional_int("timeout_ms", 100, 60'000);
  if (!timeout) return timeout.error();
  if (*timeout) c.timeout_ms = static_cast<int>(**timeout);
  auto retries = f.optional_int("retries", 0, 5);
  if (!retries) return retries.error();
  if (*retries) c.retries = static_cast<int>(**retries);

  const auto kind = std::string(devices::service_kind_name(c.kind));
  for (std::string_view other : {"tcp", "http", "dns"}) {
    if (other != kind && body.contains(other)) {
      return core::invalid_field(other, "is only for checks of kind " + std::string(other));
    }
  }
  const auto* params = body.if_contains(kind);
  if (!params) {
    if (create) return core::invalid_field(kind, "is required for a " + kind + " check");
    return core::ok();
  }
  if (!params->is_object()) return core::invalid_field(kind, "must be an object");
  const auto& p = params->as_object();
  Fields k(p, kind);
  switch (c.kind) {
    case ServiceKind::kTcp:
      return read_tcp(k, c);
    case ServiceKind::kHttp:
      return read_http(p, k, c);
    case ServiceKind::kDns:
      return read_dns(p, k, c);
  }
  return core::ok();
}

// The {id} and {check} path parameters, or nullopt once the error is answered.
std::optional<std::pair<std::int64_t, std::int64_t>> check_path(const ContextPtr& ctx) {
  auto id = path_id(ctx);
  if (!id) return std::nullopt;
  auto check = path_id(ctx, "check");
  if (!check) return std::nullopt;
  return std::pair(*id, *check);
}

// The JSON schema of a check body (for the OpenAPI document).
boost::json::object check_schema() {
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"kind", {{"type", "string"}, {"enum", {"tcp", "http", "dns"}}}},
            {"enabled", {{"type", "boolean"}}},
            {"interval_s", {{"type", {"integer", "null"}}}},
            {"timeout_ms", {{"type", "integer"}}},
            {"retries", {{"type", "integer"}}},
            {"tcp", {{"type", "object"}}},
            {"http", {{"type", "object"}}},
            {"dns", {{"type", "object"}}}}}};
}

// POST /api/v1/devices/{id}/checks.
void create_check(devices::Inventory& inv, const ContextPtr& ctx) {
  auto id = path_id(ctx);
  if (!id) return;
  // The device first: another organization's device is not found, whatever the body.
  if (auto d = inv.get(ctx->org_scope(), *id); !d) return ctx->reply_error(d.error());
  ServiceCheck c;
  c.device_id = *id;
  if (auto r = read_check(ctx->body(), c, true); !r) return ctx->reply_error(r.error());
  inv.create_service_check(ctx->org_scope(), std::move(c), [ctx](core::Result<ServiceCheck> r) {
    if (!r) return ctx->reply_error(r.error());
    ctx->set_audit_target(fmt::format("devices/{}/checks/{}", r->device_id, r->id));
    ctx->reply_data(check_json(*r, nullptr), http::status::created);
  });
}

}  // namespace

boost::json::object service_check_status_json(const pollers::ServiceCheckStatus& s) {
  boost::json::array answers;
  for (auto& a : s.answers) answers.emplace_back(a);
  auto text_or_null = [](const std::string& t) {
    return t.empty() ? boost::json::value(nullptr) : boost::json::value(t);
  };
  return {{"check_id", s.check_id},
          {"state", pollers::service_check_state_name(s.state)},
          {"state_since", opt_time(s.state_since)},
          {"last_run_at", opt_time(s.last_run_at)},
          {"last_error", text_or_null(s.error)},
          {"last_error_code", text_or_null(s.error_code)},
          {"last",
           {{"attempts", s.attempts},
            {"connect_ms", opt(s.connect_ms)},
            {"http_status", s.http_status ? boost::json::value(*s.http_status) : nullptr},
            {"response_ms", opt(s.response_ms)},
            {"first_byte_ms", opt(s.first_byte_ms)},
            {"tls_days_to_expiry", opt(s.tls_days_to_expiry)},
            {"resolution_ms", opt(s.resolution_ms)},
            {"answers", std::move(answers)}}},
          {"runs", s.runs},
          {"failed_runs", s.failed_runs}};
}

void register_service_check_routes(Router& router, const RouteDeps& deps) {
  using http::verb;
  auto& inv = *deps.inventory;
  auto* poller = deps.poller;
  auto statuses = [poller](std::int64_t device_id) {
    return poller ? poller->service_check_status(device_id)
                  : std::vector<pollers::ServiceCheckStatus>{};
  };

  router.add(make_route(verb::get, "/api/v1/devices/{id}/checks", Permission::kDevicesRead,
                        "The device's TCP, HTTP(S) and DNS checks with their state.", "devices",
                        [&inv, statuses](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          auto checks = inv.list_service_checks(ctx->org_scope(), *id);
                          if (!checks) return ctx->reply_error(checks.error());
                          const auto states = statuses(*id);
                          boost::json::array items;
                          for (auto& c : *checks) {
                            items.push_back(check_json(c, find_status(states, c.id)));
                          }
                          ctx->reply_data(std::move(items));
                        }));

  const auto schema = check_schema();

  auto create = make_route(
      verb::post, "/api/v1/devices/{id}/checks", Permission::kDevicesWrite,
      "Add a TCP, HTTP(S) or DNS check to the device; it runs within its first interval, then at "
      "every interval.",
      "devices", [&inv](ContextPtr ctx) { create_check(inv, ctx); }, Body::kJson);
  create.doc.request_schema = schema;
  create.doc.request_schema["required"] = {"name", "kind"};
  router.add(std::move(create));

  router.add(make_route(verb::get, "/api/v1/devices/{id}/checks/{check}", Permission::kDevicesRead,
                        "One service check with its state.", "devices",
                        [&inv, statuses](ContextPtr ctx) {
                          auto path = check_path(ctx);
                          if (!path) return;
                          const auto [device_id, check_id] = *path;
                          auto c = inv.get_service_check(ctx->org_scope(), device_id, check_id);
                          if (!c) return ctx->reply_error(c.error());
                          const auto states = statuses(device_id);
                          ctx->reply_data(check_json(*c, find_status(states, c->id)));
                        }));

  auto patch = make_route(
      verb::patch, "/api/v1/devices/{id}/checks/{check}", Permission::kDevicesWrite,
      "Change a service check (its kind stays); its state starts again as pending.", "devices",
      [&inv](ContextPtr ctx) {
        auto path = check_path(ctx);
        if (!path) return;
        const auto [device_id, check_id] = *path;
        ctx->set_audit_target(fmt::format("devices/{}/checks/{}", device_id, check_id));
        auto c = inv.get_service_check(ctx->org_scope(), device_id, check_id);
        if (!c) return ctx->reply_error(c.error());
        if (auto r = read_check(ctx->body(), *c, false); !r) return ctx->reply_error(r.error());
        inv.update_service_check(ctx->org_scope(), std::move(*c),
                                 answer_json(ctx, [](const ServiceCheck& updated) {
                                   return check_json(updated, nullptr);
                                 }));
      },
      Body::kJson);
  patch.doc.request_schema = schema;
  router.add(std::move(patch));

  router.add(make_route(
      verb::delete_, "/api/v1/devices/{id}/checks/{check}", Permission::kDevicesWrite,
      "Remove a service check.", "devices", [&inv](ContextPtr ctx) {
        auto path = check_path(ctx);
        if (!path) return;
        const auto [device_id, check_id] = *path;
        ctx->set_audit_target(fmt::format("devices/{}/checks/{}", device_id, check_id));
        inv.remove_service_check(ctx->org_scope(), device_id, check_id, answer_no_content(ctx));
      }));

  if (!poller) return;
  auto run = make_route(
      verb::post, "/api/v1/devices/{id}/checks/{check}/run", Permission::kDevicesWrite,
      "Run a service check now; answers with its state when the run (with its retries) is done.",
      "devices", [&inv, poller](ContextPtr ctx) {
        auto path = check_path(ctx);
        if (!path) return;
        const auto [device_id, check_id] = *path;
        ctx->set_audit_target(fmt::format("devices/{}/checks/{}", device_id, check_id));
        auto c = inv.get_service_check(ctx->org_scope(), device_id, check_id);
        if (!c) return ctx->reply_error(c.error());
        poller->run_service_check(
            ctx->org_scope(), device_id, check_id,
            [ctx, c = std::move(*c)](core::Result<pollers::ServiceCheckStatus> r) {
              if (!r) return ctx->reply_error(r.error());
              ctx->reply_data(check_json(c, &*r));
            });
      });
  run.doc.success_status = 200;
  router.add(std::move(run));
}

}  // namespace netpulse::api::detail
