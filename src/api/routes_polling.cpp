// Polling and discovery routes: "poll now", a device's interfaces as last polled, discovery jobs
// (start, list, read, stop) and the poller's figures. Registered only when the server runs the
// pollers; the answers are what the pollers saw, not what the inventory stores.
#include <chrono>

#include "detail/device_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

// One organization's poller figures (what every caller of /api/v1/pollers sees of its own).
boost::json::object org_pollers_json(const pollers::OrgPollerHealth& h) {
  boost::json::object statuses;
  for (auto s : {devices::DeviceStatus::kUp, devices::DeviceStatus::kDown,
                 devices::DeviceStatus::kUnreachable, devices::DeviceStatus::kUnknown,
                 devices::DeviceStatus::kMaintenance}) {
    statuses[devices::device_status_name(s)] = h.statuses[static_cast<std::size_t>(s)];
  }
  boost::json::object kinds;
  for (std::size_t k = 0; k < pollers::kCheckKinds; ++k) {
    auto& s = h.kinds[k];
    kinds[pollers::check_kind_name(static_cast<pollers::CheckKind>(k))] = {
        {"checks", s.checks},
        {"runs_ok", s.runs_ok},
        {"runs_failed", s.runs_failed},
        {"timeouts", s.timeouts}};
  }
  return {{"org_id", h.org_id},
          {"devices", h.devices},
          {"statuses", std::move(statuses)},
          {"kinds", std::move(kinds)},
          {"service_checks",
           {{"passing", h.checks_passing},
            {"failing", h.checks_failing},
            {"pending", h.checks_pending}}},
          {"traps", {{"accepted", h.traps_accepted}}}};
}

// The whole poller, every organization together: for system admins only.
boost::json::object server_pollers_json(const pollers::Poller& poller) {
  auto h = poller.health();
  boost::json::object kinds;
  for (std::size_t k = 0; k < pollers::kCheckKinds; ++k) {
    auto& s = h.kinds[k];
    kinds[pollers::check_kind_name(static_cast<pollers::CheckKind>(k))] = {
        {"checks", s.checks},      {"in_flight", s.in_flight},     {"runs_started", s.runs_started},
        {"runs_ok", s.runs_ok},    {"runs_failed", s.runs_failed}, {"attempts", s.attempts},
        {"retries", s.retries},    {"timeouts", s.timeouts},       {"overruns", s.overruns},
        {"throttled", s.throttled}};
  }
  const auto& t = h.traps;
  boost::json::object traps{
      {"listen", h.traps_listen},
      {"received", t.received},
      {"decoded", t.decoded},
      {"accepted", h.traps_accepted},
      {"unmatched", h.traps_unmatched},
      // The receiver's allow-list is not used by the poller: every wrong community is here.
      {"dropped_community", h.traps_dropped_community + t.dropped_community},
      {"dropped_v3_user", h.traps_dropped_v3_user},
      {"dropped_malformed", t.dropped_malformed},
      {"dropped_rate_limited", t.dropped_rate_limited},
      {"dropped_not_trap", t.dropped_not_trap},
      {"dropped_v3", t.dropped_v3},
      {"dropped_v3_security", t.dropped_v3_security},
      {"informs_answered", t.informs_answered},
      {"informs_duplicate", t.informs_duplicate}};
  return {{"icmp_mode", h.icmp_mode},
          {"devices", h.devices},
          {"kinds", std::move(kinds)},
          {"traps", std::move(traps)}};
}

boost::json::value outcome_json(const std::optional<pollers::CheckOutcome>& o) {
  if (!o) return nullptr;
  return {{"ok", o->ok}, {"timed_out", o->timed_out}, {"error", o->error}};
}

boost::json::object interface_json(const pollers::InterfaceInfo& i) {
  return {{"if_index", i.if_index},
          {"name", i.name},
          {"alias", i.alias},
          {"descr", i.descr},
          {"admin_status", i.admin_status},
          {"oper_status", i.oper_status},
          {"speed_bps", i.speed_bps},
          {"in_bps", opt(i.in_bps)},
          {"out_bps", opt(i.out_bps)},
          {"utilization_pct", opt(i.utilization_pct)},
          {"hc_counters", i.hc_counters},
          {"polled_at", core::format_rfc3339_seconds(i.polled_at)}};
}

