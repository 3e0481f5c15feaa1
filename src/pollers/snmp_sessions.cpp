// The SNMP engine's sessions: one net-snmp session (one UDP socket) per target address and
// credentials, cached by every field they are bound to and closed when idle or, at
// max_sessions, least recently used first. Each session's socket sits on the loop: while it has
// requests outstanding a read wait is armed, and each datagram is checked (detail/ber_check.hpp)
// before net-snmp reads it, matches it to its request and calls SnmpEngine::on_pdu.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "detail/ber_check.hpp"
#include "detail/snmp_engine.hpp"
#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

std::string SnmpEngine::session_key(const SnmpTarget& t) const {
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", t.address.to_string(), t.port,
                     static_cast<int>(t.version), t.community, t.user,
                     static_cast<int>(t.auth_protocol), t.auth_password,
                     static_cast<int>(t.priv_protocol), t.priv_password, t.context,
                     t.timeout.count(), t.retries);
}

core::Result<std::shared_ptr<SnmpSession>> SnmpEngine::find_or_open(const SnmpTarget& target) {
  std::string key = session_key(target);
  if (auto it = sessions_.find(key); it != sessions_.end() && it->second->stale &&
                                     it->second->operations == 0 && it->second->outstanding == 0) {
    drop_session(*it->second);  // the agent's engine ID changed: discover it afresh
  }
  if (auto it = sessions_.find(key); it != sessions_.end()) {
    SnmpSession& s = *it->second;
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
  SnmpSession& s = *session.value();
  lru_.push_front(&s);
  s.lru_position = lru_.begin();
  s.last_used = clock_.steady_now();
  sessions_.emplace(s.key, session.value());
  return session;
}

bool SnmpEngine::evict_one() {
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    SnmpSession* s = *it;
    if (s->operations == 0 && s->outstanding == 0) {
      ++stats_.sessions_evicted;
      drop_session(*s);
      return true;
    }
  }
  return false;
}

void SnmpEngine::drop_session(SnmpSession& s) {
  lru_.erase(s.lru_position);
  close_session(s);
  sessions_.erase(s.key);  // may destroy s
}

void SnmpEngine::close_session(SnmpSession& s) {
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

core::Result<std::shared_ptr<SnmpSession>> SnmpEngine::open_session(const SnmpTarget& target,
                                                                    std::string key) {
  auto s = std::make_shared<SnmpSession>();
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
  s->state = target.version == SnmpVersion::kV3 ? SnmpSession::State::kNeedsDiscovery
                                                : SnmpSession::State::kReady;
  return s;
}

Error SnmpEngine::send_error(const SnmpSession& s) {
  int lib_errno = 0, sys_errno = 0;
  char* text = nullptr;
  snmp_sess_error(s.handle, &sys_errno, &lib_errno, &text);
  std::string message = text != nullptr ? text : "unknown error";
  std::free(text);
  return Error(Errc::kServiceUnavailable,
               fmt::format("snmp: cannot send to {}: {}", s.peer, message));
}

// Only sessions with request PDUs outstanding are in busy_, which the tick visits: walking
// every cached session (one per device, kept 10 min) 20 times a second was 16 % of the CPU of
// a server polling 1,000 devices every 60 s (bench/poller.sh with BENCH_POLLER_PERF=1).
void SnmpEngine::add_outstanding(SnmpSession& s) {
  if (s.outstanding++ == 0) busy_.insert(&s);
}

void SnmpEngine::remove_outstanding(SnmpSession& s) {
  if (--s.outstanding == 0) busy_.erase(&s);
}

void SnmpEngine::arm_read(SnmpSession& s) {
  if (s.reading || s.closed) return;
  s.reading = true;
  s.socket->async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this(), session = s.shared_from_this()](
          const boost::system::error_code& ec) { self->on_readable(session, ec); });
}

void SnmpEngine::on_readable(const std::shared_ptr<SnmpSession>& session,
                             const boost::system::error_code& ec) {
  SnmpSession& s = *session;
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

}  // namespace netpulse::pollers::detail
