// Fuzz target: a dashboard's JSON body (dashboards::parse_dashboard, after core::parse_json). A
// refusal names a field; an accepted dashboard is normalized: what it gives back parses again to
// the same panels (what the store keeps reads back as stored), every panel sits inside the grid
// and no two overlap.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <netpulse/core/json.hpp>
#include <netpulse/dashboards/dashboards.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(dashboard) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = core::parse_json(text, ec);
  if (ec) return 0;
  auto d = dashboards::parse_dashboard(body);
  if (!d) {
    const auto* field = d.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  if (d->panels.size() > dashboards::kMaxPanels) fuzz::fail("more panels than allowed");
  for (const auto& p : d->panels) {
    const auto x = p.at("x").as_int64();
    const auto w = p.at("w").as_int64();
    if (x < 0 || w < 1 || x + w > dashboards::kGridColumns) fuzz::fail("a panel off the grid");
  }
  for (std::size_t i = 0; i < d->panels.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = d->panels[i];
      const auto& b = d->panels[j];
      const bool overlap = a.at("x").as_int64() < b.at("x").as_int64() + b.at("w").as_int64() &&
                           b.at("x").as_int64() < a.at("x").as_int64() + a.at("w").as_int64() &&
                           a.at("y").as_int64() < b.at("y").as_int64() + b.at("h").as_int64() &&
                           b.at("y").as_int64() < a.at("y").as_int64() + a.at("h").as_int64();
      if (overlap) fuzz::fail("two panels on one cell");
    }
  }
  // Stored as text and read back: the same.
  boost::system::error_code stored_ec;
  auto stored = core::parse_json(core::to_json_text(d->panels), stored_ec);
  if (stored_ec) fuzz::fail("normalized panels do not read back as JSON");
  boost::json::object again{{"name", d->name},
                            {"description", d->description},
                            {"time_range", d->time_range},
                            {"panels", std::move(stored)}};
  auto reread = dashboards::parse_dashboard(again);
  if (!reread) fuzz::fail("a normalized dashboard is refused");
  if (reread->panels != d->panels) fuzz::fail("a normalized dashboard changes when read again");
  return 0;
}
