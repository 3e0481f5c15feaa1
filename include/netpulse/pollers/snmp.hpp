// The SNMP client engine of the pollers: GET and GETBULK/GETNEXT walks against many agents at
// once, SNMP v1, v2c and v3 (USM: noAuthNoPriv, authNoPriv, authPriv), non-blocking, driven by
// the Asio event loop. It encodes, decodes and secures messages with the net-snmp library
// (single-session API), one cached net-snmp session (one UDP socket) per target, and waits for
// replies through Asio; no call blocks the loop. Numeric OIDs only: no MIB files are read.
//
// It knows nothing of devices, schedules or the time-series store: the scheduler (another
// module's room) turns its answers into samples. The design, the bounds and the error mapping are
// written down in docs/snmp.md.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::pollers {

// An object identifier: a sequence of sub-identifiers (each 0..2^32-1, at most kMaxLength of
// them). A plain vector: Boost's small_vector trips GCC 12's -Wstringop-overread at -O3, and
// the engine meets its CPU target without it (docs/snmp.md); not measured against it.
class Oid {
 public:
  static constexpr std::size_t kMaxLength = 128;  // RFC 2578: at most 128 sub-identifiers
  using Arcs = std::vector<std::uint32_t>;

  Oid() = default;
  Oid(std::initializer_list<std::uint32_t> arcs) : arcs_(arcs) {}
  explicit Oid(Arcs arcs) : arcs_(std::move(arcs)) {}

  // Parses a dotted numeric OID ("1.3.6.1.2.1.1.1.0"; one leading dot allowed). Refuses names,
  // empty arcs, arcs above 2^32-1, fewer than 2 or more than kMaxLength arcs (kInvalidInput).
  static core::Result<Oid> parse(std::string_view dotted);
  // "1.3.6.1.2.1.1.1.0".
  std::string str() const;

  const Arcs& arcs() const noexcept { return arcs_; }
  std::size_t size() const noexcept { return arcs_.size(); }
  bool empty() const noexcept { return arcs_.empty(); }
  std::uint32_t operator[](std::size_t i) const noexcept { return arcs_[i]; }
  void push_back(std::uint32_t arc) { arcs_.push_back(arc); }

  // True when this OID equals `root` or lies below it (root is a prefix).
  bool starts_with(const Oid& root) const noexcept;

  // Lexicographic order of SNMP (arc by arc; a prefix sorts first).
  friend std::strong_ordering operator<=>(const Oid& a, const Oid& b) noexcept;
  friend bool operator==(const Oid& a, const Oid& b) noexcept { return a.arcs_ == b.arcs_; }

 private:
  Arcs arcs_;
};

// SMI value types as distinct C++ types, so a Counter32 is never mistaken for a Gauge32.
struct Null {};
struct Counter32 {
  std::uint32_t value = 0;
};
struct Gauge32 {  // also Unsigned32
  std::uint32_t value = 0;
};
struct TimeTicks {  // hundredths of a second
  std::uint32_t value = 0;
};
struct Counter64 {
  std::uint64_t value = 0;
};
struct IpAddress {
  std::array<std::uint8_t, 4> octets{};
};
struct Opaque {
  std::string bytes;
};
// The v2c/v3 exceptions a varbind may carry instead of a value.
struct NoSuchObject {};
struct NoSuchInstance {};
struct EndOfMibView {};

// One value: Integer32 is std::int64_t (holds every INTEGER an agent may send), OCTET STRING is
// std::string holding raw bytes (not necessarily text).
using SnmpValue =
    std::variant<Null, std::int64_t, std::string, Oid, IpAddress, Counter32, Gauge32, TimeTicks,
                 Counter64, Opaque, NoSuchObject, NoSuchInstance, EndOfMibView>;

struct VarBind {
  Oid oid;
  SnmpValue value;
};

// The value as a number when it is one (Integer32, Counter32/64, Gauge32, TimeTicks), else
// nothing. Counter64 above 2^53 loses precision as a double; use std::get for exact values.
std::optional<double> numeric_value(const SnmpValue& value) noexcept;
// The SMI type name: "Integer32", "OctetString", "Counter64", "noSuchObject", ...
std::string_view value_type_name(const SnmpValue& value) noexcept;

enum class SnmpVersion : std::uint8_t { kV1, kV2c, kV3 };
enum class AuthProtocol : std::uint8_t { kNone, kMD5, kSHA, kSHA224, kSHA256, kSHA384, kSHA512 };
enum class PrivProtocol : std::uint8_t { kNone, kDES, kAES128, kAES192, kAES256 };

// Whether the linked net-snmp supports the protocol (Debian 12's libsnmp40 supports all of them;
// AES-192/256 are the Blumenthal draft variants, not the Cisco ones). validate() refuses the
// unsupported ones.
bool auth_protocol_supported(AuthProtocol protocol) noexcept;
bool priv_protocol_supported(PrivProtocol protocol) noexcept;

// Where and how to reach one agent. The security fields take part in the session cache key, so
// two targets that differ only in credentials get separate sessions.
struct SnmpTarget {
  boost::asio::ip::address address;
  std::uint16_t port = 161;
  SnmpVersion version = SnmpVersion::kV2c;
  std::string community = "public";  // v1/v2c
  // v3 (USM). Security level follows from the protocols: auth none -> noAuthNoPriv; auth without
  // priv -> authNoPriv; both -> authPriv. Passwords must be at least 8 characters (RFC 3414).
  std::string user;
  AuthProtocol auth_protocol = AuthProtocol::kNone;
  std::string auth_password;
  PrivProtocol priv_protocol = PrivProtocol::kNone;
  std::string priv_password;
  std::string context;
  // Per request PDU: wait `timeout`, resend `retries` times, then give up (kTimeout).
  std::chrono::milliseconds timeout{1000};
  int retries = 1;
};

