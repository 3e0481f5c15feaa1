// The SNMP engine behind SnmpClient: net-snmp's single-session API driven by the Asio loop.
//
// Why net-snmp sessions rather than our own encoder on one socket: v3 USM (key localisation,
// HMAC-SHA2, AES/DES, engine discovery, time windows) is most of the work and the part most worth
// not rewriting; net-snmp encodes and decodes a GETBULK answer in a few microseconds per value,
// well inside the CPU budget (docs/snmp.md has the figures). What we take from net-snmp is only
// the per-session, non-blocking half: snmp_sess_open (one UDP socket per target), async_send,
// read and timeout. We never call snmp_sess_synch_response or select():
//  - each session's socket sits in an asio::posix::stream_descriptor; while the session has
//    requests outstanding an async_wait(read) is armed, and readiness calls snmp_sess_read2,
//    which decodes, matches the request and calls our callback;
//  - retransmissions and timeouts are net-snmp's, driven by one tick timer that calls
//    snmp_sess_timeout on the busy sessions (timeout precision = options.tick);
//  - v3 engine-ID discovery, which snmp_sess_open would do synchronously, is switched off there
//    (SNMP_FLAGS_DONT_PROBE) and done here with an asynchronous probe; its answer completes the
//    session (USM's post-discovery step, usm_create_user_from_session, localises the keys);
//  - net-snmp keeps ONE USM user entry (localised keys) per (engine ID, user) for the process
//    and keeps the first keys it made, so before each v3 request the entry is checked to hold
//    that session's keys and replaced when another session (another password) changed it.
// Callbacks from net-snmp only record and decide; user callbacks and follow-up requests are
// posted to the loop, so nothing re-enters net-snmp while it walks its request list.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <map>
#include <span>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "detail/ber_check.hpp"
#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers {
namespace {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

constexpr std::size_t kMaxGetOids = 64;
constexpr std::size_t kMaxWalkRoots = 32;
constexpr int kMaxNotInTimeWindowResends = 2;
constexpr int kMaxReadsPerWakeup = 256;

struct Session;
struct Operation;
class Engine;

// What net-snmp hands back to our callback ("magic") for each request PDU: an operation's
// request, or (op == nullptr) a session's v3 discovery probe.
struct RequestTag {
  Engine* engine = nullptr;
  Session* session = nullptr;
  Operation* op = nullptr;
};

// One get/walk call under way.
struct Operation {
  enum class Kind : std::uint8_t { kGet, kWalk };
  struct Column {
    Oid root;
    Oid last;  // the last OID answered (starts at root)
    bool finished = false;
    std::vector<VarBind> values;
  };

  Kind kind = Kind::kGet;
  RequestTag tag;
  std::shared_ptr<Session> session;
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
struct Session : std::enable_shared_from_this<Session> {
  enum class State : std::uint8_t { kReady, kNeedsDiscovery, kDiscovering };

  std::string key;
  std::string peer;
  SnmpTarget target;
  void* handle = nullptr;  // net-snmp's opaque single-session pointer
  int fd = -1;
  std::optional<asio::posix::stream_descriptor> socket;
  State state = State::kReady;
  bool reading = false;
  bool closed = false;
  bool stale = false;  // v3: the agent may have a new engine ID (restart): reopen when idle
  std::size_t outstanding = 0;  // request PDUs net-snmp holds for us
  std::size_t operations = 0;   // operations using this session
  std::uint64_t unparseable = 0;
  core::SteadyTime last_used{};
  std::list<Session*>::iterator lru_position;
  std::vector<Operation*> waiting_for_discovery;
  RequestTag probe_tag;
  // v3 with auth: the keys this session localised at discovery, which net-snmp's USM entry for
  // (engine ID, user) must hold whenever this session sends.
  std::optional<detail::UsmKeys> usm_keys;
};

std::string describe_report(int report_type, const SnmpTarget& target) {
  switch (report_type) {
    case SNMPERR_UNKNOWN_USER_NAME:
      return fmt::format("the agent does not know SNMPv3 user '{}' (usmStatsUnknownUserNames)",
                         target.user);
    case SNMPERR_AUTHENTICATION_FAILURE:
      return fmt::format(
          "SNMPv3 authentication failed for user '{}': wrong auth password or protocol "
          "(usmStatsWrongDigests)",
          target.user);
    case SNMPERR_DECRYPTION_ERR:
      return fmt::format(
          "the agent could not decrypt the request of user '{}': wrong privacy password or "
          "protocol (usmStatsDecryptionErrors)",
          target.user);
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
      return fmt::format(
          "the agent refuses this security level for user '{}' (usmStatsUnsupportedSecLevels)",
          target.user);
    case SNMPERR_UNKNOWN_ENG_ID:
      return "the agent does not know the engine ID used (usmStatsUnknownEngineIDs)";
    case SNMPERR_NOT_IN_TIME_WINDOW:
      return "the agent keeps answering notInTimeWindow (usmStatsNotInTimeWindows)";
    default:
      return fmt::format("the agent answered a report: {}", snmp_api_errstring(report_type));
  }
}

Errc report_code(int report_type) {
  switch (report_type) {
    case SNMPERR_UNKNOWN_USER_NAME:
    case SNMPERR_AUTHENTICATION_FAILURE:
    case SNMPERR_DECRYPTION_ERR:
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
    case SNMPERR_NOT_IN_TIME_WINDOW:
      return Errc::kInvalidCredentials;
    default:
      return Errc::kProtocolError;
  }
}

// Memoised RFC 3414 password-to-key: generate_Ku hashes a megabyte (~2 ms), and many devices
// share one password, so each (hash, password) pair is hashed once. Bounded: cleared when full.
class KeyCache {
 public:
  core::Result<std::string> master_key(AuthProtocol protocol, const std::string& password) {
    std::string cache_key = fmt::format("{}:{}", static_cast<int>(protocol), password);
    if (auto it = keys_.find(cache_key); it != keys_.end()) return it->second;
    std::size_t proto_len = 0;
    const oid* proto = detail::auth_protocol_oid(protocol, proto_len);
    u_char key[USM_AUTH_KU_LEN];
    size_t key_len = sizeof key;
    if (proto == nullptr || generate_Ku(proto, static_cast<u_int>(proto_len),
                                        reinterpret_cast<const u_char*>(password.data()),
                                        password.size(), key, &key_len) != SNMPERR_SUCCESS) {
      return Error(Errc::kInvalidInput, "snmp: cannot derive a key from the password");
    }
    if (keys_.size() >= 256) keys_.clear();
    return keys_.emplace(std::move(cache_key), std::string(reinterpret_cast<char*>(key), key_len))
        .first->second;
  }

