// Rates from successive readings of SNMP counters: 32-bit counters wrap at 2^32 (a reading below
// the previous one is a wrap when the implied rate is plausible, else a reset), 64-bit counters
// never wrap in practice (a lower reading is a reset: an agent restart or a cleared counter).
// A reset gives no rate for that interval rather than a huge spike. Private to the pollers.
#pragma once

#include <cstdint>
#include <optional>

namespace netpulse::pollers::detail {

// The increase of a counter from `previous` to `current` over `seconds`, or nullopt when it
// cannot be told (reset, no time passed). `max_per_second` (0 = unknown) bounds a plausible
// 32-bit wrap: a wrap implying more than that is taken for a reset.
std::optional<double> counter_increase(std::uint64_t previous, std::uint64_t current, bool is_64bit,
                                       double seconds, double max_per_second);

// Bits per second from two octet counter readings (see counter_increase); `speed_bps` (0 =
// unknown) bounds a plausible wrap at 1.5 x line rate.
std::optional<double> octet_rate_bps(std::uint64_t previous, std::uint64_t current, bool is_64bit,
                                     double seconds, double speed_bps);

}  // namespace netpulse::pollers::detail
