// Device inventory routes: devices CRUD with search, filters, sort and pages; CSV import and
// export; device groups. Bodies are read field by field here (types, sizes); the inventory checks
// the meaning (addresses, names, SNMP levels, parents) and names the field that is wrong.
// docs/devices.md describes the shapes.

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "detail/json_fields.hpp"
#include "detail/routes.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using devices::Device;

constexpr std::size_t kMaxImportBytes = 16u << 20;

boost::json::value snmp_json(const std::optional<devices::SnmpSettings>& s) {
  if (!s) return nullptr;
  boost::json::object o{{"version", devices::snmp_version_name(s->version)}, {"port", s->port}};
  if (s->version == devices::SnmpVersion::kV3) {
    o["user"] = s->user;
    o["auth_protocol"] = devices::snmp_auth_name(s->auth);
    o["priv_protocol"] = devices::snmp_priv_name(s->priv);
    o["context"] = s->context;
  }
  return o;
}

boost::json::object device_json(const Device& d) {
  boost::json::array tags(d.tags.begin(), d.tags.end());
  boost::json::array groups(d.groups.begin(), d.groups.end());
  boost::json::array parents(d.parents.begin(), d.parents.end());
  return {{"id", d.id},
          {"name", d.name},
          {"address", d.address},
          {"type", devices::device_type_name(d.type)},
          {"status", devices::device_status_name(d.status())},
          {"status_changed_at", opt_time(d.status_changed_at)},
          {"last_seen", opt_time(d.last_seen)},
          {"vendor", d.vendor},
          {"model", d.model},
          {"os", d.os},
          {"serial", d.serial},
          {"sys_descr", d.sys_descr},
          {"sys_object_id", d.sys_object_id},
          {"uptime_s", opt(d.uptime_s)},
          {"location", d.location},
          {"notes", d.notes},
          {"tags", std::move(tags)},
          {"groups", std::move(groups)},
          {"parents", std::move(parents)},
          {"enabled", d.enabled},
          {"maintenance", d.maintenance},
          {"poll_interval_s", d.poll_interval_s},
          {"snmp", snmp_json(d.snmp)},
          {"created_at", core::format_rfc3339_seconds(d.created_at)},
          {"updated_at", core::format_rfc3339_seconds(d.updated_at)}};
}

boost::json::object group_json(const devices::Group& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"device_count", g.device_count},
          {"created_at", core::format_rfc3339_seconds(g.created_at)},
          {"updated_at", core::format_rfc3339_seconds(g.updated_at)}};
}

// The "snmp" object of a request. Field types and sizes here; the inventory checks the rest.
core::Result<devices::SnmpCredentials> parse_snmp(const boost::json::value& v) {
  if (!v.is_object()) return core::invalid_field("snmp", "must be an object or null");
  const auto& o = v.as_object();
  Fields f(o, "snmp");
  if (auto r = f.only({"version", "community", "port", "user", "auth_protocol", "auth_password",
                       "priv_protocol", "priv_password", "context"});
      !r) {
    return r.error();
  }
  devices::SnmpCredentials c;
  const auto* version = o.if_contains("version");
  std::optional<devices::SnmpVersion> parsed;
  if (version && version->is_string()) {
    parsed = devices::parse_snmp_version(std::string_view(version->as_string()));
  } else if (version && version->is_int64()) {
    const auto n = version->as_int64();
    if (n == 1) parsed = devices::SnmpVersion::kV1;
    if (n == 2) parsed = devices::SnmpVersion::kV2c;
    if (n == 3) parsed = devices::SnmpVersion::kV3;
  }
  if (!version) return core::invalid_field("snmp.version", "is required");
  if (!parsed) return core::invalid_field("snmp.version", "must be \"1\", \"2c\" or \"3\"");
  c.settings.version = *parsed;
  auto port = f.optional_int("port", 1, 65535);
  if (!port) return std::move(port).error();
  c.settings.port = static_cast<std::uint16_t>(port->value_or(161));
  auto text = [&](std::string_view name, std::string& out) -> core::Result<void> {
    auto s = f.optional_string(name, 255);
    if (!s) return std::move(s).error();
    out = s->value_or("");
    return core::ok();
  };
  std::string auth = "none", priv = "none";
  for (auto [name, out] :
       {std::pair<std::string_view, std::string*>{"community", &c.secrets.community},
        {"user", &c.settings.user},
        {"auth_password", &c.secrets.auth_password},
        {"priv_password", &c.secrets.priv_password},
        {"context", &c.settings.context},
        {"auth_protocol", &auth},
        {"priv_protocol", &priv}}) {
    if (auto r = text(name, *out); !r) return r.error();
  }
  if (auth.empty()) auth = "none";
  if (priv.empty()) priv = "none";
  auto a = devices::parse_snmp_auth(auth);
  if (!a) {
    return core::invalid_field("snmp.auth_protocol",
                               "must be none, MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512");
  }
  auto p = devices::parse_snmp_priv(priv);
  if (!p) {
    return core::invalid_field("snmp.priv_protocol",
                               "must be none, DES, AES, AES-128, AES-192 or AES-256");
  }
  c.settings.auth = *a;
  c.settings.priv = *p;
  return c;
}