 private:
  std::unordered_map<std::string, std::string> keys_;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // `max_sessions`: options.max_sessions already clamped to the descriptor budget.
  Engine(const SnmpClientOptions& options, std::size_t max_sessions, asio::any_io_executor loop,
         const core::Clock& clock)
      : options_(options),
        max_sessions_(max_sessions),
        loop_(std::move(loop)),
        clock_(clock),
        tick_timer_(loop_) {
    netsnmp_large_fd_set_init(&read_set_, FD_SETSIZE);
  }
  ~Engine() { netsnmp_large_fd_set_cleanup(&read_set_); }

  void start() { arm_tick(); }

  // Closes every session and forgets every operation without calling back.
  void shutdown() {
    stopped_ = true;
    tick_timer_.cancel();
    for (auto& [key, session] : sessions_) close_session(*session);
    sessions_.clear();
    busy_.clear();
    lru_.clear();
    operations_.clear();
    stats_.in_flight = 0;
  }

  void start_get(const SnmpTarget& target, std::vector<Oid> oids, VarBindsCallback done) {
    if (oids.empty() || oids.size() > kMaxGetOids) {
      return refuse(std::move(done), core::invalid_field("oids", "1..64 OIDs per GET"));
    }
    for (const Oid& o : oids) {
      if (o.size() < 2 || o.size() > Oid::kMaxLength) {
        return refuse(std::move(done), core::invalid_field("oids", "an OID has 2..128 arcs"));
      }
    }
    auto op = std::make_unique<Operation>();
    op->kind = Operation::Kind::kGet;
    op->get_oids = std::move(oids);
    start(target, std::move(op), std::move(done));
  }

  void start_walk(const SnmpTarget& target, std::vector<Oid> roots, const WalkOptions& options,
                  VarBindsCallback done) {
    if (roots.empty() || roots.size() > kMaxWalkRoots) {
      return refuse(std::move(done), core::invalid_field("roots", "1..32 subtrees per walk"));
    }
    for (const Oid& root : roots) {
      if (root.size() < 2 || root.size() > Oid::kMaxLength) {
        return refuse(std::move(done), core::invalid_field("root", "an OID has 2..128 arcs"));
      }
    }
    if (options.max_repetitions < 1 || options.max_repetitions > 1000) {
      return refuse(std::move(done), core::invalid_field("max_repetitions", "must be 1..1000"));
    }
    if (options.max_values == 0) {
      return refuse(std::move(done), core::invalid_field("max_values", "must be at least 1"));
    }
    auto op = std::make_unique<Operation>();
    op->kind = Operation::Kind::kWalk;
    op->max_repetitions = options.max_repetitions;
    op->max_values = options.max_values;
    if (options.deadline.count() > 0) op->deadline = clock_.steady_now() + options.deadline;
    op->columns.reserve(roots.size());
    for (Oid& root : roots) {
      Operation::Column column;
      column.last = root;
      column.root = std::move(root);
      op->columns.push_back(std::move(column));
    }
    start(target, std::move(op), std::move(done));
  }

  SnmpClientStats stats() const {
    SnmpClientStats out = stats_;
    out.in_flight = operations_.size();
    out.sessions_open = sessions_.size();
    return out;
  }

  // net-snmp's callback for every request PDU we sent; magic is the request's RequestTag.
  static int on_pdu(int what, netsnmp_session* ns, int /*reqid*/, netsnmp_pdu* pdu, void* magic);

