// Device group routes: groups CRUD. A device joins a group by name in its own body (see
// routes_devices.cpp); deleting a group leaves its devices in place.
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

boost::json::object group_json(const devices::Group& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"device_count", g.device_count},
          {"created_at", core::format_rfc3339_seconds(g.created_at)},
          {"updated_at", core::format_rfc3339_seconds(g.updated_at)}};
}

boost::json::object group_schema() {
  return {{"type", "object"},
          {"properties", {{"name", {{"type", "string"}}}, {"description", {{"type", "string"}}}}}};
}

}  // namespace

void register_group_routes(Router& router, const RouteDeps& deps) {
  auto& inv = *deps.inventory;
  using http::verb;

  auto list_groups =
      make_route(verb::get, "/api/v1/device-groups", Permission::kDevicesRead,
                 "List device groups.", "devices", [&inv](ContextPtr ctx) {
                   auto page = page_param(ctx);
                   if (!page) return;
                   reply_page(ctx, inv.list_groups(ctx->org_scope(), *page), *page, group_json);
                 });
  list_groups.doc.query = page_query();
  router.add(std::move(list_groups));

  auto create_group = make_route(
      verb::post, "/api/v1/device-groups", Permission::kDevicesWrite, "Create a device group.",
      "devices",
      [&inv](ContextPtr ctx) {
        Fields f(ctx->body());
        if (auto r = f.only({"name", "description"}); !r) return ctx->reply_error(r.error());
        auto name = f.required_string("name", 1024);
        if (!name) return ctx->reply_error(name.error());
        auto description = f.optional_string("description", 4096);
        if (!description) return ctx->reply_error(description.error());
        inv.create_group(ctx->org_scope(), *name, description->value_or(""),
                         answer_created(ctx, "device-groups", group_json));
      },
      Body::kJson);
  create_group.doc.request_schema = group_schema();
  create_group.doc.request_schema["required"] = boost::json::array{"name"};
  router.add(std::move(create_group));

  router.add(make_route(verb::get, "/api/v1/device-groups/{id}", Permission::kDevicesRead,
                        "One device group.", "devices", [&inv](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, inv.get_group(ctx->org_scope(), *id), http::status::ok,
                                       group_json);
                        }));

  auto patch_group = make_route(
      verb::patch, "/api/v1/device-groups/{id}", Permission::kDevicesWrite,
      "Rename a device group or change its description.", "devices",
      [&inv](ContextPtr ctx) {
        auto id = target_id(ctx, "device-groups");
        if (!id) return;
        Fields f(ctx->body());
        if (auto r = f.only({"name", "description"}); !r) return ctx->reply_error(r.error());
        devices::GroupPatch p;
        auto name = f.optional_string("name", 1024, false);
        if (!name) return ctx->reply_error(name.error());
        auto description = f.optional_string("description", 4096);
        if (!description) return ctx->reply_error(description.error());
        p.name = *name;
        p.description = *description;
        inv.update_group(ctx->org_scope(), *id, std::move(p), answer_json(ctx, group_json));
      },
      Body::kJson);
  patch_group.doc.request_schema = group_schema();
  router.add(std::move(patch_group));

  router.add(make_route(verb::delete_, "/api/v1/device-groups/{id}", Permission::kDevicesWrite,
                        "Delete a device group (its devices stay).", "devices",
                        [&inv](ContextPtr ctx) {
                          auto id = target_id(ctx, "device-groups");
                          if (!id) return;
                          inv.remove_group(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));
}

}  // namespace netpulse::api::detail
