// The ICMP echo engine: opening the sockets (datagram, else raw), sending echoes in slices,
// reading and matching replies, and sweeping deadlines with one timer. The model, the bounds and
// the matching rules are in include/netpulse/pollers/icmp.hpp and docs/icmp.md.
//
// Matching: a reply completes the outstanding echo of its family with the same sequence only if
// its identifier is the socket's, its source is the echo's target and its payload carries the
// echo's 64-bit random cookie. A raw IPv4 socket sees every ICMP packet of the host; an ICMP_FILTER
// (ICMP6_FILTER for IPv6) lets only echo replies through, and the checks above reject the replies
// meant for other processes. A sequence is reused only when its previous echo has completed, and a
// late reply to that previous echo carries the old cookie, so it cannot complete the new one.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <netpulse/core/random.hpp>
#include <netpulse/pollers/icmp.hpp>

#include "detail/icmp_engine.hpp"

namespace netpulse::pollers {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

std::string_view icmp_mode_name(IcmpMode mode) noexcept {
  return mode == IcmpMode::kDatagram ? "datagram" : "raw";
}

namespace detail {

namespace {

// From <linux/icmp.h>, which clashes with <net/if.h> (pulled in by Asio): the raw IPv4 socket
// option whose 32-bit mask filters ICMP types out (bit n set = type n dropped).
constexpr int kIcmpFilterOption = 1;  // ICMP_FILTER, at level SOL_RAW
struct IcmpTypeFilter {
  std::uint32_t data;
};

constexpr std::size_t kReceiveBufferBytes = 60 + kIcmpHeaderBytes + kIcmpMaxPayload + 64;
constexpr int kReadsPerWake = 512;  // then the loop gets a turn before reading on

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string ping_group_range() {
  std::ifstream in("/proc/sys/net/ipv4/ping_group_range");
  std::string low, high;
  if (!(in >> low >> high)) return "unknown";
  return low + " " + high;
}

// Kernel receive timestamps (SCM_TIMESTAMPNS, wall clock) make an RTT independent of how long a
// reply waited in the socket while the loop was busy, e.g. sending the rest of a burst.
void set_socket_options(int fd, int bytes) {
  const int on = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (bytes <= 0) return;
  // FORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; the plain option is capped.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
}

// A datagram ICMP socket bound to identifier 0, i.e. one the kernel picks; returns it.
core::Result<IcmpSocket> open_datagram(int family) {
  const int protocol = family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    const int err = errno;
    std::string why = errno_text(err);
    if (err == EACCES) {
      why += fmt::format(" (group {} is outside net.ipv4.ping_group_range \"{}\")", ::getgid(),
                         ping_group_range());
    }
    return Error(Errc::kConfigError, why);
  }
  sockaddr_storage local{};
  socklen_t length = 0;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&local);
    a->sin6_family = AF_INET6;
    length = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&local);
    a->sin_family = AF_INET;
    length = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    const int err = errno;
    ::close(fd);
    return Error(Errc::kConfigError, "bind: " + errno_text(err));
  }
  const std::uint16_t port = family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&local)->sin_port;
  return IcmpSocket{fd, IcmpMode::kDatagram, ntohs(port)};
}

// A raw ICMP socket that lets only echo replies through.
core::Result<IcmpSocket> open_raw(int family, std::uint16_t identifier) {
  const int protocol = family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  const int fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    const int err = errno;
    std::string why = errno_text(err);
    if (err == EPERM || err == EACCES) why += " (the process lacks CAP_NET_RAW)";
    return Error(Errc::kConfigError, why);
  }
  int rc = 0;
  if (family == AF_INET6) {
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    rc = ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  } else {
    const IcmpTypeFilter filter{~(1u << kIcmp4EchoReply)};
    rc = ::setsockopt(fd, SOL_RAW, kIcmpFilterOption, &filter, sizeof filter);
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return Error(Errc::kConfigError, "ICMP filter: " + errno_text(err));
  }
  return IcmpSocket{fd, IcmpMode::kRaw, identifier};
}

