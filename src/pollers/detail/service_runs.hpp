// From a device's service check (devices::ServiceCheck) to the ServiceChecker's request, and from
// its answer to the check's state, outcome and samples. Pure functions: the poller does the I/O.
// Private to the pollers module.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include <netpulse/devices/types.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/pollers/scheduler.hpp>
#include <netpulse/pollers/service_checks.hpp>

namespace netpulse::pollers::detail {

CheckKind check_kind_of(devices::ServiceKind kind) noexcept;

// Whether the check connects to the device's own address (else: the URL's host, or its DNS
// server).
bool uses_device_address(const devices::ServiceCheck& check) noexcept;

TcpCheck tcp_request(const devices::ServiceCheck& check, const boost::asio::ip::address& ip);
// `ip`: the device's address when uses_device_address().
HttpCheck http_request(const devices::ServiceCheck& check,
                       std::optional<boost::asio::ip::address> ip, const std::string& ca_file);
// kInvalidInput when the check's server or expected answer is not an address.
core::Result<DnsCheck> dns_request(const devices::ServiceCheck& check,
                                   std::optional<boost::asio::ip::address> ip);

// One attempt's answer into `status` (its figures, error and error_code; the figures of the kind
// that the answer did not give are cleared) and the attempt's outcome: ok when the service
// answered as expected.
CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<TcpCheckResult>& r);
CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<HttpCheckResult>& r,
                            const devices::ServiceCheck& check);
CheckOutcome record_attempt(ServiceCheckStatus& status, const core::Result<DnsCheckResult>& r,
                            const devices::ServiceCheck& check);
// An attempt that could not start (no address, a bad request).
CheckOutcome record_failure(ServiceCheckStatus& status, const core::Error& e);

// The samples of a finished run: check_up (1 passed, 0 failed) and the figures the status has,
// as (metric, value). docs/service_checks.md lists them.
std::vector<std::pair<std::string, double>> service_samples(const devices::ServiceCheck& check,
                                                            const ServiceCheckStatus& status);

}  // namespace netpulse::pollers::detail
