// The ICMP echo engine against the kernel's own echo responder: only 127.0.0.0/8 and ::1, in the
// default network namespace or in a namespace a test thread makes for itself (unshare(2) on that
// thread: the namespace has only `lo` and vanishes with the thread). The raw-socket path runs in
// the default namespace (ping_group_range "1 0" on CI, run as root); the datagram path in a
// namespace whose ping_group_range admits us; an address that does not answer is 127.0.0.1 in a
// namespace with icmp_echo_ignore_all set. Cases that need root (raw sockets), a namespace of their
// own or ::1 carry the tags [root], [netns] and [ipv6], and are excluded, visibly, where the
// machine lacks them (support/catch_main.cpp).
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <linux/capability.h>
#include <net/if.h>
#include <optional>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/icmp.hpp>

#include "pollers/detail/icmp_engine.hpp"
#include "pollers/detail/icmp_packet.hpp"
#include "support/run_until.hpp"

using namespace std::chrono_literals;
using netpulse::core::Errc;
using netpulse::pollers::IcmpMode;
using netpulse::pollers::IcmpModeChoice;
using netpulse::pollers::IcmpOptions;
using netpulse::pollers::IcmpPinger;
using netpulse::pollers::PingCycleOptions;
using netpulse::pollers::PingCycleResult;
namespace detail = netpulse::pollers::detail;
namespace ip = boost::asio::ip;
using EchoResult = netpulse::core::Result<std::chrono::nanoseconds>;

namespace {

using netpulse::test::run_until;

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// Brings `lo` up in the calling thread's network namespace.
bool loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags |= IFF_UP;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  ::close(fd);
  return ok;
}

// Takes CAP_NET_RAW from the calling thread only (capabilities are per thread).
bool drop_net_raw_on_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return false;
  const auto bit = 1u << (CAP_NET_RAW % 32);
  data[CAP_NET_RAW / 32].effective &= ~bit;
  data[CAP_NET_RAW / 32].permitted &= ~bit;
  return ::syscall(SYS_capset, &header, data.data()) == 0;
}

// Runs `body` on a thread of its own in a fresh network namespace with `lo` up, after writing
// the given sysctls (paths under /proc/sys, which show the calling thread's namespace). Returns
// why it could not when it could not; `body` must not use Catch2 (it is not thread-safe): it
// records what it saw for the test to check after the thread has ended.
std::optional<std::string> in_new_netns(
    const std::vector<std::pair<std::string, std::string>>& sysctls,
    const std::function<void()>& body) {
  std::optional<std::string> failure;
  std::thread thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failure = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    if (!loopback_up()) {
      failure = "could not bring lo up in the new namespace";
      return;
    }
    for (const auto& [path, value] : sysctls) {
      if (!write_file(path, value)) {
        failure = "could not write " + path;
        return;
      }
    }
    body();
  });
  thread.join();
  return failure;
}

struct EchoTally {
  std::size_t ok = 0;
  std::size_t timeouts = 0;
  std::size_t other = 0;
  std::optional<Errc> last_error;
  std::string last_message;
  std::chrono::nanoseconds max_rtt{0};
  std::size_t done() const { return ok + timeouts + other; }
  IcmpPinger::EchoDone record() {
    return [this](EchoResult r) {
      if (r) {
        ++ok;
        max_rtt = std::max(max_rtt, *r);
      } else {
        (r.error().code == Errc::kTimeout ? timeouts : other)++;
        last_error = r.error().code;
        last_message = r.error().message;
      }
    };
  }
};

IcmpOptions raw_options() {
  IcmpOptions options;
  options.mode = IcmpModeChoice::kRawOnly;
  return options;
}

}  // namespace