// The kernel's receive time of a message read with SO_TIMESTAMPNS on, if it carries one.
std::optional<core::SystemTime> kernel_receive_time(msghdr& message) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return core::SystemTime(std::chrono::duration_cast<core::SystemTime::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
    }
  }
  return std::nullopt;
}

}  // namespace

core::Result<IcmpSocket> open_icmp_socket(int family, IcmpModeChoice choice,
                                          int receive_buffer_bytes, std::uint16_t raw_identifier) {
  std::string tried;
  boost::json::object details;
  auto finish = [&](core::Result<IcmpSocket> r) -> core::Result<IcmpSocket> {
    if (r) set_socket_options(r->fd, receive_buffer_bytes);
    return r;
  };
  if (choice != IcmpModeChoice::kRawOnly) {
    auto r = open_datagram(family);
    if (r) return finish(std::move(r));
    tried = "datagram socket: " + r.error().message;
    details["datagram_error"] = r.error().message;
  }
  if (choice != IcmpModeChoice::kDatagramOnly) {
    auto r = open_raw(family, raw_identifier);
    if (r) return finish(std::move(r));
    tried += (tried.empty() ? "" : "; ") + ("raw socket: " + r.error().message);
    details["raw_error"] = r.error().message;
  }
  details["ping_group_range"] = ping_group_range();
  details["gid"] = static_cast<std::int64_t>(::getgid());
  return Error(Errc::kConfigError, tried, std::move(details));
}

void summarize_cycle(const std::vector<std::optional<std::chrono::nanoseconds>>& rtts,
                     PingCycleResult& result) {
  double sum = 0, jitter_sum = 0;
  std::size_t answered = 0, pairs = 0;
  std::optional<double> previous;
  for (const auto& rtt : rtts) {
    if (!rtt) continue;
    const double ms = std::chrono::duration<double, std::milli>(*rtt).count();
    result.rtt_min_ms = answered == 0 ? ms : std::min(result.rtt_min_ms, ms);
    result.rtt_max_ms = answered == 0 ? ms : std::max(result.rtt_max_ms, ms);
    sum += ms;
    ++answered;
    if (previous) {
      jitter_sum += std::abs(ms - *previous);
      ++pairs;
    }
    previous = ms;
  }
  result.rtt_avg_ms = answered == 0 ? 0 : sum / static_cast<double>(answered);
  result.jitter_ms = pairs == 0 ? 0 : jitter_sum / static_cast<double>(pairs);
  result.loss_percent = rtts.empty() ? 0
                                     : 100.0 * static_cast<double>(rtts.size() - answered) /
                                           static_cast<double>(rtts.size());
}

IcmpEngine::Family::Family(asio::any_io_executor loop, const IcmpSocket& socket, bool is_v6)
    : descriptor(loop, socket.fd),
      mode(socket.mode),
      v6(is_v6),
      identifier(socket.identifier),
      send_buffer(kIcmpHeaderBytes + kIcmpMaxPayload),
      receive_buffer(kReceiveBufferBytes) {}

