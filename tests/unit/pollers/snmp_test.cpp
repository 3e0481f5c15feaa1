// SnmpClient against real agents: Debian's snmpd (v1, v2c, v3 users) and snmpsimd (a recorded
// 500-interface table with counters at their wrap points), plus fakes on loopback UDP sockets
// for what real agents do not do on demand: silence, garbage, truncated datagrams, wrong
// request IDs, OIDs that go backwards, an agent that stops answering mid-walk. Request timeouts
// are real time here (net-snmp keeps them on the monotonic clock, the tick timer is Asio's), so
// these cases use short timeouts; the injected ManualClock drives what the engine times itself
// (walk deadlines, idle sessions). No timed assertions on speed.
#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/pollers/snmp.hpp>

#include "support/run_until.hpp"
#include "support/snmpd.hpp"
#include "support/temp_dir.hpp"

namespace asio = boost::asio;
using netpulse::core::Errc;
using namespace netpulse::pollers;
using netpulse::test::SnmpdProcess;
using netpulse::test::SnmpsimProcess;
using netpulse::test::TempDir;

namespace {

using Answer = netpulse::core::Result<std::vector<VarBind>>;

Oid oid(const char* dotted) {
  return Oid::parse(dotted).value();
}

struct Harness {
  asio::io_context io;
  netpulse::core::SystemClock system_clock;
  std::unique_ptr<SnmpClient> client;

  explicit Harness(SnmpClientOptions options = {}, const netpulse::core::Clock* clock = nullptr) {
    auto opened = SnmpClient::open(options, io.get_executor(), clock ? *clock : system_clock);
    REQUIRE(opened.has_value());
    client = std::move(opened.value());
  }

  // Runs the loop until `count` answers arrived (at most 60 s of wall time).
  void run_until(const std::function<bool()>& done) {
    REQUIRE(netpulse::test::run_until(io, done, std::chrono::seconds(60)));
  }

  Answer get(const SnmpTarget& target, std::vector<Oid> oids) {
    std::optional<Answer> answer;
    client->get(target, std::move(oids), [&](Answer a) { answer.emplace(std::move(a)); });
    run_until([&] { return answer.has_value(); });
    return std::move(*answer);
  }

  Answer walk(const SnmpTarget& target, Oid root, WalkOptions options = {}) {
    std::optional<Answer> answer;
    client->walk(target, std::move(root), options, [&](Answer a) { answer.emplace(std::move(a)); });
    run_until([&] { return answer.has_value(); });
    return std::move(*answer);
  }

  Answer walk_columns(const SnmpTarget& target, std::vector<Oid> roots, WalkOptions options = {}) {
    std::optional<Answer> answer;
    client->walk_columns(target, std::move(roots), options,
                         [&](Answer a) { answer.emplace(std::move(a)); });
    run_until([&] { return answer.has_value(); });
    return std::move(*answer);
  }
};

SnmpTarget local_target(std::uint16_t port, SnmpVersion version = SnmpVersion::kV2c) {
  SnmpTarget t;
  t.address = asio::ip::make_address("127.0.0.1");
  t.port = port;
  t.version = version;
  t.community = "public";
  t.timeout = std::chrono::milliseconds(500);
  t.retries = 1;
  return t;
}

SnmpTarget v3_target(std::uint16_t port, std::string user, AuthProtocol auth, std::string auth_pw,
                     PrivProtocol priv, std::string priv_pw) {
  SnmpTarget t = local_target(port, SnmpVersion::kV3);
  t.user = std::move(user);
  t.auth_protocol = auth;
  t.auth_password = std::move(auth_pw);
  t.priv_protocol = priv;
  t.priv_password = std::move(priv_pw);
  return t;
}

// --- a minimal BER codec for the fake agents -------------------------------------------------

std::string ber_length(std::size_t n) {
  if (n < 128) return std::string(1, static_cast<char>(n));
  if (n < 256) return std::string{'\x81', static_cast<char>(n)};
  return std::string{'\x82', static_cast<char>(n >> 8), static_cast<char>(n & 0xff)};
}
std::string tlv(std::uint8_t tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + ber_length(content.size()) + content;
}
std::string ber_int(std::int64_t v) {
  std::string out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
  while (out.size() > 1 &&
         ((out[0] == 0 && !(out[1] & 0x80)) || (out[0] == '\xff' && (out[1] & 0x80)))) {
    out.erase(0, 1);
  }
  return tlv(0x02, out);
}
std::string ber_oid(const Oid& o) {
  std::string out(1, static_cast<char>(o[0] * 40 + o[1]));
  for (std::size_t i = 2; i < o.size(); ++i) {
    std::uint32_t v = o[i];
    std::string arc(1, static_cast<char>(v & 0x7f));
    while ((v >>= 7) != 0) arc.insert(arc.begin(), static_cast<char>(0x80 | (v & 0x7f)));
    out += arc;
  }
  return tlv(0x06, out);
}
// A v2c Response with Integer32 varbinds (and an error-status, 0 = noError).
std::string v2c_response(std::int64_t request_id, const std::vector<std::pair<Oid, int>>& vbs,
                         int error_status = 0) {
  std::string list;
  for (const auto& [o, v] : vbs) list += tlv(0x30, ber_oid(o) + ber_int(v));
  std::string pdu = tlv(0xa2, ber_int(request_id) + ber_int(error_status) +
                                  ber_int(error_status != 0 ? 1 : 0) + tlv(0x30, list));
  return tlv(0x30, ber_int(1) + tlv(0x04, "public") + pdu);
}
// The request-id of a v1/v2c request (message SEQUENCE, version, community, PDU, request-id).
std::optional<std::int64_t> request_id(const std::string& m) {
  std::size_t p = 0;
  auto header = [&](std::size_t& len) -> bool {
    if (p + 2 > m.size()) return false;
    ++p;
    std::uint8_t first = static_cast<std::uint8_t>(m[p++]);
    if (first < 128) {
      len = first;
    } else {
      len = 0;
      for (int i = 0; i < (first & 0x7f); ++i) len = (len << 8) | static_cast<std::uint8_t>(m[p++]);
    }
    return p <= m.size();
  };
  std::size_t len = 0;
  if (!header(len)) return std::nullopt;  // message
  if (!header(len)) return std::nullopt;  // version
  p += len;
  if (!header(len)) return std::nullopt;  // community
  p += len;
  if (!header(len)) return std::nullopt;                        // PDU
  if (!header(len) || p + len > m.size()) return std::nullopt;  // request-id
  std::int64_t id = (m[p] & 0x80) ? -1 : 0;
  for (std::size_t i = 0; i < len; ++i) id = (id << 8) | static_cast<std::uint8_t>(m[p + i]);
  return id;
}

// The max-repetitions of a GETBULK request: the PDU's third INTEGER (error-index's place).
std::optional<std::int64_t> max_repetitions_of(const std::string& m) {
  std::size_t p = 0;
  auto header = [&](std::size_t& len) -> bool {
    if (p + 2 > m.size()) return false;
    ++p;
    std::uint8_t first = static_cast<std::uint8_t>(m[p++]);
    len = first;
    if (first >= 128) {
      len = 0;
      for (int i = 0; i < (first & 0x7f); ++i) len = (len << 8) | static_cast<std::uint8_t>(m[p++]);
    }
    return p <= m.size();
  };
  std::size_t len = 0;
  if (!header(len)) return std::nullopt;  // message
  for (int skip = 0; skip < 2; ++skip) {  // version, community
    if (!header(len)) return std::nullopt;
    p += len;
  }
  if (!header(len)) return std::nullopt;  // PDU
  for (int skip = 0; skip < 2; ++skip) {  // request-id, non-repeaters
    if (!header(len)) return std::nullopt;
    p += len;
  }
  if (!header(len) || p + len > m.size()) return std::nullopt;
  std::int64_t v = 0;
  for (std::size_t i = 0; i < len; ++i) v = (v << 8) | static_cast<std::uint8_t>(m[p + i]);
  return v;
}

// A UDP agent on 127.0.0.1 run by the test's loop: `reply` maps a request datagram to the
// datagrams sent back (none = silence).
class FakeAgent {
 public:
  using Reply = std::function<std::vector<std::string>(const std::string& request)>;
  FakeAgent(asio::io_context& io, Reply reply)
      : socket_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        reply_(std::move(reply)) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  int requests() const { return requests_; }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](auto ec, std::size_t n) {
      if (ec) return;
      ++requests_;
      for (const std::string& d : reply_(std::string(buf_.data(), n))) {
        boost::system::error_code ignored;
        socket_.send_to(asio::buffer(d), from_, 0, ignored);
      }
      receive();
    });
  }
  asio::ip::udp::socket socket_;
  Reply reply_;
  std::array<char, 65536> buf_{};
  asio::ip::udp::endpoint from_;
  int requests_ = 0;
};

