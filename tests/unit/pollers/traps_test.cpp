// TrapReceiver against Debian's real `snmptrap` and `snmpinform` (v1 and v2c traps, an inform
// that only succeeds when acknowledged), and against a raw loopback UDP socket for what real
// senders do not send on demand: hostile datagrams, wrong PDU types, SNMPv3, floods. The
// receiver runs on a ManualClock, so the rate limit is exact (time moves only when the test
// says). Tools run as child processes with a bounded wait while the test turns its loop.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/pollers/traps.hpp>

#include "ber_builder.hpp"
#include "support/child_process.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace asio = boost::asio;
using asio::ip::udp;
using namespace netpulse::pollers;
using netpulse::core::ManualClock;
using netpulse::test::ChildProcess;
using netpulse::test::TempDir;

namespace {

Oid oid(const char* dotted) {
  return Oid::parse(dotted).value();
}

TrapOptions loopback_options() {
  TrapOptions options;
  options.listen = udp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  return options;
}

struct Harness {
  asio::io_context io;
  ManualClock clock;
  TempDir dir;
  std::vector<Trap> traps;
  std::unique_ptr<TrapReceiver> receiver;

  explicit Harness(TrapOptions options = loopback_options()) {
    auto opened = TrapReceiver::open(options, io.get_executor(), clock,
                                     [this](Trap trap) { traps.push_back(std::move(trap)); });
    REQUIRE(opened.has_value());
    receiver = std::move(opened.value());
  }

  std::uint16_t port() const { return receiver->local_endpoint().port(); }

  // Turns the loop until `done` (at most 20 s of wall time).
  void run_until(const std::function<bool()>& done) {
    REQUIRE(netpulse::test::run_until(io, done));
  }

  // Runs /usr/bin/<tool> with numeric OIDs only, no MIBs and no config files, turning the loop
  // until it exits (at most 30 s); returns its exit code (its output is in dir/tool.log).
  int run_tool(const std::string& tool, std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/" + tool, "-M", "/dev/null", "-On"});
    ChildProcess child(
        args, {{"MIBS", ""}, {"SNMPCONFPATH", "/dev/null"}, {"SNMP_PERSISTENT_DIR", dir.path()}},
        dir.path() + "/tool.log");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!child.poll() && std::chrono::steady_clock::now() < until) {
      io.run_one_for(std::chrono::milliseconds(10));
    }
    auto code = child.poll();
    if (!code) child.kill();
    REQUIRE(code.has_value());
    return *code;
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(port()); }
};

// --- BER, just enough to write SNMP messages by hand -------------------------------------

using netpulse::test::ber_int;
using netpulse::test::tlv;

std::string ber_oid(const Oid& o) {
  std::string body(1, static_cast<char>(o[0] * 40 + o[1]));
  for (std::size_t i = 2; i < o.size(); ++i) {
    std::string arc;
    std::uint32_t v = o[i];
    arc.insert(arc.begin(), static_cast<char>(v & 0x7f));
    while ((v >>= 7) != 0) arc.insert(arc.begin(), static_cast<char>(0x80 | (v & 0x7f)));
    body += arc;
  }
  return tlv(0x06, body);
}

std::string varbind(const Oid& name, const std::string& encoded_value) {
  return tlv(0x30, ber_oid(name) + encoded_value);
}

// A v1 (version 0) or v2c (version 1) message with a request-style PDU.
std::string message(int version, const std::string& community, std::uint8_t pdu_tag,
                    const std::string& varbinds, std::int64_t request_id = 42) {
  std::string pdu = ber_int(request_id) + ber_int(0) + ber_int(0) + tlv(0x30, varbinds);
  return tlv(0x30, ber_int(version) + tlv(0x04, community) + tlv(pdu_tag, pdu));
}