// Checks a target's fields: names the offending field (kInvalidInput), refuses a protocol the
// linked net-snmp lacks, priv without auth, short v3 passwords, timeouts outside 10 ms..60 s and
// retries outside 0..10.
core::Result<void> validate(const SnmpTarget& target);

// How a walk is run. A walk stops at the end of its subtree(s), at endOfMibView, or at an error.
struct WalkOptions {
  int max_repetitions = 25;          // GETBULK max-repetitions (v2c/v3); halved on tooBig; 1..1000
  std::size_t max_values = 100'000;  // bound on values per walk; beyond it: kPayloadTooLarge
  // Overall deadline of the walk, from its start; checked before each request PDU, so a walk
  // ends at most one request timeout x (retries+1) after it. 0 = no deadline beyond per-PDU ones.
  std::chrono::milliseconds deadline{0};
};

struct SnmpClientOptions {
  // Operations (get/walk calls) under way at once; one more is refused at once with
  // kServiceUnavailable (the caller decides whether to retry later): no hidden queue.
  std::size_t max_in_flight = 1024;
  // Cached sessions (one UDP socket each). When full, the least recently used idle session is
  // closed; if none is idle the operation is refused with kServiceUnavailable. Clamped at open()
  // to (RLIMIT_NOFILE soft limit - 64).
  std::size_t max_sessions = 4096;
  // A session unused for this long is closed.
  std::chrono::milliseconds session_idle_timeout{std::chrono::minutes(10)};
  // Granularity of request timeouts: the loop checks outstanding requests at this period.
  std::chrono::milliseconds tick{50};
  // Where net-snmp may keep persistent state (engine boots). Empty = nothing persistent is read
  // or written.
  std::string persistent_dir;
  // Receives net-snmp's own log lines at debug level; null = they are dropped. Must outlive
  // the client.
  core::Logger* logger = nullptr;
};

// Counters since open(); for /metrics and the benchmark.
struct SnmpClientStats {
  std::uint64_t operations_started = 0;
  std::uint64_t operations_refused = 0;  // over max_in_flight or no session free
  std::uint64_t operations_failed = 0;
  std::uint64_t pdus_sent = 0;
  std::uint64_t pdus_answered = 0;
  std::uint64_t pdu_timeouts = 0;
  std::uint64_t unparseable_replies = 0;  // datagrams net-snmp could not decode or match
  // Of those, datagrams dropped before net-snmp saw them: BER lengths that overrun the message
  // (net-snmp's SNMPv3 parser would read past it).
  std::uint64_t malformed_replies = 0;
  std::uint64_t values = 0;  // varbinds delivered to callers
  std::size_t in_flight = 0;
  std::size_t sessions_open = 0;
  std::size_t sessions_evicted = 0;
};

using VarBindsCallback = std::function<void(core::Result<std::vector<VarBind>>)>;

// The engine. Lives on the event loop: every member must be called on the loop's thread, and
// callbacks run there too (always posted, never inside the call that started the operation).
// Destroying the client cancels what is under way: pending callbacks are dropped, not called.
// The loop (its io_context) must outlive the client.
// net-snmp keeps process-wide state (USM users, statistics), so use one SnmpClient per process,
// on one thread.
class SnmpClient {
 public:
  // Initialises net-snmp once per process (no config files, no MIBs, no persistent files unless
  // persistent_dir is set; its log goes to NetPulse's log at debug level, not to stderr) and
  // starts the tick timer on `loop`. `clock` times deadlines; it must outlive the client.
  static core::Result<std::unique_ptr<SnmpClient>> open(const SnmpClientOptions& options,
                                                        boost::asio::any_io_executor loop,
                                                        const core::Clock& clock);
  virtual ~SnmpClient() = default;

  // GET of `oids` (1..64) in one PDU. Answers the varbinds in request order; a missing object
  // is a varbind holding NoSuchObject/NoSuchInstance (v2c/v3); in v1 the agent's noSuchName
  // fails the whole request with kNotFound. Errors: kInvalidInput (target, oids), kTimeout,
  // kInvalidCredentials (v3 reports), kProtocolError (error-status, malformed answers),
  // kServiceUnavailable (bounds).
  virtual void get(const SnmpTarget& target, std::vector<Oid> oids, VarBindsCallback done) = 0;

  // Walks the subtree under `root` (GETBULK in v2c/v3, GETNEXT in v1): answers every varbind
  // strictly under root, in agent order. Ends at the subtree's end or endOfMibView; refuses an
  // agent that answers a non-increasing OID (kProtocolError, a loop in a broken agent), more
  // than options.max_values values (kPayloadTooLarge) or a passed deadline (kTimeout).
  virtual void walk(const SnmpTarget& target, Oid root, WalkOptions options,
                    VarBindsCallback done) = 0;

  // Walks several subtrees (table columns, e.g. ifHCInOctets and ifHCOutOctets) in one stream
  // of GETBULK requests, each request carrying every column not finished yet. Answers the
  // varbinds column by column (all of roots[0], then roots[1], ...). 1..32 roots.
  virtual void walk_columns(const SnmpTarget& target, std::vector<Oid> roots, WalkOptions options,
                            VarBindsCallback done) = 0;

  virtual SnmpClientStats stats() const = 0;
};

}  // namespace netpulse::pollers
