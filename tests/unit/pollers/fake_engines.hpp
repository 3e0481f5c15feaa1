// Fake engines for the Poller and Discovery unit tests: an ICMP pinger, an SNMP client and a
// service checker whose answers are scripted per address (and per OID or port), which record
// every request they get, and which answer on the loop, never inside the call, as the real
// engines' contracts say. Nothing here touches the network.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <netpulse/core/result.hpp>
#include <netpulse/pollers/icmp.hpp>
#include <netpulse/pollers/service_checks.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace netpulse::test {

// Answers every echo of an "answering" address after `rtt_ms`, and times out the others.
class FakePinger final : public pollers::IcmpPinger {
 public:
  explicit FakePinger(boost::asio::any_io_executor loop) : loop_(std::move(loop)) {}

  // Whether `address` answers from now on (none does until told).
  void set_answering(const std::string& address, bool answers, double rtt_ms = 2.0) {
    answering_[address] = answers ? std::optional<double>(rtt_ms) : std::nullopt;
  }

  // Addresses of the cycles and single echoes asked for, in order.
  std::vector<std::string> cycles;
  std::vector<std::string> echoes;

  void echo(const boost::asio::ip::address& target, std::chrono::milliseconds, std::size_t,
            EchoDone done) override {
    echoes.push_back(target.to_string());
    const auto rtt = rtt_of(target);
    boost::asio::post(loop_, [rtt, done = std::move(done)] {
      if (!rtt) return done(core::Error(core::Errc::kTimeout, "no echo reply"));
      done(std::chrono::nanoseconds(static_cast<std::int64_t>(*rtt * 1e6)));
    });
  }

  void ping_cycle(const boost::asio::ip::address& target, const pollers::PingCycleOptions& options,
                  CycleDone done) override {
    cycles.push_back(target.to_string());
    pollers::PingCycleResult r;
    r.target = target;
    r.count = options.count;
    r.sent = options.count;
    if (const auto rtt = rtt_of(target)) {
      r.received = options.count;
      r.rtt_min_ms = r.rtt_avg_ms = r.rtt_max_ms = *rtt;
      r.loss_percent = 0;
    } else {
      r.loss_percent = 100;
    }
    boost::asio::post(loop_, [r, done = std::move(done)] { done(r); });
  }

  pollers::IcmpMode mode() const noexcept override { return pollers::IcmpMode::kDatagram; }
  std::optional<pollers::IcmpMode> mode_v6() const noexcept override { return std::nullopt; }
  const std::string& v6_status() const noexcept override { return v6_status_; }
  pollers::IcmpStats stats() const noexcept override { return {}; }

 private:
  std::optional<double> rtt_of(const boost::asio::ip::address& target) const {
    auto it = answering_.find(target.to_string());
    return it == answering_.end() ? std::nullopt : it->second;
  }

  boost::asio::any_io_executor loop_;
  std::map<std::string, std::optional<double>> answering_;
  std::string v6_status_ = "off in tests";
};

// SNMP agents by address, each a sorted table of objects. GET answers each OID asked (or
// noSuchObject); a walk answers every object under each root, root by root. An address with no
// agent, or asked with another community than its agent's, times out (as a real agent does not
// answer a wrong community); an agent can be told to fail every request with a given error.
class FakeSnmp final : public pollers::SnmpClient {
 public:
  struct Agent {
    std::string community = "public";
    std::map<pollers::Oid, pollers::SnmpValue> objects;
    std::optional<core::Error> failure;  // every request fails with it
  };
  struct Request {
    std::string address;
    std::string community;
    std::string kind;  // "get" or "walk"
    std::vector<pollers::Oid> oids;
  };

  explicit FakeSnmp(boost::asio::any_io_executor loop) : loop_(std::move(loop)) {}

  std::map<std::string, Agent> agents;  // by address
  std::vector<Request> requests;

  // Sets one object of the agent at `address` (creating the agent).
  void set(const std::string& address, const pollers::Oid& oid, pollers::SnmpValue value) {
    agents[address].objects[oid] = std::move(value);
  }

  std::size_t requests_to(const std::string& address) const {
    std::size_t n = 0;
    for (auto& r : requests) n += r.address == address ? 1 : 0;
    return n;
  }

