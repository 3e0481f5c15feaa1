// Device inventory routes: devices CRUD with search, filters, sort and pages, and CSV import and
// export. Bodies are read field by field here (types, sizes); the inventory checks the meaning
// (addresses, names, SNMP levels, parents) and names the field that is wrong. docs/devices.md
// describes the shapes. A device's checks, polling, events and groups have their own files.

#include <fmt/format.h>

#include "detail/device_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using devices::Device;

constexpr std::size_t kMaxImportBytes = 16u << 20;

core::Result<devices::DevicePatch> parse_device_body(const boost::json::object& body) {
  Fields f(body);
  if (auto r = f.only({"name", "address", "type", "vendor", "model", "os", "serial", "location",
                       "notes", "tags", "groups", "parents", "enabled", "maintenance",
                       "poll_interval_s", "snmp"});
      !r) {
    return r.error();
  }
  devices::DevicePatch p;
  auto str = [&](std::string_view name, std::size_t max,
                 std::optional<std::string>& out) -> core::Result<void> {
    auto s = f.optional_string(name, max);
    if (!s) return std::move(s).error();
    out = std::move(*s);
    return core::ok();
  };
  for (auto [name, max, out] :
       {std::tuple<std::string_view, std::size_t, std::optional<std::string>*>{"name", 1024,
                                                                               &p.name},
        {"address", 1024, &p.address},
        {"vendor", 1024, &p.vendor},
        {"model", 1024, &p.model},
        {"os", 1024, &p.os},
        {"serial", 1024, &p.serial},
        {"location", 1024, &p.location},
        {"notes", 16384, &p.notes}}) {
    if (auto r = str(name, max, *out); !r) return r.error();
  }
  std::optional<std::string> type;
  if (auto r = str("type", 32, type); !r) return r.error();
  if (type) {
    auto t = devices::parse_device_type(*type);
    if (!t) {
      return core::invalid_field("type",
                                 "must be one of router, switch, olt, server, cpe, ap, other");
    }
    p.type = *t;
  }
  auto tags = f.optional_string_array("tags", 64, 256);
  if (!tags) return std::move(tags).error();
  p.tags = std::move(*tags);
  auto groups = f.optional_string_array("groups", 128, 1024);
  if (!groups) return std::move(groups).error();
  p.groups = std::move(*groups);
  auto parents = f.optional_id_array("parents", 64);
  if (!parents) return std::move(parents).error();
  p.parents = std::move(*parents);
  auto enabled = f.optional_bool("enabled");
  if (!enabled) return std::move(enabled).error();
  p.enabled = *enabled;
  auto maintenance = f.optional_bool("maintenance");
  if (!maintenance) return std::move(maintenance).error();
  p.maintenance = *maintenance;
  auto interval = f.optional_int("poll_interval_s", 1, 86'400);
  if (!interval) return std::move(interval).error();
  if (*interval) p.poll_interval_s = static_cast<int>(**interval);
  if (auto* snmp = body.if_contains("snmp")) {
    if (snmp->is_null()) {
      p.snmp = std::optional<devices::SnmpCredentials>();
    } else {
      auto c = parse_snmp(*snmp);
      if (!c) return std::move(c).error();
      p.snmp = std::optional<devices::SnmpCredentials>(std::move(*c));
    }
  }
  return p;
}

core::Result<devices::NewDevice> new_device(devices::DevicePatch p) {
  if (!p.name) return core::invalid_field("name", "is required");
  if (!p.address) return core::invalid_field("address", "is required");
  devices::NewDevice d;
  d.name = std::move(*p.name);
  d.address = std::move(*p.address);
  d.type = p.type.value_or(devices::DeviceType::kOther);
  d.vendor = p.vendor.value_or("");
  d.model = p.model.value_or("");
  d.os = p.os.value_or("");
  d.serial = p.serial.value_or("");
  d.location = p.location.value_or("");
  d.notes = p.notes.value_or("");
  d.tags = p.tags.value_or(std::vector<std::string>{});
  d.groups = p.groups.value_or(std::vector<std::string>{});
  d.parents = p.parents.value_or(std::vector<std::int64_t>{});
  d.enabled = p.enabled.value_or(true);
  d.maintenance = p.maintenance.value_or(false);
  d.poll_interval_s = p.poll_interval_s.value_or(60);
  if (p.snmp && *p.snmp) d.snmp = std::move(**p.snmp);
  return d;
}

core::Result<devices::DeviceFilter> filter_from(const ContextPtr& ctx) {
  devices::DeviceFilter f;
  if (auto q = ctx->query("search")) f.search = *q;
  if (auto q = ctx->query("q")) f.search = *q;
  if (f.search.size() > 256) return core::invalid_field("search", "must be at most 256 bytes");
  if (auto q = ctx->query("type")) {
    f.type = devices::parse_device_type(*q);
    if (!f.type) {
      return core::invalid_field("type",
                                 "must be one of router, switch, olt, server, cpe, ap, other");
    }
  }
  if (auto q = ctx->query("status")) {
    f.status = devices::parse_device_status(*q);
    if (!f.status) {
      return core::invalid_field("status",
                                 "must be one of up, down, unreachable, unknown, maintenance");
    }
  }
  if (auto q = ctx->query("tag")) f.tag = *q;
  if (auto q = ctx->query("group")) f.group = *q;
  if (auto q = ctx->query("vendor")) f.vendor = *q;
  if (auto q = ctx->query("enabled")) {
    if (*q == "true") {
      f.enabled = true;
    } else if (*q == "false") {
      f.enabled = false;
    } else {
      return core::invalid_field("enabled", "must be true or false");
    }
  }
  auto parent = int_query(ctx, "parent");
  if (!parent) return std::move(parent).error();
  f.parent = *parent;
  return f;
}

boost::json::object device_schema() {
  boost::json::object snmp{
      {"type", {"object", "null"}},
      {"properties",
       {{"version", {{"enum", {"1", "2c", "3"}}}},
        {"community", {{"type", "string"}}},
        {"port", {{"type", "integer"}}},
        {"user", {{"type", "string"}}},
        {"auth_protocol",
         {{"enum", {"none", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}}}},
        {"auth_password", {{"type", "string"}}},
        {"priv_protocol", {{"enum", {"none", "DES", "AES", "AES-128", "AES-192", "AES-256"}}}},
        {"priv_password", {{"type", "string"}}},
        {"context", {{"type", "string"}}}}}};
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"address", {{"type", "string"}}},
            {"type", {{"enum", {"router", "switch", "olt", "server", "cpe", "ap", "other"}}}},
            {"vendor", {{"type", "string"}}},
            {"model", {{"type", "string"}}},
            {"os", {{"type", "string"}}},
            {"serial", {{"type", "string"}}},
            {"location", {{"type", "string"}}},
            {"notes", {{"type", "string"}}},
            {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"groups", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"parents", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
            {"enabled", {{"type", "boolean"}}},
            {"maintenance", {{"type", "boolean"}}},
            {"poll_interval_s", {{"type", "integer"}}},
            {"snmp", std::move(snmp)}}}};
}

