// A ping cycle: N echoes to one target, `interval` apart, summarised as sent/received, RTT
// min/avg/max, jitter and loss (definitions in include/netpulse/pollers/icmp.hpp and
// docs/icmp.md). A cycle holds one timer to space its echoes (none when count is 1 or the
// interval 0), never one per echo; the echoes themselves go through the engine's shared socket.
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "detail/icmp_engine.hpp"

namespace netpulse::pollers::detail {

namespace {

constexpr std::size_t kMaxCycleCount = 1000;

struct Cycle {
  Cycle(boost::asio::any_io_executor loop, const boost::asio::ip::address& target,
        const PingCycleOptions& o, IcmpPinger::CycleDone d)
      : options(o), done(std::move(d)), rtts(o.count), timer(loop) {
    result.target = target;
    result.count = o.count;
  }
  PingCycleOptions options;
  IcmpPinger::CycleDone done;
  PingCycleResult result;
  std::vector<std::optional<std::chrono::nanoseconds>> rtts;  // in send order
  std::size_t started = 0;
  std::size_t completed = 0;
  boost::asio::steady_timer timer;
};

}  // namespace

void IcmpEngine::ping_cycle(const boost::asio::ip::address& target, const PingCycleOptions& options,
                            IcmpPinger::CycleDone done) {
  auto cycle = std::make_shared<Cycle>(loop_, target, options, std::move(done));
  std::optional<core::Error> invalid;
  if (options.count < 1 || options.count > kMaxCycleCount) {
    invalid = core::invalid_field("count", fmt::format("must be 1..{}", kMaxCycleCount));
  } else if (options.interval < std::chrono::milliseconds::zero()) {
    invalid = core::invalid_field("interval", "must not be negative");
  }
  if (invalid) {
    cycle->result.errors = options.count;
    cycle->result.loss_percent = options.count == 0 ? 0 : 100;
    cycle->result.first_error = std::move(invalid);
    boost::asio::post(loop_, [cycle] { cycle->done(std::move(cycle->result)); });
    return;
  }
  // Starts echo number cycle->started; then the next one after the interval, until all started.
  auto start_next = std::make_shared<std::function<void()>>();
  *start_next = [self = shared_from_this(), cycle, weak_next = std::weak_ptr(start_next)] {
    const std::size_t index = cycle->started++;
    self->echo(cycle->result.target, cycle->options.timeout, cycle->options.payload_bytes,
               [cycle, index](core::Result<std::chrono::nanoseconds> r) {
                 if (r) {
                   cycle->rtts[index] = *r;
                   ++cycle->result.received;
                   ++cycle->result.sent;
                 } else if (r.error().code == core::Errc::kTimeout) {
                   ++cycle->result.sent;
                 } else {
                   ++cycle->result.errors;
                   if (!cycle->result.first_error) cycle->result.first_error = r.error();
                 }
                 if (++cycle->completed == cycle->result.count) {
                   cycle->timer.cancel();
                   summarize_cycle(cycle->rtts, cycle->result);
                   cycle->done(std::move(cycle->result));
                 }
               });
    if (cycle->started == cycle->result.count) return;
    if (cycle->options.interval == std::chrono::milliseconds::zero()) return;  // caller loops
    auto next = weak_next.lock();
    if (!next) return;
    cycle->timer.expires_after(cycle->options.interval);
    cycle->timer.async_wait([next](boost::system::error_code ec) {
      if (!ec) (*next)();
    });
  };
  if (options.interval == std::chrono::milliseconds::zero()) {
    while (cycle->started < options.count) (*start_next)();
    return;
  }
  (*start_next)();
}

}  // namespace netpulse::pollers::detail
