// The SNMP trap and inform receiver of the pollers: one UDP socket (IPv4 or IPv6) read by the
// Asio event loop; each datagram is decoded by net-snmp's message parser (v1 Trap-PDU, v2c
// SNMPv2-Trap-PDU and InformRequest-PDU), checked against a community allow-list and a
// per-source rate limit, and handed to a callback as a Trap. Informs are acknowledged with a
// Response PDU. SNMPv3 traps (not informs) are accepted from the USM users configured in
// TrapOptions::v3_users; other SNMPv3 messages are counted and dropped.
//
// It knows nothing of devices or storage: whoever owns the callback matches the source to a
// device and stores the event. Ports, versions, the RFC 3584 conversion of v1 traps, the bounds
// and the counters are written down in docs/traps.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/udp.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers {

// What a trap announces, for the standard traps of SNMPv2-MIB / IF-MIB (RFC 3418, RFC 2863).
enum class TrapKind : std::uint8_t {
  kColdStart,              // 1.3.6.1.6.3.1.1.5.1 (v1 generic 0)
  kWarmStart,              // 1.3.6.1.6.3.1.1.5.2 (v1 generic 1)
  kLinkDown,               // 1.3.6.1.6.3.1.1.5.3 (v1 generic 2)
  kLinkUp,                 // 1.3.6.1.6.3.1.1.5.4 (v1 generic 3)
  kAuthenticationFailure,  // 1.3.6.1.6.3.1.1.5.5 (v1 generic 4)
  kOther,                  // anything else (egpNeighborLoss, enterprise-specific, ...)
};

// "coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure", "other".
std::string_view trap_kind_name(TrapKind kind) noexcept;

// The kind a notification OID (snmpTrapOID.0 value) stands for.
TrapKind trap_kind_of(const Oid& trap_oid) noexcept;

// One decoded trap or inform, as received; v1 traps already converted to the v2 form.
struct Trap {
  boost::asio::ip::address source;  // the datagram's sender (IPv4-mapped IPv6 shown as IPv4)
  std::uint16_t source_port = 0;
  SnmpVersion version = SnmpVersion::kV2c;
  std::string community;  // v1/v2c: raw bytes as sent
  std::string v3_user;    // v3: the USM user name (securityName)
  // v3: the sender's (authoritative) snmpEngineID, lower-case hex without "0x": with v3_user it
  // names the TrapOptions::v3_users entry that authenticated the trap.
  std::string v3_engine_id;
  // v2c: the value of snmpTrapOID.0. v1: converted per RFC 3584 section 3.1: generic-trap 0..5
  // -> 1.3.6.1.6.3.1.1.5.(generic+1); enterpriseSpecific(6) -> enterprise.0.specific-trap.
  Oid trap_oid;
  // v2c: the value of sysUpTime.0 when the trap carries one; v1: the time-stamp field.
  std::optional<std::uint32_t> uptime_ticks;
  // The trap's variable bindings in order; for v2c without sysUpTime.0 and snmpTrapOID.0.
  std::vector<VarBind> varbinds;
  // v1 only: the enterprise and agent-addr fields of the Trap-PDU.
  Oid enterprise;
  std::optional<boost::asio::ip::address_v4> agent_addr;
  bool inform = false;  // an InformRequest (already acknowledged when the callback runs)
  core::SystemTime received_at{};
  TrapKind kind = TrapKind::kOther;
  // linkDown/linkUp: the interface, from the ifIndex varbind (1.3.6.1.2.1.2.2.1.1.N: its
  // value, or N when the value is not an integer); nothing when the trap has none.
  std::optional<std::uint32_t> if_index;
};

// A one-line summary for people, e.g. "linkDown ifIndex 3 (ifDescr eth2)", "coldStart",
// "trap 1.3.6.1.4.1.8072.0.7 (2 varbinds)". Non-printable bytes of strings are shown as '?'.
std::string trap_summary(const Trap& trap);

// An SNMPv3 sender: traps are sent by their (authoritative) agent, so the USM user is keyed by
// the sender's engine ID, as snmptrapd's `createUser -e ENGINEID ...` does.
struct TrapV3User {
  std::string engine_id;  // the sender's snmpEngineID in hex, "0x8000..." or "8000..."
  std::string user;
  // Security level follows from the protocols, as in SnmpTarget. Passwords: 8..64 characters,
  // no whitespace or quotes.
  AuthProtocol auth_protocol = AuthProtocol::kNone;
  std::string auth_password;
  PrivProtocol priv_protocol = PrivProtocol::kNone;
  std::string priv_password;
};

