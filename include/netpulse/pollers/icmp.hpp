// ICMP echo ("ping") on the event loop, without spawning ping(8). One IcmpPinger holds one socket
// per address family, shared by every echo: thousands of echoes may be outstanding at once, each
// matched to its reply by (identifier, sequence), the reply's source address and a random per-echo
// cookie carried in the payload, so a stray, late or forged reply never completes the wrong echo.
//
// Sockets: the unprivileged ICMP datagram socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)),
// allowed when the process's group is inside the network namespace's net.ipv4.ping_group_range;
// else a raw socket (SOCK_RAW, needs CAP_NET_RAW, which the packaged systemd unit grants). When
// neither works for IPv4, open() fails with kConfigError and says what to change. IPv6 is opened
// the same way but its absence does not fail open(): mode_v6() reports it, and echoes to IPv6
// targets then fail with kServiceUnavailable naming the reason.
//
// Bounds: at most max_in_flight echoes outstanding (beyond that echo() refuses at once with
// kServiceUnavailable; nothing queues without bound). Timeouts are swept by one timer tick, not
// one timer per echo. Modes, matching and the statistics are written down in docs/icmp.md.
//
// Threads: an IcmpPinger lives on its event loop. echo(), ping_cycle(), stats() and the
// destructor must be called on that loop; every callback runs on it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::pollers {

// The kind of socket carrying the echoes of one address family.
enum class IcmpMode {
  kDatagram,  // SOCK_DGRAM + IPPROTO_ICMP(V6): unprivileged, per ping_group_range
  kRaw,       // SOCK_RAW: needs CAP_NET_RAW
};

// "datagram" or "raw", for logs and /metrics labels.
std::string_view icmp_mode_name(IcmpMode mode) noexcept;

// Which socket kinds open() may try.
enum class IcmpModeChoice {
  kAuto,          // datagram first, raw if datagram is not allowed
  kDatagramOnly,  // tests, or operators who want no raw socket
  kRawOnly,       // tests
};

struct IcmpOptions {
  IcmpModeChoice mode = IcmpModeChoice::kAuto;
  bool ipv6 = true;  // also open an ICMPv6 socket (failure to do so is reported, not fatal)
  // Echoes outstanding at once over both families, 1..65,535 (a family's sequence space is
  // 16 bits; the bound keeps every outstanding sequence of a socket distinct).
  std::size_t max_in_flight = 20'000;
  // Longest timeout an echo may ask for; echo() refuses longer ones with kInvalidInput.
  std::chrono::milliseconds max_timeout{60'000};
  // How often outstanding echoes are checked for their deadline while any is outstanding: a
  // timeout is reported between `timeout` and `timeout + sweep_interval` after echo().
  std::chrono::milliseconds sweep_interval{5};
  // Kernel receive buffer asked for each socket (SO_RCVBUFFORCE when permitted, else SO_RCVBUF,
  // which the kernel caps at net.core.rmem_max). Bursts of replies wait here while the loop works.
  int receive_buffer_bytes = 8 << 20;
  // Packets sent per turn of the loop before receiving gets a turn (a burst of echo() calls is
  // sent in slices so that replies are read while the rest goes out).
  std::size_t send_batch = 64;
};

// Limits on the payload of one echo (bytes after the 8-byte ICMP header). The first 16 bytes
// carry the echo's cookie and send time; the rest is a fixed pattern.
inline constexpr std::size_t kIcmpMinPayload = 16;
inline constexpr std::size_t kIcmpMaxPayload = 1400;
inline constexpr std::size_t kIcmpDefaultPayload = 56;  // as ping(8): 64-byte ICMP messages

// Counters since open(), for health and /metrics.
struct IcmpStats {
  std::uint64_t sent = 0;       // echo requests handed to the kernel
  std::uint64_t received = 0;   // echoes completed by a matching reply
  std::uint64_t timeouts = 0;   // echoes completed with kTimeout
  std::uint64_t errors = 0;     // echoes completed with another error (send failed, no socket)
  std::uint64_t refused = 0;    // echo() calls refused because max_in_flight was reached
  std::uint64_t unmatched = 0;  // packets read that matched no outstanding echo (late, stray,
                                // other processes' replies on a raw socket, malformed)
  std::uint64_t in_flight = 0;  // echoes outstanding now
};

// One ping cycle against one target: `count` echoes, `interval` apart.
struct PingCycleOptions {
  std::size_t count = 3;                     // 1..1000
  std::chrono::milliseconds interval{1000};  // between the starts of consecutive echoes
  std::chrono::milliseconds timeout{1000};   // per echo
  std::size_t payload_bytes = kIcmpDefaultPayload;
};

// The statistics of one cycle. RTT figures are in milliseconds over the echoes that were
// answered, and 0 when none was (see `received`).
struct PingCycleResult {
  boost::asio::ip::address target;
  std::size_t count = 0;     // echoes attempted (= PingCycleOptions::count)
  std::size_t sent = 0;      // of those, handed to the kernel
  std::size_t received = 0;  // answered in time
  std::size_t errors = 0;    // failed other than by timeout (refused, send error, no IPv6)
  double rtt_min_ms = 0;
  double rtt_avg_ms = 0;
  double rtt_max_ms = 0;
  // Mean absolute difference between the RTTs of consecutive answered echoes, in send order
  // (RFC 3550's |D(i-1,i)| without its 1/16 smoothing); 0 with fewer than two answers.
  double jitter_ms = 0;
  // 100 × (count − received) / count: an echo that could not even be sent counts as lost.
  double loss_percent = 0;
  std::optional<core::Error> first_error;  // the first non-timeout failure, if any
};

class IcmpPinger {
 public:
  using EchoDone = std::function<void(core::Result<std::chrono::nanoseconds>)>;
  using CycleDone = std::function<void(PingCycleResult)>;

