// The SNMP engine behind SnmpClient: net-snmp's single-session API driven by the Asio loop. This
// file holds the face (SnmpClient::open and its implementation), the engine's life, operations in
// and out and the tick; detail/snmp_engine.hpp lists where the rest is.
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
#include <sys/resource.h>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/snmp_engine.hpp"
#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

SnmpEngine::SnmpEngine(const SnmpClientOptions& options, std::size_t max_sessions,
                       asio::any_io_executor loop, const core::Clock& clock)
    : options_(options),
      max_sessions_(max_sessions),
      loop_(std::move(loop)),
      clock_(clock),
      tick_timer_(loop_) {
  netsnmp_large_fd_set_init(&read_set_, FD_SETSIZE);
}

SnmpEngine::~SnmpEngine() {
  netsnmp_large_fd_set_cleanup(&read_set_);
}

void SnmpEngine::start() {
  arm_tick();
}

void SnmpEngine::shutdown() {
  stopped_ = true;
  tick_timer_.cancel();
  for (auto& [key, session] : sessions_) close_session(*session);
  sessions_.clear();
  busy_.clear();
  lru_.clear();
  operations_.clear();
  stats_.in_flight = 0;
}

void SnmpEngine::start_get(const SnmpTarget& target, std::vector<Oid> oids, VarBindsCallback done) {
  if (oids.empty() || oids.size() > kMaxGetOids) {
    return refuse(std::move(done), core::invalid_field("oids", "1..64 OIDs per GET"));
  }
  for (const Oid& o : oids) {
    if (o.size() < 2 || o.size() > Oid::kMaxLength) {
      return refuse(std::move(done), core::invalid_field("oids", "an OID has 2..128 arcs"));
    }
  }
  auto op = std::make_unique<SnmpOperation>();
  op->kind = SnmpOperation::Kind::kGet;
  op->get_oids = std::move(oids);
  start(target, std::move(op), std::move(done));
}

void SnmpEngine::start_walk(const SnmpTarget& target, std::vector<Oid> roots,
                            const WalkOptions& options, VarBindsCallback done) {
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
  auto op = std::make_unique<SnmpOperation>();
  op->kind = SnmpOperation::Kind::kWalk;
  op->max_repetitions = options.max_repetitions;
  op->max_values = options.max_values;
  if (options.deadline.count() > 0) op->deadline = clock_.steady_now() + options.deadline;
  op->columns.reserve(roots.size());
  for (Oid& root : roots) {
    SnmpOperation::Column column;
    column.last = root;
    column.root = std::move(root);
    op->columns.push_back(std::move(column));
  }
  start(target, std::move(op), std::move(done));
}

SnmpClientStats SnmpEngine::stats() const {
  SnmpClientStats out = stats_;
  out.in_flight = operations_.size();
  out.sessions_open = sessions_.size();
  return out;
}

void SnmpEngine::refuse(VarBindsCallback done, Error error) {
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

void SnmpEngine::start(const SnmpTarget& target, std::unique_ptr<SnmpOperation> op,
                       VarBindsCallback done) {
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
  SnmpOperation* raw = op.get();
  raw->done = std::move(done);
  raw->session = std::move(session.value());
  raw->tag = SnmpRequestTag{this, raw->session.get(), raw};
  raw->session->operations++;
  operations_.emplace(raw, std::move(op));
  ++stats_.operations_started;
  SnmpSession& s = *raw->session;
  if (s.state == SnmpSession::State::kReady) return send(raw);
  s.waiting_for_discovery.push_back(raw);
  if (s.state == SnmpSession::State::kNeedsDiscovery) send_probe(s);
}

void SnmpEngine::complete(SnmpOperation* op, core::Result<std::vector<VarBind>> result) {
  auto it = operations_.find(op);
  if (it == operations_.end()) return;
  std::unique_ptr<SnmpOperation> owned = std::move(it->second);
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

void SnmpEngine::arm_tick() {
  tick_timer_.expires_after(options_.tick);
  tick_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || self->stopped_) return;
    self->on_tick();
    self->arm_tick();
  });
}

void SnmpEngine::on_tick() {
  // Retransmissions and timeouts of outstanding requests. Callbacks may complete operations
  // (changing busy_) but never close sessions, so the copied pointers stay valid.
  ticked_.assign(busy_.begin(), busy_.end());
  for (SnmpSession* session : ticked_) {
    if (session->outstanding > 0) snmp_sess_timeout(session->handle);
  }
  // Idle sessions, oldest first.
  const core::SteadyTime now = clock_.steady_now();
  while (!lru_.empty()) {
    SnmpSession* oldest = lru_.back();
    if (oldest->operations != 0 || oldest->outstanding != 0 ||
        now - oldest->last_used < options_.session_idle_timeout) {
      break;
    }
    drop_session(*oldest);
  }
}

int SnmpEngine::on_pdu(int what, netsnmp_session* /*ns*/, int /*reqid*/, netsnmp_pdu* pdu,
                       void* magic) {
  auto* tag = static_cast<SnmpRequestTag*>(magic);
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

namespace {

class SnmpClientImpl final : public SnmpClient {
 public:
  explicit SnmpClientImpl(std::shared_ptr<SnmpEngine> engine) : engine_(std::move(engine)) {}
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
  std::shared_ptr<SnmpEngine> engine_;
};

}  // namespace

}  // namespace netpulse::pollers::detail

namespace netpulse::pollers {

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
  auto engine = std::make_shared<detail::SnmpEngine>(
      options, std::min(options.max_sessions, fd_budget), std::move(loop), clock);
  engine->start();
  return std::unique_ptr<SnmpClient>(std::make_unique<detail::SnmpClientImpl>(std::move(engine)));
}

}  // namespace netpulse::pollers
