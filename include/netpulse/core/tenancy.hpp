// Tenancy and paging vocabulary every module shares (ARCHITECTURE.md puts it in core): the
// organization a read or write is confined to, a page request and its result, and the event
// that an organization is gone. The auth module makes an OrgScope from a verified caller
// (auth::scope_of); the modules that keep org-owned data take one on every call.
#pragma once

#include <cstdint>
#include <vector>

namespace netpulse::core {

// The organization every org-owned read or write is confined to. Made by auth::scope_of() from a
// verified caller, or trusted() by start-up and CLI code acting inside a known organization (not
// reachable from HTTP).
class OrgScope {
 public:
  std::int64_t org_id() const noexcept { return org_id_; }
  static OrgScope trusted(std::int64_t org_id) noexcept { return OrgScope(org_id); }

 private:
  explicit OrgScope(std::int64_t org_id) noexcept : org_id_(org_id) {}
  std::int64_t org_id_;
};

// A page request and the total it matched.
struct Page {
  int page = 1;       // 1-based
  int per_page = 50;  // 1..500
};
template <class T>
struct PageOf {
  std::vector<T> items;
  std::int64_t total = 0;
};

// An organization was deleted: published on the loop (EventBus) once the delete has committed,
// by the layer that asked for it (the API's DELETE /api/v1/organizations/{id}). Its users,
// tokens and API keys are gone, and the rows other modules keep for it went with it (ON DELETE
// CASCADE). Every module that holds something of it in memory drops it at once (the inventory
// its devices, so the pollers stop polling them; the pollers their figures; the time-series
// store its series, whose stored samples it then purges in the background). Organization ids
// are never given twice (migration 0004), so nothing kept under this id can pass to another
// tenant.
struct OrgDeleted {
  std::int64_t org_id = 0;
};

}  // namespace netpulse::core
