// Events about the auth module's records that other modules act on (EventBus, loop thread).
#pragma once

#include <cstdint>

namespace netpulse::auth {

// An organization was deleted: published on the loop once the delete has committed (by the
// layer that asked for it: the API's DELETE /api/v1/organizations/{id}). Its users, tokens and
// API keys are gone, and the rows other modules keep for it went with it (ON DELETE CASCADE).
// Every module that holds something of it in memory drops it at once (the inventory its
// devices, so the pollers stop polling them; the pollers their figures; the time-series store
// its series, whose stored samples it then purges in the background). Organization ids are
// never given twice (migration 0004), so nothing kept under this id can pass to another tenant.
struct OrgDeleted {
  std::int64_t org_id = 0;
};

}  // namespace netpulse::auth
