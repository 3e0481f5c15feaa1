// ServiceChecker: the bound on checks in flight, validation at the face (the outbound address
// policy included: a TCP address or DNS server it refuses is refused before any socket is
// opened), closing, and the TCP connect check. The HTTP(S) check lives in service_checks_http.cpp,
// the DNS check in service_checks_dns.cpp with its codec in service_checks_dns_message.cpp; the
// URL parser is core's (netpulse/core/url.hpp). docs/service_checks.md says what each measures
// and how failures map to error codes.
//
// A TCP check is one socket and one timer: the timer closes the socket when the timeout passes,
// which completes the pending connect with operation_aborted, reported as kTimeout. The connect
// time is taken on the Clock's steady line from just before async_connect to its handler.
#include <random>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <netpulse/core/url.hpp>
#include <netpulse/pollers/service_checks.hpp>

#include "detail/dns_message.hpp"
#include "detail/host_port.hpp"
#include "detail/service_checks_engine.hpp"

namespace netpulse::pollers {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

namespace detail {

namespace {

constexpr std::size_t kMaxInFlightLimit = 100'000;
constexpr std::size_t kMaxBodyLimit = 64u << 20;
constexpr int kMaxRedirectsLimit = 10;

Error unavailable(std::string message, std::string_view reason) {
  return Error(Errc::kServiceUnavailable, std::move(message), {{"reason", reason}});
}

class TcpSession final : public CheckSession, public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(std::shared_ptr<CheckEngine> engine, std::uint64_t id, const TcpCheck& check,
             ServiceChecker::TcpDone done)
      : engine_(std::move(engine)),
        id_(id),
        check_(check),
        done_(std::move(done)),
        socket_(engine_->loop()),
        timer_(engine_->loop()),
        peer_(detail::host_port(check.address, check.port)) {}

  void start() {
    started_ = engine_->clock().steady_now();
    timer_.expires_after(check_.timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    socket_.async_connect(
        asio::ip::tcp::endpoint(check_.address, check_.port),
        [self = shared_from_this()](boost::system::error_code ec) { self->on_connect(ec); });
  }

  void cancel() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  void on_connect(boost::system::error_code ec) {
    const double ms = engine_->elapsed_ms(started_);
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (timed_out_) {
      return finish(Error(Errc::kTimeout, fmt::format("TCP connect to {} timed out after {} ms",
                                                      peer_, check_.timeout.count())));
    }
    if (ec) return finish(connect_error(ec, peer_));
    finish(TcpCheckResult{ms});
  }

  void finish(core::Result<TcpCheckResult> result) {
    engine_->complete<TcpCheckResult>(id_, std::move(done_), std::move(result));
  }

  std::shared_ptr<CheckEngine> engine_;
  std::uint64_t id_;
  TcpCheck check_;
  ServiceChecker::TcpDone done_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::string peer_;
  core::SteadyTime started_{};
  bool timed_out_ = false;
  bool finished_ = false;
};

core::Result<void> check_timeout(std::chrono::milliseconds timeout,
                                 const ServiceCheckOptions& options) {
  if (timeout.count() < 1 || timeout > options.max_timeout) {
    return core::invalid_field("timeout",
                               fmt::format("must be 1..{} ms", options.max_timeout.count()));
  }
  return core::ok();
}

core::Result<void> validate(const TcpCheck& check, const ServiceCheckOptions& options) {
  if (check.address.is_unspecified() || check.address.is_multicast()) {
    return core::invalid_field("address", "must be a unicast address");
  }
  if (check.port == 0) return core::invalid_field("port", "must be 1..65535");
  if (auto r = check_timeout(check.timeout, options); !r) return r;
  return options.outbound.check(check.address, core::OutboundPurpose::kFetch);
}

core::Result<void> validate(const HttpCheck& check, const ServiceCheckOptions& options) {
  auto url = core::parse_http_url(check.url);
  if (!url) return std::move(url).error();
  if (check.address && (check.address->is_unspecified() || check.address->is_multicast())) {
    return core::invalid_field("address", "must be a unicast address");
  }
  const auto& status = check.expected_status;
  if (status.min < 100 || status.max > 599 || status.min > status.max) {
    return core::invalid_field("expected_status", "must be a range within 100..599, min <= max");
  }
  if (check.keyword && check.keyword->empty()) {
    return core::invalid_field("keyword", "must not be empty when set");
  }
  if (check.keyword && check.keyword->size() > check.max_body_bytes) {
    return core::invalid_field("keyword", "is longer than max_body_bytes");
  }
  if (check.max_body_bytes < 1 || check.max_body_bytes > kMaxBodyLimit) {
    return core::invalid_field("max_body_bytes", "must be 1..67108864");
  }
  if (check.max_redirects < 0 || check.max_redirects > kMaxRedirectsLimit) {
    return core::invalid_field("max_redirects", "must be 0..10");
  }
  return check_timeout(check.timeout, options);
}

core::Result<void> validate(const DnsCheck& check, const ServiceCheckOptions& options) {
  auto name = validate_dns_name(check.name);
  if (!name) return name;
  if (check.server.is_unspecified() || check.server.is_multicast()) {
    return core::invalid_field("server", "must be a unicast address");
  }
  if (check.port == 0) return core::invalid_field("port", "must be 1..65535");
  if (check.expected && check.expected->is_v4() != (check.type == DnsRecordType::kA)) {
    return core::invalid_field("expected", "is not of the asked record type's family");
  }
  if (auto r = check_timeout(check.timeout, options); !r) return r;
  return options.outbound.check(check.server, core::OutboundPurpose::kFetch);
}

}  // namespace

Error connect_error(const boost::system::error_code& ec, const std::string& peer) {
  if (ec == asio::error::connection_refused) {
    return unavailable(fmt::format("connection to {} refused (nothing listens there)", peer),
                       "connection_refused");
  }
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return unavailable(fmt::format("{} is unreachable: {}", peer, ec.message()), "unreachable");
  }
  return unavailable(fmt::format("connect to {} failed: {}", peer, ec.message()), "connect_failed");
}

CheckEngine::CheckEngine(const ServiceCheckOptions& options, asio::any_io_executor loop,
                         const core::Clock& clock)
    : options_(options), loop_(std::move(loop)), clock_(clock), random_(std::random_device{}()) {}

core::Result<std::uint64_t> CheckEngine::admit() {
  if (closed_) return unavailable("service checker closed", "closed");
  if (stats_.in_flight >= options_.max_in_flight) {
    ++stats_.refused;
    return unavailable(
        fmt::format("{} service checks already in flight (the bound)", options_.max_in_flight),
        "overloaded");
  }
  ++stats_.in_flight;
  ++stats_.started;
  return next_id_++;
}

void CheckEngine::attach(std::uint64_t id, const std::shared_ptr<CheckSession>& session) {
  running_.emplace(id, session);
}

void CheckEngine::close() {
  if (closed_) return;
  closed_ = true;
  auto running = std::move(running_);
  running_.clear();
  for (auto& [id, weak] : running) {
    if (auto session = weak.lock()) session->cancel();
  }
}

namespace {

class ServiceCheckerImpl final : public ServiceChecker {
 public:
  explicit ServiceCheckerImpl(std::shared_ptr<CheckEngine> engine) : engine_(std::move(engine)) {}
  ~ServiceCheckerImpl() override { engine_->close(); }

