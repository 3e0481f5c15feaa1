// The outbound address policy: strict CIDR parsing (table-driven), the canonical form of
// addresses (IPv4-mapped, NAT64, zone ids), the longest-prefix decision between deny, fetch-only
// deny and allow, the error naming address and rule, the defaults (equal to the embedded config)
// and the [network] config keys.
#include <fstream>

#include <catch2/catch.hpp>

#include <netpulse/core/config.hpp>
#include <netpulse/core/outbound.hpp>

#include "support/temp_dir.hpp"

using netpulse::core::canonical_address;
using netpulse::core::Errc;
using netpulse::core::OutboundLists;
using netpulse::core::OutboundPolicy;
using netpulse::core::OutboundPurpose;
using netpulse::core::parse_ip_network;
using netpulse::core::url_host_literal;
namespace asio = boost::asio;

namespace {

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

OutboundPolicy policy(OutboundLists lists) {
  auto p = OutboundPolicy::make(lists);
  REQUIRE(p);
  return *p;
}

constexpr auto kPoll = OutboundPurpose::kPoll;
constexpr auto kFetch = OutboundPurpose::kFetch;

}  // namespace

TEST_CASE("outbound: CIDRs parse strictly", "[core][outbound]") {
  struct Good {
    const char* text;
    const char* network;
  };
  for (auto g : std::initializer_list<Good>{
           {"169.254.0.0/16", "169.254.0.0/16"},
           {"0.0.0.0/0", "0.0.0.0/0"},
           {"10.1.2.3", "10.1.2.3/32"},
           {"10.1.2.3/32", "10.1.2.3/32"},
           {"fe80::/10", "fe80::/10"},
           {"FD00:EC2::254", "fd00:ec2::254/128"},
           {"::/0", "::/0"},
           {"::/128", "::/128"},
           {"::ffff:169.254.0.0/112", "169.254.0.0/16"},  // IPv4-mapped: the IPv4 network
           {"::ffff:127.0.0.1", "127.0.0.1/32"},
       }) {
    INFO(g.text);
    auto n = parse_ip_network(g.text);
    REQUIRE(n);
    CHECK(n->to_string() == g.network);
  }
  struct Bad {
    const char* text;
    const char* why;  // a part of the message
  };
  for (auto b : std::initializer_list<Bad>{
           {"", "empty"},
           {"169.254.1.0/16", "the network is 169.254.0.0/16"},
           {"fe80::1/10", "the network is fe80::/10"},
           {"10.0.0.0/33", "IPv4 address has 32 bits"},
           {"::/129", "IPv6 address has 128 bits"},
           {"10.0.0.0/", "decimal prefix"},
           {"10.0.0.0/+8", "no spaces"},
           {"10.0.0.0/-1", "no spaces"},
           {"10.0.0.0/08", "leading zero"},
           {"10.0.0.0/8/8", "decimal prefix"},
           {"10.0.0.0/ 8", "no spaces"},
           {" 10.0.0.0/8", "no spaces"},
           {"010.0.0.0/8", "IPv4 or IPv6 address"},
           {"10.0.0/24", "IPv4 or IPv6 address"},
           {"10/8", "IPv4 or IPv6 address"},
           {"0x0a000000/8", "no spaces"},
           {"fe80::1%eth0", "zone ids"},
           {"localhost", "names"},
           {"/8", "IPv4 or IPv6 address"},
           {"1.2.3.4.5/32", "IPv4 or IPv6 address"},
       }) {
    INFO(b.text);
    auto n = parse_ip_network(b.text);
    REQUIRE_FALSE(n);
    CHECK(n.error().code == Errc::kInvalidInput);
    CHECK_THAT(n.error().message, Catch::Contains(b.why));
  }
}

TEST_CASE("outbound: addresses are judged in canonical form", "[core][outbound]") {
  CHECK(canonical_address(ip("::ffff:169.254.169.254")) == ip("169.254.169.254"));
  CHECK(canonical_address(ip("fe80::1%1")) == ip("fe80::1"));
  CHECK(canonical_address(ip("2001:db8::1")) == ip("2001:db8::1"));

  const OutboundPolicy defaults;
  for (const char* refused : {"169.254.169.254", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe",
                              "64:ff9b::a9fe:a9fe", "64:ff9b::169.254.169.254", "fe80::1%1",
                              "fd00:ec2::254", "0.0.0.0", "::", "224.0.0.1", "ff02::1"}) {
    INFO(refused);
    CHECK_FALSE(defaults.allows(ip(refused), kPoll));
    CHECK_FALSE(defaults.allows(ip(refused), kFetch));
  }
  // The mapped form of an allowed address is allowed; NAT64 of a public one too.
  CHECK(defaults.allows(ip("::ffff:192.0.2.1"), kFetch));
  CHECK(defaults.allows(ip("64:ff9b::c000:201"), kFetch));
  // A NAT64 address of loopback is refused for fetching, allowed for polling.
  CHECK_FALSE(defaults.allows(ip("64:ff9b::7f00:1"), kFetch));
  CHECK(defaults.allows(ip("64:ff9b::7f00:1"), kPoll));
}