 private:
  // Answers an operation that never started: a bound (counted as refused) or bad arguments.
  void refuse(VarBindsCallback done, Error error) {
    if (error.code == Errc::kServiceUnavailable) {
      ++stats_.operations_refused;
    } else {
      ++stats_.operations_failed;
    }
    asio::post(loop_, [self = shared_from_this(), done = std::move(done),
                       error = std::move(error)]() mutable {
      if (!self->stopped_) done(std::move(error));
    });
  }

  void start(const SnmpTarget& target, std::unique_ptr<Operation> op, VarBindsCallback done) {
    if (stopped_) return;
    if (auto valid = validate(target); !valid) return refuse(std::move(done), valid.error());
    if (operations_.size() >= options_.max_in_flight) {
      return refuse(std::move(done),
                    Error(Errc::kServiceUnavailable,
                          fmt::format("snmp: {} operations already in flight (max_in_flight)",
                                      operations_.size())));
    }
    auto session = find_or_open(target);
    if (!session) return refuse(std::move(done), std::move(session).error());
    Operation* raw = op.get();
    raw->done = std::move(done);
    raw->session = std::move(session.value());
    raw->tag = RequestTag{this, raw->session.get(), raw};
    raw->session->operations++;
    operations_.emplace(raw, std::move(op));
    ++stats_.operations_started;
    Session& s = *raw->session;
    if (s.state == Session::State::kReady) return send(raw);
    s.waiting_for_discovery.push_back(raw);
    if (s.state == Session::State::kNeedsDiscovery) send_probe(s);
  }

  std::string session_key(const SnmpTarget& t) const {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", t.address.to_string(), t.port,
                       static_cast<int>(t.version), t.community, t.user,
                       static_cast<int>(t.auth_protocol), t.auth_password,
                       static_cast<int>(t.priv_protocol), t.priv_password, t.context,
                       t.timeout.count(), t.retries);
  }

  core::Result<std::shared_ptr<Session>> find_or_open(const SnmpTarget& target) {
    std::string key = session_key(target);
    if (auto it = sessions_.find(key); it != sessions_.end() && it->second->stale &&
                                       it->second->operations == 0 &&
                                       it->second->outstanding == 0) {
      drop_session(*it->second);  // the agent's engine ID changed: discover it afresh
    }
    if (auto it = sessions_.find(key); it != sessions_.end()) {
      Session& s = *it->second;
      s.last_used = clock_.steady_now();
      lru_.splice(lru_.begin(), lru_, s.lru_position);
      return it->second;
    }
    if (sessions_.size() >= max_sessions_ && !evict_one()) {
      return Error(Errc::kServiceUnavailable,
                   fmt::format("snmp: all {} sessions are busy (max_sessions)", max_sessions_));
    }
    auto session = open_session(target, std::move(key));
    if (!session) return session;
    Session& s = *session.value();
    lru_.push_front(&s);
    s.lru_position = lru_.begin();
    s.last_used = clock_.steady_now();
    sessions_.emplace(s.key, session.value());
    return session;
  }

  // Closes the least recently used session without operations; false when every one is busy.
  bool evict_one() {
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      Session* s = *it;
      if (s->operations == 0 && s->outstanding == 0) {
        ++stats_.sessions_evicted;
        drop_session(*s);
        return true;
      }
    }
    return false;
  }

  void drop_session(Session& s) {
    lru_.erase(s.lru_position);
    close_session(s);
    sessions_.erase(s.key);  // may destroy s
  }

  void close_session(Session& s) {
    if (s.closed) return;
    s.closed = true;
    busy_.erase(&s);
    if (s.socket) {
      boost::system::error_code ignored;
      s.socket->cancel(ignored);
      s.socket->release();  // net-snmp owns the descriptor and closes it below
    }
    if (s.handle != nullptr) snmp_sess_close(s.handle);
    s.handle = nullptr;
  }