// A v1 Trap-PDU (RFC 1157) from agent 192.0.2.1 with one varbind.
std::string v1_trap(const Oid& enterprise, int generic, std::int64_t specific) {
  const std::string pdu = ber_oid(enterprise) + tlv(0x40, std::string("\xc0\x00\x02\x01", 4)) +
                          ber_int(generic) + ber_int(specific) + ber_int(99, 0x43) +
                          tlv(0x30, varbind(oid("1.3.6.1.2.1.2.2.1.1.4"), ber_int(4)));
  return tlv(0x30, ber_int(0) + tlv(0x04, "public") + tlv(0xa4, pdu));
}

// A valid v2c SNMPv2-Trap: sysUpTime.0, snmpTrapOID.0 = linkDown, ifIndex.7 = 7.
std::string v2c_link_down(const std::string& community = "public") {
  return message(1, community, 0xa7,
                 varbind(oid("1.3.6.1.2.1.1.3.0"), ber_int(1234, 0x43)) +
                     varbind(oid("1.3.6.1.6.3.1.1.4.1.0"), ber_oid(oid("1.3.6.1.6.3.1.1.5.3"))) +
                     varbind(oid("1.3.6.1.2.1.2.2.1.1.7"), ber_int(7)));
}

// A plain UDP socket on loopback (127.0.0.1 unless told; Linux answers for all of 127/8).
struct RawSender {
  asio::io_context io;
  udp::socket socket;
  explicit RawSender(const char* address = "127.0.0.1")
      : socket(io, udp::endpoint(asio::ip::make_address(address), 0)) {}
  void send(const std::string& bytes, std::uint16_t port) {
    socket.send_to(asio::buffer(bytes), udp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
};

}  // namespace

TEST_CASE("traps: a v2c linkDown from snmptrap arrives with its ifIndex", "[pollers][traps]") {
  Harness h;
  REQUIRE(h.run_tool("snmptrap", {"-v", "2c", "-c", "public", h.target(), "4321",
                                  "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
                                  "1.3.6.1.2.1.2.2.1.2.3", "s", "eth2"}) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  const Trap& t = h.traps[0];
  CHECK(t.source == asio::ip::make_address("127.0.0.1"));
  CHECK(t.source_port != 0);
  CHECK(t.version == SnmpVersion::kV2c);
  CHECK(t.community == "public");
  CHECK(t.trap_oid == oid("1.3.6.1.6.3.1.1.5.3"));
  CHECK(t.kind == TrapKind::kLinkDown);
  CHECK(t.uptime_ticks == 4321u);
  REQUIRE(t.varbinds.size() == 2);  // sysUpTime.0 and snmpTrapOID.0 are not repeated
  CHECK(t.varbinds[0].oid == oid("1.3.6.1.2.1.2.2.1.1.3"));
  CHECK(t.if_index == 3u);
  CHECK(!t.inform);
  CHECK(t.received_at == h.clock.system_now());
  CHECK(trap_summary(t) == "linkDown ifIndex 3 (ifDescr eth2)");
  const TrapReceiverStats s = h.receiver->stats();
  CHECK(s.received == 1);
  CHECK(s.decoded == 1);
}

TEST_CASE("traps: a v2c coldStart from snmptrap", "[pollers][traps]") {
  Harness h;
  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "2c", "-c", "public", h.target(), "", "1.3.6.1.6.3.1.1.5.1"}) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  CHECK(h.traps[0].kind == TrapKind::kColdStart);
  CHECK(h.traps[0].uptime_ticks.has_value());
  CHECK(h.traps[0].varbinds.empty());
  CHECK(!h.traps[0].if_index);
  CHECK(trap_summary(h.traps[0]) == "coldStart");
}

