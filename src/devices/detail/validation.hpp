// Field rules of the inventory. Each check returns kInvalidInput naming the field (with the
// caller's prefix, e.g. "snmp.auth_password"), so the API and the CSV import report alike.
// Private to the devices module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/devices/types.hpp>

namespace netpulse::devices::detail {

inline constexpr std::size_t kMaxNameLength = 128;
inline constexpr std::size_t kMaxTextLength = 256;  // vendor, model, os, serial, location
inline constexpr std::size_t kMaxNotesLength = 4096;
inline constexpr std::size_t kMaxTags = 32;
inline constexpr std::size_t kMaxTagLength = 64;
inline constexpr std::size_t kMaxGroupsPerDevice = 64;
inline constexpr std::size_t kMaxParents = 16;
// The most parent links on any chain from a device up to a device without parents (an ISP's
// core -> aggregation -> access -> CPE is three). Walks over the graph are iterative regardless;
// the bound keeps topology views and status propagation shallow. docs/devices.md.
inline constexpr std::size_t kMaxParentChainDepth = 64;
inline constexpr int kMinPollIntervalS = 1;
inline constexpr int kMaxPollIntervalS = 86'400;

// An IPv4/IPv6 literal in canonical form (IPv6 compressed, lower case; no zone ids), or a host
// name per RFC 1123 lower-cased (labels of 1-63 letters, digits and '-', not starting or ending
// with '-', at most 253 bytes, at least one letter in the last label).
core::Result<std::string> normalize_address(std::string_view text, std::string_view field);

// Tags: each 1-64 characters of letters, digits and - _ . : / =, at most kMaxTags; sorted and
// de-duplicated in place.
core::Result<void> normalize_tags(std::vector<std::string>& tags, std::string_view field);

// Group names: like a device name; sorted and de-duplicated in place.
core::Result<void> normalize_group_names(std::vector<std::string>& names, std::string_view field);

// SNMP settings and secrets for the version: v1/v2c need a community (1-255 printable ASCII
// bytes); v3 a user (1-32 bytes), auth/priv protocols with passwords of 8-255 bytes where the
// level needs them, and no privacy without authentication. Secrets not used by the version are
// cleared. `prefix` is "snmp" or "snmp_" (CSV).
core::Result<void> check_snmp(SnmpCredentials& c, std::string_view prefix);

// Every field of a new device (address normalized, lists normalized, ids positive). An address
// literal the outbound policy refuses for polling (OutboundPurpose::kPoll) is refused with
// kOutboundDenied (details.field "address"); a host name is judged at poll time, once resolved.
core::Result<void> check_new_device(NewDevice& d, const core::OutboundPolicy& outbound);

// A device after a patch was applied (the same rules as check_new_device).
core::Result<void> check_device(Device& d, std::vector<std::string>& group_names,
                                const core::OutboundPolicy& outbound);

// A custom OID: dotted numeric (2-128 arcs), a Prometheus metric name of at most 128 bytes, a
// finite non-zero scale, a unit of at most 32 bytes.
core::Result<void> check_custom_oid(const CustomOid& o);

// A service check (everything but ids and times): name 1-64 characters; interval 10..86,400 s;
// timeout 100..60,000 ms; retries 0..5; the kind's fields (docs/service_checks.md). Fields are
// named as the API nests them: "tcp.port", "http.url", "dns.query". IP literals (dns.server,
// dns.expected) are normalized in place; dns.port 0 becomes 53.
core::Result<void> check_service_check(ServiceCheck& c);
inline constexpr std::size_t kMaxServiceChecksPerDevice = 32;

// The literal address a checked service check connects to first, judged by the outbound policy
// for fetching (OutboundPurpose::kFetch): the device's address (`device_address`) for TCP, for
// HTTP with use_device_address and for DNS without a server (details.field "device.address");
// else the URL's host (details.field "http.url") or the DNS server ("dns.server").
// kOutboundDenied when refused; names (the device's, the URL's) are judged when the check runs.
core::Result<void> check_service_target(const ServiceCheck& c, std::string_view device_address,
                                        const core::OutboundPolicy& outbound);

}  // namespace netpulse::devices::detail