  core::Result<std::shared_ptr<Session>> open_session(const SnmpTarget& target, std::string key) {
    auto s = std::make_shared<Session>();
    s->key = std::move(key);
    s->target = target;
    s->peer = detail::peer_name(target);

    netsnmp_session spec;
    snmp_sess_init(&spec);
    spec.peername = s->peer.data();
    spec.timeout = static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(target.timeout).count());
    spec.retries = target.retries;
    switch (target.version) {
      case SnmpVersion::kV1:
        spec.version = SNMP_VERSION_1;
        break;
      case SnmpVersion::kV2c:
        spec.version = SNMP_VERSION_2c;
        break;
      case SnmpVersion::kV3:
        spec.version = SNMP_VERSION_3;
        break;
    }
    if (target.version != SnmpVersion::kV3) {
      spec.community = reinterpret_cast<u_char*>(s->target.community.data());
      spec.community_len = s->target.community.size();
    } else {
      spec.flags |= SNMP_FLAGS_DONT_PROBE;  // discovery is asynchronous, see send_probe()
      spec.securityModel = SNMP_SEC_MODEL_USM;
      spec.securityName = s->target.user.data();
      spec.securityNameLen = s->target.user.size();
      spec.contextName = s->target.context.data();
      spec.contextNameLen = s->target.context.size();
      spec.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
      if (target.auth_protocol != AuthProtocol::kNone) {
        spec.securityLevel = target.priv_protocol == PrivProtocol::kNone ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                                                         : SNMP_SEC_LEVEL_AUTHPRIV;
        std::size_t len = 0;
        spec.securityAuthProto =
            const_cast<oid*>(detail::auth_protocol_oid(target.auth_protocol, len));
        spec.securityAuthProtoLen = len;
        auto ku = keys_.master_key(target.auth_protocol, target.auth_password);
        if (!ku) return std::move(ku).error();
        std::memcpy(spec.securityAuthKey, ku->data(), ku->size());
        spec.securityAuthKeyLen = ku->size();
        if (target.priv_protocol != PrivProtocol::kNone) {
          spec.securityPrivProto =
              const_cast<oid*>(detail::priv_protocol_oid(target.priv_protocol, len));
          spec.securityPrivProtoLen = len;
          // RFC 3414: the privacy key is derived with the authentication hash.
          auto priv = keys_.master_key(target.auth_protocol, target.priv_password);
          if (!priv) return std::move(priv).error();
          std::memcpy(spec.securityPrivKey, priv->data(), priv->size());
          spec.securityPrivKeyLen = priv->size();
        }
      }
    }
    s->handle = snmp_sess_open(&spec);
    if (s->handle == nullptr) {
      int lib_errno = 0, sys_errno = 0;
      char* text = nullptr;
      snmp_error(&spec, &sys_errno, &lib_errno, &text);
      std::string message = text != nullptr ? text : "unknown error";
      std::free(text);
      return Error(sys_errno == EMFILE || sys_errno == ENFILE ? Errc::kServiceUnavailable
                                                              : Errc::kInternalError,
                   fmt::format("snmp: cannot open a session to {}: {}", s->peer, message));
    }
    netsnmp_transport* transport = snmp_sess_transport(s->handle);
    s->fd = transport != nullptr ? transport->sock : -1;
    if (s->fd < 0) {
      snmp_sess_close(s->handle);
      return Error(Errc::kInternalError, fmt::format("snmp: no socket for {}", s->peer));
    }
    // A spurious readiness must not block the loop inside net-snmp's recvfrom.
    ::fcntl(s->fd, F_SETFL, ::fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    if (static_cast<unsigned>(s->fd) >= read_set_.lfs_setsize)
      netsnmp_large_fd_set_resize(&read_set_, s->fd + 1);
    s->socket.emplace(loop_, s->fd);
    s->state = target.version == SnmpVersion::kV3 ? Session::State::kNeedsDiscovery
                                                  : Session::State::kReady;
    return s;
  }

  // v3: asks the agent for its engine ID with an empty, unauthenticated GET (RFC 3414 4.);
  // the Report that answers it carries the ID. on_probe() completes the session.
  void send_probe(Session& s) {
    s.state = Session::State::kDiscovering;
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    pdu->version = SNMP_VERSION_3;
    pdu->securityName = strdup("");
    pdu->securityNameLen = 0;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    s.probe_tag = RequestTag{this, &s, nullptr};
    if (snmp_sess_async_send(s.handle, pdu, &Engine::on_pdu, &s.probe_tag) == 0) {
      snmp_free_pdu(pdu);
      return finish_discovery(s, send_error(s));
    }
    ++stats_.pdus_sent;
    add_outstanding(s);
    arm_read(s);
  }

  void on_probe(Session& s, int what, netsnmp_pdu* pdu) {
    remove_outstanding(s);
    if (what == NETSNMP_CALLBACK_OP_TIMED_OUT) {
      ++stats_.pdu_timeouts;
      return finish_discovery(
          s, Error(Errc::kTimeout,
                   fmt::format("snmp: {} did not answer SNMPv3 engine discovery ({} tries of {} "
                               "ms)",
                               s.peer, s.target.retries + 1, s.target.timeout.count())));
    }
    if (what != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || pdu == nullptr) {
      return finish_discovery(s, send_error(s));
    }
    ++stats_.pdus_answered;
    netsnmp_session* ns = snmp_sess_session(s.handle);
    ns->s_snmp_errno = SNMPERR_SUCCESS;  // never let net-snmp resend on its own
    if (pdu->command != SNMP_MSG_REPORT || pdu->securityEngineIDLen == 0) {
      return finish_discovery(
          s, Error(Errc::kProtocolError,
                   fmt::format("snmp: {} answered the SNMPv3 engine discovery without an engine "
                               "ID",
                               s.peer)));
    }
    if (ns->securityEngineIDLen == 0) {
      ns->securityEngineID =
          static_cast<u_char*>(netsnmp_memdup(pdu->securityEngineID, pdu->securityEngineIDLen));
      ns->securityEngineIDLen = pdu->securityEngineIDLen;
    }
    if (ns->contextEngineIDLen == 0) {
      ns->contextEngineID =
          static_cast<u_char*>(netsnmp_memdup(pdu->securityEngineID, pdu->securityEngineIDLen));
      ns->contextEngineIDLen = pdu->securityEngineIDLen;
    }
    // USM's post-discovery step: the user's entry for this engine ID with this session's keys
    // localised, in place of keys another session (another password) may have left there.
    const bool keyed = s.target.auth_protocol != AuthProtocol::kNone;
    auto keys = detail::install_usm_user(*ns, keyed);
    if (!keys) {
      return finish_discovery(
          s, Error(Errc::kInvalidCredentials,
                   fmt::format("snmp: cannot set up SNMPv3 user '{}' for {}: {}", s.target.user,
                               s.peer, keys.error().message)));
    }
    if (keyed) s.usm_keys = std::move(keys.value());
    finish_discovery(s, std::nullopt);
  }