TEST_CASE("traps: v1 generic traps are converted to the RFC 3584 trap OID", "[pollers][traps]") {
  Harness h;
  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "1", "-c", "public", h.target(), "1.3.6.1.4.1.8072", "127.0.0.1", "3",
                      "0", "555", "1.3.6.1.2.1.2.2.1.1.5", "i", "5"}) == 0);
  REQUIRE(h.run_tool("snmptrap", {"-v", "1", "-c", "public", h.target(), "1.3.6.1.4.1.8072",
                                  "127.0.0.1", "1", "0", ""}) == 0);
  h.run_until([&] { return h.traps.size() == 2; });
  const Trap& up = h.traps[0];
  CHECK(up.version == SnmpVersion::kV1);
  CHECK(up.trap_oid == oid("1.3.6.1.6.3.1.1.5.4"));
  CHECK(up.kind == TrapKind::kLinkUp);
  CHECK(up.enterprise == oid("1.3.6.1.4.1.8072"));
  CHECK(up.agent_addr == asio::ip::make_address_v4("127.0.0.1"));
  CHECK(up.uptime_ticks == 555u);
  CHECK(up.if_index == 5u);
  CHECK(trap_summary(up) == "linkUp ifIndex 5");
  CHECK(h.traps[1].trap_oid == oid("1.3.6.1.6.3.1.1.5.2"));
  CHECK(h.traps[1].kind == TrapKind::kWarmStart);
}

TEST_CASE("traps: v1 generic-trap table (RFC 3584 section 3.1)", "[pollers][traps]") {
  Harness h;
  RawSender raw;
  const Oid enterprise = oid("1.3.6.1.4.1.9.1.1");
  struct Row {
    int generic;
    const char* trap_oid;
    TrapKind kind;
  };
  const std::vector<Row> rows = {
      {0, "1.3.6.1.6.3.1.1.5.1", TrapKind::kColdStart},
      {1, "1.3.6.1.6.3.1.1.5.2", TrapKind::kWarmStart},
      {2, "1.3.6.1.6.3.1.1.5.3", TrapKind::kLinkDown},
      {3, "1.3.6.1.6.3.1.1.5.4", TrapKind::kLinkUp},
      {4, "1.3.6.1.6.3.1.1.5.5", TrapKind::kAuthenticationFailure},
      {5, "1.3.6.1.6.3.1.1.5.6", TrapKind::kOther},
      {6, "1.3.6.1.4.1.9.1.1.0.42", TrapKind::kOther},
  };
  for (const Row& row : rows) {
    INFO("generic-trap " << row.generic);
    h.traps.clear();
    raw.send(v1_trap(enterprise, row.generic, 42), h.port());
    h.run_until([&] { return h.traps.size() == 1; });
    const Trap& t = h.traps[0];
    CHECK(t.trap_oid == oid(row.trap_oid));
    CHECK(t.kind == row.kind);
    CHECK(t.enterprise == enterprise);
    CHECK(t.agent_addr == asio::ip::make_address_v4("192.0.2.1"));
    CHECK(t.uptime_ticks == 99u);
    CHECK(t.if_index.has_value() == (row.generic == 2 || row.generic == 3));
  }
  // Out of range: generic 7, and a negative specific-trap with enterpriseSpecific.
  raw.send(v1_trap(enterprise, 7, 0), h.port());
  raw.send(v1_trap(enterprise, 6, -1), h.port());
  h.run_until([&] { return h.receiver->stats().dropped_malformed == 2; });
  CHECK(h.receiver->stats().decoded == rows.size());
}

TEST_CASE("traps: a v1 enterprise-specific trap becomes enterprise.0.specific",
          "[pollers][traps]") {
  Harness h;
  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "1", "-c", "public", h.target(), "1.3.6.1.4.1.8072.2.3", "10.1.2.3",
                      "6", "17", "", "1.3.6.1.4.1.8072.2.3.2.1", "s", "hello"}) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  const Trap& t = h.traps[0];
  CHECK(t.trap_oid == oid("1.3.6.1.4.1.8072.2.3.0.17"));
  CHECK(t.kind == TrapKind::kOther);
  CHECK(t.agent_addr == asio::ip::make_address_v4("10.1.2.3"));
  REQUIRE(t.varbinds.size() == 1);
  CHECK(std::get<std::string>(t.varbinds[0].value) == "hello");
  CHECK(trap_summary(t) == "trap 1.3.6.1.4.1.8072.2.3.0.17 (1 varbinds)");
}