  // Opens the IPv4 socket (and the IPv6 one when options.ipv6) on `loop`, in the first mode that
  // options.mode allows and the system permits. Fails with kConfigError when no IPv4 mode works
  // (the message names the sysctl and the capability to fix it) or the options are out of range.
  // `clock` times the echoes (steady time) and must outlive the pinger.
  static core::Result<std::unique_ptr<IcmpPinger>> open(const IcmpOptions& options,
                                                        boost::asio::any_io_executor loop,
                                                        const core::Clock& clock);

  // Closes the sockets. Echoes still outstanding complete with kServiceUnavailable, their
  // callbacks posted to the loop (never run inside the destructor).
  virtual ~IcmpPinger() = default;

  // Sends one echo request to `target` and calls `done` exactly once, on the loop and never
  // inside echo() itself: with the round-trip time when the matching reply arrives, kTimeout when
  // none arrives within `timeout`, kServiceUnavailable when max_in_flight echoes are outstanding
  // or the target's family has no socket, kInvalidInput for a bad timeout/payload/target (e.g.
  // unspecified or multicast), another error when the kernel refuses to send.
  virtual void echo(const boost::asio::ip::address& target, std::chrono::milliseconds timeout,
                    std::size_t payload_bytes, EchoDone done) = 0;

  // Runs one cycle of options.count echoes to `target`, options.interval apart, and calls `done`
  // once, on the loop, when every echo has completed. Out-of-range options complete the cycle with
  // every echo counted as an error (first_error says which option).
  virtual void ping_cycle(const boost::asio::ip::address& target, const PingCycleOptions& options,
                          CycleDone done) = 0;

  // The IPv4 socket's mode.
  virtual IcmpMode mode() const noexcept = 0;
  // The IPv6 socket's mode; empty when IPv6 is off or could not be opened (see v6_status()).
  virtual std::optional<IcmpMode> mode_v6() const noexcept = 0;
  // Why IPv6 has no socket (empty when it has one), for the start-up log.
  virtual const std::string& v6_status() const noexcept = 0;
  // Counters since open().
  virtual IcmpStats stats() const noexcept = 0;
};

}  // namespace netpulse::pollers
