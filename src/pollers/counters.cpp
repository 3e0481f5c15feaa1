// Counter increases and rates with wrap and reset handling; see detail/counters.hpp.
#include "detail/counters.hpp"

namespace netpulse::pollers::detail {

std::optional<double> counter_increase(std::uint64_t previous, std::uint64_t current, bool is_64bit,
                                       double seconds, double max_per_second) {
  if (!(seconds > 0)) return std::nullopt;
  if (current >= previous) return static_cast<double>(current - previous);
  if (is_64bit || previous > 0xFFFFFFFFull || current > 0xFFFFFFFFull) return std::nullopt;
  const double wrapped = static_cast<double>((0x100000000ull - previous) + current);
  if (max_per_second > 0 && wrapped / seconds > max_per_second) return std::nullopt;
  return wrapped;
}

std::optional<double> octet_rate_bps(std::uint64_t previous, std::uint64_t current, bool is_64bit,
                                     double seconds, double speed_bps) {
  const double max_octets = speed_bps > 0 ? speed_bps * 1.5 / 8 : 0;
  auto increase = counter_increase(previous, current, is_64bit, seconds, max_octets);
  if (!increase) return std::nullopt;
  return *increase * 8 / seconds;
}

}  // namespace netpulse::pollers::detail