TEST_CASE("traps: an inform is acknowledged (snmpinform succeeds only when answered)",
          "[pollers][traps]") {
  Harness h;
  REQUIRE(
      h.run_tool("snmpinform", {"-v", "2c", "-c", "public", "-t", "2", "-r", "1", h.target(), "",
                                "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.9", "i", "9"}) == 0);
  h.run_until([&] { return !h.traps.empty(); });
  CHECK(h.traps[0].inform);
  CHECK(h.traps[0].kind == TrapKind::kLinkUp);
  CHECK(h.traps[0].if_index == 9u);
  CHECK(h.receiver->stats().informs_answered >= 1);
  CHECK(h.receiver->stats().inform_answers_failed == 0);

  SECTION("snmptrap -Ci sends an inform too") {
    REQUIRE(h.run_tool("snmptrap", {"-Ci", "-v", "2c", "-c", "public", "-t", "2", "-r", "1",
                                    h.target(), "", "1.3.6.1.6.3.1.1.5.1"}) == 0);
    h.run_until([&] { return h.traps.size() >= 2; });
    CHECK(h.traps.back().inform);
  }
}

TEST_CASE("traps: a community outside the allow-list is dropped and counted", "[pollers][traps]") {
  TrapOptions options = loopback_options();
  options.communities = {"s3cret"};
  Harness h(options);
  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "2c", "-c", "public", h.target(), "", "1.3.6.1.6.3.1.1.5.1"}) == 0);
  REQUIRE(h.run_tool("snmptrap", {"-v", "1", "-c", "wrong", h.target(), "1.3.6.1.4.1.8072",
                                  "127.0.0.1", "0", "0", ""}) == 0);
  h.run_until([&] { return h.receiver->stats().dropped_community == 2; });
  CHECK(h.traps.empty());
  // An inform with a wrong community gets no answer: snmpinform times out.
  CHECK(h.run_tool("snmpinform", {"-v", "2c", "-c", "public", "-t", "0.3", "-r", "0", h.target(),
                                  "", "1.3.6.1.6.3.1.1.5.1"}) != 0);
  CHECK(h.receiver->stats().informs_answered == 0);

  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "2c", "-c", "s3cret", h.target(), "", "1.3.6.1.6.3.1.1.5.1"}) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  CHECK(h.traps[0].community == "s3cret");
}

