// What validation, JSON and the occurrence search of maintenance windows share.
#pragma once

#include <optional>
#include <string_view>

namespace netpulse::alerts::detail {

// "HH:MM" (exactly five characters, 00:00 .. 23:59) as minutes after midnight.
std::optional<int> parse_local_time(std::string_view text) noexcept;

}  // namespace netpulse::alerts::detail
