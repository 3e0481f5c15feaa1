// Decoding of received notifications: one UDP datagram to a Trap, with net-snmp's message parser
// (snmp_parse on a blank, never-opened session: the same code snmptrapd runs on every message),
// then the RFC 3584 conversion of v1 Trap-PDUs to the v2 form, the standard-trap kinds and the
// one-line summary. An inform's acknowledgement is built here too, from a clone of the parsed
// PDU turned into a Response (what snmptrapd does), encoded by snmp_build. SNMPv3 is recognised
// by its version field before net-snmp sees it, and refused: parsing it would engage USM state.
#include "detail/trap_decode.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers {
namespace {

// SNMPv2-MIB: sysUpTime.0, snmpTrapOID.0 and the standard traps' prefix snmpTraps.
const Oid kSysUpTime0{1, 3, 6, 1, 2, 1, 1, 3, 0};
const Oid kSnmpTrapOid0{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
const Oid kSnmpTraps{1, 3, 6, 1, 6, 3, 1, 1, 5};
// IF-MIB: ifIndex, ifDescr (ifEntry columns) and ifName (ifXEntry).
const Oid kIfIndex{1, 3, 6, 1, 2, 1, 2, 2, 1, 1};
const Oid kIfDescr{1, 3, 6, 1, 2, 1, 2, 2, 1, 2};
const Oid kIfName{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1};

struct PduDeleter {
  void operator()(netsnmp_pdu* pdu) const noexcept { snmp_free_pdu(pdu); }
};
using PduPtr = std::unique_ptr<netsnmp_pdu, PduDeleter>;

Oid to_oid(const oid* arcs, std::size_t length) {
  Oid::Arcs out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(static_cast<std::uint32_t>(arcs[i]));
  return Oid(std::move(out));
}

// The message's version field, read without net-snmp's parser; -1 when the header is not
// SEQUENCE { INTEGER ... }.
long peek_version(std::span<std::uint8_t> datagram) {
  size_t length = datagram.size();
  u_char type = 0;
  u_char* cursor = asn_parse_sequence(datagram.data(), &length, &type,
                                      ASN_SEQUENCE | ASN_CONSTRUCTOR, "message");
  if (cursor == nullptr) return -1;
  long version = -1;
  if (asn_parse_int(cursor, &length, &type, &version, sizeof version) == nullptr) return -1;
  if (type != ASN_INTEGER) return -1;
  return version;
}

bool community_allowed(const std::string& community, const detail::TrapDecodeLimits& limits) {
  if (limits.communities == nullptr || limits.communities->empty()) return true;
  return std::find(limits.communities->begin(), limits.communities->end(), community) !=
         limits.communities->end();
}

// The Response acknowledging `inform`: its clone with the command changed, error fields zero.
std::vector<std::uint8_t> build_inform_response(netsnmp_pdu& inform, std::size_t room) {
  PduPtr reply(snmp_clone_pdu(&inform));
  if (!reply) return {};
  reply->command = SNMP_MSG_RESPONSE;
  reply->errstat = 0;
  reply->errindex = 0;
  reply->flags &= ~UCD_MSG_FLAG_EXPECT_RESPONSE;
  // Forward encoding into a fixed buffer: no reallocation, and the packet starts at its head.
  reply->flags |= UCD_MSG_FLAG_FORWARD_ENCODE;

  netsnmp_session session;
  snmp_sess_init(&session);
  session.version = inform.version;
  session.community = inform.community;
  session.community_len = inform.community_len;
  session.sndMsgMaxSize = detail::kMaxTrapDatagram;
  session.rcvMsgMaxSize = detail::kMaxTrapDatagram;

  // snmp_build may replace the buffer through the pointer it is given, so it is malloc'd.
  auto* buffer = static_cast<u_char*>(std::malloc(room));
  if (buffer == nullptr) return {};
  // In: the buffer's size; out (forward encoding): the length of the packet at its head.
  size_t length = room;
  size_t offset = 0;
  const int rc = snmp_build(&buffer, &length, &offset, &session, reply.get());
  std::vector<std::uint8_t> packet;
  if (rc == SNMPERR_SUCCESS && length <= room) packet.assign(buffer, buffer + length);
  std::free(buffer);
  return packet;
}

}  // namespace

std::string_view trap_kind_name(TrapKind kind) noexcept {
  switch (kind) {
    case TrapKind::kColdStart:
      return "coldStart";
    case TrapKind::kWarmStart:
      return "warmStart";
    case TrapKind::kLinkDown:
      return "linkDown";
    case TrapKind::kLinkUp:
      return "linkUp";
    case TrapKind::kAuthenticationFailure:
      return "authenticationFailure";
    case TrapKind::kOther:
      break;
  }
  return "other";
}

TrapKind trap_kind_of(const Oid& trap_oid) noexcept {
  if (trap_oid.size() != kSnmpTraps.size() + 1 || !trap_oid.starts_with(kSnmpTraps)) {
    return TrapKind::kOther;
  }
  switch (trap_oid[kSnmpTraps.size()]) {
    case 1:
      return TrapKind::kColdStart;
    case 2:
      return TrapKind::kWarmStart;
    case 3:
      return TrapKind::kLinkDown;
    case 4:
      return TrapKind::kLinkUp;
    case 5:
      return TrapKind::kAuthenticationFailure;
    default:
      return TrapKind::kOther;
  }
}

std::string trap_summary(const Trap& trap) {
  std::string out;
  if (trap.kind == TrapKind::kOther) {
    out = fmt::format("trap {} ({} varbinds)", trap.trap_oid.str(), trap.varbinds.size());
  } else {
    out = std::string(trap_kind_name(trap.kind));
  }
  if (!trap.if_index) return out;
  out += fmt::format(" ifIndex {}", *trap.if_index);
  // The interface's name when the trap carries one for the same index (ifDescr first).
  for (const Oid* column : {&kIfDescr, &kIfName}) {
    for (const VarBind& vb : trap.varbinds) {
      if (vb.oid.size() != column->size() + 1 || !vb.oid.starts_with(*column)) continue;
      if (vb.oid[column->size()] != *trap.if_index) continue;
      const auto* text = std::get_if<std::string>(&vb.value);
      if (text == nullptr) continue;
      std::string shown = text->substr(0, 64);
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      }
      out += fmt::format(" ({} {})", column == &kIfDescr ? "ifDescr" : "ifName", shown);
      return out;
    }
  }
  return out;
}

