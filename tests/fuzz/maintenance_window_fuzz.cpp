// Fuzz target: a maintenance window's JSON body (alerts::maintenance_from_json, after
// Boost.JSON), including its cron expression and time zone; an input that is not JSON goes to
// the cron parser alone. A refusal names a field; an accepted window survives
// maintenance_to_json and back unchanged, and its occurrences are consistent: an active one
// contains the instant, the next one starts after it and is active at its own start.
#include <array>
#include <string>

#include <boost/json/parse.hpp>

#include <netpulse/alerts/maintenance.hpp>

#include "alerts/detail/cron.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

void check_refusal(const core::Error& error, std::string_view prefix) {
  const auto* field = error.details.if_contains("field");
  if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
  if (!field->get_string().starts_with(prefix))
    fuzz::fail("a refusal names " + std::string(field->get_string()));
}

void check_occurrences(const alerts::MaintenanceWindow& w, std::int64_t t) {
  if (auto active = alerts::active_occurrence(w, t)) {
    if (active->starts_at > t || t >= active->ends_at) fuzz::fail("an active occurrence without t");
    if (active->ends_at - active->starts_at != w.duration_s) fuzz::fail("a wrong duration");
    if (active->starts_at < w.starts_at) fuzz::fail("an occurrence before starts_at");
  }
  if (auto next = alerts::next_occurrence(w, t)) {
    if (next->starts_at <= t) fuzz::fail("a next occurrence that is not after t");
    if (w.ends_at && next->starts_at > *w.ends_at) fuzz::fail("an occurrence after ends_at");
    if (alerts::active_occurrence(w, next->starts_at) != next)
      fuzz::fail("the next occurrence is not active at its start");
  }
}

}  // namespace

NETPULSE_FUZZ_TARGET(maintenance_window) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = boost::json::parse(text, ec);
  if (ec) {
    if (auto spec = alerts::detail::parse_cron(text); !spec) check_refusal(spec.error(), "cron");
    return 0;
  }
  auto w = alerts::maintenance_from_json(body);
  if (!w) {
    check_refusal(w.error(), "");
    return 0;
  }
  auto again = alerts::maintenance_from_json(alerts::maintenance_to_json(*w));
  if (!again) fuzz::fail("maintenance_to_json of an accepted window is refused");
  if (!(*again == *w)) fuzz::fail("maintenance_from_json(maintenance_to_json(w)) differs from w");
  // Instants around the window's start, from the input's own numbers.
  const std::array<std::int64_t, 4> offsets = {0, w->duration_s - 1, 86'400 * 40 + 1'234, -86'400};
  for (auto offset : offsets) check_occurrences(*w, w->starts_at + offset);
  return 0;
}