TEST_CASE("icmp packet: checksum, request layout and reply recognition", "[pollers][icmp]") {
  // RFC 1071's worked example: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d.
  const std::array<std::uint8_t, 8> words{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(detail::internet_checksum(words) == 0x220d);

  std::array<std::uint8_t, 128> buffer{};
  const detail::EchoRequest request{false, 0x1234, 0xfffe, 0x0102030405060708ULL, 99, 56};
  const std::size_t length = detail::build_echo_request(request, true, buffer);
  REQUIRE(length == 64);
  CHECK(buffer[0] == 8);
  CHECK(detail::internet_checksum(std::span(buffer.data(), length)) == 0);
  // A request is not a reply.
  CHECK_FALSE(detail::parse_echo_reply(std::span(buffer.data(), length), false, false, true));
  // Turned into a reply (type 0, checksum adjusted), it parses back to the same fields.
  buffer[0] = 0;
  buffer[2] = buffer[3] = 0;
  const std::uint16_t sum = detail::internet_checksum(std::span(buffer.data(), length));
  buffer[2] = static_cast<std::uint8_t>(sum >> 8);
  buffer[3] = static_cast<std::uint8_t>(sum);
  auto reply = detail::parse_echo_reply(std::span(buffer.data(), length), false, false, true);
  REQUIRE(reply);
  CHECK(reply->identifier == 0x1234);
  CHECK(reply->sequence == 0xfffe);
  CHECK(reply->cookie == 0x0102030405060708ULL);
  // A corrupted byte fails the checksum; a short packet or a v6 reading of it yields nothing.
  buffer[40] ^= 0xff;
  CHECK_FALSE(detail::parse_echo_reply(std::span(buffer.data(), length), false, false, true));
  CHECK(detail::parse_echo_reply(std::span(buffer.data(), length), false, false, false));
  CHECK_FALSE(detail::parse_echo_reply(std::span(buffer.data(), 20), false, false, false));
  CHECK_FALSE(detail::parse_echo_reply(std::span(buffer.data(), length), true, false, false));

  // Behind an IPv4 header (raw sockets), found through the header length.
  std::array<std::uint8_t, 24 + 64> with_ip{};
  with_ip[0] = 0x46;  // version 4, 24-byte header (one option word)
  with_ip[9] = 1;     // ICMP
  buffer[40] ^= 0xff;
  std::memcpy(with_ip.data() + 24, buffer.data(), length);
  reply = detail::parse_echo_reply(with_ip, false, true, true);
  REQUIRE(reply);
  CHECK(reply->sequence == 0xfffe);
  with_ip[9] = 17;  // UDP
  CHECK_FALSE(detail::parse_echo_reply(with_ip, false, true, true));
}

TEST_CASE("icmp cycle statistics: min/avg/max, jitter of consecutive answers, loss",
          "[pollers][icmp]") {
  PingCycleResult result;
  detail::summarize_cycle({1ms, std::nullopt, 3ms, 2ms}, result);
  CHECK(result.rtt_min_ms == Approx(1.0));
  CHECK(result.rtt_max_ms == Approx(3.0));
  CHECK(result.rtt_avg_ms == Approx(2.0));
  CHECK(result.jitter_ms == Approx(1.5));  // |3-1| and |2-3| over the answered ones, in order
  CHECK(result.loss_percent == Approx(25.0));

  PingCycleResult none;
  detail::summarize_cycle({std::nullopt, std::nullopt}, none);
  CHECK(none.loss_percent == Approx(100.0));
  CHECK(none.rtt_avg_ms == 0);
  CHECK(none.jitter_ms == 0);
}

TEST_CASE("icmp pinger (raw): echoes to 127.0.0.1 and ::1 come back with a sane RTT",
          "[pollers][icmp][root][ipv6]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  auto& pinger = *opened.value();
  CHECK(pinger.mode() == IcmpMode::kRaw);
  REQUIRE(pinger.mode_v6() == IcmpMode::kRaw);
  CHECK(pinger.v6_status().empty());

  std::optional<EchoResult> v4, v6;
  pinger.echo(ip::make_address("127.0.0.1"), 2000ms, 56, [&](EchoResult r) { v4 = std::move(r); });
  pinger.echo(ip::make_address("::1"), 2000ms, 56, [&](EchoResult r) { v6 = std::move(r); });
  CHECK_FALSE(v4);  // never inside echo()
  CHECK(pinger.stats().in_flight == 2);
  REQUIRE(run_until(io, [&] { return v4 && v6; }));
  REQUIRE(v4->has_value());
  REQUIRE(v6->has_value());
  for (auto rtt : {v4->value(), v6->value()}) {
    CHECK(rtt > 0ns);
    CHECK(rtt < 1s);
  }
  const auto stats = pinger.stats();
  CHECK(stats.sent == 2);
  CHECK(stats.received == 2);
  CHECK(stats.in_flight == 0);
  CHECK(stats.timeouts == 0);
}

TEST_CASE("icmp pinger: the RTT falls back to the steady clock when the wall clock disagrees",
          "[pollers][icmp][root]") {
  // A ManualClock's wall time is far from the kernel's receive timestamps and its steady time
  // stands still: the kernel-timestamp RTT is implausible, so the steady one (0) is reported.
  boost::asio::io_context io;
  netpulse::core::ManualClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  std::optional<EchoResult> result;
  opened.value()->echo(ip::make_address("127.0.0.1"), 2000ms, 56,
                       [&](EchoResult r) { result = std::move(r); });
  REQUIRE(run_until(io, [&] { return result.has_value(); }));
  REQUIRE(result->has_value());
  CHECK(result->value() == 0ns);
}

TEST_CASE("icmp pinger (raw): 5,000 echoes outstanding at once to 5,000 addresses all match",
          "[pollers][icmp][root]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  auto& pinger = *opened.value();
  constexpr std::size_t kTargets = 5000;
  std::vector<std::optional<EchoResult>> results(kTargets);
  std::size_t done = 0;
  for (std::size_t i = 0; i < kTargets; ++i) {
    const auto target = ip::address_v4((127u << 24) | (2u << 16) | static_cast<unsigned>(i + 1));
    pinger.echo(target, 5000ms, 56, [&, i](EchoResult r) {
      results[i] = std::move(r);
      ++done;
    });
  }
  CHECK(pinger.stats().in_flight == kTargets);
  REQUIRE(run_until(
      io, [&] { return done == kTargets; }, 30s));
  std::size_t answered = 0;
  for (const auto& r : results) answered += r && r->has_value() ? 1 : 0;
  CHECK(answered == kTargets);
  const auto stats = pinger.stats();
  CHECK(stats.received == kTargets);
  CHECK(stats.timeouts == 0);
  CHECK(stats.in_flight == 0);
}

TEST_CASE("icmp pinger (raw): two pingers on one host each match only their own replies",
          "[pollers][icmp][root]") {
  // Every raw ICMP socket receives every echo reply of the host: each pinger sees the other's.
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto a = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  auto b = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(a);
  REQUIRE(b);
  EchoTally tally_a, tally_b;
  for (int i = 0; i < 200; ++i) {
    a.value()->echo(ip::make_address("127.0.0.1"), 3000ms, 56, tally_a.record());
    b.value()->echo(ip::make_address("127.0.0.1"), 3000ms, 56, tally_b.record());
  }
  REQUIRE(run_until(io, [&] { return tally_a.done() == 200 && tally_b.done() == 200; }));
  CHECK(tally_a.ok == 200);
  CHECK(tally_b.ok == 200);
  CHECK(a.value()->stats().received == 200);
  CHECK(b.value()->stats().received == 200);
  // Both are the same sequences 0..199 to the same address: only identifier and cookie tell
  // them apart, and each pinger read (and rejected) the other's replies.
  CHECK(a.value()->stats().unmatched >= 1);
  CHECK(b.value()->stats().unmatched >= 1);
}

TEST_CASE("icmp pinger (raw): sequences wrap past 65,535 without mismatching",
          "[pollers][icmp][root]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  auto& pinger = *opened.value();
  EchoTally tally;
  constexpr std::size_t kRounds = 7, kPerRound = 10'000;  // 70,000 echoes > 2^16 sequences
  for (std::size_t round = 0; round < kRounds; ++round) {
    for (std::size_t i = 0; i < kPerRound; ++i) {
      pinger.echo(ip::address_v4((127u << 24) | (3u << 16) | static_cast<unsigned>(i + 1)), 5000ms,
                  16, tally.record());
    }
    REQUIRE(run_until(
        io, [&] { return tally.done() == (round + 1) * kPerRound; }, 60s));
  }
  CHECK(tally.ok == kRounds * kPerRound);
  CHECK(pinger.stats().received == kRounds * kPerRound);
}

TEST_CASE("icmp pinger: max_in_flight refuses at once beyond the bound", "[pollers][icmp][root]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  IcmpOptions options = raw_options();
  options.max_in_flight = 10;
  auto opened = IcmpPinger::open(options, io.get_executor(), clock);
  REQUIRE(opened);
  auto& pinger = *opened.value();
  EchoTally tally;
  for (int i = 0; i < 15; ++i) {
    pinger.echo(ip::make_address("127.0.0.1"), 2000ms, 56, tally.record());
  }
  CHECK(pinger.stats().in_flight == 10);
  CHECK(pinger.stats().refused == 5);
  REQUIRE(run_until(io, [&] { return tally.done() == 15; }));
  CHECK(tally.ok == 10);
  CHECK(tally.other == 5);
  CHECK(tally.last_error == Errc::kServiceUnavailable);
  // Room again once the first ones are answered.
  pinger.echo(ip::make_address("127.0.0.1"), 2000ms, 56, tally.record());
  REQUIRE(run_until(io, [&] { return tally.done() == 16; }));
  CHECK(tally.ok == 11);
}

TEST_CASE("icmp pinger: bad arguments and a missing IPv6 socket fail with clear errors",
          "[pollers][icmp][root]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  IcmpOptions options = raw_options();
  options.ipv6 = false;
  auto opened = IcmpPinger::open(options, io.get_executor(), clock);
  REQUIRE(opened);
  auto& pinger = *opened.value();
  CHECK_FALSE(pinger.mode_v6());
  CHECK_FALSE(pinger.v6_status().empty());
  std::vector<EchoResult> results;
  auto record = [&](EchoResult r) { results.push_back(std::move(r)); };
  pinger.echo(ip::make_address("0.0.0.0"), 1000ms, 56, record);
  pinger.echo(ip::make_address("127.0.0.1"), 0ms, 56, record);
  pinger.echo(ip::make_address("127.0.0.1"), 61s, 56, record);
  pinger.echo(ip::make_address("127.0.0.1"), 1000ms, 8, record);
  pinger.echo(ip::make_address("::1"), 1000ms, 56, record);
  REQUIRE(run_until(io, [&] { return results.size() == 5; }));
  for (int i = 0; i < 4; ++i) CHECK(results[i].error().code == Errc::kInvalidInput);
  CHECK(results[4].error().code == Errc::kServiceUnavailable);
  CHECK_THAT(results[4].error().message, Catch::Contains("ICMPv6"));
  CHECK(pinger.stats().sent == 0);

  IcmpOptions bad = raw_options();
  bad.max_in_flight = 70'000;
  auto refused = IcmpPinger::open(bad, io.get_executor(), clock);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kConfigError);
}

