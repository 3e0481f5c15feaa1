// SNMPv3 in the SNMP engine: the asynchronous engine-ID discovery that snmp_sess_open would do
// synchronously (an empty unauthenticated GET whose report carries the ID), the USM user entry
// with the session's localised keys (net-snmp keeps one per engine ID and user for the process,
// so it is checked before each request and written back when another session changed it), the
// memoised password-to-key derivation, and the wording of the agent's report PDUs.
#include <cstring>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/snmp_engine.hpp"
#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

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

core::Result<std::string> KeyCache::master_key(AuthProtocol protocol, const std::string& password) {
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

// v3: asks the agent for its engine ID with an empty, unauthenticated GET (RFC 3414 4.);
// the Report that answers it carries the ID. on_probe() completes the session.
void SnmpEngine::send_probe(SnmpSession& s) {
  s.state = SnmpSession::State::kDiscovering;
  netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
  pdu->version = SNMP_VERSION_3;
  pdu->securityName = strdup("");
  pdu->securityNameLen = 0;
  pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
  pdu->securityModel = SNMP_SEC_MODEL_USM;
  s.probe_tag = SnmpRequestTag{this, &s, nullptr};
  if (snmp_sess_async_send(s.handle, pdu, &SnmpEngine::on_pdu, &s.probe_tag) == 0) {
    snmp_free_pdu(pdu);
    return finish_discovery(s, send_error(s));
  }
  ++stats_.pdus_sent;
  add_outstanding(s);
  arm_read(s);
}

void SnmpEngine::on_probe(SnmpSession& s, int what, netsnmp_pdu* pdu) {
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
    return finish_discovery(s, Error(Errc::kInvalidCredentials,
                                     fmt::format("snmp: cannot set up SNMPv3 user '{}' for {}: {}",
                                                 s.target.user, s.peer, keys.error().message)));
  }
  if (keyed) s.usm_keys = std::move(keys.value());
  finish_discovery(s, std::nullopt);
}

void SnmpEngine::finish_discovery(SnmpSession& s, std::optional<Error> error) {
  s.state = error ? SnmpSession::State::kNeedsDiscovery : SnmpSession::State::kReady;
  std::vector<SnmpOperation*> waiting;
  waiting.swap(s.waiting_for_discovery);
  auto self = shared_from_this();
  for (SnmpOperation* op : waiting) {
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

core::Result<void> SnmpEngine::use_session_keys(SnmpSession& s) {
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

}  // namespace netpulse::pollers::detail
