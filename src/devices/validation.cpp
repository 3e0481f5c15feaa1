// Field rules of the inventory; see detail/validation.hpp.
#include "detail/validation.hpp"

#include <algorithm>
#include <cmath>

#include <boost/asio/ip/address.hpp>

#include <netpulse/core/text.hpp>

namespace netpulse::devices::detail {

namespace {

std::string join(std::string_view prefix, std::string_view field) {
  if (prefix.empty()) return std::string(field);
  if (prefix.back() == '_') return std::string(prefix) + std::string(field);
  return std::string(prefix) + "." + std::string(field);
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

core::Result<void> check_printable_secret(std::string_view value, std::string_view field,
                                          std::size_t min, std::size_t max) {
  if (value.size() < min || value.size() > max) {
    return core::invalid_field(
        field, "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes long");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c >= 0x7F) {
      return core::invalid_field(field, "must be printable ASCII");
    }
  }
  return core::ok();
}

template <class T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

core::Result<void> check_ids(std::vector<std::int64_t>& ids, std::string_view field) {
  for (auto id : ids) {
    if (id <= 0) return core::invalid_field(field, "must hold positive device ids");
  }
  sort_unique(ids);
  if (ids.size() > kMaxParents) {
    return core::invalid_field(field, "may hold at most " + std::to_string(kMaxParents) + " ids");
  }
  return core::ok();
}

// The outbound policy's verdict on `text` when it is an IP literal (a name passes: it is judged
// once resolved), the refusal naming `field`.
core::Result<void> check_literal(std::string_view text, core::OutboundPurpose purpose,
                                 const core::OutboundPolicy& outbound, std::string_view field) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return core::ok();
  auto verdict = outbound.check(ip, purpose);
  if (verdict) return verdict;
  auto error = std::move(verdict).error();
  error.details["field"] = field;
  return error;
}

core::Result<void> check_common(std::string& name, std::string& address, std::string& vendor,
                                std::string& model, std::string& os, std::string& serial,
                                std::string& location, std::string& notes,
                                std::vector<std::string>& tags, std::vector<std::string>& groups,
                                std::vector<std::int64_t>& parents, int poll_interval_s,
                                std::optional<SnmpCredentials>* snmp,
                                const core::OutboundPolicy& outbound) {
  if (auto r = core::check_text(name, "name", true, kMaxNameLength); !r) return r;
  auto normalized = normalize_address(address, "address");
  if (!normalized) return std::move(normalized).error();
  address = std::move(*normalized);
  if (auto r = check_literal(address, core::OutboundPurpose::kPoll, outbound, "address"); !r) {
    return r;
  }
  for (auto [value, field] : {std::pair<std::string*, std::string_view>{&vendor, "vendor"},
                              {&model, "model"},
                              {&os, "os"},
                              {&serial, "serial"},
                              {&location, "location"}}) {
    if (auto r = core::check_text(*value, field, false, kMaxTextLength); !r) return r;
  }
  const auto notes_length = core::utf8_length(notes);
  if (!notes_length) return core::invalid_field("notes", "must be valid UTF-8");
  if (*notes_length > kMaxNotesLength) {
    return core::invalid_field("notes", "must be at most 4096 characters");
  }
  if (auto r = normalize_tags(tags, "tags"); !r) return r;
  if (auto r = normalize_group_names(groups, "groups"); !r) return r;
  if (auto r = check_ids(parents, "parents"); !r) return r;
  if (poll_interval_s < kMinPollIntervalS || poll_interval_s > kMaxPollIntervalS) {
    return core::invalid_field("poll_interval_s", "must be between 1 and 86400 seconds");
  }
  if (snmp && *snmp) {
    if (auto r = check_snmp(**snmp, "snmp"); !r) return r;
  }
  return core::ok();
}

}  // namespace