TEST_CASE("icmp pinger: closing completes outstanding echoes once, after the destructor",
          "[pollers][icmp][root]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  EchoTally tally;
  for (int i = 0; i < 50; ++i) {
    opened.value()->echo(ip::make_address("127.0.0.1"), 2000ms, 56, tally.record());
  }
  opened.value().reset();
  CHECK(tally.done() == 0);
  io.run_for(200ms);
  CHECK(tally.done() == 50);
  CHECK(tally.other == 50);
  CHECK(tally.last_error == Errc::kServiceUnavailable);
}

TEST_CASE("icmp pinger: ping_cycle against 127.0.0.1 counts and times every echo",
          "[pollers][icmp][root][ipv6]") {
  boost::asio::io_context io;
  netpulse::core::SystemClock clock;
  auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
  REQUIRE(opened);
  std::optional<PingCycleResult> spaced, burst, invalid;
  // Taken before the cycle starts: its echoes are spaced from the moment ping_cycle is called.
  const auto started = std::chrono::steady_clock::now();
  opened.value()->ping_cycle(ip::make_address("127.0.0.1"), PingCycleOptions{5, 20ms, 1000ms, 56},
                             [&](PingCycleResult r) { spaced = std::move(r); });
  opened.value()->ping_cycle(ip::make_address("::1"), PingCycleOptions{4, 0ms, 1000ms, 100},
                             [&](PingCycleResult r) { burst = std::move(r); });
  opened.value()->ping_cycle(ip::make_address("127.0.0.1"), PingCycleOptions{0, 0ms, 1000ms, 56},
                             [&](PingCycleResult r) { invalid = std::move(r); });
  REQUIRE(run_until(io, [&] { return spaced && burst && invalid; }));
  // Five echoes 20 ms apart cannot all be done before the fifth has started.
  CHECK(std::chrono::steady_clock::now() - started >= 80ms);
  for (const auto* r : {&*spaced, &*burst}) {
    CHECK(r->sent == r->count);
    CHECK(r->received == r->count);
    CHECK(r->errors == 0);
    CHECK(r->loss_percent == 0);
    CHECK(r->rtt_min_ms > 0);
    CHECK(r->rtt_min_ms <= r->rtt_avg_ms);
    CHECK(r->rtt_avg_ms <= r->rtt_max_ms);
    CHECK(r->jitter_ms <= r->rtt_max_ms - r->rtt_min_ms);
    CHECK_FALSE(r->first_error);
  }
  CHECK(spaced->count == 5);
  CHECK(burst->target == ip::make_address("::1"));
  CHECK(invalid->errors == 0);
  REQUIRE(invalid->first_error);
  CHECK(invalid->first_error->code == Errc::kInvalidInput);
}

