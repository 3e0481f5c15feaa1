// The device JSON shared by the device, polling and discovery routes (detail/device_json.hpp):
// a device and its SNMP settings as the API shows them, a request's SNMP credentials read field by
// field, and an ICMP cycle's figures.
#include "detail/device_json.hpp"

#include <boost/json/parse.hpp>

#include "detail/json_fields.hpp"
#include "detail/routes.hpp"

namespace netpulse::api::detail {

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

boost::json::object device_json(const devices::Device& d) {
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

boost::json::object cycle_json(const pollers::PingCycleResult& r) {
  return {{"sent", r.count},
          {"received", r.received},
          {"loss_pct", r.loss_percent},
          {"rtt_min_ms", r.received ? boost::json::value(r.rtt_min_ms) : nullptr},
          {"rtt_avg_ms", r.received ? boost::json::value(r.rtt_avg_ms) : nullptr},
          {"rtt_max_ms", r.received ? boost::json::value(r.rtt_max_ms) : nullptr},
          {"jitter_ms", r.received > 1 ? boost::json::value(r.jitter_ms) : nullptr}};
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

}  // namespace netpulse::api::detail