core::Result<std::string> normalize_address(std::string_view text, std::string_view field) {
  if (text.empty()) return core::invalid_field(field, "is required");
  if (text.size() > 253) return core::invalid_field(field, "must be at most 253 characters");
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(std::string(text), ec);
  if (!ec) {
    if (ip.is_v6() && ip.to_v6().scope_id() != 0) {
      return core::invalid_field(field, "must not carry an IPv6 zone id");
    }
    if (ip.is_unspecified() || ip.is_multicast()) {
      return core::invalid_field(field, "must be a unicast address");
    }
    return ip.to_string();
  }
  // A host name.
  std::string host;
  host.reserve(text.size());
  for (char c : text) host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  if (!host.empty() && host.back() == '.') host.pop_back();
  std::size_t start = 0;
  std::string_view last_label;
  while (true) {
    const auto dot = host.find('.', start);
    const std::string_view label = std::string_view(host).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool ok_chars = std::all_of(
        label.begin(), label.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
    if (label.empty() || label.size() > 63 || !ok_chars || label.front() == '-' ||
        label.back() == '-') {
      return core::invalid_field(field,
                                 "must be an IPv4 or IPv6 address or a host name (letters, digits "
                                 "and '-' in dot-separated labels)");
    }
    last_label = label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (std::none_of(last_label.begin(), last_label.end(), is_alpha)) {
    return core::invalid_field(field, "is neither a valid IP address nor a host name");
  }
  return host;
}

core::Result<void> normalize_tags(std::vector<std::string>& tags, std::string_view field) {
  for (auto& tag : tags) {
    const bool ok = !tag.empty() && tag.size() <= kMaxTagLength &&
                    std::all_of(tag.begin(), tag.end(), [](char c) {
                      return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' ||
                             c == ':' || c == '/' || c == '=';
                    });
    if (!ok) {
      return core::invalid_field(field,
                                 "each tag must be 1-64 characters of letters, digits and - _ . : "
                                 "/ =");
    }
  }
  sort_unique(tags);
  if (tags.size() > kMaxTags) {
    return core::invalid_field(field, "may hold at most " + std::to_string(kMaxTags) + " tags");
  }
  return core::ok();
}

core::Result<void> normalize_group_names(std::vector<std::string>& names, std::string_view field) {
  for (auto& name : names) {
    if (auto r = core::check_text(name, field, true, kMaxNameLength); !r) return r;
  }
  sort_unique(names);
  if (names.size() > kMaxGroupsPerDevice) {
    return core::invalid_field(
        field, "may hold at most " + std::to_string(kMaxGroupsPerDevice) + " groups");
  }
  return core::ok();
}

core::Result<void> check_snmp(SnmpCredentials& c, std::string_view prefix) {
  auto& s = c.settings;
  auto& k = c.secrets;
  if (s.port == 0) return core::invalid_field(join(prefix, "port"), "must be 1 to 65535");
  if (s.version != SnmpVersion::kV3) {
    if (auto r = check_printable_secret(k.community, join(prefix, "community"), 1, 255); !r) {
      return r;
    }
    s.user.clear();
    s.context.clear();
    s.auth = SnmpAuth::kNone;
    s.priv = SnmpPriv::kNone;
    k.auth_password.clear();
    k.priv_password.clear();
    return core::ok();
  }
  k.community.clear();
  if (auto r = check_printable_secret(s.user, join(prefix, "user"), 1, 32); !r) return r;
  if (auto r = check_printable_secret(s.context, join(prefix, "context"), 0, 32); !r) return r;
  if (s.auth == SnmpAuth::kNone) {
    if (s.priv != SnmpPriv::kNone) {
      return core::invalid_field(join(prefix, "priv_protocol"),
                                 "needs an auth_protocol: SNMPv3 has no privacy without "
                                 "authentication");
    }
    k.auth_password.clear();
    k.priv_password.clear();
    return core::ok();
  }
  if (auto r = check_printable_secret(k.auth_password, join(prefix, "auth_password"), 8, 255); !r) {
    return r;
  }
  if (s.priv == SnmpPriv::kNone) {
    k.priv_password.clear();
    return core::ok();
  }
  return check_printable_secret(k.priv_password, join(prefix, "priv_password"), 8, 255);
}

core::Result<void> check_new_device(NewDevice& d, const core::OutboundPolicy& outbound) {
  return check_common(d.name, d.address, d.vendor, d.model, d.os, d.serial, d.location, d.notes,
                      d.tags, d.groups, d.parents, d.poll_interval_s, &d.snmp, outbound);
}

core::Result<void> check_device(Device& d, std::vector<std::string>& group_names,
                                const core::OutboundPolicy& outbound) {
  return check_common(d.name, d.address, d.vendor, d.model, d.os, d.serial, d.location, d.notes,
                      d.tags, group_names, d.parents, d.poll_interval_s, nullptr, outbound);
}

core::Result<void> check_custom_oid(const CustomOid& o) {
  std::size_t arcs = 0;
  bool ok = !o.oid.empty() && o.oid.size() <= 1400;
  std::size_t digits = 0;
  for (std::size_t i = 0; ok && i <= o.oid.size(); ++i) {
    if (i == o.oid.size() || o.oid[i] == '.') {
      ok = digits > 0 && digits <= 10;
      ++arcs;
      digits = 0;
    } else if (is_digit(o.oid[i])) {
      ++digits;
    } else {
      ok = false;
    }
  }
  if (!ok || arcs < 2 || arcs > 128) {
    return core::invalid_field("oid", "must be a dotted numeric OID such as 1.3.6.1.2.1.1.3.0");
  }
  bool name_ok = !o.metric.empty() && o.metric.size() <= 128 &&
                 (is_alpha(o.metric[0]) || o.metric[0] == '_' || o.metric[0] == ':');
  for (char c : o.metric) name_ok = name_ok && (is_alpha(c) || is_digit(c) || c == '_' || c == ':');
  if (!name_ok) {
    return core::invalid_field("metric", "must be a metric name: [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  if (!std::isfinite(o.scale) || o.scale == 0) {
    return core::invalid_field("scale", "must be a finite, non-zero number");
  }
  if (auto r = core::check_text(o.unit, "unit", false, 32); !r) return r;
  return core::ok();
}

namespace {

core::Result<void> check_range(std::int64_t v, std::int64_t lo, std::int64_t hi,
                               std::string_view field) {
  if (v < lo || v > hi) {
    return core::invalid_field(field,
                               "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return core::ok();
}

// An IP literal in canonical form, or kInvalidInput naming the field.
core::Result<void> normalize_ip(std::string& text, std::string_view field) {
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(text, ec);
  if (ec) return core::invalid_field(field, "must be an IPv4 or IPv6 address");
  text = ip.to_string();
  return core::ok();
}

core::Result<void> check_http_fields(ServiceCheck& c) {
  const std::string_view url = c.url;
  const bool http = url.starts_with("http://"), https = url.starts_with("https://");
  if (!http && !https) {
    return core::invalid_field("http.url", "must start with http:// or https://");
  }
  if (url.size() > 2048) return core::invalid_field("http.url", "must be at most 2048 bytes");
  for (unsigned char ch : url) {
    if (ch <= 0x20 || ch >= 0x7F) {
      return core::invalid_field("http.url", "must be printable ASCII without spaces");
    }
  }
  if (url.size() == (https ? 8u : 7u) || url[https ? 8 : 7] == '/') {
    return core::invalid_field("http.url", "must name a host");
  }
  if (c.method != "GET" && c.method != "HEAD") {
    return core::invalid_field("http.method", "must be GET or HEAD");
  }
  if (auto r = check_range(c.status_min, 100, 599, "http.expected_status"); !r) return r;
  if (auto r = check_range(c.status_max, 100, 599, "http.expected_status"); !r) return r;
  if (c.status_min > c.status_max) {
    return core::invalid_field("http.expected_status",
                               "must be a range [min, max] with min <= max");
  }
  if (auto r = core::check_text(c.keyword, "http.keyword", false, 256); !r) return r;
  return check_range(c.max_redirects, 0, 10, "http.max_redirects");
}

core::Result<void> check_dns_fields(ServiceCheck& c) {
  auto& q = c.query;
  if (!q.empty() && q.back() == '.') q.pop_back();
  bool ok = !q.empty() && q.size() <= 253 && q.front() != '.' && q.find("..") == std::string::npos;
  for (char ch : q)
    ok = ok && (is_alpha(ch) || is_digit(ch) || ch == '-' || ch == '.' || ch == '_');
  if (!ok) {
    return core::invalid_field("dns.query",
                               "must be a DNS name of 1-253 letters, digits, '-', '_' and dots");
  }
  std::transform(q.begin(), q.end(), q.begin(),
                 [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch; });
  if (c.record_type != "A" && c.record_type != "AAAA") {
    return core::invalid_field("dns.type", "must be A or AAAA");
  }
  if (c.port == 0) c.port = 53;
  if (auto r = check_range(c.port, 1, 65535, "dns.port"); !r) return r;
  if (!c.server.empty()) {
    if (auto r = normalize_ip(c.server, "dns.server"); !r) return r;
  }
  if (!c.expected.empty()) {
    if (auto r = normalize_ip(c.expected, "dns.expected"); !r) return r;
    const bool v6 = c.expected.find(':') != std::string::npos;
    if (v6 != (c.record_type == "AAAA")) {
      return core::invalid_field("dns.expected", "must be an " + std::string(v6 ? "IPv4" : "IPv6") +
                                                     " address for type " + c.record_type);
    }
  }
  return core::ok();
}

}  // namespace

core::Result<void> check_service_check(ServiceCheck& c) {
  if (auto r = core::check_text(c.name, "name", true, 64); !r) return r;
  if (c.interval_s) {
    if (auto r = check_range(*c.interval_s, 10, kMaxPollIntervalS, "interval_s"); !r) return r;
  }
  if (auto r = check_range(c.timeout_ms, 100, 60'000, "timeout_ms"); !r) return r;
  if (auto r = check_range(c.retries, 0, 5, "retries"); !r) return r;
  switch (c.kind) {
    case ServiceKind::kTcp:
      return check_range(c.port, 1, 65535, "tcp.port");
    case ServiceKind::kHttp:
      return check_http_fields(c);
    case ServiceKind::kDns:
      return check_dns_fields(c);
  }
  return core::ok();
}

core::Result<void> check_service_target(const ServiceCheck& c, std::string_view device_address,
                                        const core::OutboundPolicy& outbound) {
  constexpr auto kFetch = core::OutboundPurpose::kFetch;
  const bool device = c.kind == ServiceKind::kTcp ||
                      (c.kind == ServiceKind::kHttp && c.use_device_address) ||
                      (c.kind == ServiceKind::kDns && c.server.empty());
  if (device) return check_literal(device_address, kFetch, outbound, "device.address");
  if (c.kind == ServiceKind::kDns) return check_literal(c.server, kFetch, outbound, "dns.server");
  const auto host = core::url_host_literal(c.url);
  if (!host) return core::ok();
  return check_literal(host->to_string(), kFetch, outbound, "http.url");
}

}  // namespace netpulse::devices::detail

namespace netpulse::devices {

core::Result<void> check_snmp_credentials(SnmpCredentials& c) {
  return detail::check_snmp(c, "snmp");
}

}  // namespace netpulse::devices
