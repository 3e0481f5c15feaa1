// The composition root's engine options (src/app/poller_engines.cpp): what each engine of the
// pollers is opened with, derived from the poller's options.
#include "app/poller_engines.hpp"

#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>

using namespace netpulse;

TEST_CASE("app: the ICMP engine's mode and room follow the poller's options", "[app][pollers]") {
  pollers::PollerOptions o;
  o.cycle.count = 3;
  o.scheduler.max_in_flight[0] = 2000;
  struct Case {
    std::string mode;
    pollers::IcmpModeChoice want;
  };
  for (const auto& c : std::vector<Case>{{"auto", pollers::IcmpModeChoice::kAuto},
                                         {"datagram", pollers::IcmpModeChoice::kDatagramOnly},
                                         {"raw", pollers::IcmpModeChoice::kRawOnly}}) {
    INFO(c.mode);
    o.icmp_mode = c.mode;
    CHECK(app::icmp_engine_options(o).mode == c.want);
  }
  CHECK(app::icmp_engine_options(o).max_in_flight == 6000);  // every ping of every cycle
  o.scheduler.max_in_flight[0] = 100'000;
  CHECK(app::icmp_engine_options(o).max_in_flight == 65'535);  // the ICMP id space
  o.scheduler.max_in_flight[0] = 0;
  CHECK(app::icmp_engine_options(o).max_in_flight == 1);
}

TEST_CASE("app: the SNMP engine gets the server's logger", "[app][pollers]") {
  // Poller::open used to build the client itself without one, so net-snmp's messages were
  // dropped in production.
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}, core::LogLevel::kDebug};
  pollers::PollerOptions o;
  o.scheduler.max_in_flight[1] = 500;
  const auto so = app::snmp_engine_options(o, &log);
  CHECK(so.logger == &log);
  CHECK(so.max_in_flight == 1000);  // two requests per SNMP run in flight
}

TEST_CASE("app: the service checker has room for every TCP, HTTP and DNS check in flight",
          "[app][pollers]") {
  pollers::PollerOptions o;
  o.scheduler.max_in_flight = {2000, 500, 200, 100, 100};
  auto co = app::check_engine_options(o);
  CHECK(co.max_in_flight == 400);
  CHECK(co.max_timeout == std::chrono::milliseconds(60'000));
  o.scheduler.max_in_flight = {2000, 500, 0, 0, 0};
  CHECK(app::check_engine_options(o).max_in_flight == 1);
  o.scheduler.max_in_flight = {2000, 500, 90'000, 90'000, 0};
  CHECK(app::check_engine_options(o).max_in_flight == 100'000);
}
