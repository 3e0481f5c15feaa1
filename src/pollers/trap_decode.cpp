// Decoding of received notifications: one UDP datagram to a Trap, with net-snmp's message parser
// (snmp_parse on a blank, never-opened session: the same code snmptrapd runs on every message),
// then the RFC 3584 conversion of v1 Trap-PDUs to the v2 form, the standard-trap kinds and the
// one-line summary. An inform's acknowledgement is built here too, from a clone of the parsed
// PDU turned into a Response (what snmptrapd does), encoded by snmp_build. SNMPv3 is recognised
// by its version field before net-snmp sees it: without configured v3 users it is refused
// unparsed; with them, net-snmp's USM checks and decrypts it against the users added by
// add_v3_trap_user() (snmptrapd's createUser). v3 informs would need our own engine ID and
// discovery Reports: refused.
#include "detail/trap_decode.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "detail/ber_check.hpp"
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

// The engine ID's bytes in hex (without "0x") and the createUser line for `user`.
struct V3UserLine {
  std::string engine_hex;
  std::string line;
};

core::Result<V3UserLine> v3_user_line(const TrapV3User& user) {
  std::string hex = user.engine_id;
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.erase(0, 2);
  if (hex.size() < 10 || hex.size() > 64 || hex.size() % 2 != 0 ||
      !std::all_of(hex.begin(), hex.end(),
                   [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
    return core::invalid_field("v3_users.engine_id", "5..32 bytes in hex");
  }
  auto plain = [](const std::string& word) {
    return !word.empty() && word.size() <= 64 && std::none_of(word.begin(), word.end(), [](char c) {
      return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' ||
             c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
  };
  if (!plain(user.user) || user.user.size() > 32) {
    return core::invalid_field("v3_users.user", "1..32 characters, no whitespace or quotes");
  }
  std::string line = fmt::format("-e 0x{} {}", hex, user.user);
  if (user.auth_protocol != AuthProtocol::kNone) {
    static constexpr const char* kAuthNames[] = {"",        "MD5",     "SHA",    "SHA-224",
                                                 "SHA-256", "SHA-384", "SHA-512"};
    if (!auth_protocol_supported(user.auth_protocol)) {
      return core::invalid_field("v3_users.auth_protocol", "not supported by net-snmp here");
    }
    if (!plain(user.auth_password) || user.auth_password.size() < 8) {
      return core::invalid_field("v3_users.auth_password",
                                 "8..64 characters, no whitespace or quotes");
    }
    line +=
        fmt::format(" {} {}", kAuthNames[static_cast<int>(user.auth_protocol)], user.auth_password);
    if (user.priv_protocol != PrivProtocol::kNone) {
      static constexpr const char* kPrivNames[] = {"", "DES", "AES", "AES-192", "AES-256"};
      if (!priv_protocol_supported(user.priv_protocol)) {
        return core::invalid_field("v3_users.priv_protocol", "not supported by net-snmp here");
      }
      if (!plain(user.priv_password) || user.priv_password.size() < 8) {
        return core::invalid_field("v3_users.priv_password",
                                   "8..64 characters, no whitespace or quotes");
      }
      line += fmt::format(" {} {}", kPrivNames[static_cast<int>(user.priv_protocol)],
                          user.priv_password);
    }
  } else if (user.priv_protocol != PrivProtocol::kNone) {
    return core::invalid_field("v3_users.priv_protocol", "privacy needs authentication");
  }
  return V3UserLine{std::move(hex), std::move(line)};
}

}  // namespace

core::Result<void> check_v3_trap_user(const TrapV3User& user) {
  if (auto line = v3_user_line(user); !line) return line.error();
  return {};
}

core::Result<void> add_v3_trap_user(const TrapV3User& user) {
  auto checked = v3_user_line(user);
  if (!checked) return checked.error();
  const std::string& hex = checked->engine_hex;
  std::string line = checked->line;

  std::vector<u_char> engine_id(hex.size() / 2);
  for (std::size_t i = 0; i < engine_id.size(); ++i) {
    engine_id[i] = static_cast<u_char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  // A user added again (new passwords) replaces the old entry.
  if (usmUser* old = usm_get_user(engine_id.data(), engine_id.size(), user.user.c_str())) {
    usm_remove_user(old);
    usm_free_user(old);
  }
  usm_parse_create_usmUser("createUser", line.data());
  if (usm_get_user(engine_id.data(), engine_id.size(), user.user.c_str()) == nullptr) {
    return core::Error(core::Errc::kConfigError,
                       fmt::format("traps: net-snmp refused v3 user '{}'", user.user));
  }
  return {};
}

namespace {

using Outcome = DecodedTrap::Outcome;

bool usm_refusal(int snmp_errno) {
  switch (snmp_errno) {
    case SNMPERR_UNKNOWN_USER_NAME:
    case SNMPERR_AUTHENTICATION_FAILURE:
    case SNMPERR_DECRYPTION_ERR:
    case SNMPERR_UNKNOWN_ENG_ID:
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
    case SNMPERR_NOT_IN_TIME_WINDOW:
    case SNMPERR_USM_UNKNOWNSECURITYNAME:
    case SNMPERR_USM_AUTHENTICATIONFAILURE:
    case SNMPERR_USM_DECRYPTIONERROR:
    case SNMPERR_USM_UNKNOWNENGINEID:
    case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
    case SNMPERR_USM_NOTINTIMEWINDOW:
      return true;
    default:
      return false;
  }
}

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
  if (version == SNMP_VERSION_3 && !limits.v3_enabled) {
    return refused(Outcome::kV3, "SNMPv3 without configured users");
  }
  if (version != SNMP_VERSION_1 && version != SNMP_VERSION_2c && version != SNMP_VERSION_3) {
    return refused(Outcome::kMalformed, fmt::format("not an SNMP v1/v2c message ({})", version));
  }

  if (!ber_message_fits(datagram, version)) {
    return refused(Outcome::kMalformed, "not well-formed BER: a length overruns what holds it");
  }

  netsnmp_session session;
  snmp_sess_init(&session);  // version "default": take the message's own
  PduPtr pdu(static_cast<netsnmp_pdu*>(std::calloc(1, sizeof(netsnmp_pdu))));
  if (!pdu) return refused(Outcome::kMalformed, "out of memory");
  if (snmp_parse(nullptr, &session, pdu.get(), datagram.data(), datagram.size()) != 0) {
    if (version == SNMP_VERSION_3 && usm_refusal(session.s_snmp_errno)) {
      return refused(Outcome::kV3Security, snmp_api_errstring(session.s_snmp_errno));
    }
    return refused(Outcome::kMalformed,
                   fmt::format("undecodable: {}", snmp_api_errstring(session.s_snmp_errno)));
  }

  const bool v1 = pdu->version == SNMP_VERSION_1;
  const bool v3 = pdu->version == SNMP_VERSION_3;
  const int command = pdu->command;
  if (v3 && command == SNMP_MSG_INFORM) return refused(Outcome::kV3, "SNMPv3 inform");
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
  if (v3 && pdu->securityName != nullptr) {
    trap.v3_user.assign(pdu->securityName, pdu->securityNameLen);
  }
  if (v3 && pdu->securityEngineID != nullptr) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < pdu->securityEngineIDLen; ++i) {
      trap.v3_engine_id += kHex[pdu->securityEngineID[i] >> 4];
      trap.v3_engine_id += kHex[pdu->securityEngineID[i] & 0x0f];
    }
  }
  if (!v3 && !community_allowed(trap.community, limits)) {
    return refused(Outcome::kCommunity, "community not in the allow-list");
  }
  std::size_t varbinds = 0;
  for (const netsnmp_variable_list* var = pdu->variables; var != nullptr;
       var = var->next_variable) {
    if (++varbinds > limits.max_varbinds) {
      return refused(Outcome::kMalformed, fmt::format("over {} varbinds", limits.max_varbinds));
    }
  }

  trap.version = v1 ? SnmpVersion::kV1 : (v3 ? SnmpVersion::kV3 : SnmpVersion::kV2c);
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
