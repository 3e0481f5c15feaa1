// The SNMP engine behind SnmpClient (include/netpulse/pollers/snmp.hpp): net-snmp's single-session
// API driven by the Asio loop. Split by concern across src/pollers/snmp_*.cpp: snmp_client.cpp (the
// face, the engine's life, operations in and out, the tick that drives net-snmp's retransmissions
// and idle sessions), snmp_sessions.cpp (the session cache: opening, eviction, the socket and its
// reads), snmp_requests.cpp (GET, GETNEXT and GETBULK requests and their answers, the walks) and
// snmp_usm.cpp (SNMPv3: engine discovery, USM keys and their cache, report PDUs). Private to the
// pollers module.
//
// Lifetime: SnmpClientImpl owns a shared_ptr to the engine; every pending asynchronous operation
// (socket waits, the tick, posted sends and callbacks) holds another, and returns at once when the
// engine has been shut down. Everything runs on the one event loop: no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/pollers/snmp.hpp>

#include "snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

// Bounds on one operation's arguments and on the engine's own work.
inline constexpr std::size_t kMaxGetOids = 64;
inline constexpr std::size_t kMaxWalkRoots = 32;
inline constexpr int kMaxNotInTimeWindowResends = 2;
inline constexpr int kMaxReadsPerWakeup = 256;

struct SnmpSession;
struct SnmpOperation;
class SnmpEngine;

// What net-snmp hands back to our callback ("magic") for each request PDU: an operation's
// request, or (op == nullptr) a session's v3 discovery probe.
struct SnmpRequestTag {
  SnmpEngine* engine = nullptr;
  SnmpSession* session = nullptr;
  SnmpOperation* op = nullptr;
};

// One get/walk call under way.
struct SnmpOperation {
  enum class Kind : std::uint8_t { kGet, kWalk };
  struct Column {
    Oid root;
    Oid last;  // the last OID answered (starts at root)
    bool finished = false;
    std::vector<VarBind> values;
  };

  Kind kind = Kind::kGet;
  SnmpRequestTag tag;
  std::shared_ptr<SnmpSession> session;
  VarBindsCallback done;
  std::vector<Oid> get_oids;
  std::vector<Column> columns;
  std::vector<std::size_t> asked;  // columns carried by the request in flight, in PDU order
  int max_repetitions = 25;
  std::size_t max_values = 0;
  std::size_t total_values = 0;
  std::optional<core::SteadyTime> deadline;
  int not_in_time_resends = 0;
  int security_errors = 0;  // replies USM refused (bad digest, undecryptable)
  std::uint64_t unparseable_at_send = 0;
};

// One cached net-snmp session: one target's address and credentials, one UDP socket.
struct SnmpSession : std::enable_shared_from_this<SnmpSession> {
  enum class State : std::uint8_t { kReady, kNeedsDiscovery, kDiscovering };

  std::string key;
  std::string peer;
  SnmpTarget target;
  void* handle = nullptr;  // net-snmp's opaque single-session pointer
  int fd = -1;
  std::optional<boost::asio::posix::stream_descriptor> socket;
  State state = State::kReady;
  bool reading = false;
  bool closed = false;
  bool stale = false;  // v3: the agent may have a new engine ID (restart): reopen when idle
  std::size_t outstanding = 0;  // request PDUs net-snmp holds for us
  std::size_t operations = 0;   // operations using this session
  std::uint64_t unparseable = 0;
  core::SteadyTime last_used{};
  std::list<SnmpSession*>::iterator lru_position;
  std::vector<SnmpOperation*> waiting_for_discovery;
  SnmpRequestTag probe_tag;
  // v3 with auth: the keys this session localised at discovery, which net-snmp's USM entry for
  // (engine ID, user) must hold whenever this session sends.
  std::optional<detail::UsmKeys> usm_keys;
};

// Why an agent's report PDU refused a request, for the operator (snmp_usm.cpp).
std::string describe_report(int report_type, const SnmpTarget& target);
// The error code of a report: a credentials problem or a protocol error.
core::Errc report_code(int report_type);

// Memoised RFC 3414 password-to-key: generate_Ku hashes a megabyte (~2 ms), and many devices
// share one password, so each (hash, password) pair is hashed once. Bounded: cleared when full.
class KeyCache {
 public:
  core::Result<std::string> master_key(AuthProtocol protocol, const std::string& password);

 private:
  std::unordered_map<std::string, std::string> keys_;  // "protocol:password" -> Ku
};

class SnmpEngine : public std::enable_shared_from_this<SnmpEngine> {
 public:
  // `max_sessions`: options.max_sessions already clamped to the descriptor budget.
  SnmpEngine(const SnmpClientOptions& options, std::size_t max_sessions,
             boost::asio::any_io_executor loop, const core::Clock& clock);
  ~SnmpEngine();

  // Starts the tick.
  void start();
  // Closes every session and forgets every operation without calling back.
  void shutdown();

  // The face's get(), walk() and walk_columns(): arguments checked, then an operation started
  // (or refused, answered from the loop).
  void start_get(const SnmpTarget& target, std::vector<Oid> oids, VarBindsCallback done);
  void start_walk(const SnmpTarget& target, std::vector<Oid> roots, const WalkOptions& options,
                  VarBindsCallback done);