  void finish_discovery(Session& s, std::optional<Error> error) {
    s.state = error ? Session::State::kNeedsDiscovery : Session::State::kReady;
    std::vector<Operation*> waiting;
    waiting.swap(s.waiting_for_discovery);
    auto self = shared_from_this();
    for (Operation* op : waiting) {
      if (error) {
        asio::post(loop_, [self, op, error = *error]() mutable {
          if (!self->stopped_) self->complete(op, std::move(error));
        });
      } else {
        asio::post(loop_, [self, op] {
          if (!self->stopped_) self->send(op);
        });
      }
    }
  }

  Error send_error(const Session& s) {
    int lib_errno = 0, sys_errno = 0;
    char* text = nullptr;
    snmp_sess_error(s.handle, &sys_errno, &lib_errno, &text);
    std::string message = text != nullptr ? text : "unknown error";
    std::free(text);
    return Error(Errc::kServiceUnavailable,
                 fmt::format("snmp: cannot send to {}: {}", s.peer, message));
  }

  // v3: makes net-snmp's USM entry for the session's (engine ID, user) hold the session's keys,
  // as it may not: two targets of one agent and user with different passwords (a password
  // edited, a wrong one tried, two addresses of one agent) share that entry, and net-snmp signs,
  // encrypts and checks with whatever it holds. One user-list lookup when nothing changed.
  core::Result<void> use_session_keys(Session& s) {
    netsnmp_session* ns = snmp_sess_session(s.handle);
    const detail::UsmKeys* keys = s.usm_keys ? &*s.usm_keys : nullptr;
    if (detail::usm_user_holds(*ns, keys)) return {};
    auto installed = detail::install_usm_user(*ns, keys != nullptr);
    if (!installed) {
      return Error(Errc::kInternalError,
                   fmt::format("snmp: cannot set up SNMPv3 user '{}' for {}: {}", s.target.user,
                               s.peer, installed.error().message));
    }
    if (options_.logger != nullptr && keys != nullptr) {
      options_.logger->debug("snmp",
                             "SNMPv3 keys of user '{}' for {} written back to net-snmp's USM "
                             "entry (another target of that agent and user had replaced them)",
                             s.target.user, s.peer);
    }
    return {};
  }

  // Builds and sends the next request PDU of `op`.
  void send(Operation* op) {
    Session& s = *op->session;
    if (s.closed) return complete(op, Error(Errc::kServiceUnavailable, "snmp: session closed"));
    if (s.target.version == SnmpVersion::kV3) {
      if (auto ready = use_session_keys(s); !ready) return complete(op, ready.error());
    }
    netsnmp_pdu* pdu = nullptr;
    if (op->kind == Operation::Kind::kGet) {
      pdu = snmp_pdu_create(SNMP_MSG_GET);
      for (const Oid& o : op->get_oids) add_null_var(pdu, o);
    } else {
      if (op->deadline && clock_.steady_now() >= *op->deadline) {
        return complete(
            op, Error(Errc::kTimeout, fmt::format("snmp: walk of {} passed its deadline after {} "
                                                  "values",
                                                  s.peer, op->total_values)));
      }
      const bool bulk = s.target.version != SnmpVersion::kV1;
      pdu = snmp_pdu_create(bulk ? SNMP_MSG_GETBULK : SNMP_MSG_GETNEXT);
      if (bulk) {
        pdu->errstat = 0;                     // non-repeaters
        pdu->errindex = op->max_repetitions;  // max-repetitions
      }
      op->asked.clear();
      for (std::size_t i = 0; i < op->columns.size(); ++i) {
        if (op->columns[i].finished) continue;
        op->asked.push_back(i);
        add_null_var(pdu, op->columns[i].last);
      }
    }
    op->unparseable_at_send = s.unparseable;
    if (snmp_sess_async_send(s.handle, pdu, &Engine::on_pdu, &op->tag) == 0) {
      snmp_free_pdu(pdu);
      return complete(op, send_error(s));
    }
    ++stats_.pdus_sent;
    add_outstanding(s);
    arm_read(s);
  }

  // Only sessions with request PDUs outstanding are in busy_, which the tick visits: walking
  // every cached session (one per device, kept 10 min) 20 times a second was 16 % of the CPU of
  // a server polling 1,000 devices every 60 s (bench/poller.sh with BENCH_POLLER_PERF=1).
  void add_outstanding(Session& s) {
    if (s.outstanding++ == 0) busy_.insert(&s);
  }
  void remove_outstanding(Session& s) {
    if (--s.outstanding == 0) busy_.erase(&s);
  }

  static void add_null_var(netsnmp_pdu* pdu, const Oid& o) {
    oid name[Oid::kMaxLength];
    for (std::size_t i = 0; i < o.size(); ++i) name[i] = o[i];
    snmp_add_null_var(pdu, name, o.size());
  }