struct TrapOptions {
  // Where to listen. Port 162 is the standard one (needs CAP_NET_BIND_SERVICE); 0 picks a free
  // port (tests: read it back with local_endpoint()). An IPv6 address listens on IPv6 only
  // (IPV6_V6ONLY); listen on two receivers for both families.
  boost::asio::ip::udp::endpoint listen{boost::asio::ip::address_v4::any(), 162};
  // v1/v2c communities accepted. EMPTY = ANY COMMUNITY IS ACCEPTED (the community of SNMPv1/v2c
  // is no authentication anyway: it travels in clear); otherwise exact byte comparison.
  std::vector<std::string> communities;
  // Per source address (not port): a token bucket of `burst` traps refilled at
  // `rate_per_second`. A datagram that finds the bucket empty is dropped and counted before it
  // is decoded. rate 0.1..100000, burst 1..1000000.
  double rate_per_second = 100.0;
  double burst = 200.0;
  // Sources whose buckets are remembered. When full, the buckets that are full again (idle
  // sources) are forgotten; if none is, datagrams from new sources are dropped as rate-limited.
  std::size_t max_sources = 10'000;
  // Variable bindings accepted in one trap; a trap with more is dropped as malformed. 1..10000.
  std::size_t max_varbinds = 1'000;
  // SNMPv3 trap senders. Empty = every SNMPv3 message is dropped (dropped_v3). The users go into
  // net-snmp's process-wide USM user list at open() and stay there for the process's life.
  std::vector<TrapV3User> v3_users;
  // Where net-snmp may keep persistent state: must equal SnmpClientOptions::persistent_dir, since
  // the first of the two to open initialises the library for the process. Empty = none.
  std::string persistent_dir;
  // Receives one debug line per dropped datagram that was decoded (why it was refused; the
  // rate-limited ones are not logged). Null = no log. Must outlive the receiver.
  core::Logger* logger = nullptr;
};

// Counters since open(); for /metrics.
struct TrapReceiverStats {
  std::uint64_t received = 0;               // datagrams read
  std::uint64_t decoded = 0;                // traps and informs handed to the callback
  std::uint64_t dropped_malformed = 0;      // undecodable, oversize, or not a valid trap
  std::uint64_t dropped_rate_limited = 0;   // the source's bucket was empty
  std::uint64_t dropped_community = 0;      // community not in the allow-list
  std::uint64_t dropped_not_trap = 0;       // a well-formed message that is not a trap/inform
  std::uint64_t dropped_v3 = 0;             // SNMPv3 without v3_users, or a v3 inform
  std::uint64_t dropped_v3_security = 0;    // unknown user/engine, wrong key, not decryptable
  std::uint64_t informs_answered = 0;       // Response PDUs sent
  std::uint64_t inform_answers_failed = 0;  // a Response could not be built or sent
  std::uint64_t informs_duplicate = 0;      // a retransmitted inform: answered, not handed on
  std::size_t sources_tracked = 0;          // rate-limit buckets held now
};

// Receives traps while it lives. Every member must be called on the loop's thread; on_trap runs
// there too, once per accepted trap, never inside open(). Destroying the receiver closes the
// socket; no callback runs after that. The loop (its io_context) must outlive the receiver.
class TrapReceiver {
 public:
  // Initialises net-snmp if nothing did yet (as SnmpClient::open does), binds the socket and
  // starts reading. `clock` stamps received_at and times the rate limit; it and `on_trap` must
  // outlive the receiver. Errors: kInvalidInput (options, names the field), kConfigError (the
  // address cannot be bound: in use, no permission for a port below 1024, no such address;
  // net-snmp refused a v3 user).
  static core::Result<std::unique_ptr<TrapReceiver>> open(const TrapOptions& options,
                                                          boost::asio::any_io_executor loop,
                                                          const core::Clock& clock,
                                                          std::function<void(Trap)> on_trap);
  virtual ~TrapReceiver() = default;

  // The bound address and port (the real port when options.listen had port 0).
  virtual boost::asio::ip::udp::endpoint local_endpoint() const = 0;

  virtual TrapReceiverStats stats() const = 0;
};

}  // namespace netpulse::pollers