  void tcp(const TcpCheck& check, TcpDone done) override {
    if (auto valid = validate(check, engine_->options()); !valid) {
      return engine_->reject<TcpCheckResult>(std::move(done), std::move(valid).error());
    }
    auto id = engine_->admit();
    if (!id) return engine_->reject<TcpCheckResult>(std::move(done), std::move(id).error());
    auto session = std::make_shared<TcpSession>(engine_, *id, check, std::move(done));
    engine_->attach(*id, session);
    session->start();
  }

  void http(const HttpCheck& check, HttpDone done) override {
    if (auto valid = validate(check, engine_->options()); !valid) {
      return engine_->reject<HttpCheckResult>(std::move(done), std::move(valid).error());
    }
    auto id = engine_->admit();
    if (!id) return engine_->reject<HttpCheckResult>(std::move(done), std::move(id).error());
    start_http_check(engine_, *id, check, std::move(done));
  }

  void dns(const DnsCheck& check, DnsDone done) override {
    if (auto valid = validate(check, engine_->options()); !valid) {
      return engine_->reject<DnsCheckResult>(std::move(done), std::move(valid).error());
    }
    auto id = engine_->admit();
    if (!id) return engine_->reject<DnsCheckResult>(std::move(done), std::move(id).error());
    start_dns_check(engine_, *id, check, std::move(done));
  }

  ServiceCheckStats stats() const noexcept override { return engine_->stats(); }

 private:
  std::shared_ptr<CheckEngine> engine_;
};

}  // namespace
}  // namespace detail

core::Result<std::unique_ptr<ServiceChecker>> ServiceChecker::open(
    const ServiceCheckOptions& options, asio::any_io_executor loop, const core::Clock& clock) {
  if (options.max_in_flight < 1 || options.max_in_flight > detail::kMaxInFlightLimit) {
    return Error(Errc::kConfigError, "service checks: max_in_flight must be 1..100000",
                 {{"field", "max_in_flight"}});
  }
  if (options.max_timeout.count() < 1) {
    return Error(Errc::kConfigError, "service checks: max_timeout must be at least 1 ms",
                 {{"field", "max_timeout"}});
  }
  auto engine = std::make_shared<detail::CheckEngine>(options, std::move(loop), clock);
  return std::unique_ptr<ServiceChecker>(new detail::ServiceCheckerImpl(std::move(engine)));
}

core::Result<std::string> normalize_http_url(std::string_view url) {
  auto parsed = core::parse_http_url(url);
  if (!parsed) return std::move(parsed).error();
  return parsed->str();
}

}  // namespace netpulse::pollers