TEST_CASE("icmp pinger: an address that does not answer times out (own namespace)",
          "[pollers][icmp][netns][ipv6]") {
  // 127.0.0.1 and ::1 inside a namespace of our own whose kernel ignores echo requests.
  std::optional<EchoResult> v4, v6;
  std::optional<PingCycleResult> cycle;
  std::optional<netpulse::pollers::IcmpStats> stats;
  std::chrono::steady_clock::duration waited{};
  std::string open_error;
  auto failure =
      in_new_netns({{"/proc/sys/net/ipv4/icmp_echo_ignore_all", "1"},
                    {"/proc/sys/net/ipv6/icmp/echo_ignore_all", "1"}},
                   [&] {
                     boost::asio::io_context io;
                     netpulse::core::SystemClock clock;
                     auto opened = IcmpPinger::open(raw_options(), io.get_executor(), clock);
                     if (!opened) {
                       open_error = opened.error().message;
                       return;
                     }
                     const auto started = std::chrono::steady_clock::now();
                     opened.value()->echo(ip::make_address("127.0.0.1"), 300ms, 56,
                                          [&](EchoResult r) { v4 = std::move(r); });
                     opened.value()->echo(ip::make_address("::1"), 300ms, 56,
                                          [&](EchoResult r) { v6 = std::move(r); });
                     opened.value()->ping_cycle(ip::make_address("127.0.0.1"),
                                                PingCycleOptions{3, 10ms, 200ms, 56},
                                                [&](PingCycleResult r) { cycle = std::move(r); });
                     run_until(io, [&] { return v4 && v6 && cycle; });
                     waited = std::chrono::steady_clock::now() - started;
                     stats = opened.value()->stats();
                   });
  if (failure) FAIL("no network namespace of our own: " << *failure);
  REQUIRE(open_error.empty());
  REQUIRE(v4);
  REQUIRE(v6);
  REQUIRE(cycle);
  REQUIRE_FALSE(v4->has_value());
  CHECK(v4->error().code == Errc::kTimeout);
  REQUIRE_FALSE(v6->has_value());
  CHECK(v6->error().code == Errc::kTimeout);
  CHECK(waited >= 300ms);
  CHECK(cycle->sent == 3);
  CHECK(cycle->received == 0);
  CHECK(cycle->loss_percent == Approx(100.0));
  CHECK(stats->timeouts == 5);
  CHECK(stats->in_flight == 0);
}

