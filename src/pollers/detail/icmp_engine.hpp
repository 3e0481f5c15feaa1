// The ICMP echo engine behind IcmpPinger (include/netpulse/pollers/icmp.hpp): one socket per
// address family, the outstanding echoes of each, the send queue and the deadline sweep.
//
// Lifetime: the public IcmpPinger owns a shared_ptr to the engine; every pending asynchronous
// operation (socket waits, the sweep timer, posted sends, cycle timers) holds another, so closing
// the pinger while operations are pending is safe: close() shuts the sockets, completes what is
// outstanding with kServiceUnavailable (posted), and the engine goes when the last handler has run.
// Everything runs on the one event loop: no locks.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/icmp.hpp>

#include "icmp_packet.hpp"

namespace netpulse::pollers::detail {

// An opened ICMP socket before it joins the loop.
struct IcmpSocket {
  int fd = -1;
  IcmpMode mode = IcmpMode::kRaw;
  std::uint16_t identifier = 0;  // what replies carry: our choice (raw) or the kernel's (datagram)
};

// Opens an ICMP socket for AF_INET or AF_INET6 in the first mode `choice` allows. On failure the
// error says, per mode tried, what the kernel answered and what would fix it.
core::Result<IcmpSocket> open_icmp_socket(int family, IcmpModeChoice choice,
                                          int receive_buffer_bytes, std::uint16_t raw_identifier);

// Statistics of a cycle from its RTTs in send order (empty = not answered); fills the RTT, jitter
// and loss fields of `result` (count, sent, received and errors are the caller's).
void summarize_cycle(const std::vector<std::optional<std::chrono::nanoseconds>>& rtts,
                     PingCycleResult& result);

class IcmpEngine : public std::enable_shared_from_this<IcmpEngine> {
 public:
  IcmpEngine(const IcmpOptions& options, boost::asio::any_io_executor loop,
             const core::Clock& clock, IcmpSocket v4, std::optional<IcmpSocket> v6,
             std::string v6_status);
  ~IcmpEngine();
  // Starts reading both sockets; once, right after construction into a shared_ptr.
  void start();

  void echo(const boost::asio::ip::address& target, std::chrono::milliseconds timeout,
            std::size_t payload_bytes, IcmpPinger::EchoDone done);
  void ping_cycle(const boost::asio::ip::address& target, const PingCycleOptions& options,
                  IcmpPinger::CycleDone done);
  // Shuts the sockets and fails what is outstanding (posted). Idempotent.
  void close();

  IcmpMode mode() const noexcept { return v4_.mode; }
  std::optional<IcmpMode> mode_v6() const noexcept {
    return v6_ ? std::optional<IcmpMode>(v6_->mode) : std::nullopt;
  }
  const std::string& v6_status() const noexcept { return v6_status_; }
  IcmpStats stats() const noexcept;

 private:
  struct Pending {
    boost::asio::ip::address target;
    std::uint64_t cookie = 0;
    core::SteadyTime sent_at{};
    core::SystemTime sent_wall{};  // to compare with the kernel's receive timestamp
    std::size_t payload_bytes = 0;
    bool sent = false;
    IcmpPinger::EchoDone done;
  };
  struct Family {
    Family(boost::asio::any_io_executor loop, const IcmpSocket& socket, bool is_v6);
    boost::asio::posix::stream_descriptor descriptor;
    IcmpMode mode;
    bool v6;
    std::uint16_t identifier;
    std::uint16_t next_sequence = 0;
    std::unordered_map<std::uint16_t, Pending> pending;  // by sequence; < 65,536 by the bound
    std::deque<std::pair<std::uint16_t, std::uint64_t>> send_queue;  // (sequence, cookie)
    bool send_posted = false;
    bool waiting_writable = false;
    bool retry_on_tick = false;  // the kernel said ENOBUFS: try again at the next sweep
    std::vector<std::uint8_t> send_buffer;
    std::vector<std::uint8_t> receive_buffer;
  };
  struct Deadline {
    core::SteadyTime at;
    std::uint64_t cookie = 0;
    std::uint16_t sequence = 0;
    bool v6 = false;
    bool operator>(const Deadline& o) const noexcept { return at > o.at; }
  };

  Family* family_for(const boost::asio::ip::address& target) noexcept;
  void fail_later(IcmpPinger::EchoDone done, core::Error error);
  void complete(Family& family, std::uint16_t sequence, core::Result<std::chrono::nanoseconds> r);
  void schedule_send(Family& family);
  void do_send(Family& family);
  void do_read(Family& family);
  void on_readable(Family& family);
  std::chrono::nanoseconds round_trip(const Pending& echo, core::SteadyTime read_at,
                                      std::optional<core::SystemTime> kernel_at);
  void arm_sweep();
  void on_sweep();
  void compact_deadlines();

  IcmpOptions options_;
  boost::asio::any_io_executor loop_;
  const core::Clock& clock_;
  Family v4_;
  std::optional<Family> v6_;
  std::string v6_status_;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  bool closed_ = false;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::mt19937_64 cookies_;
  IcmpStats stats_;
};

}  // namespace netpulse::pollers::detail
