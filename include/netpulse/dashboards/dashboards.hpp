// Dashboards: the operators' own grids of panels (time series, stat, gauge, table, device status
// grid, top-N), saved per organization and shared by link. The module keeps them in SQLite,
// checks every document before it is stored (docs/dashboards.md lists the fields), gives each
// organization a default dashboard the first time its dashboards are listed, and refuses a save
// made over someone else's newer one (a version number, as an HTTP If-Match would).
//
// Threading: every method is called on the event loop thread. Reads are one indexed query on a
// reader connection; writes go to the database writer and finish by calling `done` on the loop.
// Every change is published on the EventBus as DashboardChanged once committed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/env.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::dashboards {

template <class T>
using Callback = std::function<void(core::Result<T>)>;

// Limits of one dashboard (the checks name the field that passes them).
inline constexpr std::size_t kMaxPanels = 48;
inline constexpr int kGridColumns = 12;
inline constexpr std::size_t kMaxDashboardsPerOrg = 500;

// What a person sends to create or replace a dashboard, checked and normalized by
// parse_dashboard: panels carry every field with its default filled in.
struct DashboardInput {
  std::string name;         // 1..100 characters, unique in the organization
  std::string description;  // at most 1,000 characters
  std::string time_range;   // the range panels show unless the viewer picks another: 1h, 6h, ...
  boost::json::array panels;
  bool is_default = false;  // the organization's home dashboard (one at a time)
  // On a replace: the version the editor started from; a save over a newer one is refused.
  std::optional<std::int64_t> version;
};

struct Dashboard {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string description;
  std::string time_range;
  boost::json::array panels;
  bool is_default = false;
  std::int64_t version = 1;  // 1 when created, one more on every save
  std::string created_by;    // the email or API key name of who made it ("" for the default)
  std::string updated_by;
  std::int64_t created_at = 0;  // Unix ms
  std::int64_t updated_at = 0;
};

// Checks a request body (a JSON object) and normalizes it. kInvalidInput names the first field
// that is wrong ("panels[2].query.selector: ...", "panels[3]: overlaps panels[1]").
core::Result<DashboardInput> parse_dashboard(const boost::json::value& body);

// A dashboard was created, saved or deleted (committed). Published on the loop.
struct DashboardChanged {
  std::int64_t org_id = 0;
  std::int64_t id = 0;
  std::int64_t version = 0;  // the new version; 0 when deleted
  bool deleted = false;
  std::string by;  // who changed it
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens the store over an open database (migration 0016 made its tables). Uses env's clock,
  // log, bus and loop.
  static std::unique_ptr<Store> open(const core::Env& env, db::Database& db);

  // The organization's dashboards, by name (the default first). The first listing of an
  // organization that never had any gives it the default dashboard ("Network overview"); one
  // whose dashboards were all deleted keeps none.
  virtual void list(core::OrgScope scope, Callback<std::vector<Dashboard>> done) = 0;
  // One dashboard, or kNotFound (also for another organization's).
  virtual core::Result<Dashboard> get(core::OrgScope scope, std::int64_t id) const = 0;
  // kConflict when the name is taken, or the organization has kMaxDashboardsPerOrg.
  virtual void create(core::OrgScope scope, DashboardInput input, std::string by,
                      Callback<Dashboard> done) = 0;
  // Replaces name, description, range, panels and the default flag. kConflict when
  // input.version is given and is not the stored one (someone saved in between), or the name is
  // another dashboard's.
  virtual void replace(core::OrgScope scope, std::int64_t id, DashboardInput input, std::string by,
                       Callback<Dashboard> done) = 0;
  virtual void remove(core::OrgScope scope, std::int64_t id, std::string by,
                      Callback<void> done) = 0;
};

}  // namespace netpulse::dashboards