TEST_CASE("traps: hostile datagrams are dropped and counted; the receiver keeps working",
          "[pollers][traps]") {
  ManualClock log_clock;
  std::vector<std::string> log_lines;
  netpulse::core::Logger logger(
      log_clock, [&](std::string_view line) { log_lines.emplace_back(line); },
      netpulse::core::LogLevel::kDebug);
  TrapOptions options = loopback_options();
  options.logger = &logger;
  Harness h(options);
  RawSender raw;
  const std::string valid = v2c_link_down();
  struct Case {
    const char* name;
    std::string bytes;
    std::uint64_t TrapReceiverStats::*counter;
  };
  const std::vector<Case> cases = {
      {"empty", "", &TrapReceiverStats::dropped_malformed},
      {"garbage", "\xde\xad\xbe\xef not SNMP at all", &TrapReceiverStats::dropped_malformed},
      {"truncated BER", valid.substr(0, valid.size() / 2), &TrapReceiverStats::dropped_malformed},
      {"last byte cut", valid.substr(0, valid.size() - 1), &TrapReceiverStats::dropped_malformed},
      {"huge outer length", std::string("\x30\x84\x7f\xff\xff\xff\x02\x01\x01", 9),
       &TrapReceiverStats::dropped_malformed},
      {"huge inner length",
       tlv(0x30, ber_int(1) + std::string("\x04\x84\x7f\xff\xff\xff", 6) + "public"),
       &TrapReceiverStats::dropped_malformed},
      {"indefinite length", std::string("\x30\x80\x02\x01\x01\x00\x00", 7),
       &TrapReceiverStats::dropped_malformed},
      {"version 7", message(7, "public", 0xa7, ""), &TrapReceiverStats::dropped_malformed},
      {"v2c trap without snmpTrapOID.0",
       message(1, "public", 0xa7, varbind(oid("1.3.6.1.2.1.1.3.0"), ber_int(5, 0x43))),
       &TrapReceiverStats::dropped_malformed},
      {"snmpTrapOID.0 not an OID",
       message(1, "public", 0xa7,
               varbind(oid("1.3.6.1.2.1.1.3.0"), ber_int(5, 0x43)) +
                   varbind(oid("1.3.6.1.6.3.1.1.4.1.0"), ber_int(3))),
       &TrapReceiverStats::dropped_malformed},
      {"v2 trap PDU in a v1 message", message(0, "public", 0xa7, ""),
       &TrapReceiverStats::dropped_malformed},
      {"a GET request",
       message(1, "public", 0xa0, varbind(oid("1.3.6.1.2.1.1.3.0"), tlv(0x05, ""))),
       &TrapReceiverStats::dropped_not_trap},
      {"a Response", message(1, "public", 0xa2, ""), &TrapReceiverStats::dropped_not_trap},
      {"an SNMPv3 message",
       tlv(0x30, ber_int(3) +
                     tlv(0x30, ber_int(1) + ber_int(65507) + tlv(0x04, "\x04") + ber_int(3)) +
                     tlv(0x04, "") + tlv(0x30, tlv(0x04, "") + tlv(0x04, "") + tlv(0xa7, ""))),
       &TrapReceiverStats::dropped_v3},
      {"64 KB of zeros", std::string(65000, '\0'), &TrapReceiverStats::dropped_malformed},
  };
  std::uint64_t received = 0;
  for (const Case& c : cases) {
    INFO(c.name);
    const TrapReceiverStats before = h.receiver->stats();
    raw.send(c.bytes, h.port());
    ++received;
    h.run_until([&] { return h.receiver->stats().received == received; });
    const TrapReceiverStats after = h.receiver->stats();
    CHECK(after.*(c.counter) == before.*(c.counter) + 1);
    CHECK(after.decoded == 0);
  }
  CHECK(h.traps.empty());
  // Each refusal is logged at debug level with its reason.
  CHECK(log_lines.size() == cases.size());
  CHECK(std::any_of(log_lines.begin(), log_lines.end(), [](const std::string& line) {
    return line.find("no snmpTrapOID.0") != std::string::npos;
  }));

  raw.send(valid, h.port());
  h.run_until([&] { return h.traps.size() == 1; });
  CHECK(h.traps[0].kind == TrapKind::kLinkDown);
  CHECK(h.traps[0].if_index == 7u);
  CHECK(h.traps[0].uptime_ticks == 1234u);
  // And a real tool after the garbage.
  REQUIRE(h.run_tool("snmptrap",
                     {"-v", "2c", "-c", "public", h.target(), "", "1.3.6.1.6.3.1.1.5.2"}) == 0);
  h.run_until([&] { return h.traps.size() == 2; });
  CHECK(h.traps[1].kind == TrapKind::kWarmStart);
}

TEST_CASE("traps: a flood from one source is cut to burst + rate x elapsed", "[pollers][traps]") {
  TrapOptions options = loopback_options();
  options.burst = 50;
  options.rate_per_second = 10;
  Harness h(options);
  RawSender raw;
  const std::string trap = v2c_link_down();
  std::uint64_t sent = 0;
  // In batches, letting the receiver drain its socket, so the kernel's buffer never overflows
  // and every datagram is seen.
  auto send_batches = [&](int total) {
    for (int i = 0; i < total; i += 20) {
      for (int j = 0; j < 20 && i + j < total; ++j) raw.send(trap, h.port());
      sent += std::min(20, total - i);
      h.run_until([&] { return h.receiver->stats().received == sent; });
    }
  };
  send_batches(300);
  TrapReceiverStats s = h.receiver->stats();
  CHECK(s.decoded == 50);  // the clock did not move: the burst only
  CHECK(s.dropped_rate_limited == 250);
  CHECK(h.traps.size() == 50);
  CHECK(s.sources_tracked == 1);

  h.clock.advance(std::chrono::seconds(2));  // 20 tokens
  send_batches(40);
  s = h.receiver->stats();
  CHECK(s.decoded == 70);
  CHECK(s.dropped_rate_limited == 270);

  // Another source has its own bucket.
  RawSender other("127.0.0.2");
  other.send(trap, h.port());
  h.run_until([&] { return h.traps.size() == 71; });
  CHECK(h.traps.back().source == asio::ip::make_address("127.0.0.2"));
  CHECK(h.receiver->stats().sources_tracked == 2);
}