  void get(const pollers::SnmpTarget& target, std::vector<pollers::Oid> oids,
           pollers::VarBindsCallback done) override {
    record(target, "get", oids);
    auto answer = [&]() -> core::Result<std::vector<pollers::VarBind>> {
      const Agent* agent = reachable(target);
      if (!agent) return timeout(target);
      if (agent->failure) return *agent->failure;
      std::vector<pollers::VarBind> out;
      for (auto& oid : oids) {
        auto it = agent->objects.find(oid);
        out.push_back({oid, it == agent->objects.end() ? pollers::SnmpValue(pollers::NoSuchObject{})
                                                       : it->second});
      }
      return out;
    }();
    boost::asio::post(
        loop_, [r = std::move(answer), done = std::move(done)]() mutable { done(std::move(r)); });
  }

  void walk(const pollers::SnmpTarget& target, pollers::Oid root, pollers::WalkOptions options,
            pollers::VarBindsCallback done) override {
    walk_columns(target, {std::move(root)}, options, std::move(done));
  }

  void walk_columns(const pollers::SnmpTarget& target, std::vector<pollers::Oid> roots,
                    pollers::WalkOptions, pollers::VarBindsCallback done) override {
    record(target, "walk", roots);
    auto answer = [&]() -> core::Result<std::vector<pollers::VarBind>> {
      const Agent* agent = reachable(target);
      if (!agent) return timeout(target);
      if (agent->failure) return *agent->failure;
      std::vector<pollers::VarBind> out;
      for (auto& root : roots) {
        for (auto& [oid, value] : agent->objects) {
          if (oid.size() > root.size() && oid.starts_with(root)) out.push_back({oid, value});
        }
      }
      return out;
    }();
    boost::asio::post(
        loop_, [r = std::move(answer), done = std::move(done)]() mutable { done(std::move(r)); });
  }

  pollers::SnmpClientStats stats() const override { return {}; }

 private:
  void record(const pollers::SnmpTarget& target, const char* kind,
              const std::vector<pollers::Oid>& oids) {
    requests.push_back({target.address.to_string(), target.community, kind, oids});
  }
  const Agent* reachable(const pollers::SnmpTarget& target) const {
    auto it = agents.find(target.address.to_string());
    if (it == agents.end() || it->second.community != target.community) return nullptr;
    return &it->second;
  }
  static core::Error timeout(const pollers::SnmpTarget& target) {
    return core::Error(core::Errc::kTimeout,
                       "snmp: no answer from " + target.address.to_string() + " (fake)");
  }

  boost::asio::any_io_executor loop_;
};

// TCP checks answered per port (connect time, or an error); HTTP and DNS checks fail with
// kServiceUnavailable unless scripted.
class FakeChecker final : public pollers::ServiceChecker {
 public:
  struct TcpRequest {
    std::string address;
    std::uint16_t port = 0;
  };

  explicit FakeChecker(boost::asio::any_io_executor loop) : loop_(std::move(loop)) {}

  std::map<std::uint16_t, core::Result<pollers::TcpCheckResult>> tcp_answers;  // by port
  std::vector<TcpRequest> tcp_requests;

  void tcp(const pollers::TcpCheck& check, TcpDone done) override {
    tcp_requests.push_back({check.address.to_string(), check.port});
    auto it = tcp_answers.find(check.port);
    core::Result<pollers::TcpCheckResult> r =
        it != tcp_answers.end() ? it->second : refused("connection_refused");
    boost::asio::post(loop_,
                      [r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  }
  void http(const pollers::HttpCheck&, HttpDone done) override {
    boost::asio::post(loop_, [done = std::move(done)] { done(refused("connect_failed")); });
  }
  void dns(const pollers::DnsCheck&, DnsDone done) override {
    boost::asio::post(loop_, [done = std::move(done)] { done(refused("connect_failed")); });
  }
  pollers::ServiceCheckStats stats() const noexcept override { return {}; }

  static core::Error refused(const std::string& reason) {
    return core::Error(core::Errc::kServiceUnavailable, "connection refused (fake)",
                       {{"reason", reason}});
  }

 private:
  boost::asio::any_io_executor loop_;
};

}  // namespace netpulse::test
