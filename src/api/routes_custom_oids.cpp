// Custom SNMP object routes: the instance OIDs an organization has the pollers read for one device
// or for every device of a type, each stored as a metric (times a scale) with the device's
// labels. The inventory keeps them; the pollers pick up a change at their next cycle.
#include <cstdint>

#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

boost::json::object custom_oid_json(const devices::CustomOid& o) {
  return {{"id", o.id},
          {"device_id", opt(o.device_id)},
          {"device_type",
           o.device_type ? boost::json::value(devices::device_type_name(*o.device_type)) : nullptr},
          {"oid", o.oid},
          {"metric", o.metric},
          {"kind", o.counter ? "counter" : "gauge"},
          {"scale", o.scale},
          {"unit", o.unit},
          {"created_at", core::format_rfc3339_seconds(o.created_at)}};
}

// The body of POST /api/v1/custom-oids.
core::Result<devices::CustomOid> read_custom_oid(const boost::json::object& body) {
  Fields f(body);
  if (auto r = f.only({"device_id", "device_type", "oid", "metric", "kind", "scale", "unit"}); !r) {
    return r.error();
  }
  devices::CustomOid o;
  auto device = f.optional_int("device_id", 1, INT64_MAX);
  if (!device) return device.error();
  o.device_id = *device;
  auto type = f.optional_string("device_type", 32);
  if (!type) return type.error();
  if (*type) {
    o.device_type = devices::parse_device_type(**type);
    if (!o.device_type) {
      return core::invalid_field("device_type",
                                 "must be one of router, switch, olt, server, cpe, ap, other");
    }
  }
  auto oid = f.required_string("oid", 1400);
  if (!oid) return oid.error();
  o.oid = *oid;
  auto metric = f.required_string("metric", 128);
  if (!metric) return metric.error();
  o.metric = *metric;
  auto kind = f.optional_string("kind", 16);
  if (!kind) return kind.error();
  if (*kind && **kind != "gauge" && **kind != "counter") {
    return core::invalid_field("kind", "must be gauge or counter");
  }
  o.counter = *kind && **kind == "counter";
  if (auto* scale = body.if_contains("scale")) {
    if (!scale->is_number()) return core::invalid_field("scale", "must be a number");
    o.scale = scale->to_number<double>();
  }
  auto unit = f.optional_string("unit", 64);
  if (!unit) return unit.error();
  o.unit = unit->value_or("");
  return o;
}

}  // namespace

void register_custom_oid_routes(Router& router, const RouteDeps& deps) {
  auto& inv = *deps.inventory;
  using http::verb;

  router.add(make_route(verb::get, "/api/v1/custom-oids", Permission::kDevicesRead,
                        "Custom SNMP objects polled per device or per device type.", "devices",
                        [&inv](ContextPtr ctx) {
                          boost::json::array items;
                          for (auto& o : inv.list_custom_oids(ctx->org_scope())) {
                            items.push_back(custom_oid_json(o));
                          }
                          ctx->reply_data(std::move(items));
                        }));

  router.add(make_route(
      verb::post, "/api/v1/custom-oids", Permission::kDevicesWrite,
      "Poll a custom SNMP object (an instance OID) for one device or every device of a type, "
      "stored as `metric` (x scale) with the device's labels.",
      "devices",
      [&inv](ContextPtr ctx) {
        auto o = read_custom_oid(ctx->body());
        if (!o) return ctx->reply_error(o.error());
        inv.add_custom_oid(ctx->org_scope(), std::move(*o),
                           answer_created(ctx, "custom-oids", custom_oid_json));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/custom-oids/{id}", Permission::kDevicesWrite,
                        "Stop polling a custom SNMP object.", "devices", [&inv](ContextPtr ctx) {
                          auto id = target_id(ctx, "custom-oids");
                          if (!id) return;
                          inv.remove_custom_oid(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));
}

}  // namespace netpulse::api::detail