  void arm_read(Session& s) {
    if (s.reading || s.closed) return;
    s.reading = true;
    s.socket->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(), session = s.shared_from_this()](
            const boost::system::error_code& ec) { self->on_readable(session, ec); });
  }

  void on_readable(const std::shared_ptr<Session>& session, const boost::system::error_code& ec) {
    Session& s = *session;
    s.reading = false;
    if (stopped_ || s.closed || ec == asio::error::operation_aborted) return;
    for (int i = 0; i < kMaxReadsPerWakeup && !s.closed; ++i) {
      if (i > 0) {
        int pending = 0;
        if (::ioctl(s.fd, FIONREAD, &pending) != 0 || pending <= 0) break;
      }
      // A datagram whose BER lengths overrun it would be read past by net-snmp's v3 parser
      // (detail/ber_check.hpp): looked at first, and such a one is taken off and dropped here.
      const auto peeked =
          ::recv(s.fd, peek_buffer_.data(), peek_buffer_.size(), MSG_PEEK | MSG_TRUNC);
      if (peeked < 0) break;  // nothing there after all (EAGAIN) or an error net-snmp would see
      const auto length = std::min(static_cast<std::size_t>(peeked), peek_buffer_.size());
      if (!detail::snmp_message_fits(std::span(peek_buffer_.data(), length))) {
        char discard = 0;
        (void)::recv(s.fd, &discard, 1, 0);  // a UDP read takes the whole datagram
        ++s.unparseable;
        ++stats_.unparseable_replies;
        ++stats_.malformed_replies;
        continue;
      }
      netsnmp_large_fd_setfd(s.fd, &read_set_);
      const int rc = snmp_sess_read2(s.handle, &read_set_);
      netsnmp_large_fd_clr(s.fd, &read_set_);
      if (rc != 0) {
        ++s.unparseable;
        ++stats_.unparseable_replies;
      }
    }
    if (!s.closed && s.outstanding > 0) arm_read(s);
  }

  void on_operation_pdu(Operation* op, int what, netsnmp_pdu* pdu) {
    Session& s = *op->session;
    remove_outstanding(s);
    if (what == NETSNMP_CALLBACK_OP_TIMED_OUT) {
      ++stats_.pdu_timeouts;
      std::string note;
      if (s.unparseable > op->unparseable_at_send) {
        note = fmt::format("; {} reply datagram(s) from it could not be decoded or matched",
                           s.unparseable - op->unparseable_at_send);
      }
      if (s.target.version == SnmpVersion::kV3) {
        // An agent that restarted with a new engine ID answers what net-snmp cannot match to
        // our request (it is dropped) or nothing: discover the engine again next time.
        s.stale = true;
        if (s.unparseable > op->unparseable_at_send) {
          note +=
              " (an SNMPv3 agent that restarted has a new engine ID: rediscovered on the "
              "next request)";
        }
      }
      if (op->security_errors > 0) {
        note += fmt::format("; {} reply(ies) failed the SNMPv3 security checks (keys?)",
                            op->security_errors);
      }
      return complete(op, Error(Errc::kTimeout,
                                fmt::format("snmp: no answer from {} ({} tries of {} ms){}", s.peer,
                                            s.target.retries + 1, s.target.timeout.count(), note)));
    }
    if (what != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || pdu == nullptr) {
      return complete(op, send_error(s));
    }
    ++stats_.pdus_answered;
    if (pdu->command == SNMP_MSG_REPORT) {
      netsnmp_session* ns = snmp_sess_session(s.handle);
      const int type = snmpv3_get_report_type(pdu);
      ns->s_snmp_errno = SNMPERR_SUCCESS;  // we resend ourselves, below
      if (type == SNMPERR_NOT_IN_TIME_WINDOW &&
          op->not_in_time_resends++ < kMaxNotInTimeWindowResends) {
        // USM has taken the agent's boots/time from this (authenticated) report; a fresh
        // request now falls inside the window.
        return post_send(op);
      }
      if (type == SNMPERR_UNKNOWN_ENG_ID) s.stale = true;
      return complete(op, Error(report_code(type), fmt::format("snmp: {}: {}", s.peer,
                                                               describe_report(type, s.target))));
    }
    if (pdu->command != SNMP_MSG_RESPONSE) {
      return complete(op, Error(Errc::kProtocolError,
                                fmt::format("snmp: {} answered PDU type {:#x}, not a Response",
                                            s.peer, pdu->command)));
    }
    if (op->kind == Operation::Kind::kGet) return on_get_response(op, pdu);
    on_walk_response(op, pdu);
  }

  Error status_error(const Session& s, netsnmp_pdu* pdu) {
    std::string where;
    long index = 1;
    for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable, ++index) {
      if (index == pdu->errindex) {
        where = fmt::format(" at {}", detail::to_varbind(*v).oid.str());
        break;
      }
    }
    const Errc code = pdu->errstat == SNMP_ERR_NOSUCHNAME ? Errc::kNotFound : Errc::kProtocolError;
    return Error(code, fmt::format("snmp: {} answered error-status {} ({}){}", s.peer,
                                   snmp_errstring(pdu->errstat), pdu->errstat, where));
  }

  void on_get_response(Operation* op, netsnmp_pdu* pdu) {
    Session& s = *op->session;
    if (pdu->errstat != SNMP_ERR_NOERROR) return complete(op, status_error(s, pdu));
    std::vector<VarBind> out;
    out.reserve(op->get_oids.size());
    for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable) {
      out.push_back(detail::to_varbind(*v));
    }
    if (out.size() != op->get_oids.size()) {
      return complete(op, Error(Errc::kProtocolError,
                                fmt::format("snmp: {} answered {} varbinds to a GET of {}", s.peer,
                                            out.size(), op->get_oids.size())));
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].oid != op->get_oids[i]) {
        return complete(op, Error(Errc::kProtocolError,
                                  fmt::format("snmp: {} answered {} where {} was asked", s.peer,
                                              out[i].oid.str(), op->get_oids[i].str())));
      }
    }
    op->total_values = out.size();
    complete(op, std::move(out));
  }

  void on_walk_response(Operation* op, netsnmp_pdu* pdu) {
    Session& s = *op->session;
    const bool v1 = s.target.version == SnmpVersion::kV1;
    if (pdu->errstat == SNMP_ERR_TOOBIG && !v1 && op->max_repetitions > 1) {
      op->max_repetitions = std::max(1, op->max_repetitions / 2);
      return post_send(op);
    }
    if (v1 && pdu->errstat == SNMP_ERR_NOSUCHNAME && pdu->errindex >= 1 &&
        static_cast<std::size_t>(pdu->errindex) <= op->asked.size()) {
      // v1's end of the MIB view for one column: finish it and ask again for the rest.
      op->columns[op->asked[pdu->errindex - 1]].finished = true;
      return continue_or_finish(op);
    }
    if (pdu->errstat != SNMP_ERR_NOERROR) return complete(op, status_error(s, pdu));

    const std::size_t width = op->asked.size();
    std::size_t index = 0;
    bool progressed = false;
    for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable, ++index) {
      Operation::Column& column = op->columns[op->asked[index % width]];
      if (column.finished) continue;
      if (v->type == SNMP_ENDOFMIBVIEW) {
        column.finished = true;
        continue;
      }
      // Out of the subtree: a prefix check on net-snmp's oid array, before any conversion.
      const Oid& root = column.root;
      bool inside = v->name_length > root.size();
      for (std::size_t i = 0; inside && i < root.size(); ++i) inside = v->name[i] == root[i];
      if (!inside) {
        column.finished = true;
        continue;
      }
      VarBind vb = detail::to_varbind(*v);
      if (vb.oid <= column.last) {
        return complete(
            op, Error(Errc::kProtocolError,
                      fmt::format("snmp: {} answered {} after {} in a walk of {}: "
                                  "OIDs must increase (broken agent, walk stopped)",
                                  s.peer, vb.oid.str(), column.last.str(), column.root.str())));
      }
      if (++op->total_values > op->max_values) {
        return complete(op, Error(Errc::kPayloadTooLarge,
                                  fmt::format("snmp: walk of {} from {} passed max_values ({})",
                                              s.peer, column.root.str(), op->max_values)));
      }
      column.last = vb.oid;
      column.values.push_back(std::move(vb));
      progressed = true;
    }
    bool all_finished = std::all_of(op->columns.begin(), op->columns.end(),
                                    [](const Operation::Column& c) { return c.finished; });
    if (!progressed && !all_finished) {
      return complete(op, Error(Errc::kProtocolError,
                                fmt::format("snmp: {} answered a walk request with no usable "
                                            "varbind",
                                            s.peer)));
    }
    continue_or_finish(op);
  }

  void continue_or_finish(Operation* op) {
    bool all_finished = std::all_of(op->columns.begin(), op->columns.end(),
                                    [](const Operation::Column& c) { return c.finished; });
    if (!all_finished) return post_send(op);
    std::vector<VarBind> out;
    if (op->columns.size() == 1) {
      out = std::move(op->columns.front().values);
    } else {
      out.reserve(op->total_values);
      for (auto& column : op->columns) {
        std::move(column.values.begin(), column.values.end(), std::back_inserter(out));
      }
    }
    complete(op, std::move(out));
  }

  void post_send(Operation* op) {
    asio::post(loop_, [self = shared_from_this(), op] {
      if (!self->stopped_) self->send(op);
    });
  }

  // Ends `op`: posts its callback and forgets it.
  void complete(Operation* op, core::Result<std::vector<VarBind>> result) {
    auto it = operations_.find(op);
    if (it == operations_.end()) return;
    std::unique_ptr<Operation> owned = std::move(it->second);
    operations_.erase(it);
    owned->session->operations--;
    owned->session->last_used = clock_.steady_now();
    if (result) {
      stats_.values += result->size();
    } else {
      ++stats_.operations_failed;
    }
    asio::post(loop_, [self = shared_from_this(), done = std::move(owned->done),
                       result = std::move(result)]() mutable {
      if (!self->stopped_) done(std::move(result));
    });
  }

  void arm_tick() {
    tick_timer_.expires_after(options_.tick);
    tick_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped_) return;
      self->on_tick();
      self->arm_tick();
    });
  }

  void on_tick() {
    // Retransmissions and timeouts of outstanding requests. Callbacks may complete operations
    // (changing busy_) but never close sessions, so the copied pointers stay valid.
    ticked_.assign(busy_.begin(), busy_.end());
    for (Session* session : ticked_) {
      if (session->outstanding > 0) snmp_sess_timeout(session->handle);
    }
    // Idle sessions, oldest first.
    const core::SteadyTime now = clock_.steady_now();
    while (!lru_.empty()) {
      Session* oldest = lru_.back();
      if (oldest->operations != 0 || oldest->outstanding != 0 ||
          now - oldest->last_used < options_.session_idle_timeout) {
        break;
      }
      drop_session(*oldest);
    }
  }

 private:
  SnmpClientOptions options_;
  std::size_t max_sessions_;
  asio::any_io_executor loop_;
  const core::Clock& clock_;
  asio::steady_timer tick_timer_;
  bool stopped_ = false;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  std::list<Session*> lru_;            // most recently used first
  std::unordered_set<Session*> busy_;  // sessions with outstanding > 0
  std::vector<Session*> ticked_;       // on_tick's copy of busy_
  std::unordered_map<Operation*, std::unique_ptr<Operation>> operations_;
  KeyCache keys_;
  netsnmp_large_fd_set read_set_;
  // Where a reply datagram is peeked at before net-snmp reads it (the largest UDP payload).
  std::vector<std::uint8_t> peek_buffer_ = std::vector<std::uint8_t>(65536);
  SnmpClientStats stats_;
};