boost::json::object discovery_json(const pollers::DiscoveryJob& j, bool with_hosts) {
  boost::json::object out{
      {"id", j.id},
      {"cidr", j.cidr},
      {"state", pollers::discovery_state_name(j.state)},
      {"progress",
       {{"total", j.total},
        {"skipped", j.skipped},
        {"scanned", j.scanned},
        {"answered", j.answered},
        {"snmp", j.snmp}}},
      {"started_at", core::format_rfc3339_seconds(j.started_at)},
      {"finished_at",
       j.finished_at ? boost::json::value(core::format_rfc3339_seconds(*j.finished_at)) : nullptr}};
  if (!with_hosts) return out;
  boost::json::array hosts;
  for (auto& h : j.hosts) {
    boost::json::array neighbours;
    for (auto& n : h.neighbours) {
      neighbours.push_back({{"local_port", n.local_port},
                            {"remote_name", n.remote_name},
                            {"remote_port", n.remote_port},
                            {"remote_chassis", n.remote_chassis}});
    }
    boost::json::object proposal{{"name", h.proposal.name},
                                 {"address", h.proposal.address},
                                 {"type", devices::device_type_name(h.proposal.type)},
                                 {"vendor", h.proposal.vendor},
                                 {"os", h.proposal.os},
                                 {"location", h.proposal.location},
                                 {"parents", boost::json::array(h.proposed_parent_ids.begin(),
                                                                h.proposed_parent_ids.end())}};
    if (h.proposal.snmp) proposal["snmp"] = snmp_json(h.proposal.snmp->settings);
    hosts.push_back(
        {{"address", h.address},
         {"icmp", h.icmp_answered},
         {"rtt_ms", opt(h.rtt_ms)},
         {"snmp_credential", h.snmp_credential ? boost::json::value(*h.snmp_credential) : nullptr},
         {"sys_name", h.system.sys_name},
         {"sys_descr", h.system.sys_descr},
         {"sys_object_id", h.system.sys_object_id},
         {"existing_device_id", opt(h.existing_device_id)},
         {"neighbours", std::move(neighbours)},
         {"proposed_parent_addresses", boost::json::array(h.proposed_parent_addresses.begin(),
                                                          h.proposed_parent_addresses.end())},
         {"proposal", std::move(proposal)}});
  }
  out["hosts"] = std::move(hosts);
  return out;
}

// A "poll now" report: the device's status and what each check found.
boost::json::object poll_report_json(const pollers::PollReport& r) {
  boost::json::object out{{"device_id", r.device_id},
                          {"status", devices::device_status_name(r.status)},
                          {"icmp", r.icmp ? boost::json::value(cycle_json(*r.icmp)) : nullptr},
                          {"icmp_outcome", outcome_json(r.icmp_outcome)},
                          {"snmp_outcome", outcome_json(r.snmp_outcome)},
                          {"snmp_values", r.snmp_values}};
  boost::json::array checks;
  for (auto& s : r.service_checks) checks.push_back(service_check_status_json(s));
  out["service_checks"] = std::move(checks);
  return out;
}

// An error about one credential set names it: "snmp.community" becomes "snmp[1].community", in
// the field and at the head of the message.
core::Error set_error(core::Error e, std::size_t index) {
  const auto name = "snmp[" + std::to_string(index) + "]";
  if (auto* field = e.details.if_contains("field"); field && field->is_string()) {
    const std::string f(field->as_string());
    if (f.starts_with("snmp")) *field = name + f.substr(4);
  }
  if (e.message.starts_with("snmp")) e.message = name + e.message.substr(4);
  return e;
}

// POST /api/v1/discovery: starts a job and answers it at once (202).
void start_discovery(pollers::Poller& poller, const ContextPtr& ctx) {
  auto& body = ctx->body();
  Fields f(body);
  if (auto r = f.only({"cidr", "icmp", "snmp", "timeout_ms"}); !r) {
    return ctx->reply_error(r.error());
  }
  pollers::DiscoveryRequest req;
  auto cidr = f.required_string("cidr", 64);
  if (!cidr) return ctx->reply_error(cidr.error());
  req.cidr = *cidr;
  auto icmp = f.optional_bool("icmp");
  if (!icmp) return ctx->reply_error(icmp.error());
  req.icmp = icmp->value_or(true);
  auto timeout = f.optional_int("timeout_ms", 10, 10'000);
  if (!timeout) return ctx->reply_error(timeout.error());
  req.timeout = std::chrono::milliseconds(timeout->value_or(1000));
  if (auto* snmp = body.if_contains("snmp"); snmp && !snmp->is_null()) {
    if (!snmp->is_array() || snmp->as_array().size() > 8) {
      return ctx->reply_error(
          core::invalid_field("snmp", "must be an array of at most 8 credential sets"));
    }
    for (std::size_t i = 0; i < snmp->as_array().size(); ++i) {
      auto c = parse_snmp(snmp->as_array()[i]);
      if (!c) return ctx->reply_error(set_error(c.error(), i));
      if (auto r = devices::check_snmp_credentials(*c); !r) {
        return ctx->reply_error(set_error(r.error(), i));
      }
      req.snmp.push_back(std::move(*c));
    }
  }
  auto job = poller.discovery().start(ctx->org_scope(), std::move(req));
  if (!job) return ctx->reply_error(job.error());
  ctx->set_audit_target("discovery/" + job->id);
  ctx->reply_data(discovery_json(*job, false), http::status::accepted);
}

}  // namespace

