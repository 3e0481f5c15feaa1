// Device CSV import and export (docs/devices.md has the columns). The import runs on the db
// writer thread inside one savepoint: every row is parsed and checked — fields, addresses free
// and unique within the file, groups known, parents known (in the database or earlier/later in
// the file) and acyclic — and only when no row has an issue are the devices inserted, parents
// first. Private to the devices module.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <netpulse/db/statement.hpp>
#include <netpulse/devices/inventory.hpp>

#include "sql.hpp"

namespace netpulse::devices::detail {

struct ImportOutcome {
  std::size_t rows = 0;
  std::vector<ImportIssue> issues;
  std::vector<DeviceRow> created;  // with ids; empty when there are issues
};

// At most this many issues are listed; the count of the rest is said in the last one.
inline constexpr std::size_t kMaxImportIssues = 1000;

// Device addresses are also judged by `outbound` (as check_new_device does).
core::Result<ImportOutcome> import_devices(db::Connection& c, const core::SecretBox& box,
                                           std::int64_t org_id, std::string_view body,
                                           std::int64_t now, std::size_t max_rows,
                                           std::size_t max_devices,
                                           const core::OutboundPolicy& outbound);

// `devices` as CSV in the import's columns plus id, status and last_seen (which the import
// ignores); parents by address (`addresses`: device id -> address). No secrets.
std::string export_devices(const std::vector<Device>& devices,
                           const std::unordered_map<std::int64_t, std::string>& addresses);

}  // namespace netpulse::devices::detail