// The fields a device body may carry, for create (all) and patch (all, each optional).
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

boost::json::object cycle_json(const pollers::PingCycleResult& r) {
  return {{"sent", r.count},
          {"received", r.received},
          {"loss_pct", r.loss_percent},
          {"rtt_min_ms", r.received ? boost::json::value(r.rtt_min_ms) : nullptr},
          {"rtt_avg_ms", r.received ? boost::json::value(r.rtt_avg_ms) : nullptr},
          {"rtt_max_ms", r.received ? boost::json::value(r.rtt_max_ms) : nullptr},
          {"jitter_ms", r.received > 1 ? boost::json::value(r.jitter_ms) : nullptr}};
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

boost::json::object event_json(const devices::DeviceEvent& e) {
  boost::system::error_code ec;
  auto details = boost::json::parse(e.details_json, ec);
  return {{"id", e.id},
          {"device_id", opt(e.device_id)},
          {"at", core::format_rfc3339_seconds(e.at)},
          {"kind", e.kind},
          {"severity", devices::event_severity_name(e.severity)},
          {"message", e.message},
          {"details", ec ? boost::json::value(boost::json::object()) : details}};
}

// Answers a page of the event log for `filter` (plus the query's kind/severity/since/until).
void reply_events(const ContextPtr& ctx, devices::Inventory& inv, devices::EventFilter filter) {
  auto page = ctx->page();
  if (!page) return ctx->reply_error(page.error());
  if (auto q = ctx->query("kind")) filter.kind = *q;
  if (auto q = ctx->query("severity")) {
    filter.severity = devices::parse_event_severity(*q);
    if (!filter.severity) {
      return ctx->reply_error(core::invalid_field("severity", "must be info, warning or critical"));
    }
  }
  auto since = int_query(ctx, "since");
  if (!since) return ctx->reply_error(since.error());
  auto until = int_query(ctx, "until");
  if (!until) return ctx->reply_error(until.error());
  filter.since = *since;
  filter.until = *until;
  auto r = inv.list_events(ctx->org_scope(), filter, *page);
  if (!r) return ctx->reply_error(r.error());
  boost::json::array items;
  for (auto& e : r->items) items.push_back(event_json(e));
  ctx->reply_list(std::move(items), {page->page, page->per_page, r->total});
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

}  // namespace

void register_device_routes(Router& router, const RouteDeps& deps) {
  if (!deps.inventory) return;
  auto& inv = *deps.inventory;
  using http::verb;
  register_service_check_routes(router, deps);

  std::vector<QueryParamDoc> list_query = {
      {"page", "Page number, from 1.", "integer"},
      {"per_page", "Items per page, 1 to 500 (default 50).", "integer"},
      {"search",
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
       "sorts descending (default name)."}};

  auto list = make_route(
      verb::get, "/api/v1/devices", Permission::kDevicesRead,
      "List, search and filter your organization's devices.", "devices", [&inv](ContextPtr ctx) {
        auto page = ctx->page();
        if (!page) return ctx->reply_error(page.error());
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
        auto r = inv.list(ctx->org_scope(), *filter, sort, *page);
        if (!r) return ctx->reply_error(r.error());
        boost::json::array items;
        for (auto& d : r->items) items.push_back(device_json(d));
        ctx->reply_list(std::move(items), {page->page, page->per_page, r->total});
      });
  list.doc.query = list_query;
  router.add(std::move(list));

  auto create = make_route(
      verb::post, "/api/v1/devices", Permission::kDevicesWrite, "Add a device.", "devices",
      [&inv](ContextPtr ctx) {
        auto patch = parse_device_body(ctx->body());
        if (!patch) return ctx->reply_error(patch.error());
        auto device = new_device(std::move(*patch));
        if (!device) return ctx->reply_error(device.error());
        inv.create(ctx->org_scope(), std::move(*device), [ctx](core::Result<Device> r) {
          if (!r) return ctx->reply_error(r.error());
          ctx->set_audit_target("devices/" + std::to_string(r->id));
          ctx->reply_data(device_json(*r), http::status::created);
        });
      },
      true);
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
  export_csv.doc.query = list_query;
  router.add(std::move(export_csv));

  auto import_csv = make_route(
      verb::post, "/api/v1/devices/import", Permission::kDevicesWrite,
      "Import devices from CSV (Content-Type: text/csv), all or nothing: any issue stores none "
      "and lists every issue by line and column.",
      "devices", [&inv](ContextPtr ctx) {
        auto ctype = std::string_view(ctx->request()[http::field::content_type]);
        auto media = ctype.substr(0, ctype.find(';'));
        if (media != "text/csv") {
          return ctx->reply_error(core::Error(
              core::Errc::kUnsupportedMediaType,
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
                  issues.push_back(
                      {{"line", i.line}, {"column", i.column}, {"message", i.message}});
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
      });
  router.add(std::move(import_csv));

  auto* poller = deps.poller;
  router.add(make_route(verb::get, "/api/v1/devices/{id}", Permission::kDevicesRead,
                        "One device, with the latest ICMP figures and interface counts.", "devices",
                        [&inv, poller](ContextPtr ctx) {
                          auto id = ctx->id_param("id");
                          if (!id) return ctx->reply_error(id.error());
                          auto d = inv.get(ctx->org_scope(), *id);
                          if (!d) return ctx->reply_error(d.error());
                          ctx->reply_data(device_detail(*d, poller));
                        }));

  if (poller) {
    auto poll = make_route(
        verb::post, "/api/v1/devices/{id}/poll", Permission::kDevicesWrite,
        "Poll the device now (ICMP, SNMP when it has credentials, and its enabled service "
        "checks); answers when the poll has finished.",
        "devices", [poller](ContextPtr ctx) {
          auto id = ctx->id_param("id");
          if (!id) return ctx->reply_error(id.error());
          ctx->set_audit_target("devices/" + std::to_string(*id));
          poller->poll_now(ctx->org_scope(), *id, [ctx](core::Result<pollers::PollReport> r) {
            if (!r) return ctx->reply_error(r.error());
            boost::json::object out{
                {"device_id", r->device_id},
                {"status", devices::device_status_name(r->status)},
                {"icmp", r->icmp ? boost::json::value(cycle_json(*r->icmp)) : nullptr},
                {"icmp_outcome", outcome_json(r->icmp_outcome)},
                {"snmp_outcome", outcome_json(r->snmp_outcome)},
                {"snmp_values", r->snmp_values}};
            boost::json::array checks;
            for (auto& s : r->service_checks) checks.push_back(service_check_status_json(s));
            out["service_checks"] = std::move(checks);
            ctx->reply_data(std::move(out));
          });
        });
    poll.doc.success_status = 200;
    router.add(std::move(poll));

    router.add(
        make_route(verb::get, "/api/v1/devices/{id}/interfaces", Permission::kDevicesRead,
                   "The device's interfaces as last polled by SNMP, with rates and utilization.",
                   "devices", [poller](ContextPtr ctx) {
                     auto id = ctx->id_param("id");
                     if (!id) return ctx->reply_error(id.error());
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
        "devices",
        [poller](ContextPtr ctx) {
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
            for (auto& item : snmp->as_array()) {
              auto c = parse_snmp(item);
              if (!c) return ctx->reply_error(c.error());
              if (auto r = devices::check_snmp_credentials(*c); !r) {
                return ctx->reply_error(r.error());
              }
              req.snmp.push_back(std::move(*c));
            }
          }
          auto job = poller->discovery().start(ctx->org_scope(), std::move(req));
          if (!job) return ctx->reply_error(job.error());
          ctx->set_audit_target("discovery/" + job->id);
          ctx->reply_data(discovery_json(*job, false), http::status::accepted);
        },
        true);
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

  auto patch = make_route(
      verb::patch, "/api/v1/devices/{id}", Permission::kDevicesWrite,
      "Change a device: each field given replaces the stored one. In `snmp`, a secret left out "
      "keeps the stored one while the version and user stay the same; `\"snmp\": null` removes "
      "SNMP.",
      "devices",
      [&inv](ContextPtr ctx) {
        auto id = ctx->id_param("id");
        if (!id) return ctx->reply_error(id.error());
        ctx->set_audit_target("devices/" + std::to_string(*id));
        auto p = parse_device_body(ctx->body());
        if (!p) return ctx->reply_error(p.error());
        inv.update(ctx->org_scope(), *id, std::move(*p), [ctx](core::Result<Device> r) {
          if (!r) return ctx->reply_error(r.error());
          ctx->reply_data(device_json(*r));
        });
      },
      true);
  patch.doc.request_schema = device_schema();
  router.add(std::move(patch));

  router.add(make_route(verb::delete_, "/api/v1/devices/{id}", Permission::kDevicesWrite,
                        "Delete a device (and its parent links).", "devices",
                        [&inv](ContextPtr ctx) {
                          auto id = ctx->id_param("id");
                          if (!id) return ctx->reply_error(id.error());
                          ctx->set_audit_target("devices/" + std::to_string(*id));
                          inv.remove(ctx->org_scope(), *id, [ctx](core::Result<void> r) {
                            if (!r) return ctx->reply_error(r.error());
                            ctx->reply_no_content();
                          });
                        }));

  // --- custom SNMP objects ---------------------------------------------------------------------
  auto custom_json = [](const devices::CustomOid& o) {
    return boost::json::object{
        {"id", o.id},
        {"device_id", opt(o.device_id)},
        {"device_type",
         o.device_type ? boost::json::value(devices::device_type_name(*o.device_type)) : nullptr},
        {"oid", o.oid},
        {"metric", o.metric},
        {"kind", o.counter ? "counter" : "gauge"},
        {"scale", o.scale},
        {"unit", o.unit},
        {"created_at", core::format_rfc3339_seconds(o.created_at)}};
  };
  router.add(make_route(verb::get, "/api/v1/custom-oids", Permission::kDevicesRead,
                        "Custom SNMP objects polled per device or per device type.", "devices",
                        [&inv, custom_json](ContextPtr ctx) {
                          boost::json::array items;
                          for (auto& o : inv.list_custom_oids(ctx->org_scope())) {
                            items.push_back(custom_json(o));
                          }
                          ctx->reply_data(std::move(items));
                        }));
  auto add_custom = make_route(
      verb::post, "/api/v1/custom-oids", Permission::kDevicesWrite,
      "Poll a custom SNMP object (an instance OID) for one device or every device of a type, "
      "stored as `metric` (x scale) with the device's labels.",
      "devices",
      [&inv, custom_json](ContextPtr ctx) {
        auto& body = ctx->body();
        Fields f(body);
        if (auto r = f.only({"device_id", "device_type", "oid", "metric", "kind", "scale", "unit"});
            !r) {
          return ctx->reply_error(r.error());
        }
        devices::CustomOid o;
        auto device = f.optional_int("device_id", 1, INT64_MAX);
        if (!device) return ctx->reply_error(device.error());
        o.device_id = *device;
        auto type = f.optional_string("device_type", 32);
        if (!type) return ctx->reply_error(type.error());
        if (*type) {
          o.device_type = devices::parse_device_type(**type);
          if (!o.device_type) {
            return ctx->reply_error(core::invalid_field(
                "device_type", "must be one of router, switch, olt, server, cpe, ap, other"));
          }
        }
        auto oid = f.required_string("oid", 1400);
        if (!oid) return ctx->reply_error(oid.error());
        o.oid = *oid;
        auto metric = f.required_string("metric", 128);
        if (!metric) return ctx->reply_error(metric.error());
        o.metric = *metric;
        auto kind = f.optional_string("kind", 16);
        if (!kind) return ctx->reply_error(kind.error());
        if (*kind && **kind != "gauge" && **kind != "counter") {
          return ctx->reply_error(core::invalid_field("kind", "must be gauge or counter"));
        }
        o.counter = *kind && **kind == "counter";
        if (auto* scale = body.if_contains("scale")) {
          if (!scale->is_number()) {
            return ctx->reply_error(core::invalid_field("scale", "must be a number"));
          }
          o.scale = scale->to_number<double>();
        }
        auto unit = f.optional_string("unit", 64);
        if (!unit) return ctx->reply_error(unit.error());
        o.unit = unit->value_or("");
        inv.add_custom_oid(ctx->org_scope(), std::move(o),
                           [ctx, custom_json](core::Result<devices::CustomOid> r) {
                             if (!r) return ctx->reply_error(r.error());
                             ctx->set_audit_target("custom-oids/" + std::to_string(r->id));
                             ctx->reply_data(custom_json(*r), http::status::created);
                           });
      },
      true);
  router.add(std::move(add_custom));
  router.add(make_route(verb::delete_, "/api/v1/custom-oids/{id}", Permission::kDevicesWrite,
                        "Stop polling a custom SNMP object.", "devices", [&inv](ContextPtr ctx) {
                          auto id = ctx->id_param("id");
                          if (!id) return ctx->reply_error(id.error());
                          ctx->set_audit_target("custom-oids/" + std::to_string(*id));
                          inv.remove_custom_oid(ctx->org_scope(), *id, [ctx](core::Result<void> r) {
                            if (!r) return ctx->reply_error(r.error());
                            ctx->reply_no_content();
                          });
                        }));

  // --- the event log ---------------------------------------------------------------------------
  std::vector<QueryParamDoc> event_query = {
      {"page", "Page number, from 1.", "integer"},
      {"per_page", "Items per page, 1 to 500 (default 50).", "integer"},
      {"kind", "status, reboot, interface, trap, ..."},
      {"severity", "info, warning or critical."},
      {"since", "From this Unix time (inclusive).", "integer"},
      {"until", "Before this Unix time.", "integer"}};
  auto events = make_route(verb::get, "/api/v1/events", Permission::kDevicesRead,
                           "The device event log, newest first (status changes, reboots, interface "
                           "changes, traps).",
                           "devices", [&inv](ContextPtr ctx) {
                             devices::EventFilter f;
                             auto device = int_query(ctx, "device_id");
                             if (!device) return ctx->reply_error(device.error());
                             f.device_id = *device;
                             reply_events(ctx, inv, f);
                           });
  events.doc.query = event_query;
  events.doc.query.push_back({"device_id", "Only this device's events.", "integer"});
  router.add(std::move(events));

  auto device_events =
      make_route(verb::get, "/api/v1/devices/{id}/events", Permission::kDevicesRead,
                 "One device's event log, newest first.", "devices", [&inv](ContextPtr ctx) {
                   auto id = ctx->id_param("id");
                   if (!id) return ctx->reply_error(id.error());
                   if (auto d = inv.get(ctx->org_scope(), *id); !d) {
                     return ctx->reply_error(d.error());
                   }
                   devices::EventFilter f;
                   f.device_id = *id;
                   reply_events(ctx, inv, f);
                 });
  device_events.doc.query = event_query;
  router.add(std::move(device_events));

  // --- groups ----------------------------------------------------------------------------------
  auto list_groups =
      make_route(verb::get, "/api/v1/device-groups", Permission::kDevicesRead,
                 "List device groups.", "devices", [&inv](ContextPtr ctx) {
                   auto page = ctx->page();
                   if (!page) return ctx->reply_error(page.error());
                   auto r = inv.list_groups(ctx->org_scope(), *page);
                   if (!r) return ctx->reply_error(r.error());
                   boost::json::array items;
                   for (auto& g : r->items) items.push_back(group_json(g));
                   ctx->reply_list(std::move(items), {page->page, page->per_page, r->total});
                 });
  list_groups.doc.query = {{"page", "Page number, from 1.", "integer"},
                           {"per_page", "Items per page, 1 to 500 (default 50).", "integer"}};
  router.add(std::move(list_groups));

  boost::json::object group_schema{
      {"type", "object"},
      {"properties", {{"name", {{"type", "string"}}}, {"description", {{"type", "string"}}}}}};

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
                         [ctx](core::Result<devices::Group> r) {
                           if (!r) return ctx->reply_error(r.error());
                           ctx->set_audit_target("device-groups/" + std::to_string(r->id));
                           ctx->reply_data(group_json(*r), http::status::created);
                         });
      },
      true);
  create_group.doc.request_schema = group_schema;
  create_group.doc.request_schema["required"] = boost::json::array{"name"};
  router.add(std::move(create_group));

  router.add(make_route(verb::get, "/api/v1/device-groups/{id}", Permission::kDevicesRead,
                        "One device group.", "devices", [&inv](ContextPtr ctx) {
                          auto id = ctx->id_param("id");
                          if (!id) return ctx->reply_error(id.error());
                          auto g = inv.get_group(ctx->org_scope(), *id);
                          if (!g) return ctx->reply_error(g.error());
                          ctx->reply_data(group_json(*g));
                        }));

  auto patch_group = make_route(
      verb::patch, "/api/v1/device-groups/{id}", Permission::kDevicesWrite,
      "Rename a device group or change its description.", "devices",
      [&inv](ContextPtr ctx) {
        auto id = ctx->id_param("id");
        if (!id) return ctx->reply_error(id.error());
        ctx->set_audit_target("device-groups/" + std::to_string(*id));
        Fields f(ctx->body());
        if (auto r = f.only({"name", "description"}); !r) return ctx->reply_error(r.error());
        devices::GroupPatch p;
        auto name = f.optional_string("name", 1024, false);
        if (!name) return ctx->reply_error(name.error());
        auto description = f.optional_string("description", 4096);
        if (!description) return ctx->reply_error(description.error());
        p.name = *name;
        p.description = *description;
        inv.update_group(ctx->org_scope(), *id, std::move(p),
                         [ctx](core::Result<devices::Group> r) {
                           if (!r) return ctx->reply_error(r.error());
                           ctx->reply_data(group_json(*r));
                         });
      },
      true);
  patch_group.doc.request_schema = group_schema;
  router.add(std::move(patch_group));

  router.add(make_route(verb::delete_, "/api/v1/device-groups/{id}", Permission::kDevicesWrite,
                        "Delete a device group (its devices stay).", "devices",
                        [&inv](ContextPtr ctx) {
                          auto id = ctx->id_param("id");
                          if (!id) return ctx->reply_error(id.error());
                          ctx->set_audit_target("device-groups/" + std::to_string(*id));
                          inv.remove_group(ctx->org_scope(), *id, [ctx](core::Result<void> r) {
                            if (!r) return ctx->reply_error(r.error());
                            ctx->reply_no_content();
                          });
                        }));
}

}  // namespace netpulse::api::detail