// The device with what the pollers saw last: ICMP figures, interface counts and its service
// checks' states.
boost::json::object device_detail(const Device& d, const pollers::Poller* poller) {
  auto out = device_json(d);
  boost::json::object latest{{"icmp", nullptr}, {"interfaces", nullptr}};
  if (poller) {
    if (auto c = poller->last_cycle(d.id)) latest["icmp"] = cycle_json(*c);
    if (auto ifs = poller->interfaces(core::OrgScope::trusted(d.org_id), d.id);
        ifs && !ifs->empty()) {
      std::int64_t up = 0, down = 0;
      for (auto& i : *ifs) {
        if (i.oper_status == 1) ++up;
        if (i.oper_status == 2 && i.admin_status == 1) ++down;
      }
      latest["interfaces"] = {{"total", ifs->size()}, {"up", up}, {"down", down}};
    }
    boost::json::object checks;
    std::int64_t passing = 0, failing = 0, pending = 0;
    for (auto& s : poller->service_check_status(d.id)) {
      if (s.state == pollers::ServiceCheckState::kPassing) ++passing;
      if (s.state == pollers::ServiceCheckState::kFailing) ++failing;
      if (s.state == pollers::ServiceCheckState::kPending) ++pending;
    }
    if (passing + failing + pending > 0) {
      latest["checks"] = {{"passing", passing}, {"failing", failing}, {"pending", pending}};
    }
  }
  out["latest"] = std::move(latest);
  return out;
}