void register_polling_routes(Router& router, const RouteDeps& deps) {
  auto* poller = deps.poller;
  using http::verb;

  auto poll =
      make_route(verb::post, "/api/v1/devices/{id}/poll", Permission::kDevicesWrite,
                 "Poll the device now (ICMP, SNMP when it has credentials, and its enabled service "
                 "checks); answers when the poll has finished.",
                 "devices", [poller](ContextPtr ctx) {
                   auto id = target_id(ctx, "devices");
                   if (!id) return;
                   poller->poll_now(ctx->org_scope(), *id, answer_json(ctx, poll_report_json));
                 });
  poll.doc.success_status = 200;
  router.add(std::move(poll));

  router.add(
      make_route(verb::get, "/api/v1/devices/{id}/interfaces", Permission::kDevicesRead,
                 "The device's interfaces as last polled by SNMP, with rates and utilization.",
                 "devices", [poller](ContextPtr ctx) {
                   auto id = path_id(ctx);
                   if (!id) return;
                   auto r = poller->interfaces(ctx->org_scope(), *id);
                   if (!r) return ctx->reply_error(r.error());
                   boost::json::array items;
                   for (auto& i : *r) items.push_back(interface_json(i));
                   ctx->reply_data(std::move(items));
                 }));

  auto discover = make_route(
      verb::post, "/api/v1/discovery", Permission::kDevicesWrite,
      "Scan a CIDR (IPv4 up to /20, IPv6 up to /120) with ICMP and SNMP; answers the job at "
      "once (202). Proposals are read from the job; nothing is added to the inventory.",
      "devices", [poller](ContextPtr ctx) { start_discovery(*poller, ctx); }, Body::kJson);
  discover.doc.success_status = 202;
  router.add(std::move(discover));

  router.add(make_route(verb::get, "/api/v1/discovery", Permission::kDevicesRead,
                        "Discovery jobs of your organization with their progress, newest first.",
                        "devices", [poller](ContextPtr ctx) {
                          boost::json::array items;
                          for (auto& j : poller->discovery().list(ctx->org_scope())) {
                            items.push_back(discovery_json(j, false));
                          }
                          ctx->reply_data(std::move(items));
                        }));
  router.add(make_route(
      verb::get, "/api/v1/discovery/{id}", Permission::kDevicesRead,
      "A discovery job: progress, and the hosts found with proposed devices, LLDP "
      "neighbours and parent links.",
      "devices", [poller](ContextPtr ctx) {
        auto job = poller->discovery().get(ctx->org_scope(), std::string(ctx->param("id")));
        if (!job) return ctx->reply_error(job.error());
        ctx->reply_data(discovery_json(*job, true));
      }));
  router.add(make_route(verb::delete_, "/api/v1/discovery/{id}", Permission::kDevicesWrite,
                        "Stop a running discovery job (what it found stays readable).", "devices",
                        [poller](ContextPtr ctx) {
                          auto r = poller->discovery().cancel(ctx->org_scope(),
                                                              std::string(ctx->param("id")));
                          if (!r) return ctx->reply_error(r.error());
                          ctx->reply_no_content();
                        }));

  auto pollers_route = make_route(
      verb::get, "/api/v1/pollers", Permission::kDevicesRead,
      "Poller figures of the caller's organization: devices polled and their statuses, checks "
      "per kind with their runs, service check states, traps accepted. A system admin also "
      "gets `server`: the whole poller's engine figures (every organization).",
      "devices", [poller](ContextPtr ctx) {
        auto out = org_pollers_json(poller->org_health(ctx->org_scope()));
        if (ctx->principal().is_system_admin()) out["server"] = server_pollers_json(*poller);
        ctx->reply_data(std::move(out));
      });
  router.add(std::move(pollers_route));
}

}  // namespace netpulse::api::detail
