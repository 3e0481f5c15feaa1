// POST /api/v1/devices/bulk: one action on many devices (the device list's bulk actions) in one
// request of the rate limit — enable, disable, maintenance on or off, delete, add or remove tags
// or groups. The devices are changed one after another through the inventory (each change its
// own transaction, checked as a PATCH or DELETE of that device is), and the answer says which
// were done and which failed and why: one device of another organization or a group that does
// not exist does not undo the others. docs/devices.md
#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_set>

#include "detail/device_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

constexpr std::size_t kMaxIds = 1000;

enum class Action {
  kEnable,
  kDisable,
  kMaintenanceOn,
  kMaintenanceOff,
  kDelete,
  kAddTags,
  kRemoveTags,
  kAddGroups,
  kRemoveGroups
};

struct ActionName {
  std::string_view name;
  Action action;
};
constexpr ActionName kActions[] = {{"enable", Action::kEnable},
                                   {"disable", Action::kDisable},
                                   {"maintenance_on", Action::kMaintenanceOn},
                                   {"maintenance_off", Action::kMaintenanceOff},
                                   {"delete", Action::kDelete},
                                   {"add_tags", Action::kAddTags},
                                   {"remove_tags", Action::kRemoveTags},
                                   {"add_groups", Action::kAddGroups},
                                   {"remove_groups", Action::kRemoveGroups}};

struct BulkRequest {
  std::vector<std::int64_t> ids;
  Action action = Action::kEnable;
  std::string action_name;
  std::vector<std::string> names;  // the tags or groups of the action
};

core::Result<BulkRequest> parse_bulk(const boost::json::object& body) {
  Fields f(body);
  if (auto r = f.only({"ids", "action", "tags", "groups"}); !r) return r.error();
  BulkRequest req;
  auto ids = f.optional_id_array("ids", kMaxIds);
  if (!ids) return std::move(ids).error();
  if (!*ids || (*ids)->empty()) {
    return core::invalid_field("ids", "must list 1 to 1000 device ids");
  }
  std::unordered_set<std::int64_t> seen;
  for (auto id : **ids) {
    if (seen.insert(id).second) req.ids.push_back(id);
  }
  auto action = f.required_string("action", 32);
  if (!action) return std::move(action).error();
  const auto* known = std::find_if(std::begin(kActions), std::end(kActions),
                                   [&](const ActionName& a) { return a.name == *action; });
  if (known == std::end(kActions)) {
    return core::invalid_field("action",
                               "must be one of enable, disable, maintenance_on, maintenance_off, "
                               "delete, add_tags, remove_tags, add_groups, remove_groups");
  }
  req.action = known->action;
  req.action_name = *action;
  auto tags = f.optional_string_array("tags", 64, 256);
  if (!tags) return std::move(tags).error();
  auto groups = f.optional_string_array("groups", 128, 1024);
  if (!groups) return std::move(groups).error();
  const bool wants_tags = req.action == Action::kAddTags || req.action == Action::kRemoveTags;
  const bool wants_groups = req.action == Action::kAddGroups || req.action == Action::kRemoveGroups;
  if (wants_tags && (!*tags || (*tags)->empty())) {
    return core::invalid_field("tags", "must list the tags to add or remove");
  }
  if (wants_groups && (!*groups || (*groups)->empty())) {
    return core::invalid_field("groups", "must list the groups to add or remove");
  }
  if (!wants_tags && *tags) return core::invalid_field("tags", "is only for add_tags, remove_tags");
  if (!wants_groups && *groups) {
    return core::invalid_field("groups", "is only for add_groups, remove_groups");
  }
  if (wants_tags) req.names = std::move(**tags);
  if (wants_groups) req.names = std::move(**groups);
  return req;
}