TEST_CASE("icmp pinger (datagram): unprivileged sockets where ping_group_range allows",
          "[pollers][icmp][netns][ipv6]") {
  std::optional<EchoResult> v4, v6;
  std::optional<IcmpMode> mode;
  std::optional<std::optional<IcmpMode>> mode_v6;
  std::size_t many_ok = 0;
  std::string open_error;
  auto failure = in_new_netns({{"/proc/sys/net/ipv4/ping_group_range", "0 2147483647"}}, [&] {
    boost::asio::io_context io;
    netpulse::core::SystemClock clock;
    IcmpOptions options;
    options.mode = IcmpModeChoice::kDatagramOnly;
    auto opened = IcmpPinger::open(options, io.get_executor(), clock);
    if (!opened) {
      open_error = opened.error().message;
      return;
    }
    mode = opened.value()->mode();
    mode_v6 = opened.value()->mode_v6();
    opened.value()->echo(ip::make_address("127.0.0.1"), 2000ms, 56,
                         [&](EchoResult r) { v4 = std::move(r); });
    opened.value()->echo(ip::make_address("::1"), 2000ms, 56,
                         [&](EchoResult r) { v6 = std::move(r); });
    std::size_t many_done = 0;
    for (unsigned i = 1; i <= 1000; ++i) {
      opened.value()->echo(ip::address_v4((127u << 24) | (4u << 16) | i), 5000ms, 56,
                           [&](EchoResult r) {
                             ++many_done;
                             many_ok += r ? 1 : 0;
                           });
    }
    run_until(io, [&] { return v4 && v6 && many_done == 1000; });
  });
  if (failure) FAIL("no network namespace of our own: " << *failure);
  REQUIRE(open_error.empty());
  CHECK(mode == IcmpMode::kDatagram);
  CHECK(mode_v6 == std::optional<IcmpMode>(IcmpMode::kDatagram));
  REQUIRE(v4);
  REQUIRE(v4->has_value());
  CHECK(v4->value() > 0ns);
  REQUIRE(v6);
  REQUIRE(v6->has_value());
  CHECK(many_ok == 1000);
}