namespace detail {
namespace {

using Outcome = DecodedTrap::Outcome;

DecodedTrap refused(Outcome outcome, std::string reason) {
  DecodedTrap out;
  out.outcome = outcome;
  out.reason = std::move(reason);
  return out;
}

// Trap fields from a v1 Trap-PDU (RFC 1157), converted per RFC 3584 section 3.1.
bool fill_v1(const netsnmp_pdu& pdu, Trap& trap, std::string& reason) {
  if (pdu.trap_type < 0 || pdu.trap_type > 6) {
    reason = fmt::format("v1 generic-trap {} is not 0..6", pdu.trap_type);
    return false;
  }
  if (pdu.enterprise == nullptr || pdu.enterprise_length < 2 ||
      pdu.enterprise_length > Oid::kMaxLength - 2) {
    reason = "v1 trap without a usable enterprise OID";
    return false;
  }
  trap.enterprise = to_oid(pdu.enterprise, pdu.enterprise_length);
  if (pdu.trap_type == 6) {
    if (pdu.specific_type < 0 || pdu.specific_type > 0xffffffffL) {
      reason = fmt::format("v1 specific-trap {} out of range", pdu.specific_type);
      return false;
    }
    trap.trap_oid = trap.enterprise;
    trap.trap_oid.push_back(0);
    trap.trap_oid.push_back(static_cast<std::uint32_t>(pdu.specific_type));
  } else {
    trap.trap_oid = kSnmpTraps;
    trap.trap_oid.push_back(static_cast<std::uint32_t>(pdu.trap_type + 1));
  }
  trap.uptime_ticks = static_cast<std::uint32_t>(pdu.time);
  boost::asio::ip::address_v4::bytes_type octets{};
  std::memcpy(octets.data(), pdu.agent_addr, octets.size());
  trap.agent_addr = boost::asio::ip::address_v4(octets);
  for (const netsnmp_variable_list* var = pdu.variables; var != nullptr; var = var->next_variable) {
    trap.varbinds.push_back(to_varbind(*var));
  }
  return true;
}

// Trap fields from an SNMPv2-Trap-PDU or InformRequest-PDU (RFC 3416 section 4.2.6/4.2.7):
// sysUpTime.0 and snmpTrapOID.0 lead the list; snmpTrapOID.0 is required, sysUpTime.0 is taken
// when present (some senders omit it).
bool fill_v2(const netsnmp_pdu& pdu, Trap& trap, std::string& reason) {
  bool have_trap_oid = false;
  std::size_t position = 0;
  for (const netsnmp_variable_list* var = pdu.variables; var != nullptr;
       var = var->next_variable, ++position) {
    VarBind vb = to_varbind(*var);
    if (position < 2 && vb.oid == kSysUpTime0 && !trap.uptime_ticks) {
      if (const auto* ticks = std::get_if<TimeTicks>(&vb.value)) {
        trap.uptime_ticks = ticks->value;
        continue;
      }
    }
    if (position < 2 && vb.oid == kSnmpTrapOid0 && !have_trap_oid) {
      if (auto* value = std::get_if<Oid>(&vb.value)) {
        trap.trap_oid = std::move(*value);
        have_trap_oid = true;
        continue;
      }
    }
    trap.varbinds.push_back(std::move(vb));
  }
  if (!have_trap_oid || trap.trap_oid.size() < 2) {
    reason = "no snmpTrapOID.0 among the first two varbinds";
    return false;
  }
  return true;
}

void fill_if_index(Trap& trap) {
  if (trap.kind != TrapKind::kLinkDown && trap.kind != TrapKind::kLinkUp) return;
  for (const VarBind& vb : trap.varbinds) {
    if (vb.oid.size() != kIfIndex.size() + 1 || !vb.oid.starts_with(kIfIndex)) continue;
    if (const auto* value = std::get_if<std::int64_t>(&vb.value);
        value != nullptr && *value >= 0 && *value <= 0xffffffffLL) {
      trap.if_index = static_cast<std::uint32_t>(*value);
    } else {
      trap.if_index = vb.oid[kIfIndex.size()];
    }
    return;
  }
}

}  // namespace

DecodedTrap decode_trap_datagram(std::span<std::uint8_t> datagram, const TrapDecodeLimits& limits) {
  if (datagram.empty()) return refused(Outcome::kMalformed, "empty datagram");
  if (datagram.size() > kMaxTrapDatagram) {
    return refused(Outcome::kMalformed, fmt::format("{} bytes", datagram.size()));
  }
  const long version = peek_version(datagram);
  if (version == SNMP_VERSION_3) return refused(Outcome::kV3, "SNMPv3 is not supported");
  if (version != SNMP_VERSION_1 && version != SNMP_VERSION_2c) {
    return refused(Outcome::kMalformed, fmt::format("not an SNMP v1/v2c message ({})", version));
  }

  netsnmp_session session;
  snmp_sess_init(&session);  // version "default": take the message's own
  PduPtr pdu(static_cast<netsnmp_pdu*>(std::calloc(1, sizeof(netsnmp_pdu))));
  if (!pdu) return refused(Outcome::kMalformed, "out of memory");
  if (snmp_parse(nullptr, &session, pdu.get(), datagram.data(), datagram.size()) != 0) {
    return refused(Outcome::kMalformed,
                   fmt::format("undecodable: {}", snmp_api_errstring(session.s_snmp_errno)));
  }

  const bool v1 = pdu->version == SNMP_VERSION_1;
  const int command = pdu->command;
  const bool trap_command =
      v1 ? command == SNMP_MSG_TRAP : (command == SNMP_MSG_TRAP2 || command == SNMP_MSG_INFORM);
  if (!trap_command) {
    if (command == SNMP_MSG_TRAP || command == SNMP_MSG_TRAP2 || command == SNMP_MSG_INFORM) {
      return refused(Outcome::kMalformed,
                     fmt::format("PDU type 0x{:02x} in a v{} message", command, v1 ? 1 : 2));
    }
    return refused(Outcome::kNotTrap, fmt::format("PDU type 0x{:02x}", command));
  }

  DecodedTrap out;
  Trap& trap = out.trap;
  if (pdu->community != nullptr) {
    trap.community.assign(reinterpret_cast<const char*>(pdu->community), pdu->community_len);
  }
  if (!community_allowed(trap.community, limits)) {
    return refused(Outcome::kCommunity, "community not in the allow-list");
  }
  std::size_t varbinds = 0;
  for (const netsnmp_variable_list* var = pdu->variables; var != nullptr;
       var = var->next_variable) {
    if (++varbinds > limits.max_varbinds) {
      return refused(Outcome::kMalformed, fmt::format("over {} varbinds", limits.max_varbinds));
    }
  }

  trap.version = v1 ? SnmpVersion::kV1 : SnmpVersion::kV2c;
  trap.inform = command == SNMP_MSG_INFORM;
  std::string reason;
  if (!(v1 ? fill_v1(*pdu, trap, reason) : fill_v2(*pdu, trap, reason))) {
    return refused(Outcome::kMalformed, std::move(reason));
  }
  trap.kind = trap_kind_of(trap.trap_oid);
  fill_if_index(trap);
  if (trap.inform) {
    // The Response is the same size as the inform but for the PDU tag; leave room for longer
    // length encodings.
    out.inform_response = build_inform_response(*pdu, datagram.size() + 64);
  }
  out.outcome = Outcome::kTrap;
  return out;
}

}  // namespace detail
}  // namespace netpulse::pollers
