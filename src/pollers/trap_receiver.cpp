// The trap receiver's socket side: one UDP socket read with Asio, one datagram at a time, in a
// buffer of the largest SNMP message. Each datagram is charged to its source's token bucket
// before it is decoded (so a flood costs a hash lookup, not a parse), decoded by
// trap_decode.cpp, and handed to the callback on the loop. Informs are acknowledged with a
// non-blocking send_to: if the socket's send buffer is full the answer is dropped and counted
// (the sender retries), so there is no write queue to bound. A retransmitted inform (the same
// datagram from the same address and port within kInformMemory; a sender whose answer got lost
// sends it again) is answered again but handed on once.
//
// The state lives in a shared object whose handlers hold it alive; the face's destructor closes
// the socket and marks it stopped, so no callback runs after the receiver is gone, even if the
// callback itself destroys the receiver.
#include <algorithm>
#include <array>
#include <unordered_map>

#include <boost/asio/ip/v6_only.hpp>
#include <fmt/format.h>

#include "detail/snmp_netsnmp.hpp"
#include "detail/trap_decode.hpp"

namespace netpulse::pollers {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// How long an inform is remembered for de-duplication, and how many at most.
constexpr std::chrono::seconds kInformMemory{60};
constexpr std::size_t kMaxRememberedInforms = 4096;

// A token bucket per source address.
struct Bucket {
  double tokens = 0;
  core::SteadyTime refilled_at{};
};

class ReceiverState : public std::enable_shared_from_this<ReceiverState> {
 public:
  ReceiverState(const TrapOptions& options, asio::any_io_executor loop, const core::Clock& clock,
                std::function<void(Trap)> on_trap)
      : options_(options), socket_(loop), clock_(clock), on_trap_(std::move(on_trap)) {
    limits_.max_varbinds = options_.max_varbinds;
    limits_.communities = &options_.communities;
    limits_.v3_enabled = !options_.v3_users.empty();
  }

  core::Result<void> bind() {
    boost::system::error_code ec;
    const udp protocol = options_.listen.address().is_v6() ? udp::v6() : udp::v4();
    socket_.open(protocol, ec);
    if (!ec && protocol == udp::v6()) socket_.set_option(asio::ip::v6_only(true), ec);
    if (!ec) socket_.bind(options_.listen, ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) {
      return core::Error(
          core::Errc::kConfigError,
          fmt::format("traps: cannot listen on udp {}:{}: {}",
                      options_.listen.address().to_string(), options_.listen.port(), ec.message()));
    }
    local_ = socket_.local_endpoint(ec);
    return {};
  }

  void start() { do_receive(); }

  void stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  udp::endpoint local_endpoint() const { return local_; }

  TrapReceiverStats stats() const {
    TrapReceiverStats out = stats_;
    out.sources_tracked = buckets_.size();
    return out;
  }