TEST_CASE("outbound: the defaults refuse link-local, metadata, unspecified and multicast",
          "[core][outbound]") {
  const OutboundPolicy defaults;
  auto refused = defaults.check(ip("169.254.169.254"), kFetch);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kOutboundDenied);
  CHECK(refused.error().message ==
        "address 169.254.169.254 is refused by network.outbound_deny rule 169.254.169.254/32");
  CHECK(refused.error().details.at("address") == "169.254.169.254");
  CHECK(refused.error().details.at("rule") == "169.254.169.254/32");
  CHECK(refused.error().details.at("list") == "network.outbound_deny");

  auto link_local = defaults.check(ip("169.254.1.1"), kPoll);
  REQUIRE_FALSE(link_local);
  CHECK(link_local.error().message ==
        "address 169.254.1.1 is refused by network.outbound_deny rule 169.254.0.0/16");
  auto mapped = defaults.check(ip("::ffff:169.254.169.254"), kPoll);
  REQUIRE_FALSE(mapped);
  CHECK(mapped.error().message ==
        "address ::ffff:169.254.169.254 (169.254.169.254) is refused by network.outbound_deny "
        "rule 169.254.169.254/32");

  // Loopback: refused for fetching (service checks, webhooks), allowed for ICMP/SNMP.
  auto loopback = defaults.check(ip("127.0.0.1"), kFetch);
  REQUIRE_FALSE(loopback);
  CHECK(loopback.error().message ==
        "address 127.0.0.1 is refused by network.fetch_deny rule 127.0.0.0/8");
  CHECK_FALSE(defaults.allows(ip("127.8.9.10"), kFetch));
  CHECK_FALSE(defaults.allows(ip("::1"), kFetch));
  CHECK(defaults.allows(ip("127.0.0.1"), kPoll));
  CHECK(defaults.allows(ip("::1"), kPoll));

  // What an ISP monitors stays allowed: private, CGNAT, public, documentation ranges.
  for (const char* allowed :
       {"10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "100.100.100.199", "192.0.2.1",
        "8.8.8.8", "2001:db8::1", "fd00::1", "fd00:ec2::253"}) {
    INFO(allowed);
    CHECK(defaults.allows(ip(allowed), kPoll));
    CHECK(defaults.allows(ip(allowed), kFetch));
    CHECK(defaults.check(ip(allowed), kFetch));
  }
}

TEST_CASE("outbound: the most specific rule wins, allow wins a tie", "[core][outbound]") {
  const auto d = OutboundLists::defaults();
  SECTION("allowing loopback opens it to service checks") {
    auto p = policy({d.deny, d.fetch_deny, {"127.0.0.0/8"}});
    CHECK(p.allows(ip("127.0.0.1"), kFetch));
    CHECK(p.allows(ip("::ffff:127.0.0.1"), kFetch));
    CHECK_FALSE(p.allows(ip("::1"), kFetch));  // another family, another rule
  }
  SECTION("allowing link-local leaves the metadata address refused by its /32") {
    auto p = policy({d.deny, d.fetch_deny, {"169.254.0.0/16"}});
    CHECK(p.allows(ip("169.254.1.1"), kPoll));
    CHECK_FALSE(p.allows(ip("169.254.169.254"), kPoll));
    CHECK(p.decide(ip("169.254.169.254"), kPoll)->network.to_string() == "169.254.169.254/32");
  }
  SECTION("allowing everything leaves every more specific deny in force") {
    auto p = policy({d.deny, d.fetch_deny, {"0.0.0.0/0", "::/0"}});
    CHECK(p.allows(ip("192.0.2.1"), kFetch));
    CHECK_FALSE(p.allows(ip("127.0.0.1"), kFetch));
    CHECK_FALSE(p.allows(ip("169.254.169.254"), kFetch));
    CHECK_FALSE(p.allows(ip("fe80::1"), kFetch));
  }
  SECTION("an exact allow of a denied entry opens it") {
    auto p = policy({d.deny, d.fetch_deny, {"169.254.169.254/32"}});
    CHECK(p.allows(ip("169.254.169.254"), kFetch));
    CHECK_FALSE(p.allows(ip("169.254.169.253"), kFetch));
  }
  SECTION("a narrower deny inside an allow refuses") {
    auto p = policy({{"10.0.0.5/32"}, {}, {"10.0.0.0/8"}});
    CHECK_FALSE(p.allows(ip("10.0.0.5"), kPoll));
    CHECK(p.allows(ip("10.0.0.6"), kPoll));
  }
  SECTION("empty lists allow everything") {
    auto p = policy({{}, {}, {}});
    CHECK(p.allows(ip("169.254.169.254"), kFetch));
    CHECK(p.decide(ip("169.254.169.254"), kFetch) == nullptr);
  }
}