// POST /api/v1/devices/import: a CSV body, all or nothing.
void import_devices(devices::Inventory& inv, const ContextPtr& ctx) {
  auto ctype = std::string_view(ctx->request()[http::field::content_type]);
  auto media = ctype.substr(0, ctype.find(';'));
  if (media != "text/csv") {
    return ctx->reply_error(
        core::Error(core::Errc::kUnsupportedMediaType,
                    fmt::format("the body must be CSV with Content-Type: text/csv, not \"{}\"",
                                std::string(ctype)),
                    {{"field", "Content-Type"}}));
  }
  auto cenc = std::string_view(ctx->request()[http::field::content_encoding]);
  if (!cenc.empty() && cenc != "identity") {
    return ctx->reply_error(core::Error(core::Errc::kUnsupportedMediaType,
                                        "Content-Encoding must be identity for an import",
                                        {{"field", "Content-Encoding"}}));
  }
  if (ctx->request().body().size() > kMaxImportBytes) {
    return ctx->reply_error(core::Error(
        core::Errc::kPayloadTooLarge,
        fmt::format("an import may be at most {} bytes; split the file", kMaxImportBytes),
        {{"field", "body"}}));
  }
  inv.import_csv(
      ctx->org_scope(), ctx->request().body(), [ctx](core::Result<devices::ImportResult> r) {
        if (!r) return ctx->reply_error(r.error());
        if (!r->issues.empty()) {
          boost::json::array issues;
          for (auto& i : r->issues) {
            issues.push_back({{"line", i.line}, {"column", i.column}, {"message", i.message}});
          }
          return ctx->reply_error(core::Error(
              core::Errc::kInvalidInput,
              fmt::format("the import has {} issue(s); nothing was stored", r->issues.size()),
              {{"field", "body"}, {"issues", std::move(issues)}, {"rows", r->rows}}));
        }
        boost::json::array created;
        for (auto& d : r->created) created.push_back(device_json(d));
        ctx->set_audit_target("devices/import");
        ctx->reply_data({{"created", r->created.size()}, {"devices", std::move(created)}},
                        http::status::created);
      });
}

// GET /api/v1/devices: one page of the devices the query selects, sorted.
void list_devices(devices::Inventory& inv, const ContextPtr& ctx) {
  auto page = page_param(ctx);
  if (!page) return;
  auto filter = filter_from(ctx);
  if (!filter) return ctx->reply_error(filter.error());
  devices::DeviceSort sort;
  if (auto q = ctx->query("sort")) {
    auto s = devices::parse_device_sort(*q);
    if (!s) {
      return ctx->reply_error(core::invalid_field(
          "sort",
          "must be one of name, address, type, status, vendor, last_seen, created_at, id "
          "(with an optional leading '-')"));
    }
    sort = *s;
  }
  reply_page(ctx, inv.list(ctx->org_scope(), *filter, sort, *page), *page, device_json);
}

std::vector<QueryParamDoc> list_query() {
  auto query = page_query();
  query.insert(query.end(),
               {{"search",
                 "Case-insensitive text in name, address, location, vendor, model, sysDescr or "
                 "notes (also `q`)."},
                {"type", "router, switch, olt, server, cpe, ap or other."},
                {"status", "up, down, unreachable, unknown or maintenance."},
                {"tag", "Devices with this tag."},
                {"group", "Devices in the group of this name."},
                {"vendor", "Vendor, case-insensitive."},
                {"enabled", "true or false."},
                {"parent", "Direct children of this device id.", "integer"},
                {"sort",
                 "name, address, type, status, vendor, last_seen, created_at or id; a leading '-' "
                 "sorts descending (default name)."}});
  return query;
}

}  // namespace

