// Who is on call when (oncall.hpp): on_call_at, shifts and next_handover.
//
// Handover k (k = 0, 1, ...) is at the local wall time `start + k * length_days` days, at
// handover_time, in the schedule's zone, and users[k mod n] is on call from it until handover
// k + 1. A local time becomes an instant with date::choose::earliest: a time that happens twice
// (fall back) is its first occurrence, and a time that does not exist (spring forward) is the
// first instant after the gap (what date returns for a nonexistent time). That mapping never
// decreases as local time increases, so handover instants are in order and the handover in force
// at an instant is found from the instant's own local time, then corrected by at most a step
// either way around a DST change.
#include <algorithm>
#include <chrono>
#include <date/date.h>
#include <date/tz.h>
#include <exception>

#include <netpulse/notify/oncall.hpp>

#include "detail/oncall.hpp"

namespace netpulse::notify {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// shifts() looks this far past from_ms at most: every handover and override edge in it is
// examined, so the work stays a few thousand steps for any range asked.
constexpr std::int64_t kMaxListingMs = std::int64_t{400} * 86'400'000;
constexpr std::int64_t kDayS = 86'400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// A schedule's rotation, ready for arithmetic.
class Rotation {
 public:
  // None when the rotation cannot be read (an unknown zone, a bad date or time, no users).
  static std::optional<Rotation> compile(const OncallSchedule& s) {
    const auto start = detail::parse_local_date(s.rotation.start);
    const auto minute = detail::parse_wall_time(s.rotation.handover_time);
    if (!start || !minute || s.rotation.users.empty() || s.rotation.length_days < 1 ||
        s.rotation.length_days > 28)
      return std::nullopt;
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(s.time_zone);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    return Rotation(*zone, date::local_seconds{*start} + std::chrono::minutes{*minute},
                    s.rotation.length_days, s.rotation.users);
  }

  // The instant of handover k, in Unix milliseconds.
  std::int64_t handover_ms(std::int64_t k) const {
    const auto local = first_ + seconds{k * length_s_};
    const auto instant = zone_.to_sys(local, date::choose::earliest);
    return std::chrono::duration_cast<milliseconds>(instant.time_since_epoch()).count();
  }

  // The last handover at or before `at_ms`, or -1 before the first.
  std::int64_t index_at(std::int64_t at_ms) const {
    const date::sys_seconds at{seconds{floor_div(at_ms, 1'000)}};
    const auto local = zone_.to_local(at);
    std::int64_t k = floor_div((local - first_).count(), length_s_);
    k = std::max<std::int64_t>(k, -1);
    while (handover_ms(k + 1) <= at_ms) ++k;
    while (k >= 0 && handover_ms(k) > at_ms) --k;
    return k;
  }

  std::int64_t user(std::int64_t k) const {
    return users_[static_cast<std::size_t>(k % static_cast<std::int64_t>(users_.size()))];
  }

 private:
  Rotation(const date::time_zone& zone, date::local_seconds first, int length_days,
           const std::vector<std::int64_t>& users)
      : zone_(zone), first_(first), length_s_(length_days * kDayS), users_(users) {}

  const date::time_zone& zone_;
  date::local_seconds first_;  // handover 0's local time
  std::int64_t length_s_;
  const std::vector<std::int64_t>& users_;
};

// Instants NetPulse reasons about: 0 .. year 3000. Outside, nobody is on call.
bool in_range(std::int64_t at_ms) {
  return at_ms >= 0 && at_ms <= detail::kMaxScheduleMs;
}

// The last-created override covering `at_ms`.
std::optional<std::size_t> override_at(const OncallSchedule& s, std::int64_t at_ms) {
  for (std::size_t i = s.overrides.size(); i-- > 0;) {
    const auto& o = s.overrides[i];
    if (o.start_ms <= at_ms && at_ms < o.end_ms) return i;
  }
  return std::nullopt;
}

struct Holder {
  std::int64_t user_id = 0;
  std::optional<std::size_t> override_index;
};

std::optional<Holder> holder_at(const OncallSchedule& s, const std::optional<Rotation>& rotation,
                                std::int64_t at_ms) {
  if (auto i = override_at(s, at_ms)) return Holder{s.overrides[*i].user_id, i};
  if (!rotation) return std::nullopt;
  const auto k = rotation->index_at(at_ms);
  if (k < 0) return std::nullopt;
  return Holder{rotation->user(k), std::nullopt};
}

}  // namespace

std::optional<std::int64_t> on_call_at(const OncallSchedule& s, std::int64_t at_ms) {
  if (!in_range(at_ms)) return std::nullopt;
  try {
    const auto holder = holder_at(s, Rotation::compile(s), at_ms);
    if (!holder) return std::nullopt;
    return holder->user_id;
  } catch (const std::exception&) {
    return std::nullopt;  // a zone whose data cannot be read: no rotation, as for a bad name
  }
}

std::optional<std::int64_t> next_handover(const OncallSchedule& s, std::int64_t after_ms) {
  if (!in_range(after_ms)) return std::nullopt;
  try {
    const auto rotation = Rotation::compile(s);
    if (!rotation) return std::nullopt;
    const auto next = rotation->handover_ms(rotation->index_at(after_ms) + 1);
    if (next > detail::kMaxScheduleMs) return std::nullopt;
    return next;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<OncallShift> shifts(const OncallSchedule& s, std::int64_t from_ms, std::int64_t to_ms,
                                std::size_t max_shifts) {
  std::vector<OncallShift> out;
  from_ms = std::max<std::int64_t>(from_ms, 0);
  if (from_ms >= detail::kMaxScheduleMs) return out;
  to_ms = std::min({to_ms, detail::kMaxScheduleMs, from_ms + kMaxListingMs});
  max_shifts = std::min(max_shifts, kMaxShifts);
  if (to_ms <= from_ms || max_shifts == 0) return out;
  try {
    const auto rotation = Rotation::compile(s);
    // Every instant in [from, to) where the holder may change.
    std::vector<std::int64_t> edges{from_ms};
    if (rotation) {
      for (auto k = rotation->index_at(from_ms) + 1;; ++k) {
        const auto h = rotation->handover_ms(k);
        if (h >= to_ms) break;
        edges.push_back(h);
      }
    }
    for (const auto& o : s.overrides) {
      for (auto edge : {o.start_ms, o.end_ms}) {
        if (edge > from_ms && edge < to_ms) edges.push_back(edge);
      }
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    edges.push_back(to_ms);
    for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
      const auto holder = holder_at(s, rotation, edges[i]);
      if (!holder) continue;
      if (!out.empty() && out.back().end_ms == edges[i] && out.back().user_id == holder->user_id &&
          out.back().override_index == holder->override_index) {
        out.back().end_ms = edges[i + 1];
        continue;
      }
      if (out.size() == max_shifts) break;
      out.push_back(OncallShift{holder->user_id, edges[i], edges[i + 1], holder->override_index});
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

}  // namespace netpulse::notify