// A UDP proxy in front of a real agent: forwards requests, passes each answer through `mangle`
// (which may drop it by returning nothing).
class Proxy {
 public:
  using Mangle = std::function<std::vector<std::string>(int answer_number, std::string answer)>;
  Proxy(asio::io_context& io, std::uint16_t agent_port, Mangle mangle)
      : front_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        back_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        agent_(asio::ip::make_address("127.0.0.1"), agent_port),
        mangle_(std::move(mangle)) {
    receive_front();
    receive_back();
  }
  std::uint16_t port() const { return front_.local_endpoint().port(); }

 private:
  void receive_front() {
    front_.async_receive_from(asio::buffer(in_), client_, [this](auto ec, std::size_t n) {
      if (ec) return;
      boost::system::error_code ignored;
      back_.send_to(asio::buffer(in_.data(), n), agent_, 0, ignored);
      receive_front();
    });
  }
  void receive_back() {
    back_.async_receive(asio::buffer(out_), [this](auto ec, std::size_t n) {
      if (ec) return;
      for (const std::string& d : mangle_(++answers_, std::string(out_.data(), n))) {
        boost::system::error_code ignored;
        front_.send_to(asio::buffer(d), client_, 0, ignored);
      }
      receive_back();
    });
  }
  asio::ip::udp::socket front_, back_;
  asio::ip::udp::endpoint agent_, client_;
  Mangle mangle_;
  std::array<char, 65536> in_{}, out_{};
  int answers_ = 0;
};

}  // namespace

TEST_CASE("snmp oid: parses dotted numeric OIDs and refuses the rest", "[pollers][snmp]") {
  CHECK(oid("1.3.6.1.2.1.1.1.0").str() == "1.3.6.1.2.1.1.1.0");
  CHECK(oid(".1.3.6.1").str() == "1.3.6.1");
  CHECK(oid("1.3.4294967295").str() == "1.3.4294967295");
  for (const char* bad :
       {"", ".", "1", "1..3", "1.3.", "sysDescr.0", "1.3.x", "1.3.4294967296", "1.3.-1", " 1.3"}) {
    INFO(bad);
    auto parsed = Oid::parse(bad);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == Errc::kInvalidInput);
  }
  CHECK(oid("1.3.6.1.2") < oid("1.3.6.1.10"));
  CHECK(oid("1.3.6.1") < oid("1.3.6.1.0"));
  CHECK(oid("1.3.6.1.2.1.2.2.1.1.5").starts_with(oid("1.3.6.1.2.1.2.2")));
  CHECK_FALSE(oid("1.3.6.1.2.1.2.3").starts_with(oid("1.3.6.1.2.1.2.2")));
}