TEST_CASE("outbound: a bad entry is a config error naming the list and the entry",
          "[core][outbound]") {
  auto p = OutboundPolicy::make({{"10.0.0.0/8"}, {}, {"127.0.0.1/8"}});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::kConfigError);
  CHECK_THAT(p.error().message, Catch::StartsWith("network.outbound_allow: entry \"127.0.0.1/8\""));
  CHECK_THAT(p.error().message, Catch::Contains("127.0.0.0/8"));
}

TEST_CASE("outbound: the built-in defaults are the embedded config's", "[core][outbound]") {
  auto config = netpulse::core::load_config(std::nullopt, {});
  REQUIRE(config);
  auto from_config = OutboundPolicy::make(
      {config->network.outbound_deny, config->network.fetch_deny, config->network.outbound_allow});
  REQUIRE(from_config);
  const OutboundPolicy built_in;
  REQUIRE(from_config->rules().size() == built_in.rules().size());
  for (std::size_t i = 0; i < built_in.rules().size(); ++i) {
    const auto& a = from_config->rules()[i];
    const auto& b = built_in.rules()[i];
    CHECK(a.network == b.network);
    CHECK(a.allow == b.allow);
    CHECK(a.fetch_only == b.fetch_only);
    CHECK(a.list == b.list);
  }
}

TEST_CASE("outbound: [network] lists in the config are checked entry by entry",
          "[core][outbound][config]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("netpulse.toml");
  std::ofstream(path) << "[network]\noutbound_allow = [\"127.0.0.0/8\", \"10.0.0.1/8\"]\n"
                      << "outbound_deny = [\"nope\"]\n";
  auto problems = netpulse::core::check_config(path, {});
  REQUIRE(problems.size() == 2);
  std::string all;
  for (auto& p : problems) all += p.to_string() + "\n";
  INFO(all);
  CHECK_THAT(all, Catch::Contains("network.outbound_allow: entry 2 \"10.0.0.1/8\" has bits set "
                                  "past its /8 prefix (the network is 10.0.0.0/8)"));
  CHECK_THAT(all, Catch::Contains(":3: network.outbound_deny: entry 1 \"nope\""));

  // The environment: a comma-separated list, as the notifier's tests will use it.
  auto config = netpulse::core::load_config(
      std::nullopt, {{"NETPULSE_NETWORK_OUTBOUND_ALLOW", "127.0.0.0/8, ::1/128"}});
  REQUIRE(config);
  CHECK(config->network.outbound_allow == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  auto bad_env = netpulse::core::check_config(
      std::nullopt, {{"NETPULSE_NETWORK_FETCH_DENY", "127.0.0.0/8,127.0.0.1/7"}});
  REQUIRE(bad_env.size() == 1);
  CHECK(bad_env[0].source == "environment (NETPULSE_NETWORK_FETCH_DENY)");
  CHECK_THAT(bad_env[0].message, Catch::Contains("entry 2 \"127.0.0.1/7\""));
}

TEST_CASE("outbound: URL hosts written as IP literals", "[core][outbound]") {
  CHECK(url_host_literal("http://169.254.169.254/latest/meta-data/") == ip("169.254.169.254"));
  CHECK(url_host_literal("https://[fd00:ec2::254]:8443/x") == ip("fd00:ec2::254"));
  CHECK(url_host_literal("http://user@127.0.0.1:8080") == ip("127.0.0.1"));
  CHECK(url_host_literal("http://127.0.0.1?x") == ip("127.0.0.1"));
  CHECK_FALSE(url_host_literal("http://portal.example.net/"));
  CHECK_FALSE(url_host_literal("http://2852039166/"));  // a name to us: judged once resolved
  CHECK_FALSE(url_host_literal("http://[zz]/"));
  CHECK_FALSE(url_host_literal("no-scheme"));
}