void register_device_routes(Router& router, const RouteDeps& deps) {
  auto& inv = *deps.inventory;
  auto* poller = deps.poller;
  using http::verb;

  auto list = make_route(verb::get, "/api/v1/devices", Permission::kDevicesRead,
                         "List, search and filter your organization's devices.", "devices",
                         [&inv](ContextPtr ctx) { list_devices(inv, ctx); });
  list.doc.query = list_query();
  router.add(std::move(list));

  auto create = make_route(
      verb::post, "/api/v1/devices", Permission::kDevicesWrite, "Add a device.", "devices",
      [&inv](ContextPtr ctx) {
        auto patch = parse_device_body(ctx->body());
        if (!patch) return ctx->reply_error(patch.error());
        auto device = new_device(std::move(*patch));
        if (!device) return ctx->reply_error(device.error());
        inv.create(ctx->org_scope(), std::move(*device),
                   answer_created(ctx, "devices", device_json));
      },
      Body::kJson);
  create.doc.request_schema = device_schema();
  create.doc.request_schema["required"] = {"name", "address"};
  router.add(std::move(create));

  auto export_csv = make_route(
      verb::get, "/api/v1/devices/export", Permission::kDevicesRead,
      "Your organization's devices as CSV (the import's columns; no secrets).", "devices",
      [&inv](ContextPtr ctx) {
        auto filter = filter_from(ctx);
        if (!filter) return ctx->reply_error(filter.error());
        Response res;
        res.body = inv.export_csv(ctx->org_scope(), *filter);
        res.content_type = "text/csv; charset=utf-8";
        res.headers.emplace_back("Content-Disposition", "attachment; filename=\"devices.csv\"");
        ctx->reply(std::move(res));
      });
  export_csv.doc.query = list_query();
  router.add(std::move(export_csv));

  router.add(make_route(verb::post, "/api/v1/devices/import", Permission::kDevicesWrite,
                        "Import devices from CSV (Content-Type: text/csv), all or nothing: any "
                        "issue stores none and lists every issue by line and column.",
                        "devices", [&inv](ContextPtr ctx) { import_devices(inv, ctx); }));

  router.add(make_route(verb::get, "/api/v1/devices/{id}", Permission::kDevicesRead,
                        "One device, with the latest ICMP figures and interface counts.", "devices",
                        [&inv, poller](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          auto d = inv.get(ctx->org_scope(), *id);
                          if (!d) return ctx->reply_error(d.error());
                          ctx->reply_data(device_detail(*d, poller));
                        }));

  auto patch = make_route(
      verb::patch, "/api/v1/devices/{id}", Permission::kDevicesWrite,
      "Change a device: each field given replaces the stored one. In `snmp`, a secret left out "
      "keeps the stored one while the version and user stay the same; `\"snmp\": null` removes "
      "SNMP.",
      "devices",
      [&inv](ContextPtr ctx) {
        auto id = target_id(ctx, "devices");
        if (!id) return;
        auto p = parse_device_body(ctx->body());
        if (!p) return ctx->reply_error(p.error());
        inv.update(ctx->org_scope(), *id, std::move(*p), answer_json(ctx, device_json));
      },
      Body::kJson);
  patch.doc.request_schema = device_schema();
  router.add(std::move(patch));

  router.add(make_route(verb::delete_, "/api/v1/devices/{id}", Permission::kDevicesWrite,
                        "Delete a device (and its parent links).", "devices",
                        [&inv](ContextPtr ctx) {
                          auto id = target_id(ctx, "devices");
                          if (!id) return;
                          inv.remove(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));
}

}  // namespace netpulse::api::detail