TEST_CASE("snmp value: numbers and type names of SMI values", "[pollers][snmp]") {
  CHECK(numeric_value(SnmpValue{std::int64_t{-5}}) == -5.0);
  CHECK(numeric_value(SnmpValue{Counter32{4294967295u}}) == 4294967295.0);
  CHECK(numeric_value(SnmpValue{Gauge32{7}}) == 7.0);
  CHECK(numeric_value(SnmpValue{TimeTicks{100}}) == 100.0);
  CHECK(numeric_value(SnmpValue{Counter64{1ull << 63}}) == 9223372036854775808.0);
  CHECK_FALSE(numeric_value(SnmpValue{std::string("12")}).has_value());
  CHECK_FALSE(numeric_value(SnmpValue{NoSuchInstance{}}).has_value());
  CHECK(value_type_name(SnmpValue{Counter64{}}) == "Counter64");
  CHECK(value_type_name(SnmpValue{std::string()}) == "OctetString");
  CHECK(value_type_name(SnmpValue{EndOfMibView{}}) == "endOfMibView");
  CHECK(value_type_name(SnmpValue{oid("1.3.6")}) == "ObjectIdentifier");
}

TEST_CASE("snmp target: validation names the field at fault", "[pollers][snmp]") {
  SnmpTarget ok = local_target(161);
  CHECK(validate(ok).has_value());
  auto field_of = [](const SnmpTarget& t) {
    auto r = validate(t);
    REQUIRE_FALSE(r.has_value());
    return std::string(r.error().details.at("field").as_string());
  };
  SnmpTarget t = ok;
  t.community.clear();
  CHECK(field_of(t) == "community");
  t = ok;
  t.timeout = std::chrono::milliseconds(0);
  CHECK(field_of(t) == "timeout");
  t = v3_target(161, "", AuthProtocol::kSHA, "longenough", PrivProtocol::kNone, "");
  CHECK(field_of(t) == "user");
  t = v3_target(161, "u", AuthProtocol::kSHA, "short", PrivProtocol::kNone, "");
  CHECK(field_of(t) == "auth_password");
  t = v3_target(161, "u", AuthProtocol::kNone, "", PrivProtocol::kAES128, "longenough");
  CHECK(field_of(t) == "priv_protocol");
  // Debian 12's net-snmp supports every protocol of the face.
  for (auto a : {AuthProtocol::kMD5, AuthProtocol::kSHA, AuthProtocol::kSHA224,
                 AuthProtocol::kSHA256, AuthProtocol::kSHA384, AuthProtocol::kSHA512}) {
    CHECK(auth_protocol_supported(a));
  }
  for (auto p :
       {PrivProtocol::kDES, PrivProtocol::kAES128, PrivProtocol::kAES192, PrivProtocol::kAES256}) {
    CHECK(priv_protocol_supported(p));
  }
}

