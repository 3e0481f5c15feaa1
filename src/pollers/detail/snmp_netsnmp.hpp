// Private glue between the SNMP face and net-snmp: process-wide library set-up, conversion of
// net-snmp varbinds into VarBind, the USM protocol tables and USM user entries. Only
// src/pollers/snmp*.cpp (and their unit tests) include this; net-snmp's headers stay out of the
// public face.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/logger.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/pollers/snmp.hpp>

// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>
// clang-format on

// net-snmp spells GETBULK's fields as macros over errstat/errindex; they would rename the
// face's WalkOptions::max_repetitions. Code here writes pdu->errstat/errindex for them.
#undef max_repetitions
#undef non_repeaters

namespace netpulse::pollers::detail {

// Initialises net-snmp once per process: no config files, no MIBs, persistent files only under
// `persistent_dir` (a private temporary directory when empty), the library's log routed to
// set_netsnmp_logger()'s logger. Later calls return the first call's result.
core::Result<void> init_netsnmp(const std::string& persistent_dir);
// Where net-snmp's log lines go (debug level, component "snmp"); null drops them.
void set_netsnmp_logger(core::Logger* logger) noexcept;

// One net-snmp varbind as a VarBind. Unknown ASN.1 types come back as Opaque with the raw bytes.
VarBind to_varbind(const netsnmp_variable_list& var);

// The value part alone (the OID is converted separately).
SnmpValue to_value(const netsnmp_variable_list& var);

// net-snmp's OID tables for the USM protocols; null for kNone or an unsupported one.
const oid* auth_protocol_oid(AuthProtocol protocol, std::size_t& length) noexcept;
const oid* priv_protocol_oid(PrivProtocol protocol, std::size_t& length) noexcept;

// "udp:127.0.0.1:161" / "udp6:[::1]:161": the peer name net-snmp's transport parser takes.
std::string peer_name(const SnmpTarget& target);

// What net-snmp's USM user entry for one (engine ID, user name) holds: the protocols and the
// keys localised for that engine. net-snmp keeps one entry per pair for the whole process and
// secures and checks every message of that user to or from that engine with it.
struct UsmKeys {
  std::vector<oid> auth_protocol;
  std::string auth_key;
  std::vector<oid> priv_protocol;
  std::string priv_key;
};

// Makes the USM entry for `session`'s engine ID (already discovered) and user: with `replace`,
// a new entry with keys localised from the session's master keys by net-snmp's own
// usm_create_user_from_session() takes the place of any existing one (another session's keys
// for the same agent and user); without, an existing entry is kept as it is (a noAuthNoPriv
// session needs the entry, not its keys). Answers what the entry then holds. On failure the
// old entry stays. No I/O.
core::Result<UsmKeys> install_usm_user(netsnmp_session& session, bool replace);

// Whether the USM entry for `session`'s engine ID and user exists and, when `keys` is given,
// holds exactly those protocols and keys. One lookup in net-snmp's (linear) user list.
bool usm_user_holds(const netsnmp_session& session, const UsmKeys* keys) noexcept;

}  // namespace netpulse::pollers::detail
