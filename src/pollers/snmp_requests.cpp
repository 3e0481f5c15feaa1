// The SNMP engine's requests and their answers: a GET of up to 64 OIDs in one PDU; a walk of up
// to 32 subtrees side by side (GETBULK, or GETNEXT for v1), each column followed until it leaves
// its subtree or the agent's MIB view, with max-repetitions halved on tooBig, and OIDs that fail
// to increase, a walk past max_values or past its deadline ending it with an error. Reports
// (SNMPv3) are turned into errors here too, after a notInTimeWindow has been retried.
#include <algorithm>
#include <iterator>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/snmp_engine.hpp"
#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;
using core::Errc;
using core::Error;

void SnmpEngine::send(SnmpOperation* op) {
  SnmpSession& s = *op->session;
  if (s.closed) return complete(op, Error(Errc::kServiceUnavailable, "snmp: session closed"));
  if (s.target.version == SnmpVersion::kV3) {
    if (auto ready = use_session_keys(s); !ready) return complete(op, ready.error());
  }
  netsnmp_pdu* pdu = nullptr;
  if (op->kind == SnmpOperation::Kind::kGet) {
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
  if (snmp_sess_async_send(s.handle, pdu, &SnmpEngine::on_pdu, &op->tag) == 0) {
    snmp_free_pdu(pdu);
    return complete(op, send_error(s));
  }
  ++stats_.pdus_sent;
  add_outstanding(s);
  arm_read(s);
}

void SnmpEngine::post_send(SnmpOperation* op) {
  asio::post(loop_, [self = shared_from_this(), op] {
    if (!self->stopped_) self->send(op);
  });
}

void SnmpEngine::add_null_var(netsnmp_pdu* pdu, const Oid& o) {
  oid name[Oid::kMaxLength];
  for (std::size_t i = 0; i < o.size(); ++i) name[i] = o[i];
  snmp_add_null_var(pdu, name, o.size());
}

void SnmpEngine::on_operation_pdu(SnmpOperation* op, int what, netsnmp_pdu* pdu) {
  SnmpSession& s = *op->session;
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
  if (op->kind == SnmpOperation::Kind::kGet) return on_get_response(op, pdu);
  on_walk_response(op, pdu);
}

Error SnmpEngine::status_error(const SnmpSession& s, netsnmp_pdu* pdu) {
  std::string where;
  long index = 1;
  for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable, ++index) {
    if (index == pdu->errindex) {
      where = fmt::format(" at {}", detail::to_varbind(*v).oid.str());
      break;
    }
  }
  const Errc code = pdu->errstat == SNMP_ERR_NOSUCHNAME ? Errc::kNotFound : Errc::kProtocolError;
  return Error(code,
               fmt::format("snmp: {} answered error-status {} ({}){}", s.peer,
                           snmp_errstring(static_cast<int>(pdu->errstat)), pdu->errstat, where));
}

void SnmpEngine::on_get_response(SnmpOperation* op, netsnmp_pdu* pdu) {
  SnmpSession& s = *op->session;
  if (pdu->errstat != SNMP_ERR_NOERROR) return complete(op, status_error(s, pdu));
  std::vector<VarBind> out;
  out.reserve(op->get_oids.size());
  for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable) {
    out.push_back(detail::to_varbind(*v));
  }
  if (out.size() != op->get_oids.size()) {
    return complete(
        op, Error(Errc::kProtocolError, fmt::format("snmp: {} answered {} varbinds to a GET of {}",
                                                    s.peer, out.size(), op->get_oids.size())));
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

void SnmpEngine::on_walk_response(SnmpOperation* op, netsnmp_pdu* pdu) {
  SnmpSession& s = *op->session;
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
    SnmpOperation::Column& column = op->columns[op->asked[index % width]];
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
                                  [](const SnmpOperation::Column& c) { return c.finished; });
  if (!progressed && !all_finished) {
    return complete(op, Error(Errc::kProtocolError,
                              fmt::format("snmp: {} answered a walk request with no usable "
                                          "varbind",
                                          s.peer)));
  }
  continue_or_finish(op);
}

void SnmpEngine::continue_or_finish(SnmpOperation* op) {
  bool all_finished = std::all_of(op->columns.begin(), op->columns.end(),
                                  [](const SnmpOperation::Column& c) { return c.finished; });
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

}  // namespace netpulse::pollers::detail