int Engine::on_pdu(int what, netsnmp_session* /*ns*/, int /*reqid*/, netsnmp_pdu* pdu,
                   void* magic) {
  auto* tag = static_cast<RequestTag*>(magic);
  if (tag == nullptr || tag->engine->stopped_) return 1;
  switch (what) {
    case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
    case NETSNMP_CALLBACK_OP_TIMED_OUT:
    case NETSNMP_CALLBACK_OP_SEND_FAILED:
    case NETSNMP_CALLBACK_OP_DISCONNECT:
      break;  // the request's last call: it ends here
    case NETSNMP_CALLBACK_OP_SEC_ERROR:
      // A reply failed USM's checks (e.g. a wrong key on our side); the request stays pending
      // and ends by timeout, whose message mentions this.
      if (tag->op != nullptr) tag->op->security_errors++;
      return 1;
    default:
      return 1;  // RESEND, CONNECT: informational
  }
  if (tag->op == nullptr) {
    tag->engine->on_probe(*tag->session, what, pdu);
  } else {
    tag->engine->on_operation_pdu(tag->op, what, pdu);
  }
  return 1;  // handled: net-snmp forgets the request
}

class SnmpClientImpl final : public SnmpClient {
 public:
  explicit SnmpClientImpl(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}
  ~SnmpClientImpl() override { engine_->shutdown(); }