TEST_CASE("snmp client: v2c and v1 get and walk against snmpd", "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;

  for (auto version : {SnmpVersion::kV2c, SnmpVersion::kV1}) {
    INFO("version " << static_cast<int>(version));
    SnmpTarget target = local_target(agent.port(), version);
    auto got = h.get(target, {oid("1.3.6.1.2.1.1.1.0"), oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 2);
    CHECK((*got)[0].oid == oid("1.3.6.1.2.1.1.1.0"));
    REQUIRE(std::holds_alternative<std::string>((*got)[0].value));
    CHECK_FALSE(std::get<std::string>((*got)[0].value).empty());
    CHECK(std::holds_alternative<TimeTicks>((*got)[1].value));

    auto system = h.walk(target, oid("1.3.6.1.2.1.1"));
    REQUIRE(system.has_value());
    CHECK(system->size() >= 7);
    for (std::size_t i = 0; i < system->size(); ++i) {
      CHECK((*system)[i].oid.starts_with(oid("1.3.6.1.2.1.1")));
      if (i > 0) CHECK((*system)[i - 1].oid < (*system)[i].oid);
    }

    // ifTable: every row has ifIndex and ifDescr; one column stream of both.
    auto if_table = h.walk(target, oid("1.3.6.1.2.1.2.2"), WalkOptions{.max_repetitions = 3});
    REQUIRE(if_table.has_value());
    auto columns = h.walk_columns(target, {oid("1.3.6.1.2.1.2.2.1.1"), oid("1.3.6.1.2.1.2.2.1.2")});
    REQUIRE(columns.has_value());
    REQUIRE(columns->size() % 2 == 0);
    const std::size_t rows = columns->size() / 2;
    CHECK(rows >= 1);
    CHECK((*columns)[0].oid.starts_with(oid("1.3.6.1.2.1.2.2.1.1")));
    CHECK((*columns)[rows].oid.starts_with(oid("1.3.6.1.2.1.2.2.1.2")));
    CHECK(if_table->size() >= rows * 20);
  }

  // v2c: a missing instance is a value, not an error; v1: noSuchName fails the GET.
  auto missing = h.get(local_target(agent.port()), {oid("1.3.6.1.2.1.1.99.0")});
  REQUIRE(missing.has_value());
  CHECK((std::holds_alternative<NoSuchObject>((*missing)[0].value) ||
         std::holds_alternative<NoSuchInstance>((*missing)[0].value)));
  auto missing_v1 =
      h.get(local_target(agent.port(), SnmpVersion::kV1), {oid("1.3.6.1.2.1.1.99.0")});
  REQUIRE_FALSE(missing_v1.has_value());
  CHECK(missing_v1.error().code == Errc::kNotFound);
}

TEST_CASE("snmp client: a walk over IPv6 loopback against snmpd", "[pollers][snmp][ipv6]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());  // listens on udp6:[::1] too when the host has it
  Harness h;
  SnmpTarget v6 = local_target(agent.port());
  v6.address = asio::ip::make_address("::1");
  auto got = h.walk(v6, oid("1.3.6.1.2.1.1"));
  if (!got) FAIL(got.error().message);
  CHECK(got->size() >= 7);
}

TEST_CASE("snmp client: v3 noAuthNoPriv, authNoPriv and authPriv against snmpd",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;
  const std::uint16_t port = agent.port();
  struct Case {
    const char* name;
    SnmpTarget target;
  };
  const Case cases[] = {
      {"noauth", v3_target(port, "noauth", AuthProtocol::kNone, "", PrivProtocol::kNone, "")},
      {"MD5 authNoPriv", v3_target(port, "md5auth", AuthProtocol::kMD5, "md5-auth-password",
                                   PrivProtocol::kNone, "")},
      {"SHA/AES", v3_target(port, "shaaes", AuthProtocol::kSHA, "shaaes-auth-pw",
                            PrivProtocol::kAES128, "shaaes-priv-pw")},
      {"SHA-256/AES", v3_target(port, "sha256aes", AuthProtocol::kSHA256, "sha256-auth-pw",
                                PrivProtocol::kAES128, "sha256-priv-pw")},
      {"SHA-512/AES-256", v3_target(port, "sha512aes256", AuthProtocol::kSHA512, "sha512-auth-pw",
                                    PrivProtocol::kAES256, "sha512-priv-pw")},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto got = h.get(c.target, {oid("1.3.6.1.2.1.1.3.0")});
    if (!got) FAIL(got.error().message);
    CHECK(std::holds_alternative<TimeTicks>((*got)[0].value));
    auto walked = h.walk(c.target, oid("1.3.6.1.2.1.1"));
    if (!walked) FAIL(walked.error().message);
    CHECK(walked->size() >= 7);
  }

  SECTION("a wrong auth password is a clear authentication error") {
    auto bad = h.get(
        v3_target(port, "wrongpw", AuthProtocol::kSHA, "not-the-password", PrivProtocol::kNone, ""),
        {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(bad.has_value());
    INFO(bad.error().message);
    CHECK(bad.error().code == Errc::kInvalidCredentials);
    CHECK(bad.error().message.find("usmStatsWrongDigests") != std::string::npos);
  }
  SECTION("an unknown user is a clear error") {
    auto bad = h.get(v3_target(port, "nobody-here", AuthProtocol::kSHA, "whatever-pw",
                               PrivProtocol::kAES128, "whatever-pw"),
                     {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(bad.has_value());
    INFO(bad.error().message);
    CHECK(bad.error().code == Errc::kInvalidCredentials);
    CHECK(bad.error().message.find("usmStatsUnknownUserNames") != std::string::npos);
  }
}

TEST_CASE("snmp client: a v3 agent restarted with a new engine ID is discovered again",
          "[pollers][snmp]") {
  TempDir first_dir, second_dir;
  Harness h;
  auto agent = std::make_unique<SnmpdProcess>(first_dir.path());
  const std::uint16_t port = agent->port();
  const SnmpTarget target = v3_target(port, "shaaes", AuthProtocol::kSHA, "shaaes-auth-pw",
                                      PrivProtocol::kAES128, "shaaes-priv-pw");
  REQUIRE(h.get(target, {oid("1.3.6.1.2.1.1.3.0")}).has_value());
  agent.reset();
  agent = std::make_unique<SnmpdProcess>(second_dir.path(), std::vector<std::string>{}, port);
  // The first request still carries the old engine ID: net-snmp cannot match what the agent
  // answers, so it times out, with a note saying why, and the session is marked for
  // rediscovery; the second one works again.
  auto once = h.get(target, {oid("1.3.6.1.2.1.1.3.0")});
  if (!once) {
    INFO(once.error().message);
    CHECK((once.error().code == Errc::kTimeout || once.error().code == Errc::kProtocolError));
  }
  auto twice = h.get(target, {oid("1.3.6.1.2.1.1.3.0")});
  if (!twice) FAIL(twice.error().message);
}

// net-snmp keeps one USM entry (localised keys) per (engine ID, user) for the whole process;
// these cases change the keys of one agent and user between requests of one client, and check
// that every request is made with its own target's keys (docs/snmp.md, "v3 keys").
TEST_CASE("snmp client: a changed v3 auth password takes effect at the next request",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;
  const SnmpTarget right = v3_target(agent.port(), "shaaes", AuthProtocol::kSHA, "shaaes-auth-pw",
                                     PrivProtocol::kAES128, "shaaes-priv-pw");
  SnmpTarget wrong = right;
  wrong.auth_password = "not-the-auth-pw";
  // Other users of the same agent first, so that net-snmp's (sorted, linked) user list holds
  // entries on both sides of the one whose keys are replaced.
  for (const SnmpTarget& other :
       {v3_target(agent.port(), "noauth", AuthProtocol::kNone, "", PrivProtocol::kNone, ""),
        v3_target(agent.port(), "md5auth", AuthProtocol::kMD5, "md5-auth-password",
                  PrivProtocol::kNone, "")}) {
    auto got = h.get(other, {oid("1.3.6.1.2.1.1.3.0")});
    if (!got) FAIL(got.error().message);
  }

  auto first = h.get(right, {oid("1.3.6.1.2.1.1.3.0")});
  if (!first) FAIL(first.error().message);
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    auto bad = h.get(wrong, {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(bad.has_value());
    INFO(bad.error().message);
    CHECK(bad.error().code == Errc::kInvalidCredentials);
    CHECK(bad.error().message.find("usmStatsWrongDigests") != std::string::npos);
    auto bad_walk = h.walk(wrong, oid("1.3.6.1.2.1.1"));
    REQUIRE_FALSE(bad_walk.has_value());
    CHECK(bad_walk.error().code == Errc::kInvalidCredentials);
    // The right password again, on the session cached since the first request.
    auto good = h.get(right, {oid("1.3.6.1.2.1.1.3.0")});
    if (!good) FAIL(good.error().message);
    auto good_walk = h.walk(right, oid("1.3.6.1.2.1.1"));
    if (!good_walk) FAIL(good_walk.error().message);
    CHECK(good_walk->size() >= 7);
  }
}

TEST_CASE("snmp client: a changed v3 privacy password takes effect at the next request",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;
  const SnmpTarget right = v3_target(agent.port(), "sha256aes", AuthProtocol::kSHA256,
                                     "sha256-auth-pw", PrivProtocol::kAES128, "sha256-priv-pw");
  SnmpTarget wrong = right;
  wrong.priv_password = "not-the-priv-pw";
  wrong.timeout = std::chrono::milliseconds(300);
  wrong.retries = 0;

  auto first = h.get(right, {oid("1.3.6.1.2.1.1.3.0")});
  if (!first) FAIL(first.error().message);
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    // snmpd cannot parse what it decrypts with the wrong key and drops the request without a
    // Report (its log: "error parsing ScopedPDU"), so this one ends in a timeout.
    auto bad = h.get(wrong, {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(bad.has_value());
    INFO(bad.error().message);
    CHECK((bad.error().code == Errc::kTimeout || bad.error().code == Errc::kInvalidCredentials));
    auto good = h.get(right, {oid("1.3.6.1.2.1.1.3.0")});
    if (!good) FAIL(good.error().message);
  }
}

TEST_CASE("snmp client: a v3 password changed on the agent works without a restart",
          "[pollers][snmp]") {
  // Both agents have one engine ID (snmpd's `engineID` token), as one device keeps its engine
  // ID when its users are reconfigured; only the user's passwords change.
  auto config = [](const std::string& auth_pw, const std::string& priv_pw) {
    return std::vector<std::string>{
        "engineID netpulse-v3-rotation",
        "createUser rotating SHA \"" + auth_pw + "\" AES \"" + priv_pw + "\"",
        "rouser rotating priv",
    };
  };
  TempDir old_dir, new_dir;
  Harness h;
  auto agent = std::make_unique<SnmpdProcess>(old_dir.path(),
                                              config("rotating-old-auth", "rotating-old-priv"));
  const std::uint16_t port = agent->port();
  const SnmpTarget old_credentials =
      v3_target(port, "rotating", AuthProtocol::kSHA, "rotating-old-auth", PrivProtocol::kAES128,
                "rotating-old-priv");
  const SnmpTarget new_credentials =
      v3_target(port, "rotating", AuthProtocol::kSHA, "rotating-new-auth", PrivProtocol::kAES128,
                "rotating-new-priv");
  auto before = h.get(old_credentials, {oid("1.3.6.1.2.1.1.3.0")});
  if (!before) FAIL(before.error().message);

  agent.reset();
  agent = std::make_unique<SnmpdProcess>(new_dir.path(),
                                         config("rotating-new-auth", "rotating-new-priv"), port);
  // The device's credentials are not edited yet: the old ones are refused...
  auto refused = h.get(old_credentials, {oid("1.3.6.1.2.1.1.3.0")});
  REQUIRE_FALSE(refused.has_value());
  INFO(refused.error().message);
  CHECK(refused.error().code == Errc::kInvalidCredentials);
  // ...and once they are, the new ones work, in the same process.
  auto after = h.get(new_credentials, {oid("1.3.6.1.2.1.1.3.0")});
  if (!after) FAIL(after.error().message);
  auto walked = h.walk(new_credentials, oid("1.3.6.1.2.1.1"));
  if (!walked) FAIL(walked.error().message);
  CHECK(walked->size() >= 7);
}

TEST_CASE("snmp client: a wrong community times out", "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;
  SnmpTarget target = local_target(agent.port());
  target.community = "not-public";
  target.timeout = std::chrono::milliseconds(200);
  auto got = h.get(target, {oid("1.3.6.1.2.1.1.3.0")});
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == Errc::kTimeout);
}

TEST_CASE("snmp client: many requests in flight are all answered; beyond the bound refused",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  SnmpClientOptions options;
  options.max_in_flight = 400;
  Harness h(options);
  SnmpTarget v2c = local_target(agent.port());
  v2c.timeout = std::chrono::milliseconds(2000);
  SnmpTarget v3 = v3_target(agent.port(), "shaaes", AuthProtocol::kSHA, "shaaes-auth-pw",
                            PrivProtocol::kAES128, "shaaes-priv-pw");
  v3.timeout = std::chrono::milliseconds(2000);
  int ok = 0, refused = 0, other = 0, answered = 0;
  auto count = [&](Answer a) {
    ++answered;
    if (a) {
      ++ok;
    } else if (a.error().code == Errc::kServiceUnavailable) {
      ++refused;
    } else {
      ++other;
      UNSCOPED_INFO(a.error().message);
    }
  };
  for (int i = 0; i < 300; ++i) h.client->get(v2c, {oid("1.3.6.1.2.1.1.3.0")}, count);
  for (int i = 0; i < 50; ++i) h.client->walk(v3, oid("1.3.6.1.2.1.1"), {}, count);
  for (int i = 0; i < 50; ++i) h.client->walk(v2c, oid("1.3.6.1.2.1.2.2"), {}, count);
  CHECK(h.client->stats().in_flight == 400);
  for (int i = 0; i < 10; ++i) h.client->get(v2c, {oid("1.3.6.1.2.1.1.3.0")}, count);
  h.run_until([&] { return answered == 410; });
  CHECK(ok == 400);
  CHECK(refused == 10);
  CHECK(other == 0);
  CHECK(h.client->stats().in_flight == 0);
}

TEST_CASE("snmp client: bad arguments are refused before anything is sent", "[pollers][snmp]") {
  Harness h;
  FakeAgent agent(h.io, [](const std::string&) { return std::vector<std::string>{}; });
  const SnmpTarget t = local_target(agent.port());
  Oid too_long;
  for (int i = 0; i < 129; ++i) too_long.push_back(1);
  std::vector<Oid> too_many(65, oid("1.3.6.1.2.1.1.3.0"));
  auto check = [&](Answer a, const char* field) {
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().code == Errc::kInvalidInput);
    CHECK(std::string(a.error().details.at("field").as_string()) == field);
  };
  check(h.get(t, {}), "oids");
  check(h.get(t, too_many), "oids");
  check(h.get(t, {too_long}), "oids");
  check(h.walk(t, too_long), "root");
  check(h.walk(t, oid("1.3.6"), WalkOptions{.max_repetitions = 0}), "max_repetitions");
  SnmpTarget no_address = t;
  no_address.address = asio::ip::address();
  check(h.get(no_address, {oid("1.3.6.1.2.1.1.3.0")}), "address");
  CHECK(agent.requests() == 0);
}

TEST_CASE("snmp client: silence times out, garbage and wrong request IDs are dropped",
          "[pollers][snmp]") {
  Harness h;
  SECTION("nothing answers") {
    FakeAgent silent(h.io, [](const std::string&) { return std::vector<std::string>{}; });
    SnmpTarget t = local_target(silent.port());
    t.timeout = std::chrono::milliseconds(100);
    t.retries = 2;
    auto got = h.get(t, {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == Errc::kTimeout);
    CHECK(silent.requests() == 3);
  }
  SECTION("garbage and truncated answers") {
    FakeAgent garbage(h.io, [](const std::string& request) {
      auto id = request_id(request);
      std::string good = v2c_response(id.value_or(0), {{oid("1.3.6.1.2.1.1.3.0"), 5}});
      return std::vector<std::string>{"\x30\x82\xff\xff garbage", good.substr(0, good.size() - 4),
                                      std::string(1, '\0'), good.substr(0, 9)};
    });
    SnmpTarget t = local_target(garbage.port());
    t.timeout = std::chrono::milliseconds(150);
    auto got = h.get(t, {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(got.has_value());
    INFO(got.error().message);
    CHECK(got.error().code == Errc::kTimeout);
    CHECK(h.client->stats().unparseable_replies >= 4);
    auto walked = h.walk(t, oid("1.3.6.1.2.1"));
    REQUIRE_FALSE(walked.has_value());
    CHECK(walked.error().code == Errc::kTimeout);
  }
  SECTION("a wrong request-id") {
    FakeAgent liar(h.io, [](const std::string& request) {
      auto id = request_id(request);
      return std::vector<std::string>{
          v2c_response(id.value_or(0) + 1, {{oid("1.3.6.1.2.1.1.3.0"), 5}})};
    });
    SnmpTarget t = local_target(liar.port());
    t.timeout = std::chrono::milliseconds(150);
    auto got = h.get(t, {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == Errc::kTimeout);
  }
  SECTION("a GET answered with another OID") {
    FakeAgent other(h.io, [](const std::string& request) {
      return std::vector<std::string>{
          v2c_response(request_id(request).value_or(0), {{oid("1.3.6.1.2.1.1.5.0"), 5}})};
    });
    auto got = h.get(local_target(other.port()), {oid("1.3.6.1.2.1.1.3.0")});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == Errc::kProtocolError);
  }
}

// The trap_decode fuzz target found that net-snmp 5.9's SNMPv3 parser trusts the length of
// msgSecurityParameters and reads past a datagram that claims more; a poll's reply reaches the
// same parser. Replies whose BER lengths overrun them are dropped before net-snmp sees them.
TEST_CASE("snmp client: replies whose BER lengths overrun them never reach net-snmp",
          "[pollers][snmp]") {
  Harness h;
  // The fuzzer's datagram: msgSecurityParameters says 35 bytes, the message ends 16 bytes later.
  const std::string overrun(
      "\x30\x81\x24\x02\x01\x03\x30\x0e\x02\x01\x4d\x02\x03\x00\xff\xe3\x04"
      "\x01\x00\x02\x01\x03\x04\x23\x30\x21\x04\x0d\x55\x02\x01\x01\x02\x06"
      "\x01\x06\x03\x01\x01",
      39);
  FakeAgent hostile(h.io, [&](const std::string&) {
    return std::vector<std::string>{overrun, "\x30\x82\xff\xff garbage"};
  });
  // The message's own version (3) decides how net-snmp parses it, whatever the session's.
  SnmpTarget t = local_target(hostile.port());
  t.timeout = std::chrono::milliseconds(150);
  auto got = h.get(t, {oid("1.3.6.1.2.1.1.3.0")});
  REQUIRE_FALSE(got.has_value());
  INFO(got.error().message);
  CHECK(got.error().code == Errc::kTimeout);
  CHECK(hostile.requests() >= 1);
  const auto stats = h.client->stats();
  CHECK(stats.malformed_replies == 2 * static_cast<std::uint64_t>(hostile.requests()));
  CHECK(stats.unparseable_replies >= stats.malformed_replies);

  // A well-formed answer after them is still read.
  FakeAgent fine(h.io, [](const std::string& request) {
    return std::vector<std::string>{
        v2c_response(request_id(request).value_or(0), {{oid("1.3.6.1.2.1.1.3.0"), 5}})};
  });
  auto good = h.get(local_target(fine.port()), {oid("1.3.6.1.2.1.1.3.0")});
  REQUIRE(good.has_value());
  CHECK(h.client->stats().malformed_replies == stats.malformed_replies);
}

TEST_CASE("snmp client: a walk refuses OIDs that do not increase", "[pollers][snmp]") {
  Harness h;
  // Every answer starts again at row 1: a looping agent.
  FakeAgent looping(h.io, [](const std::string& request) {
    return std::vector<std::string>{
        v2c_response(request_id(request).value_or(0),
                     {{oid("1.3.6.1.2.1.2.2.1.1.1"), 1}, {oid("1.3.6.1.2.1.2.2.1.1.2"), 2}})};
  });
  auto walked = h.walk(local_target(looping.port()), oid("1.3.6.1.2.1.2.2.1.1"));
  REQUIRE_FALSE(walked.has_value());
  INFO(walked.error().message);
  CHECK(walked.error().code == Errc::kProtocolError);
  CHECK(walked.error().message.find("must increase") != std::string::npos);
  CHECK(looping.requests() == 2);

  // Going backwards inside one answer.
  FakeAgent backwards(h.io, [](const std::string& request) {
    return std::vector<std::string>{
        v2c_response(request_id(request).value_or(0),
                     {{oid("1.3.6.1.2.1.2.2.1.1.5"), 1}, {oid("1.3.6.1.2.1.2.2.1.1.3"), 2}})};
  });
  auto back = h.walk(local_target(backwards.port()), oid("1.3.6.1.2.1.2.2.1.1"));
  REQUIRE_FALSE(back.has_value());
  CHECK(back.error().code == Errc::kProtocolError);

  // max_values bounds a walk of an endless agent.
  std::uint32_t next = 1;
  FakeAgent endless(h.io, [&](const std::string& request) {
    std::vector<std::pair<Oid, int>> vbs;
    for (int i = 0; i < 10; ++i) {
      Oid o = oid("1.3.6.1.2.1.2.2.1.1");
      o.push_back(next++);
      vbs.emplace_back(o, i);
    }
    return std::vector<std::string>{v2c_response(request_id(request).value_or(0), vbs)};
  });
  auto bounded = h.walk(local_target(endless.port()), oid("1.3.6.1.2.1.2.2.1.1"),
                        WalkOptions{.max_repetitions = 10, .max_values = 55});
  REQUIRE_FALSE(bounded.has_value());
  CHECK(bounded.error().code == Errc::kPayloadTooLarge);
}

TEST_CASE("snmp client: tooBig halves max-repetitions until the answer fits", "[pollers][snmp]") {
  Harness h;
  std::vector<std::int64_t> asked;
  FakeAgent agent(h.io, [&](const std::string& request) {
    const auto id = request_id(request).value_or(0);
    const auto reps = max_repetitions_of(request).value_or(-1);
    asked.push_back(reps);
    if (reps > 6) return std::vector<std::string>{v2c_response(id, {}, 1 /* tooBig */)};
    // Two rows of the column, then the next column: the walk ends.
    return std::vector<std::string>{v2c_response(id, {{oid("1.3.6.1.2.1.2.2.1.1.1"), 1},
                                                      {oid("1.3.6.1.2.1.2.2.1.1.2"), 2},
                                                      {oid("1.3.6.1.2.1.2.2.1.2.1"), 3}})};
  });
  auto walked = h.walk(local_target(agent.port()), oid("1.3.6.1.2.1.2.2.1.1"),
                       WalkOptions{.max_repetitions = 40});
  if (!walked) FAIL(walked.error().message);
  CHECK(walked->size() == 2);
  CHECK(asked == std::vector<std::int64_t>{40, 20, 10, 5});
}

TEST_CASE("snmp client: an agent that stops answering mid-walk ends the walk with a timeout",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  Harness h;
  // Forwards the first 3 answers, then nothing.
  Proxy proxy(h.io, agent.port(), [](int n, std::string answer) {
    return n <= 3 ? std::vector<std::string>{std::move(answer)} : std::vector<std::string>{};
  });
  SnmpTarget t = local_target(proxy.port());
  t.timeout = std::chrono::milliseconds(200);
  auto walked = h.walk(t, oid("1.3.6.1.2.1"), WalkOptions{.max_repetitions = 2});
  REQUIRE_FALSE(walked.has_value());
  CHECK(walked.error().code == Errc::kTimeout);

  // Truncated answers from a real agent: dropped, then a timeout.
  Proxy truncating(h.io, agent.port(), [](int, std::string answer) {
    return std::vector<std::string>{answer.substr(0, answer.size() / 2)};
  });
  SnmpTarget tt = local_target(truncating.port());
  tt.timeout = std::chrono::milliseconds(200);
  auto truncated = h.walk(tt, oid("1.3.6.1.2.1.1"));
  REQUIRE_FALSE(truncated.has_value());
  CHECK(truncated.error().code == Errc::kTimeout);
  CHECK(truncated.error().message.find("could not be decoded") != std::string::npos);

  // The whole agent paused (SIGSTOP) with a walk under way, and a deadline shorter than the
  // retries: the walk ends with a timeout, nothing hangs.
  SnmpTarget direct = local_target(agent.port());
  direct.timeout = std::chrono::milliseconds(300);
  std::optional<Answer> answer;
  h.client->walk(direct, oid("1.3.6.1.2.1"), WalkOptions{.max_repetitions = 1},
                 [&](Answer a) { answer.emplace(std::move(a)); });
  h.io.run_one_for(std::chrono::milliseconds(20));
  agent.pause();
  h.run_until([&] { return answer.has_value(); });
  agent.resume();
  REQUIRE_FALSE(answer->has_value());
  CHECK(answer->error().code == Errc::kTimeout);
}

TEST_CASE("snmp client: snmpsim's 500-interface table with counters at their wrap points",
          "[pollers][snmp]") {
  TempDir dir;
  const int kInterfaces = 500;
  ::mkdir(dir.file("data").c_str(), 0755);
  {
    // .snmprec lines must be in OID order: columns, then rows.
    std::ofstream rec(dir.file("data/bigif.snmprec"));
    rec << "1.3.6.1.2.1.1.1.0|4|recorded router\n";
    rec << "1.3.6.1.2.1.1.3.0|67|123456\n";
    auto column = [&](const std::string& prefix, int type, auto value_of) {
      for (int i = 1; i <= kInterfaces; ++i)
        rec << prefix << "." << i << "|" << type << "|" << value_of(i) << "\n";
    };
    column("1.3.6.1.2.1.2.2.1.1", 2, [](int i) { return std::to_string(i); });
    column("1.3.6.1.2.1.2.2.1.2", 4, [](int i) { return "eth" + std::to_string(i); });
    column("1.3.6.1.2.1.2.2.1.10", 65, [](int i) { return std::to_string(4294967295u - i); });
    column("1.3.6.1.2.1.2.2.1.16", 65,
           [](int i) { return std::to_string(i % 2 ? 0u : 4294967295u); });
    column("1.3.6.1.2.1.31.1.1.1.6", 70, [](int i) {
      return std::to_string(18446744073709551615ull - static_cast<unsigned>(i));
    });
    column("1.3.6.1.2.1.31.1.1.1.10", 70,
           [](int i) { return std::to_string(9223372036854775808ull + static_cast<unsigned>(i)); });
    // The end of this agent's MIB view: a v1 GETNEXT past it is answered noSuchName.
    column("1.3.6.1.2.1.99.1", 2, [](int i) { return std::to_string(i); });
  }
  SnmpsimProcess sim(dir.path(), "bigif");
  Harness h;
  SnmpTarget t = local_target(sim.port());
  t.community = "bigif";
  t.timeout = std::chrono::milliseconds(3000);
  auto walked = h.walk_columns(
      t,
      {oid("1.3.6.1.2.1.2.2.1.1"), oid("1.3.6.1.2.1.2.2.1.2"), oid("1.3.6.1.2.1.2.2.1.10"),
       oid("1.3.6.1.2.1.2.2.1.16"), oid("1.3.6.1.2.1.31.1.1.1.6"), oid("1.3.6.1.2.1.31.1.1.1.10")},
      WalkOptions{.max_repetitions = 20});
  if (!walked) FAIL(walked.error().message);
  REQUIRE(walked->size() == 6u * kInterfaces);
  const auto& v = *walked;
  CHECK(std::get<std::int64_t>(v[0].value) == 1);
  CHECK(std::get<std::string>(v[kInterfaces + 41].value) == "eth42");
  CHECK(std::get<Counter32>(v[2 * kInterfaces].value).value == 4294967294u);
  CHECK(std::get<Counter32>(v[3 * kInterfaces + 1].value).value == 4294967295u);
  CHECK(std::get<Counter64>(v[4 * kInterfaces].value).value == 18446744073709551614ull);
  CHECK(std::get<Counter64>(v[5 * kInterfaces + 499].value).value == 9223372036854775808ull + 500);
  for (int i = 0; i < kInterfaces; ++i) {
    CHECK(v[5 * kInterfaces + i].oid.str() == "1.3.6.1.2.1.31.1.1.1.10." + std::to_string(i + 1));
  }
  // The whole ifTable subtree as one walk, GETNEXT (v1) too.
  auto whole = h.walk(t, oid("1.3.6.1.2.1.2"), WalkOptions{.max_repetitions = 50});
  REQUIRE(whole.has_value());
  CHECK(whole->size() == 4u * kInterfaces);
  SnmpTarget v1 = t;
  v1.version = SnmpVersion::kV1;
  auto counters_v1 = h.walk(v1, oid("1.3.6.1.2.1.2.2.1.10"));
  REQUIRE(counters_v1.has_value());
  CHECK(counters_v1->size() == static_cast<std::size_t>(kInterfaces));
  // v1, two columns, one of which runs off the end of the MIB (noSuchName names it): that
  // column finishes, the other goes on alone.
  auto last_and_first = h.walk_columns(v1, {oid("1.3.6.1.2.1.99.1"), oid("1.3.6.1.2.1.2.2.1.1")});
  if (!last_and_first) FAIL(last_and_first.error().message);
  CHECK(last_and_first->size() == 2u * kInterfaces);
  CHECK(last_and_first->back().oid.str() == "1.3.6.1.2.1.2.2.1.1.500");
}

TEST_CASE("snmp client: the session cache is bounded (LRU) and idle sessions close",
          "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  netpulse::core::ManualClock clock;
  SnmpClientOptions options;
  options.max_sessions = 2;
  options.session_idle_timeout = std::chrono::seconds(30);
  options.tick = std::chrono::milliseconds(5);
  Harness h(options, &clock);
  // Three targets that differ only in their timeout: three cache keys, one agent.
  std::vector<SnmpTarget> targets;
  for (int i = 0; i < 3; ++i) {
    SnmpTarget t = local_target(agent.port());
    t.timeout = std::chrono::milliseconds(1000 + i);
    targets.push_back(t);
  }
  for (const auto& t : targets) REQUIRE(h.get(t, {oid("1.3.6.1.2.1.1.3.0")}).has_value());
  CHECK(h.client->stats().sessions_open == 2);
  CHECK(h.client->stats().sessions_evicted == 1);

  // Both cached sessions busy: a third target is refused, not queued.
  int answered = 0, refused = 0;
  auto count = [&](Answer a) {
    ++answered;
    if (!a && a.error().code == Errc::kServiceUnavailable) ++refused;
  };
  h.client->walk(targets[1], oid("1.3.6.1.2.1.1"), {}, count);
  h.client->walk(targets[2], oid("1.3.6.1.2.1.1"), {}, count);
  h.client->get(targets[0], {oid("1.3.6.1.2.1.1.3.0")}, count);
  h.run_until([&] { return answered == 3; });
  CHECK(refused == 1);

  // Idle past session_idle_timeout (by the injected clock): closed at the next tick.
  clock.advance(std::chrono::seconds(31));
  h.run_until([&] { return h.client->stats().sessions_open == 0; });
}

TEST_CASE("snmp client: a walk stops at its deadline (injected clock)", "[pollers][snmp]") {
  TempDir dir;
  SnmpdProcess agent(dir.path());
  netpulse::core::ManualClock clock;
  Harness h({}, &clock);
  std::optional<Answer> answer;
  h.client->walk(local_target(agent.port()), oid("1.3.6.1.2.1"),
                 WalkOptions{.max_repetitions = 1, .deadline = std::chrono::seconds(5)},
                 [&](Answer a) { answer.emplace(std::move(a)); });
  clock.advance(std::chrono::seconds(6));
  h.run_until([&] { return answer.has_value(); });
  REQUIRE_FALSE(answer->has_value());
  CHECK(answer->error().code == Errc::kTimeout);
  CHECK(answer->error().message.find("deadline") != std::string::npos);
}