TEST_CASE("traps: SNMPv3 traps from configured USM users", "[pollers][traps]") {
  TrapOptions options = loopback_options();
  TrapV3User user;
  user.engine_id = "0x80001f8880aabbccdd01";
  user.user = "trapper";
  user.auth_protocol = AuthProtocol::kSHA;
  user.auth_password = "authpass1";
  user.priv_protocol = PrivProtocol::kAES128;
  user.priv_password = "privpass1";
  options.v3_users.push_back(user);
  Harness h(options);
  auto v3_args = [&](const char* user_name, const char* auth_password) {
    return std::vector<std::string>{"-v",
                                    "3",
                                    "-e",
                                    "0x80001f8880aabbccdd01",
                                    "-u",
                                    user_name,
                                    "-l",
                                    "authPriv",
                                    "-a",
                                    "SHA",
                                    "-A",
                                    auth_password,
                                    "-x",
                                    "AES",
                                    "-X",
                                    "privpass1",
                                    "-t",
                                    "0.3",
                                    "-r",
                                    "0",
                                    h.target(),
                                    "777",
                                    "1.3.6.1.6.3.1.1.5.3",
                                    "1.3.6.1.2.1.2.2.1.1.2",
                                    "i",
                                    "2"};
  };
  REQUIRE(h.run_tool("snmptrap", v3_args("trapper", "authpass1")) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  const Trap& t = h.traps[0];
  CHECK(t.version == SnmpVersion::kV3);
  CHECK(t.v3_user == "trapper");
  CHECK(t.v3_engine_id == "80001f8880aabbccdd01");  // which configured sender it was
  CHECK(t.community.empty());
  CHECK(t.kind == TrapKind::kLinkDown);
  CHECK(t.if_index == 2u);
  CHECK(t.uptime_ticks == 777u);

  // A wrong password and an unknown user are refused by USM.
  REQUIRE(h.run_tool("snmptrap", v3_args("trapper", "wrongpass")) == 0);
  REQUIRE(h.run_tool("snmptrap", v3_args("stranger", "authpass1")) == 0);
  h.run_until([&] { return h.receiver->stats().dropped_v3_security == 2; });
  // v3 informs are not supported: snmpinform's engine discovery (a probe to the receiver as
  // authoritative engine) gets no Report, so it gives up; nothing is delivered.
  const std::uint64_t received_before = h.receiver->stats().received;
  CHECK(h.run_tool("snmpinform", v3_args("trapper", "authpass1")) != 0);
  CHECK(h.receiver->stats().received > received_before);
  CHECK(h.traps.size() == 1);

  SECTION("bad v3 users are refused at open()") {
    TrapOptions bad = loopback_options();
    user.auth_password = "short";
    bad.v3_users.push_back(user);
    ManualClock clock;
    auto opened = TrapReceiver::open(bad, h.io.get_executor(), clock, [](Trap) {});
    REQUIRE(!opened);
    CHECK(opened.error().code == netpulse::core::Errc::kInvalidInput);
  }
}

TEST_CASE("traps: options are validated, the port is reported", "[pollers][traps]") {
  asio::io_context io;
  ManualClock clock;
  auto on_trap = [](Trap) {};
  TrapOptions bad = loopback_options();
  bad.burst = 0;
  auto opened = TrapReceiver::open(bad, io.get_executor(), clock, on_trap);
  REQUIRE(!opened);
  CHECK(opened.error().code == netpulse::core::Errc::kInvalidInput);

  auto first = TrapReceiver::open(loopback_options(), io.get_executor(), clock, on_trap);
  REQUIRE(first);
  CHECK((*first)->local_endpoint().port() != 0);
  TrapOptions taken = loopback_options();
  taken.listen.port((*first)->local_endpoint().port());
  auto second = TrapReceiver::open(taken, io.get_executor(), clock, on_trap);
  REQUIRE(!second);
  CHECK(second.error().code == netpulse::core::Errc::kConfigError);
}

TEST_CASE("traps: IPv6 loopback", "[pollers][traps][ipv6]") {
  TrapOptions options;
  options.listen = udp::endpoint(asio::ip::make_address("::1"), 0);
  Harness h(options);
  REQUIRE(
      h.run_tool("snmptrap", {"-v", "2c", "-c", "public", "udp6:[::1]:" + std::to_string(h.port()),
                              "", "1.3.6.1.6.3.1.1.5.5"}) == 0);
  h.run_until([&] { return h.traps.size() == 1; });
  CHECK(h.traps[0].source == asio::ip::make_address("::1"));
  CHECK(h.traps[0].kind == TrapKind::kAuthenticationFailure);
}

TEST_CASE("traps: destroying the receiver from its callback is safe", "[pollers][traps]") {
  asio::io_context io;
  ManualClock clock;
  std::unique_ptr<TrapReceiver> receiver;
  int calls = 0;
  auto opened = TrapReceiver::open(loopback_options(), io.get_executor(), clock, [&](Trap) {
    ++calls;
    receiver.reset();
  });
  REQUIRE(opened);
  receiver = std::move(opened.value());
  RawSender raw;
  const std::uint16_t port = receiver->local_endpoint().port();
  raw.send(v2c_link_down(), port);
  raw.send(v2c_link_down(), port);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (receiver && std::chrono::steady_clock::now() < until) {
    io.run_one_for(std::chrono::milliseconds(20));
  }
  io.run_for(std::chrono::milliseconds(100));
  CHECK(calls == 1);
}

TEST_CASE("traps: a retransmitted inform is answered again but handed on once",
          "[pollers][traps]") {
  Harness h;
  RawSender sender;
  const std::string inform =
      message(1, "public", 0xa6,
              varbind(oid("1.3.6.1.2.1.1.3.0"), ber_int(1234, 0x43)) +
                  varbind(oid("1.3.6.1.6.3.1.1.4.1.0"), ber_oid(oid("1.3.6.1.6.3.1.1.5.3"))) +
                  varbind(oid("1.3.6.1.2.1.2.2.1.1.7"), ber_int(7)),
              9001);
  auto answers = [&] { return h.receiver->stats().informs_answered; };
  sender.send(inform, h.port());
  h.run_until([&] { return h.traps.size() == 1 && answers() == 1; });
  // The sender's answer got lost: it sends the same datagram again, twice.
  sender.send(inform, h.port());
  sender.send(inform, h.port());
  h.run_until([&] { return answers() == 3; });
  CHECK(h.traps.size() == 1);
  CHECK(h.receiver->stats().informs_duplicate == 2);
  CHECK(h.receiver->stats().decoded == 1);

  // Another request-id is another inform.
  const std::string next =
      message(1, "public", 0xa6,
              varbind(oid("1.3.6.1.2.1.1.3.0"), ber_int(1300, 0x43)) +
                  varbind(oid("1.3.6.1.6.3.1.1.4.1.0"), ber_oid(oid("1.3.6.1.6.3.1.1.5.3"))),
              9002);
  sender.send(next, h.port());
  h.run_until([&] { return h.traps.size() == 2; });

  // After a minute the same datagram counts again (a sender that restarted its request-ids).
  h.clock.advance(std::chrono::seconds(61));
  sender.send(inform, h.port());
  h.run_until([&] { return h.traps.size() == 3; });
  CHECK(h.receiver->stats().informs_duplicate == 2);
  // A second sender (another port) with the same bytes is its own inform.
  RawSender other;
  other.send(next, h.port());
  h.run_until([&] { return h.traps.size() == 4; });
}
