// Fuzz target: an on-call schedule's JSON body (notify::oncall_from_json, after Boost.JSON). A
// refusal names a field; an accepted schedule survives to_json and back unchanged, and who is on
// call is consistent: at instants around its start and its overrides, on_call_at names a user of
// the rotation or of an override, the next handover is after the instant, and the shifts of a
// range are in order, inside the range, not overlapping, and agree with on_call_at at their
// starts.
#include <algorithm>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include <netpulse/notify/oncall.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

bool known_user(const notify::OncallSchedule& s, std::int64_t user) {
  const auto& users = s.rotation.users;
  if (std::find(users.begin(), users.end(), user) != users.end()) return true;
  return std::any_of(s.overrides.begin(), s.overrides.end(),
                     [&](const notify::OncallOverride& o) { return o.user_id == user; });
}

void check_instant(const notify::OncallSchedule& s, std::int64_t t) {
  if (auto user = notify::on_call_at(s, t); user && !known_user(s, *user))
    fuzz::fail("on_call_at names a user the schedule does not have");
  if (auto next = notify::next_handover(s, t); next && *next <= t)
    fuzz::fail("a next handover that is not after the instant");
}

void check_shifts(const notify::OncallSchedule& s, std::int64_t from, std::int64_t to) {
  const auto listed = notify::shifts(s, from, to, 50);
  if (listed.size() > 50) fuzz::fail("more shifts than asked for");
  std::int64_t previous_end = from;
  for (const auto& shift : listed) {
    if (shift.start_ms < previous_end || shift.end_ms <= shift.start_ms || shift.end_ms > to)
      fuzz::fail("shifts out of order, overlapping or outside the range");
    if (notify::on_call_at(s, shift.start_ms) != shift.user_id)
      fuzz::fail("a shift's user is not on call at its start");
    if (shift.override_index && *shift.override_index >= s.overrides.size())
      fuzz::fail("a shift names an override the schedule does not have");
    previous_end = shift.end_ms;
  }
}

}  // namespace

NETPULSE_FUZZ_TARGET(oncall_schedule) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = boost::json::parse(text, ec);
  if (ec) return 0;
  auto s = notify::oncall_from_json(body);
  if (!s) {
    const auto* field = s.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  auto again = notify::oncall_from_json(notify::to_json(*s));
  if (!again) fuzz::fail("to_json of an accepted schedule is refused");
  if (!(*again == *s)) fuzz::fail("oncall_from_json(to_json(s)) differs from s");
  // Instants from the input's own numbers: the overrides' edges, and around 2026.
  std::vector<std::int64_t> instants = {1'767'225'600'000, 1'774'746'000'000, 1'793'511'000'000};
  for (const auto& o : s->overrides) {
    instants.push_back(o.start_ms);
    instants.push_back(o.end_ms - 1);
  }
  if (instants.size() > 12) instants.resize(12);
  for (auto t : instants) check_instant(*s, t);
  check_shifts(*s, instants.front(), instants.front() + std::int64_t{40} * 86'400'000);
  if (!s->overrides.empty())
    check_shifts(*s, s->overrides.front().start_ms - 86'400'000,
                 s->overrides.front().end_ms + 86'400'000);
  return 0;
}