IcmpEngine::IcmpEngine(const IcmpOptions& options, asio::any_io_executor loop,
                       const core::Clock& clock, IcmpSocket v4, std::optional<IcmpSocket> v6,
                       std::string v6_status)
    : options_(options),
      loop_(loop),
      clock_(clock),
      v4_(loop, v4, false),
      v6_status_(std::move(v6_status)),
      sweep_timer_(loop) {
  if (v6) v6_.emplace(loop, *v6, true);
  std::uint64_t seed = 0;
  const std::string bytes = core::random_bytes(sizeof seed);
  std::memcpy(&seed, bytes.data(), sizeof seed);
  cookies_.seed(seed);
  v4_.pending.reserve(std::min<std::size_t>(options_.max_in_flight, 65'535));
}

IcmpEngine::~IcmpEngine() = default;

// Called once the engine is owned by a shared_ptr (reads need shared_from_this()).
void IcmpEngine::start() {
  do_read(v4_);
  if (v6_) do_read(*v6_);
}

IcmpStats IcmpEngine::stats() const noexcept {
  IcmpStats s = stats_;
  s.in_flight = v4_.pending.size() + (v6_ ? v6_->pending.size() : 0);
  return s;
}

IcmpEngine::Family* IcmpEngine::family_for(const asio::ip::address& target) noexcept {
  if (target.is_v4()) return &v4_;
  return v6_ ? &*v6_ : nullptr;
}

void IcmpEngine::fail_later(IcmpPinger::EchoDone done, Error error) {
  asio::post(loop_, [done = std::move(done), error = std::move(error)]() mutable {
    done(std::move(error));
  });
}

void IcmpEngine::echo(const asio::ip::address& target_in, std::chrono::milliseconds timeout,
                      std::size_t payload_bytes, IcmpPinger::EchoDone done) {
  asio::ip::address target = target_in;
  if (target.is_v6() && target.to_v6().is_v4_mapped()) {
    target = asio::ip::make_address_v4(asio::ip::v4_mapped, target.to_v6());
  }
  if (closed_)
    return fail_later(std::move(done), Error(Errc::kServiceUnavailable, "ICMP pinger closed"));
  if (target.is_unspecified() || target.is_multicast() ||
      (target.is_v4() && target.to_v4() == asio::ip::address_v4::broadcast())) {
    ++stats_.errors;
    return fail_later(
        std::move(done),
        core::invalid_field("target", "must be a unicast address, got " + target.to_string()));
  }
  if (timeout <= std::chrono::milliseconds::zero() || timeout > options_.max_timeout) {
    ++stats_.errors;
    return fail_later(
        std::move(done),
        core::invalid_field("timeout", fmt::format("must be 1..{} ms, got {} ms",
                                                   options_.max_timeout.count(), timeout.count())));
  }
  if (payload_bytes < kIcmpMinPayload || payload_bytes > kIcmpMaxPayload) {
    ++stats_.errors;
    return fail_later(
        std::move(done),
        core::invalid_field("payload_bytes", fmt::format("must be {}..{}, got {}", kIcmpMinPayload,
                                                         kIcmpMaxPayload, payload_bytes)));
  }
  Family* family = family_for(target);
  if (family == nullptr) {
    ++stats_.errors;
    return fail_later(std::move(done),
                      Error(Errc::kServiceUnavailable,
                            "no ICMPv6 socket for " + target.to_string() + ": " + v6_status_));
  }
  if (stats().in_flight >= options_.max_in_flight) {
    ++stats_.refused;
    return fail_later(
        std::move(done),
        Error(Errc::kServiceUnavailable,
              fmt::format("{} ICMP echoes outstanding (max_in_flight)", options_.max_in_flight)));
  }
  // Below 65,536 outstanding per family (the bound), a free sequence is always found.
  std::uint16_t sequence = family->next_sequence++;
  while (family->pending.contains(sequence)) sequence = family->next_sequence++;
  const std::uint64_t cookie = cookies_();
  const core::SteadyTime now = clock_.steady_now();
  family->pending.emplace(sequence,
                          Pending{target, cookie, now, {}, payload_bytes, false, std::move(done)});
  deadlines_.push(Deadline{now + timeout, cookie, sequence, family->v6});
  family->send_queue.emplace_back(sequence, cookie);
  schedule_send(*family);
  arm_sweep();
}

void IcmpEngine::complete(Family& family, std::uint16_t sequence,
                          core::Result<std::chrono::nanoseconds> result) {
  auto it = family.pending.find(sequence);
  if (it == family.pending.end()) return;
  IcmpPinger::EchoDone done = std::move(it->second.done);
  family.pending.erase(it);
  done(std::move(result));
}

void IcmpEngine::schedule_send(Family& family) {
  if (family.send_posted || family.waiting_writable || family.retry_on_tick) return;
  family.send_posted = true;
  asio::post(loop_, [self = shared_from_this(), &family] {
    family.send_posted = false;
    self->do_send(family);
  });
}

void IcmpEngine::do_send(Family& family) {
  if (closed_) return;
  sockaddr_storage to{};
  socklen_t to_length = 0;
  for (std::size_t n = 0; n < options_.send_batch && !family.send_queue.empty(); ++n) {
    const auto [sequence, cookie] = family.send_queue.front();
    auto it = family.pending.find(sequence);
    if (it == family.pending.end() || it->second.cookie != cookie || it->second.sent) {
      family.send_queue.pop_front();  // completed (timed out) before its turn
      continue;
    }
    Pending& echo = it->second;
    if (family.v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&to);
      *a = sockaddr_in6{};
      a->sin6_family = AF_INET6;
      const auto bytes = echo.target.to_v6().to_bytes();
      std::memcpy(&a->sin6_addr, bytes.data(), bytes.size());
      a->sin6_scope_id = echo.target.to_v6().scope_id();
      to_length = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&to);
      *a = sockaddr_in{};
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(echo.target.to_v4().to_uint());
      to_length = sizeof(sockaddr_in);
    }
    const core::SteadyTime now = clock_.steady_now();
    const core::SystemTime wall_now = clock_.system_now();  // before: loopback replies in sendto
    const EchoRequest request{family.v6,
                              family.identifier,
                              sequence,
                              cookie,
                              static_cast<std::uint64_t>(now.time_since_epoch().count()),
                              echo.payload_bytes};
    const std::size_t length = build_echo_request(
        request, !family.v6 && family.mode == IcmpMode::kRaw, family.send_buffer);
    const ssize_t rc = ::sendto(family.descriptor.native_handle(), family.send_buffer.data(),
                                length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), to_length);
    if (rc < 0) {
      const int err = errno;
      if (err == EINTR) {
        --n;
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        family.waiting_writable = true;
        family.descriptor.async_wait(
            asio::posix::descriptor_base::wait_write,
            [self = shared_from_this(), &family](boost::system::error_code ec) {
              family.waiting_writable = false;
              if (!ec) self->do_send(family);
            });
        return;
      }
      if (err == ENOBUFS) {  // a device queue is full; writability will not say when it drains
        family.retry_on_tick = true;
        arm_sweep();
        return;
      }
      family.send_queue.pop_front();
      ++stats_.errors;
      complete(family, sequence,
               Error(Errc::kServiceUnavailable,
                     fmt::format("sending ICMP echo to {}: {}", echo.target.to_string(),
                                 errno_text(err)),
                     {{"errno", err}}));
      if (closed_) return;
      continue;
    }
    family.send_queue.pop_front();
    echo.sent = true;
    echo.sent_at = now;
    echo.sent_wall = wall_now;
    ++stats_.sent;
  }
  if (!family.send_queue.empty()) schedule_send(family);
}

