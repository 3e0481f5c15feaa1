// Every route NetPulse serves, registered in one list: each area of the API has its own
// routes_<area>.cpp with a register_<area>_routes function, and this is where they are all
// called, in the order the route table (and so the OpenAPI document) lists them. An area whose
// module the server was built without (no store, no inventory, no pollers) is left out here.
#include "detail/routes.hpp"

#include <netpulse/api/routes.hpp>

namespace netpulse::api {

void register_routes(Router& router, const RouteDeps& deps) {
  const bool tsdb = deps.tsdb && deps.workers;
  const bool inventory = deps.inventory != nullptr;
  const bool poller = inventory && deps.poller;

  detail::register_system_routes(router, deps);
  detail::register_auth_routes(router, deps);
  detail::register_user_routes(router, deps);
  detail::register_organization_routes(router, deps);
  detail::register_api_key_routes(router, deps);
  detail::register_audit_routes(router, deps);
  if (tsdb) detail::register_ingest_routes(router, deps);
  if (tsdb) detail::register_query_routes(router, deps);
  if (tsdb) detail::register_series_routes(router, deps);
  if (inventory) detail::register_service_check_routes(router, deps);
  if (inventory) detail::register_device_routes(router, deps);
  if (poller) detail::register_polling_routes(router, deps);
  if (inventory) detail::register_custom_oid_routes(router, deps);
  if (inventory) detail::register_event_routes(router, deps);
  if (inventory) detail::register_group_routes(router, deps);
  if (inventory) detail::register_topology_routes(router, deps);
  if (inventory) detail::register_device_bulk_routes(router, deps);
  if (deps.alerts) detail::register_alert_rule_routes(router, deps);
  if (deps.alerts) detail::register_alert_routes(router, deps);
  if (deps.alerts) detail::register_silence_routes(router, deps);
  if (inventory && deps.alerts) detail::register_overview_routes(router, deps);
  if (deps.notifier) detail::register_notify_routes(router, deps);
  if (deps.notifier) detail::register_notify_people_routes(router, deps);
  if (deps.notifier && deps.alerts) detail::register_ack_routes(router, deps);
  if (deps.dashboards) detail::register_dashboard_routes(router, deps);
  if (tsdb) detail::register_query_batch_routes(router, deps);
  if (deps.settings) detail::register_settings_routes(router, deps);
}

}  // namespace netpulse::api