 private:
  void do_receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t size) {
          self->on_receive(ec, size);
        });
  }

  void on_receive(const boost::system::error_code& ec, std::size_t size) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      handle_datagram(size);
      if (stopped_) return;  // the callback destroyed the receiver
    }
    // Other errors (e.g. an ICMP error reported on the socket) are transient for a UDP
    // listener: keep reading.
    do_receive();
  }

  void handle_datagram(std::size_t size) {
    ++stats_.received;
    asio::ip::address source = sender_.address();
    if (source.is_v6() && source.to_v6().is_v4_mapped()) {
      source = asio::ip::make_address_v4(asio::ip::v4_mapped, source.to_v6());
    }
    if (!take_token(source)) {
      ++stats_.dropped_rate_limited;
      return;
    }
    // The buffer holds one byte more than the largest SNMP message: a datagram that fills it is
    // too long (or was truncated by the kernel).
    detail::DecodedTrap decoded =
        detail::decode_trap_datagram(std::span<std::uint8_t>(buffer_.data(), size), limits_);
    if (decoded.outcome != detail::DecodedTrap::Outcome::kTrap && options_.logger != nullptr) {
      options_.logger->debug("traps", "dropped a datagram from {}:{}: {}", source.to_string(),
                             sender_.port(), decoded.reason);
    }
    switch (decoded.outcome) {
      case detail::DecodedTrap::Outcome::kTrap:
        break;
      case detail::DecodedTrap::Outcome::kMalformed:
        ++stats_.dropped_malformed;
        return;
      case detail::DecodedTrap::Outcome::kNotTrap:
        ++stats_.dropped_not_trap;
        return;
      case detail::DecodedTrap::Outcome::kCommunity:
        ++stats_.dropped_community;
        return;
      case detail::DecodedTrap::Outcome::kV3:
        ++stats_.dropped_v3;
        return;
      case detail::DecodedTrap::Outcome::kV3Security:
        ++stats_.dropped_v3_security;
        return;
    }
    Trap& trap = decoded.trap;
    if (trap.inform) {
      answer(decoded.inform_response);
      if (!first_time_inform(size)) {
        ++stats_.informs_duplicate;
        return;
      }
    }
    trap.source = source;
    trap.source_port = sender_.port();
    trap.received_at = clock_.system_now();
    ++stats_.decoded;
    on_trap_(std::move(trap));
  }

  void answer(const std::vector<std::uint8_t>& response) {
    if (response.empty()) {
      ++stats_.inform_answers_failed;
      return;
    }
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(response), sender_, 0, ec);
    if (ec) {
      ++stats_.inform_answers_failed;
    } else {
      ++stats_.informs_answered;
    }
  }

  // Whether the inform in buffer_ (size bytes, from sender_) was not seen in the last
  // kInformMemory; remembers it.
  bool first_time_inform(std::size_t size) {
    const auto now = clock_.steady_now();
    const std::string_view bytes(reinterpret_cast<const char*>(buffer_.data()), size);
    const std::string key = sender_.address().to_string() + "|" + std::to_string(sender_.port()) +
                            "|" + std::to_string(std::hash<std::string_view>{}(bytes)) + "|" +
                            std::to_string(size);
    if (auto it = recent_informs_.find(key); it != recent_informs_.end()) {
      if (now - it->second < kInformMemory) return false;
      it->second = now;
      return true;
    }
    if (recent_informs_.size() >= kMaxRememberedInforms) {
      std::erase_if(recent_informs_,
                    [now](const auto& kv) { return now - kv.second >= kInformMemory; });
      if (recent_informs_.size() >= kMaxRememberedInforms) recent_informs_.clear();
    }
    recent_informs_.emplace(key, now);
    return true;
  }

  bool take_token(const asio::ip::address& source) {
    const core::SteadyTime now = clock_.steady_now();
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
      if (buckets_.size() >= options_.max_sources) forget_idle_sources(now);
      if (buckets_.size() >= options_.max_sources) return false;
      it = buckets_.emplace(source, Bucket{options_.burst, now}).first;
    }
    Bucket& bucket = it->second;
    refill(bucket, now);
    if (bucket.tokens < 1.0) return false;
    bucket.tokens -= 1.0;
    return true;
  }

  void refill(Bucket& bucket, core::SteadyTime now) const {
    if (now <= bucket.refilled_at) return;
    const double seconds = std::chrono::duration<double>(now - bucket.refilled_at).count();
    bucket.tokens = std::min(options_.burst, bucket.tokens + seconds * options_.rate_per_second);
    bucket.refilled_at = now;
  }

  // Forgets the sources whose buckets are full again: they would start afresh identically.
  void forget_idle_sources(core::SteadyTime now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, now);
      it = it->second.tokens >= options_.burst ? buckets_.erase(it) : std::next(it);
    }
  }

  struct AddressHash {
    std::size_t operator()(const asio::ip::address& a) const noexcept {
      if (a.is_v4()) return std::hash<std::uint32_t>{}(a.to_v4().to_uint());
      const auto bytes = a.to_v6().to_bytes();
      std::size_t h = 0;
      for (auto b : bytes) h = h * 131 + b;
      return h;
    }
  };

  TrapOptions options_;
  detail::TrapDecodeLimits limits_;
  udp::socket socket_;
  udp::endpoint local_;
  udp::endpoint sender_;
  const core::Clock& clock_;
  std::function<void(Trap)> on_trap_;
  bool stopped_ = false;
  std::array<std::uint8_t, detail::kMaxTrapDatagram + 1> buffer_{};
  std::unordered_map<asio::ip::address, Bucket, AddressHash> buckets_;
  std::unordered_map<std::string, core::SteadyTime> recent_informs_;
  TrapReceiverStats stats_;
};

class TrapReceiverImpl final : public TrapReceiver {
 public:
  explicit TrapReceiverImpl(std::shared_ptr<ReceiverState> state) : state_(std::move(state)) {}
  ~TrapReceiverImpl() override { state_->stop(); }

  udp::endpoint local_endpoint() const override { return state_->local_endpoint(); }
  TrapReceiverStats stats() const override { return state_->stats(); }

 private:
  std::shared_ptr<ReceiverState> state_;
};

}  // namespace

core::Result<std::unique_ptr<TrapReceiver>> TrapReceiver::open(const TrapOptions& options,
                                                               asio::any_io_executor loop,
                                                               const core::Clock& clock,
                                                               std::function<void(Trap)> on_trap) {
  if (!on_trap) return core::invalid_field("on_trap", "a callback is required");
  if (!(options.rate_per_second >= 0.1 && options.rate_per_second <= 100'000)) {
    return core::invalid_field("rate_per_second", "must be 0.1 .. 100000");
  }
  if (!(options.burst >= 1 && options.burst <= 1'000'000)) {
    return core::invalid_field("burst", "must be 1 .. 1000000");
  }
  if (options.max_sources == 0) return core::invalid_field("max_sources", "at least 1");
  if (options.max_varbinds == 0 || options.max_varbinds > 10'000) {
    return core::invalid_field("max_varbinds", "must be 1 .. 10000");
  }
  for (const TrapV3User& user : options.v3_users) {
    if (auto valid = detail::check_v3_trap_user(user); !valid) return valid.error();
  }
  if (auto ready = detail::init_netsnmp(options.persistent_dir); !ready) return ready.error();
  for (const TrapV3User& user : options.v3_users) {
    if (auto added = detail::add_v3_trap_user(user); !added) return added.error();
  }
  auto state = std::make_shared<ReceiverState>(options, std::move(loop), clock, std::move(on_trap));
  if (auto bound = state->bind(); !bound) return bound.error();
  state->start();
  return std::unique_ptr<TrapReceiver>(std::make_unique<TrapReceiverImpl>(std::move(state)));
}

}  // namespace netpulse::pollers