// The change each device gets. Tags and groups are added or removed inside the device's own
// write (DevicePatch::add_tags, ...), so an edit of the same device in between is kept.
devices::DevicePatch bulk_patch(const BulkRequest& req) {
  devices::DevicePatch p;
  switch (req.action) {
    case Action::kEnable:
      p.enabled = true;
      break;
    case Action::kDisable:
      p.enabled = false;
      break;
    case Action::kMaintenanceOn:
      p.maintenance = true;
      break;
    case Action::kMaintenanceOff:
      p.maintenance = false;
      break;
    case Action::kAddTags:
      p.add_tags = req.names;
      break;
    case Action::kRemoveTags:
      p.remove_tags = req.names;
      break;
    case Action::kAddGroups:
      p.add_groups = req.names;
      break;
    case Action::kRemoveGroups:
      p.remove_groups = req.names;
      break;
    case Action::kDelete:
      break;
  }
  return p;
}

// One bulk request in flight: the devices are changed one at a time (the next starts in the
// previous one's callback, so the db writer's queue holds one of them at a time).
struct BulkRun : std::enable_shared_from_this<BulkRun> {
  devices::Inventory& inv;
  ContextPtr ctx;
  BulkRequest req;
  std::size_t next = 0;
  boost::json::array done;
  boost::json::array failed;

  BulkRun(devices::Inventory& i, ContextPtr c, BulkRequest r)
      : inv(i), ctx(std::move(c)), req(std::move(r)) {}

  void fail(std::int64_t id, const core::Error& e) {
    boost::json::object o{{"id", id}, {"code", core::errc_name(e.code)}, {"message", e.message}};
    if (!e.details.empty()) o["details"] = e.details;
    failed.push_back(std::move(o));
  }

  void step() {
    const auto scope = ctx->org_scope();
    while (next < req.ids.size()) {
      const auto id = req.ids[next++];
      auto self = shared_from_this();
      if (req.action == Action::kDelete) {
        return inv.remove(scope, id, [self, id](core::Result<void> r) {
          self->record(id, r ? std::nullopt : std::optional<core::Error>(r.error()));
          self->step();
        });
      }
      return inv.update(scope, id, bulk_patch(req), [self, id](core::Result<devices::Device> r) {
        self->record(id, r ? std::nullopt : std::optional<core::Error>(r.error()));
        self->step();
      });
    }
    ctx->reply_data(
        {{"action", req.action_name}, {"done", std::move(done)}, {"failed", std::move(failed)}});
  }

  void record(std::int64_t id, const std::optional<core::Error>& error) {
    if (error) {
      fail(id, *error);
    } else {
      done.push_back(id);
    }
  }
};

// "devices/bulk delete 12,13,14" (the first 50 ids, then how many more).
std::string audit_target(const BulkRequest& req) {
  std::string out = "devices/bulk " + req.action_name + " ";
  for (std::size_t i = 0; i < req.ids.size() && i < 50; ++i) {
    if (i) out += ",";
    out += std::to_string(req.ids[i]);
  }
  if (req.ids.size() > 50) out += " and " + std::to_string(req.ids.size() - 50) + " more";
  return out;
}

}  // namespace

void register_device_bulk_routes(Router& router, const RouteDeps& deps) {
  auto route = make_route(
      http::verb::post, "/api/v1/devices/bulk", auth::Permission::kDevicesWrite,
      "One action on up to 1,000 devices: {\"ids\": [...], \"action\": enable | disable | "
      "maintenance_on | maintenance_off | delete | add_tags | remove_tags | add_groups | "
      "remove_groups, \"tags\" or \"groups\": [...] for the tag and group actions}. Each device is "
      "changed as its own PATCH or DELETE would; the answer lists the ids done and, for each "
      "one that failed, its error: {action, done: [ids], failed: [{id, code, message}]}.",
      "devices",
      [inv = deps.inventory](ContextPtr ctx) {
        auto req = parse_bulk(ctx->body());
        if (!req) return ctx->reply_error(req.error());
        ctx->set_audit_target(audit_target(*req));
        std::make_shared<BulkRun>(*inv, ctx, std::move(*req))->step();
      },
      Body::kJson);
  route.doc.success_status = 200;
  route.doc.request_schema = {
      {"type", "object"},
      {"required", {"ids", "action"}},
      {"properties",
       {{"ids", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
        {"action",
         {{"enum",
           {"enable", "disable", "maintenance_on", "maintenance_off", "delete", "add_tags",
            "remove_tags", "add_groups", "remove_groups"}}}},
        {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}},
        {"groups", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  router.add(std::move(route));
}

}  // namespace netpulse::api::detail