  void get(const SnmpTarget& target, std::vector<Oid> oids, VarBindsCallback done) override {
    engine_->start_get(target, std::move(oids), std::move(done));
  }
  void walk(const SnmpTarget& target, Oid root, WalkOptions options,
            VarBindsCallback done) override {
    std::vector<Oid> roots;
    roots.push_back(std::move(root));
    engine_->start_walk(target, std::move(roots), options, std::move(done));
  }
  void walk_columns(const SnmpTarget& target, std::vector<Oid> roots, WalkOptions options,
                    VarBindsCallback done) override {
    engine_->start_walk(target, std::move(roots), options, std::move(done));
  }
  SnmpClientStats stats() const override { return engine_->stats(); }

 private:
  std::shared_ptr<Engine> engine_;
};

}  // namespace

core::Result<std::unique_ptr<SnmpClient>> SnmpClient::open(const SnmpClientOptions& options,
                                                           boost::asio::any_io_executor loop,
                                                           const core::Clock& clock) {
  if (options.max_in_flight == 0) return core::invalid_field("max_in_flight", "at least 1");
  if (options.max_sessions == 0) return core::invalid_field("max_sessions", "at least 1");
  if (options.tick < std::chrono::milliseconds(1) || options.tick > std::chrono::seconds(1)) {
    return core::invalid_field("tick", "must be 1 ms .. 1 s");
  }
  if (auto ready = detail::init_netsnmp(options.persistent_dir); !ready) return ready.error();
  detail::set_netsnmp_logger(options.logger);
  // One UDP socket per session: keep 64 descriptors for everything else in the process.
  rlimit files{};
  std::size_t fd_budget = options.max_sessions;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    fd_budget = files.rlim_cur > 128 ? files.rlim_cur - 64 : 64;
  }
  auto engine = std::make_shared<Engine>(options, std::min(options.max_sessions, fd_budget),
                                         std::move(loop), clock);
  engine->start();
  return std::unique_ptr<SnmpClient>(std::make_unique<SnmpClientImpl>(std::move(engine)));
}

}  // namespace netpulse::pollers
