// The DNS check: one query over UDP to an explicit server, encoded and decoded by NetPulse's own
// codec (service_checks_dns_message.cpp), never through the system resolver. The socket is
// connected to the server, so the kernel passes only datagrams from that address and port, and
// an ICMP port-unreachable shows up as connection_refused; the source is checked again on each
// datagram anyway. A datagram with another id, or from elsewhere, is ignored and the query goes
// on waiting; a datagram with the query's id is the answer, and if it is malformed the check
// fails with kProtocolError (no retry: a check measures what the server does). One timer bounds
// the whole check.
#include <array>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "detail/dns_message.hpp"
#include "detail/host_port.hpp"
#include "detail/service_checks_engine.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

namespace {

class DnsSession final : public CheckSession, public std::enable_shared_from_this<DnsSession> {
 public:
  DnsSession(std::shared_ptr<CheckEngine> engine, std::uint64_t id, const DnsCheck& check,
             ServiceChecker::DnsDone done)
      : engine_(std::move(engine)),
        id_(id),
        check_(check),
        done_(std::move(done)),
        server_(check.server, check.port),
        socket_(engine_->loop()),
        timer_(engine_->loop()) {}

  void start() {
    started_ = engine_->clock().steady_now();
    query_id_ = engine_->random_u16();
    query_ = encode_dns_query(query_id_, check_.name, check_.type);
    boost::system::error_code ec;
    socket_.open(server_.protocol(), ec);
    if (!ec) socket_.connect(server_, ec);
    if (ec) return finish(connect_error(ec, peer()));  // complete() posts: not inline
    timer_.expires_after(check_.timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    socket_.async_send(asio::buffer(query_),
                       [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         if (ec) return self->fail_io(ec, "sending the query");
                         self->do_receive();
                       });
  }

  void cancel() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  std::string peer() const {
    const auto& a = server_.address();
    return host_port(a, server_.port());
  }

  void do_receive() {
    socket_.async_receive_from(
        asio::buffer(reply_), sender_,
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          self->on_receive(ec, n);
        });
  }

  void on_receive(boost::system::error_code ec, std::size_t n) {
    if (ec) return fail_io(ec, "waiting for the reply");
    const std::span<const std::uint8_t> message(reply_.data(), n);
    auto id = dns_message_id(message);
    if (sender_ != server_ || !id || *id != query_id_) {
      ++ignored_;
      return do_receive();
    }
    const double ms = engine_->elapsed_ms(started_);
    auto reply = decode_dns_reply(message, check_.name, check_.type);
    if (!reply) {
      auto error = std::move(reply).error();
      error.message = fmt::format("{} from {}", error.message, peer());
      return finish(std::move(error));
    }
    if (reply->rcode == kRcodeNxDomain) {
      return finish(Error(Errc::kNotFound,
                          fmt::format("{} does not exist (NXDOMAIN from {})", check_.name, peer()),
                          {{"rcode", "NXDOMAIN"}}));
    }
    if (reply->rcode != kRcodeNoError) {
      const auto name = rcode_name(reply->rcode);
      return finish(Error(Errc::kProtocolError,
                          fmt::format("{} answered {} for {}", peer(), name, check_.name),
                          {{"rcode", name}}));
    }
    if (reply->truncated) {
      return finish(Error(Errc::kProtocolError,
                          fmt::format("{} sent a truncated (TC) reply for {}; DNS over TCP is "
                                      "not supported by the check",
                                      peer(), check_.name),
                          {{"rcode", "NOERROR"}}));
    }
    DnsCheckResult result;
    result.resolution_ms = ms;
    result.answers = std::move(reply->answers);
    if (check_.expected) {
      result.expected_found = std::find(result.answers.begin(), result.answers.end(),
                                        *check_.expected) != result.answers.end();
    }
    finish(std::move(result));
  }

  void fail_io(boost::system::error_code ec, std::string_view phase) {
    if (timed_out_) {
      std::string stray;
      if (ignored_ > 0) stray = fmt::format(" ({} stray datagrams ignored)", ignored_);
      return finish(
          Error(Errc::kTimeout, fmt::format("no DNS reply from {} for {} within {} ms{}", peer(),
                                            check_.name, check_.timeout.count(), stray)));
    }
    if (ec == asio::error::connection_refused) {
      return finish(Error(Errc::kServiceUnavailable,
                          fmt::format("{} refused the query (ICMP port unreachable)", peer()),
                          {{"reason", "connection_refused"}}));
    }
    finish(Error(Errc::kServiceUnavailable,
                 fmt::format("DNS check against {} failed {}: {}", peer(), phase, ec.message()),
                 {{"reason", "connect_failed"}}));
  }

  void finish(core::Result<DnsCheckResult> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    engine_->complete<DnsCheckResult>(id_, std::move(done_), std::move(result));
  }

  std::shared_ptr<CheckEngine> engine_;
  std::uint64_t id_;
  DnsCheck check_;
  ServiceChecker::DnsDone done_;
  asio::ip::udp::endpoint server_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  asio::ip::udp::endpoint sender_;
  std::vector<std::uint8_t> query_;
  std::array<std::uint8_t, kDnsMaxUdpReply> reply_{};
  core::SteadyTime started_{};
  std::uint16_t query_id_ = 0;
  std::size_t ignored_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void start_dns_check(const std::shared_ptr<CheckEngine>& engine, std::uint64_t id,
                     const DnsCheck& check, ServiceChecker::DnsDone done) {
  auto session = std::make_shared<DnsSession>(engine, id, check, std::move(done));
  engine->attach(id, session);
  session->start();
}

}  // namespace netpulse::pollers::detail