TEST_CASE("icmp pinger: open() fails clearly when neither datagram nor raw is allowed",
          "[pollers][icmp][netns]") {
  // A namespace with the default ping_group_range "1 0" (no group), on a thread without
  // CAP_NET_RAW: the operator's situation when neither fix has been applied.
  std::optional<netpulse::core::Error> auto_error, datagram_error;
  bool dropped = false;
  auto failure = in_new_netns({{"/proc/sys/net/ipv4/ping_group_range", "1 0"}}, [&] {
    boost::asio::io_context io;
    netpulse::core::SystemClock clock;
    IcmpOptions datagram_only;
    datagram_only.mode = IcmpModeChoice::kDatagramOnly;
    auto r = IcmpPinger::open(datagram_only, io.get_executor(), clock);
    if (!r) datagram_error = r.error();
    dropped = drop_net_raw_on_this_thread();
    if (!dropped) return;
    auto a = IcmpPinger::open(IcmpOptions{}, io.get_executor(), clock);
    if (!a) auto_error = a.error();
  });
  if (failure) FAIL("no network namespace of our own: " << *failure);
  REQUIRE(datagram_error);
  CHECK(datagram_error->code == Errc::kConfigError);
  CHECK_THAT(datagram_error->message, Catch::Contains("ping_group_range"));
  REQUIRE(dropped);
  REQUIRE(auto_error);
  CHECK(auto_error->code == Errc::kConfigError);
  CHECK_THAT(auto_error->message, Catch::Contains("net.ipv4.ping_group_range"));
  CHECK_THAT(auto_error->message, Catch::Contains("CAP_NET_RAW"));
  CHECK_THAT(auto_error->message, Catch::Contains("datagram socket"));
  CHECK_THAT(auto_error->message, Catch::Contains("raw socket"));
  CHECK(auto_error->details.contains("raw_error"));
}