void IcmpEngine::do_read(Family& family) {
  family.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [self = shared_from_this(), &family](boost::system::error_code ec) {
                                 if (ec || self->closed_) return;  // aborted: closing
                                 self->on_readable(family);
                               });
}

void IcmpEngine::on_readable(Family& family) {
  const bool ip_header = !family.v6 && family.mode == IcmpMode::kRaw;
  for (int n = 0; n < kReadsPerWake; ++n) {
    sockaddr_storage from{};
    iovec iov{family.receive_buffer.data(), family.receive_buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t rc = ::recvmsg(family.descriptor.native_handle(), &message, MSG_DONTWAIT);
    if (rc < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      // EINTR, or a datagram socket reporting an ICMP error for one of its echoes: that echo
      // times out; read on.
      continue;
    }
    const core::SteadyTime now = clock_.steady_now();
    const auto reply = parse_echo_reply(
        std::span<const std::uint8_t>(family.receive_buffer.data(), static_cast<std::size_t>(rc)),
        family.v6, ip_header, ip_header);
    if (!reply || reply->identifier != family.identifier) {
      ++stats_.unmatched;
      continue;
    }
    auto it = family.pending.find(reply->sequence);
    if (it == family.pending.end() || !it->second.sent || it->second.cookie != reply->cookie) {
      ++stats_.unmatched;
      continue;
    }
    asio::ip::address source;
    if (family.v6 && from.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &a->sin6_addr, bytes.size());
      source = asio::ip::address_v6(bytes, a->sin6_scope_id);
    } else if (!family.v6 && from.ss_family == AF_INET) {
      source =
          asio::ip::address_v4(ntohl(reinterpret_cast<const sockaddr_in*>(&from)->sin_addr.s_addr));
    }
    const auto& target = it->second.target;
    const bool same_source = source.is_v6() && target.is_v6()
                                 ? source.to_v6().to_bytes() == target.to_v6().to_bytes()
                                 : source == target;
    if (!same_source) {
      ++stats_.unmatched;
      continue;
    }
    ++stats_.received;
    complete(family, reply->sequence, round_trip(it->second, now, kernel_receive_time(message)));
    if (closed_) return;
  }
  do_read(family);
}

