// Service checks between the inventory and the ServiceChecker; see detail/service_runs.hpp.
#include "detail/service_runs.hpp"

#include <fmt/format.h>

namespace netpulse::pollers::detail {

namespace {

namespace asio = boost::asio;

void clear_figures(ServiceCheckStatus& s) {
  s.connect_ms.reset();
  s.http_status.reset();
  s.response_ms.reset();
  s.first_byte_ms.reset();
  s.tls_days_to_expiry.reset();
  s.resolution_ms.reset();
  s.answers.clear();
  s.error.clear();
  s.error_code.clear();
}

CheckOutcome failed(ServiceCheckStatus& s, std::string code, std::string message,
                    bool timed_out = false) {
  s.error_code = std::move(code);
  s.error = message;
  return CheckOutcome{false, timed_out, std::move(message)};
}

CheckOutcome unexpected(ServiceCheckStatus& s, std::string message) {
  return failed(s, "UNEXPECTED_ANSWER", std::move(message));
}

}  // namespace

CheckKind check_kind_of(devices::ServiceKind kind) noexcept {
  switch (kind) {
    case devices::ServiceKind::kTcp:
      return CheckKind::kTcp;
    case devices::ServiceKind::kHttp:
      return CheckKind::kHttp;
    case devices::ServiceKind::kDns:
      return CheckKind::kDns;
  }
  return CheckKind::kTcp;
}

bool uses_device_address(const devices::ServiceCheck& check) noexcept {
  switch (check.kind) {
    case devices::ServiceKind::kTcp:
      return true;
    case devices::ServiceKind::kHttp:
      return check.use_device_address;
    case devices::ServiceKind::kDns:
      return check.server.empty();
  }
  return true;
}

TcpCheck tcp_request(const devices::ServiceCheck& check, const asio::ip::address& ip) {
  TcpCheck t;
  t.address = ip;
  t.port = static_cast<std::uint16_t>(check.port);
  t.timeout = std::chrono::milliseconds(check.timeout_ms);
  return t;
}

HttpCheck http_request(const devices::ServiceCheck& check, std::optional<asio::ip::address> ip,
                       const std::string& ca_file) {
  HttpCheck h;
  h.url = check.url;
  h.address = ip;
  h.method = check.method == "HEAD" ? HttpMethod::kHead : HttpMethod::kGet;
  h.expected_status = {check.status_min, check.status_max};
  if (!check.keyword.empty()) h.keyword = check.keyword;
  h.verify_tls = check.verify_tls;
  h.ca_file = ca_file;
  h.timeout = std::chrono::milliseconds(check.timeout_ms);
  h.max_redirects = check.max_redirects;
  return h;
}

core::Result<DnsCheck> dns_request(const devices::ServiceCheck& check,
                                   std::optional<asio::ip::address> ip) {
  DnsCheck d;
  d.name = check.query;
  d.type = check.record_type == "AAAA" ? DnsRecordType::kAAAA : DnsRecordType::kA;
  boost::system::error_code ec;
  if (!check.server.empty()) {
    d.server = asio::ip::make_address(check.server, ec);
    if (ec) return core::invalid_field("dns.server", "must be an IPv4 or IPv6 address");
  } else if (ip) {
    d.server = *ip;
  } else {
    return core::invalid_field("dns.server", "is required when the device has no address");
  }
  d.port = static_cast<std::uint16_t>(check.port == 0 ? 53 : check.port);
  if (!check.expected.empty()) {
    d.expected = asio::ip::make_address(check.expected, ec);
    if (ec) return core::invalid_field("dns.expected", "must be an IPv4 or IPv6 address");
  }
  d.timeout = std::chrono::milliseconds(check.timeout_ms);
  return d;
}

CheckOutcome record_failure(ServiceCheckStatus& status, const core::Error& e) {
  clear_figures(status);
  return failed(status, std::string(core::errc_name(e.code)), e.message,
                e.code == core::Errc::kTimeout);
}

CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<TcpCheckResult>& r) {
  if (!r) return record_failure(status, r.error());
  clear_figures(status);
  status.connect_ms = r->connect_ms;
  return CheckOutcome{true, false, ""};
}

CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<HttpCheckResult>& r,
                            const devices::ServiceCheck& check) {
  if (!r) {
    auto o = record_failure(status, r.error());
    // A certificate that failed verification still says when it expires.
    if (auto* days = r.error().details.if_contains("days_to_expiry"); days && days->is_int64()) {
      status.tls_days_to_expiry = days->as_int64();
    }
    return o;
  }
  clear_figures(status);
  status.http_status = r->status;
  status.response_ms = r->response_ms;
  status.first_byte_ms = r->first_byte_ms;
  if (r->tls) status.tls_days_to_expiry = r->tls->days_to_expiry;
  if (!r->status_matched) {
    return unexpected(status, fmt::format("HTTP status {} is not in {}-{}", r->status,
                                          check.status_min, check.status_max));
  }
  if (r->keyword_found && !*r->keyword_found) {
    return unexpected(status, r->body_truncated
                                  ? fmt::format("\"{}\" is not in the first {} bytes of the body",
                                                check.keyword, r->body_bytes)
                                  : fmt::format("\"{}\" is not in the body", check.keyword));
  }
  return CheckOutcome{true, false, ""};
}

CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<DnsCheckResult>& r,
                            const devices::ServiceCheck& check) {
  if (!r) return record_failure(status, r.error());
  clear_figures(status);
  status.resolution_ms = r->resolution_ms;
  for (auto& a : r->answers) status.answers.push_back(a.to_string());
  if (r->answers.empty()) {
    return unexpected(status, fmt::format("no {} record for {}", check.record_type, check.query));
  }
  if (r->expected_found && !*r->expected_found) {
    std::string list;
    for (auto& a : status.answers) list += (list.empty() ? "" : ", ") + a;
    return unexpected(status,
                      fmt::format("{} is not among the answers ({})", check.expected, list));
  }
  return CheckOutcome{true, false, ""};
}

std::vector<std::pair<std::string, double>> service_samples(const devices::ServiceCheck& check,
                                                            const ServiceCheckStatus& status) {
  std::vector<std::pair<std::string, double>> out;
  out.emplace_back("check_up", status.state == ServiceCheckState::kPassing ? 1 : 0);
  switch (check.kind) {
    case devices::ServiceKind::kTcp:
      if (status.connect_ms) out.emplace_back("tcp_connect_ms", *status.connect_ms);
      break;
    case devices::ServiceKind::kHttp:
      if (status.http_status) out.emplace_back("http_status_code", *status.http_status);
      if (status.response_ms) out.emplace_back("http_response_ms", *status.response_ms);
      if (status.first_byte_ms) out.emplace_back("http_first_byte_ms", *status.first_byte_ms);
      if (status.tls_days_to_expiry) {
        out.emplace_back("tls_cert_expiry_days", static_cast<double>(*status.tls_days_to_expiry));
      }
      break;
    case devices::ServiceKind::kDns:
      if (status.resolution_ms) out.emplace_back("dns_resolution_ms", *status.resolution_ms);
      break;
  }
  return out;
}

}  // namespace netpulse::pollers::detail
