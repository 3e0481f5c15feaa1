// GET /api/v1/topology: the organization's dependency graph in one answer, for the web UI's map —
// every device as a small node (id, name, address, type, status, parents) rather than the full
// device record, so a map of thousands of devices is one request of the rate limit and a few
// hundred KB. ?group= and ?tag= narrow it (a parent outside the selection is then left out of
// the node's parents). docs/web.md
#include <unordered_set>

#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

// More than a small ISP has; past it the map would not be readable anyway.
constexpr int kMaxNodes = 20'000;

void topology(const devices::Inventory& inv, const ContextPtr& ctx) {
  devices::DeviceFilter filter;
  if (auto q = ctx->query("group")) filter.group = *q;
  if (auto q = ctx->query("tag")) filter.tag = *q;
  auto page = inv.list(ctx->org_scope(), filter, devices::DeviceSort{devices::DeviceSortKey::kId},
                       core::Page{1, kMaxNodes});
  if (!page) return ctx->reply_error(page.error());
  std::unordered_set<std::int64_t> present;
  present.reserve(page->items.size());
  for (const auto& d : page->items) present.insert(d.id);
  boost::json::array nodes;
  nodes.reserve(page->items.size());
  std::int64_t edges = 0;
  for (const auto& d : page->items) {
    boost::json::array parents;
    for (auto p : d.parents) {
      if (present.contains(p)) parents.push_back(p);
    }
    edges += static_cast<std::int64_t>(parents.size());
    nodes.push_back(boost::json::object{{"id", d.id},
                                        {"name", d.name},
                                        {"address", d.address},
                                        {"type", devices::device_type_name(d.type)},
                                        {"status", devices::device_status_name(d.status())},
                                        {"parents", std::move(parents)}});
  }
  ctx->reply_data({{"nodes", std::move(nodes)},
                   {"edges", edges},
                   {"total", page->total},
                   {"truncated", page->total > static_cast<std::int64_t>(page->items.size())}});
}

}  // namespace

void register_topology_routes(Router& router, const RouteDeps& deps) {
  auto route = make_route(
      http::verb::get, "/api/v1/topology", auth::Permission::kDevicesRead,
      "The dependency graph for the map: every device as a node {id, name, address, type, "
      "status, parents} (at most 20,000; truncated says when there were more), the number of "
      "parent links, and total. ?group= and ?tag= narrow it to a group or a tag.",
      "devices", [inv = deps.inventory](ContextPtr ctx) { topology(*inv, ctx); });
  route.doc.query = {{"group", "Only the devices of this group (by name).", "string"},
                     {"tag", "Only the devices with this tag.", "string"}};
  router.add(std::move(route));
}

}  // namespace netpulse::api::detail