// The RTT: kernel receive time − wall time at send when that is plausible (not negative, not
// longer than the steady-clock RTT measured when the reply was read); else — no timestamp, or
// the wall clock stepped in between — the steady-clock RTT.
std::chrono::nanoseconds IcmpEngine::round_trip(const Pending& echo, core::SteadyTime read_at,
                                                std::optional<core::SystemTime> kernel_at) {
  const auto steady = std::chrono::duration_cast<std::chrono::nanoseconds>(read_at - echo.sent_at);
  if (!kernel_at) return steady;
  const auto wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(*kernel_at - echo.sent_wall);
  return wall >= std::chrono::nanoseconds::zero() && wall <= steady ? wall : steady;
}

void IcmpEngine::arm_sweep() {
  if (sweep_armed_ || closed_) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(options_.sweep_interval);
  sweep_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->sweep_armed_ = false;
    if (ec || self->closed_) return;
    self->on_sweep();
  });
}

void IcmpEngine::on_sweep() {
  const core::SteadyTime now = clock_.steady_now();
  while (!deadlines_.empty() && deadlines_.top().at <= now) {
    const Deadline due = deadlines_.top();
    deadlines_.pop();
    Family* family = due.v6 ? (v6_ ? &*v6_ : nullptr) : &v4_;
    if (family == nullptr) continue;
    auto it = family->pending.find(due.sequence);
    if (it == family->pending.end() || it->second.cookie != due.cookie) continue;  // answered
    ++stats_.timeouts;
    const std::string target = it->second.target.to_string();
    complete(*family, due.sequence,
             Error(Errc::kTimeout, "no ICMP echo reply from " + target + " in time"));
    if (closed_) return;
  }
  compact_deadlines();
  for (Family* family : {&v4_, v6_ ? &*v6_ : nullptr}) {
    if (family != nullptr && family->retry_on_tick) {
      family->retry_on_tick = false;
      schedule_send(*family);
    }
  }
  const bool busy = !v4_.pending.empty() || (v6_ && !v6_->pending.empty());
  if (busy) arm_sweep();
}

// Answered echoes leave their deadline in the heap until it comes due; when those stale entries
// outnumber the live ones, the heap is rebuilt from the outstanding echoes, so its size stays
// within a small multiple of max_in_flight.
void IcmpEngine::compact_deadlines() {
  const std::size_t live = stats().in_flight;
  if (deadlines_.size() <= 2 * live + 1024) return;
  std::vector<Deadline> kept;
  kept.reserve(live);
  while (!deadlines_.empty()) {
    const Deadline d = deadlines_.top();
    deadlines_.pop();
    const Family* family = d.v6 ? (v6_ ? &*v6_ : nullptr) : &v4_;
    if (family == nullptr) continue;
    auto it = family->pending.find(d.sequence);
    if (it != family->pending.end() && it->second.cookie == d.cookie) kept.push_back(d);
  }
  deadlines_ = decltype(deadlines_)(std::greater<>(), std::move(kept));
}

void IcmpEngine::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  sweep_timer_.cancel();
  v4_.descriptor.close(ignored);
  if (v6_) v6_->descriptor.close(ignored);
  for (Family* family : {&v4_, v6_ ? &*v6_ : nullptr}) {
    if (family == nullptr) continue;
    for (auto& [sequence, echo] : family->pending) {
      fail_later(std::move(echo.done), Error(Errc::kServiceUnavailable, "ICMP pinger closed"));
    }
    family->pending.clear();
    family->send_queue.clear();
  }
  deadlines_ = {};
}

}  // namespace detail

