// The dashboards' rows (migration 0016). Every statement is confined to one organization.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::dashboards::detail {

core::Result<std::vector<Dashboard>> select_dashboards(db::Connection& c, std::int64_t org_id);
core::Result<std::optional<Dashboard>> select_dashboard(db::Connection& c, std::int64_t org_id,
                                                        std::int64_t id);
core::Result<bool> org_seeded(db::Connection& c, std::int64_t org_id);
// Marks the organization seeded; true when this call did (it was not before).
core::Result<bool> mark_seeded(db::Connection& c, std::int64_t org_id);
core::Result<std::int64_t> count_dashboards(db::Connection& c, std::int64_t org_id);
// Inserts `d` (org_id, fields, times, created_by); returns its id. kConflict when the name is
// taken.
core::Result<std::int64_t> insert_dashboard(db::Connection& c, const Dashboard& d);
// Writes every field of `d` and its version. kConflict when the name is another's.
core::Result<void> update_dashboard(db::Connection& c, const Dashboard& d);
// Clears the default flag of every dashboard of the organization but `keep`.
core::Result<void> clear_default(db::Connection& c, std::int64_t org_id, std::int64_t keep);
// True when a row went.
core::Result<bool> delete_dashboard(db::Connection& c, std::int64_t org_id, std::int64_t id);

}  // namespace netpulse::dashboards::detail
