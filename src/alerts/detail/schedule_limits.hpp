// Bounds shared by silences and maintenance windows (validation and JSON), and the label-name
// check of silence matchers (silence.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace netpulse::alerts::detail {

// The last instant NetPulse schedules: 3000-01-01T00:00:00Z. Times are 0 .. kMaxScheduleTime.
inline constexpr std::int64_t kMaxScheduleTime = 32'503'680'000;
inline constexpr std::size_t kMaxScopeItems = 1'000;
inline constexpr std::size_t kMaxTagBytes = 128;
inline constexpr std::size_t kMaxTextBytes = 1'000;  // a silence's reason, a window's comment

// A label name: [A-Za-z_][A-Za-z0-9_]*, 1..128 bytes.
bool label_name_ok(std::string_view name) noexcept;

}  // namespace netpulse::alerts::detail