namespace {

class IcmpPingerImpl final : public IcmpPinger {
 public:
  explicit IcmpPingerImpl(std::shared_ptr<detail::IcmpEngine> engine)
      : engine_(std::move(engine)) {}
  ~IcmpPingerImpl() override { engine_->close(); }

  void echo(const asio::ip::address& target, std::chrono::milliseconds timeout,
            std::size_t payload_bytes, EchoDone done) override {
    engine_->echo(target, timeout, payload_bytes, std::move(done));
  }
  void ping_cycle(const asio::ip::address& target, const PingCycleOptions& options,
                  CycleDone done) override {
    engine_->ping_cycle(target, options, std::move(done));
  }
  IcmpMode mode() const noexcept override { return engine_->mode(); }
  std::optional<IcmpMode> mode_v6() const noexcept override { return engine_->mode_v6(); }
  const std::string& v6_status() const noexcept override { return engine_->v6_status(); }
  IcmpStats stats() const noexcept override { return engine_->stats(); }

 private:
  std::shared_ptr<detail::IcmpEngine> engine_;
};

}  // namespace

core::Result<std::unique_ptr<IcmpPinger>> IcmpPinger::open(const IcmpOptions& options,
                                                           asio::any_io_executor loop,
                                                           const core::Clock& clock) {
  if (options.max_in_flight < 1 || options.max_in_flight > 65'535) {
    return Error(Errc::kConfigError, "icmp max_in_flight must be 1..65535",
                 {{"field", "max_in_flight"}});
  }
  if (options.max_timeout < std::chrono::milliseconds(1)) {
    return Error(Errc::kConfigError, "icmp max_timeout must be at least 1 ms",
                 {{"field", "max_timeout"}});
  }
  if (options.sweep_interval < std::chrono::milliseconds(1) ||
      options.sweep_interval > std::chrono::milliseconds(1000)) {
    return Error(Errc::kConfigError, "icmp sweep_interval must be 1..1000 ms",
                 {{"field", "sweep_interval"}});
  }
  if (options.send_batch < 1) {
    return Error(Errc::kConfigError, "icmp send_batch must be at least 1",
                 {{"field", "send_batch"}});
  }
  std::uint16_t raw_identifier = 0;
  const std::string random = core::random_bytes(sizeof raw_identifier);
  std::memcpy(&raw_identifier, random.data(), sizeof raw_identifier);

  auto v4 =
      detail::open_icmp_socket(AF_INET, options.mode, options.receive_buffer_bytes, raw_identifier);
  if (!v4) {
    Error error = std::move(v4).error();
    error.message = fmt::format(
        "no ICMP socket for IPv4 echo ({}). To fix: let the service's group (gid {}) open "
        "unprivileged ICMP sockets with `sysctl -w net.ipv4.ping_group_range=\"{} {}\"` (persist "
        "it in /etc/sysctl.d/), or grant the process CAP_NET_RAW (the packaged systemd unit has "
        "AmbientCapabilities=CAP_NET_RAW; by hand: setcap cap_net_raw+ep on the binary)",
        error.message, ::getgid(), ::getgid(), ::getgid());
    return error;
  }
  std::optional<detail::IcmpSocket> v6;
  std::string v6_status = "IPv6 echo disabled by configuration";
  if (options.ipv6) {
    auto r = detail::open_icmp_socket(AF_INET6, options.mode, options.receive_buffer_bytes,
                                      raw_identifier);
    if (r) {
      v6 = *r;
      v6_status.clear();
    } else {
      v6_status = "no ICMPv6 socket (" + r.error().message + ")";
    }
  }
  auto engine =
      std::make_shared<detail::IcmpEngine>(options, loop, clock, *v4, v6, std::move(v6_status));
  engine->start();
  return std::unique_ptr<IcmpPinger>(std::make_unique<IcmpPingerImpl>(std::move(engine)));
}

}  // namespace netpulse::pollers