  SnmpClientStats stats() const;

  // net-snmp's callback for every request PDU we sent; magic is the request's SnmpRequestTag.
  static int on_pdu(int what, netsnmp_session* ns, int reqid, netsnmp_pdu* pdu, void* magic);

 private:
  // --- operations (snmp_client.cpp) ------------------------------------------------------------

  // Answers an operation that never started: a bound (counted as refused) or bad arguments.
  void refuse(VarBindsCallback done, core::Error error);
  // Takes `op` in: its session found or opened, then sent (or queued behind v3 discovery).
  void start(const SnmpTarget& target, std::unique_ptr<SnmpOperation> op, VarBindsCallback done);
  // Ends `op`: posts its callback and forgets it.
  void complete(SnmpOperation* op, core::Result<std::vector<VarBind>> result);
  void arm_tick();
  // Retransmissions and timeouts of the busy sessions, then idle sessions closed.
  void on_tick();

  // --- sessions (snmp_sessions.cpp) ------------------------------------------------------------

  // Every field of the target that a session is bound to.
  std::string session_key(const SnmpTarget& t) const;
  // The cached session for the target, or a new one (evicting the least recently used idle one
  // when at max_sessions); kServiceUnavailable when every session is busy.
  core::Result<std::shared_ptr<SnmpSession>> find_or_open(const SnmpTarget& target);
  // Closes the least recently used session without operations; false when every one is busy.
  bool evict_one();
  // Closes the session and forgets it (may destroy it).
  void drop_session(SnmpSession& s);
  void close_session(SnmpSession& s);
  // A net-snmp session for the target: its socket non-blocking and on the loop.
  core::Result<std::shared_ptr<SnmpSession>> open_session(const SnmpTarget& target,
                                                          std::string key);
  // net-snmp's last error of the session, as kServiceUnavailable.
  core::Error send_error(const SnmpSession& s);
  // busy_ holds exactly the sessions with request PDUs outstanding.
  void add_outstanding(SnmpSession& s);
  void remove_outstanding(SnmpSession& s);
  // Waits for the session's socket to be readable (once at a time).
  void arm_read(SnmpSession& s);
  // Reads what arrived, checking each datagram's BER lengths before net-snmp parses it.
  void on_readable(const std::shared_ptr<SnmpSession>& session,
                   const boost::system::error_code& ec);

  // --- requests and answers (snmp_requests.cpp) ------------------------------------------------

  // Builds and sends the next request PDU of `op`.
  void send(SnmpOperation* op);
  // send() from the loop (never from inside net-snmp's callback).
  void post_send(SnmpOperation* op);
  static void add_null_var(netsnmp_pdu* pdu, const Oid& o);
  // The request's last call from net-snmp: timed out, a report, or a response.
  void on_operation_pdu(SnmpOperation* op, int what, netsnmp_pdu* pdu);
  core::Error status_error(const SnmpSession& s, netsnmp_pdu* pdu);
  void on_get_response(SnmpOperation* op, netsnmp_pdu* pdu);
  void on_walk_response(SnmpOperation* op, netsnmp_pdu* pdu);
  // The next request of a walk, or its answer when every column is finished.
  void continue_or_finish(SnmpOperation* op);

  // --- SNMPv3 (snmp_usm.cpp) -------------------------------------------------------------------

  // Asks the agent for its engine ID; on_probe() completes the session.
  void send_probe(SnmpSession& s);
  void on_probe(SnmpSession& s, int what, netsnmp_pdu* pdu);
  // Sends (or fails) the operations that waited for the session's discovery.
  void finish_discovery(SnmpSession& s, std::optional<core::Error> error);
  // Makes net-snmp's USM entry for the session's (engine ID, user) hold the session's keys.
  core::Result<void> use_session_keys(SnmpSession& s);

  // --- members ---------------------------------------------------------------------------------

  SnmpClientOptions options_;             // as given to SnmpClient::open()
  std::size_t max_sessions_;              // options_.max_sessions within the fd budget
  boost::asio::any_io_executor loop_;     // where everything runs
  const core::Clock& clock_;              // walk deadlines, idle sessions
  boost::asio::steady_timer tick_timer_;  // drives net-snmp's timeouts (options_.tick)
  bool stopped_ = false;                  // after shutdown(): nothing calls back
  std::unordered_map<std::string, std::shared_ptr<SnmpSession>> sessions_;  // by session_key()
  std::list<SnmpSession*> lru_;            // most recently used first
  std::unordered_set<SnmpSession*> busy_;  // sessions with outstanding > 0
  std::vector<SnmpSession*> ticked_;       // on_tick's copy of busy_
  std::unordered_map<SnmpOperation*, std::unique_ptr<SnmpOperation>> operations_;  // in flight
  KeyCache keys_;                    // v3 master keys by password
  netsnmp_large_fd_set read_set_{};  // the one descriptor snmp_sess_read2 is told of
  // Where a reply datagram is peeked at before net-snmp reads it (the largest UDP payload).
  std::vector<std::uint8_t> peek_buffer_ = std::vector<std::uint8_t>(65536);
  SnmpClientStats stats_;  // the face's stats() (in_flight and sessions_open filled there)
};

}  // namespace netpulse::pollers::detail
