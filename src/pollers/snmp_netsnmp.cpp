// Process-wide net-snmp set-up, the conversions between net-snmp's structures and the face's
// values, and the engine's edits of net-snmp's USM user list. net-snmp keeps global state (its
// log handlers, the USM user list, default_store), so init_netsnmp() runs once per process; its
// log is bridged to NetPulse's Logger through one atomic pointer, the only global here, because
// net-snmp's log callback carries no context.
#include "detail/snmp_netsnmp.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unistd.h>

#include <fmt/format.h>

namespace netpulse::pollers {
namespace detail {
namespace {

std::atomic<core::Logger*> g_logger{nullptr};

int on_netsnmp_log(int /*major*/, int /*minor*/, void* server_arg, void* /*client_arg*/) {
  auto* message = static_cast<snmp_log_message*>(server_arg);
  core::Logger* logger = g_logger.load(std::memory_order_acquire);
  if (logger == nullptr || message == nullptr || message->msg == nullptr) return 0;
  std::string_view text(message->msg);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.empty()) logger->debug("snmp", "net-snmp: {}", text);
  return 0;
}

}  // namespace

void set_netsnmp_logger(core::Logger* logger) noexcept {
  g_logger.store(logger, std::memory_order_release);
}

core::Result<void> init_netsnmp(const std::string& persistent_dir) {
  static std::once_flag once;
  static core::Result<void> outcome;
  std::call_once(once, [&] {
    std::string dir = persistent_dir;
    const bool scratch = dir.empty();
    if (scratch) {
      // net-snmp insists on a persistent directory (it creates <dir>/cert_indexes at start-up
      // even with persistence off); give it a private one rather than /var/lib/snmp, and remove
      // it once init_snmp() is done with it (nothing persistent is written later).
      std::string pattern = "/tmp/netpulse-snmp-XXXXXX";
      if (::mkdtemp(pattern.data()) == nullptr) {
        outcome = core::Error(core::Errc::kConfigError,
                              fmt::format("snmp: cannot create a temporary directory for "
                                          "net-snmp: {}",
                                          std::strerror(errno)));
        return;
      }
      dir = pattern;
    }
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir.c_str());
    // No MIB files: an empty search path, and the "cannot find module" lines it causes go to
    // the debug log below, never to stderr.
    netsnmp_set_mib_directory("");
    // Log handlers must exist before init_snmp(), which logs while it loads; the callback list
    // needs init_callbacks() first (init_snmp() calling it again is harmless).
    snmp_disable_log();
    init_callbacks();
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_netsnmp_log, nullptr);
    init_snmp("netpulse");
    if (scratch) {
      ::rmdir((dir + "/cert_indexes").c_str());
      ::rmdir(dir.c_str());
    }
  });
  return outcome;
}

SnmpValue to_value(const netsnmp_variable_list& var) {
  switch (var.type) {
    case ASN_INTEGER:
      return static_cast<std::int64_t>(*var.val.integer);
    case ASN_OCTET_STR:
      return std::string(reinterpret_cast<const char*>(var.val.string), var.val_len);
    case ASN_NULL:
      return Null{};
    case ASN_OBJECT_ID: {
      Oid::Arcs arcs;
      const std::size_t n = var.val_len / sizeof(oid);
      arcs.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        arcs.push_back(static_cast<std::uint32_t>(var.val.objid[i]));
      return Oid(std::move(arcs));
    }
    case ASN_IPADDRESS:
      if (var.val_len == 4) {
        IpAddress ip;
        std::memcpy(ip.octets.data(), var.val.string, 4);
        return ip;
      }
      break;
    case ASN_COUNTER:
      return Counter32{static_cast<std::uint32_t>(*var.val.integer)};
    case ASN_GAUGE:
      return Gauge32{static_cast<std::uint32_t>(*var.val.integer)};
    case ASN_TIMETICKS:
      return TimeTicks{static_cast<std::uint32_t>(*var.val.integer)};
    case ASN_COUNTER64:
      return Counter64{(static_cast<std::uint64_t>(var.val.counter64->high) << 32) |
                       static_cast<std::uint32_t>(var.val.counter64->low)};
    case SNMP_NOSUCHOBJECT:
      return NoSuchObject{};
    case SNMP_NOSUCHINSTANCE:
      return NoSuchInstance{};
    case SNMP_ENDOFMIBVIEW:
      return EndOfMibView{};
    default:
      break;
  }
  if (var.val.string == nullptr) return Opaque{};
  return Opaque{std::string(reinterpret_cast<const char*>(var.val.string), var.val_len)};
}

VarBind to_varbind(const netsnmp_variable_list& var) {
  Oid::Arcs arcs;
  arcs.reserve(var.name_length);
  for (std::size_t i = 0; i < var.name_length; ++i) {
    arcs.push_back(static_cast<std::uint32_t>(var.name[i]));
  }
  return VarBind{Oid(std::move(arcs)), to_value(var)};
}

const oid* auth_protocol_oid(AuthProtocol protocol, std::size_t& length) noexcept {
  length = USM_AUTH_PROTO_MD5_LEN;
  switch (protocol) {
    case AuthProtocol::kNone:
      return nullptr;
#ifndef NETSNMP_DISABLE_MD5
    case AuthProtocol::kMD5:
      return usmHMACMD5AuthProtocol;
#endif
    case AuthProtocol::kSHA:
      return usmHMACSHA1AuthProtocol;
#ifdef HAVE_EVP_SHA224
    case AuthProtocol::kSHA224:
      return usmHMAC128SHA224AuthProtocol;
    case AuthProtocol::kSHA256:
      return usmHMAC192SHA256AuthProtocol;
#endif
#ifdef HAVE_EVP_SHA384
    case AuthProtocol::kSHA384:
      return usmHMAC256SHA384AuthProtocol;
    case AuthProtocol::kSHA512:
      return usmHMAC384SHA512AuthProtocol;
#endif
    default:
      return nullptr;
  }
}

const oid* priv_protocol_oid(PrivProtocol protocol, std::size_t& length) noexcept {
  length = USM_PRIV_PROTO_DES_LEN;
  switch (protocol) {
    case PrivProtocol::kNone:
      return nullptr;
#ifndef NETSNMP_DISABLE_DES
    case PrivProtocol::kDES:
      return usmDESPrivProtocol;
#endif
    case PrivProtocol::kAES128:
      length = USM_PRIV_PROTO_AES_LEN;
      return usmAESPrivProtocol;
#ifdef NETSNMP_DRAFT_BLUMENTHAL_AES_04
    case PrivProtocol::kAES192:
      length = std::size(usmAES192PrivProtocol);
      return usmAES192PrivProtocol;
    case PrivProtocol::kAES256:
      length = std::size(usmAES256PrivProtocol);
      return usmAES256PrivProtocol;
#endif
    default:
      return nullptr;
  }
}

std::string peer_name(const SnmpTarget& target) {
  if (target.address.is_v6()) {
    return fmt::format("udp6:[{}]:{}", target.address.to_string(), target.port);
  }
  return fmt::format("udp:{}:{}", target.address.to_string(), target.port);
}

namespace {

usmUser* usm_entry(const netsnmp_session& session) noexcept {
  return usm_get_user(session.securityEngineID, session.securityEngineIDLen, session.securityName);
}

bool same_oids(const oid* ids, std::size_t length, const std::vector<oid>& want) noexcept {
  return length == want.size() && (length == 0 || std::equal(ids, ids + length, want.begin()));
}

bool same_bytes(const u_char* bytes, std::size_t length, const std::string& want) noexcept {
  return length == want.size() && (length == 0 || std::memcmp(bytes, want.data(), length) == 0);
}

UsmKeys keys_of(const usmUser& user) {
  UsmKeys keys;
  if (user.authProtocol != nullptr) {
    keys.auth_protocol.assign(user.authProtocol, user.authProtocol + user.authProtocolLen);
  }
  if (user.authKey != nullptr) {
    keys.auth_key.assign(reinterpret_cast<const char*>(user.authKey), user.authKeyLen);
  }
  if (user.privProtocol != nullptr) {
    keys.priv_protocol.assign(user.privProtocol, user.privProtocol + user.privProtocolLen);
  }
  if (user.privKey != nullptr) {
    keys.priv_key.assign(reinterpret_cast<const char*>(user.privKey), user.privKeyLen);
  }
  return keys;
}

}  // namespace

core::Result<UsmKeys> install_usm_user(netsnmp_session& session, bool replace) {
  usmUser* old = usm_entry(session);
  if (old != nullptr && !replace) return keys_of(*old);
  // net-snmp's usm_create_user_from_session() keeps an existing entry's keys, so the old entry
  // leaves the list first; it is freed only once the new one stands, and put back otherwise.
  // Nothing reads the list in between (no I/O here, one thread).
  if (old != nullptr) {
    usm_remove_user(old);
    // usm_remove_user() leaves the links of the removed user as they were, and usm_free_user()
    // "reconnects" a user's neighbours through them: with the new entry in between, that
    // would unlink the new entry (lost: "unknown security name", and leaked).
    old->next = nullptr;
    old->prev = nullptr;
  }
  session.flags &= ~SNMP_FLAGS_USER_CREATED;  // set once an entry was made: net-snmp would skip
  const int rc = usm_create_user_from_session(&session);
  usmUser* created = usm_entry(session);
  if (rc != SNMPERR_SUCCESS || created == nullptr) {
    // net-snmp frees a user it could not complete before listing it: only the old one is left.
    if (old != nullptr) usm_add_user(old);
    return core::Error(
        core::Errc::kInternalError,
        fmt::format("net-snmp could not make the USM user entry: {}",
                    snmp_api_errstring(rc != SNMPERR_SUCCESS ? rc : SNMPERR_GENERR)));
  }
  if (old != nullptr) usm_free_user(old);
  return keys_of(*created);
}

bool usm_user_holds(const netsnmp_session& session, const UsmKeys* keys) noexcept {
  const usmUser* user = usm_entry(session);
  if (user == nullptr) return false;
  if (keys == nullptr) return true;
  return same_oids(user->authProtocol, user->authProtocolLen, keys->auth_protocol) &&
         same_bytes(user->authKey, user->authKeyLen, keys->auth_key) &&
         same_oids(user->privProtocol, user->privProtocolLen, keys->priv_protocol) &&
         same_bytes(user->privKey, user->privKeyLen, keys->priv_key);
}

}  // namespace detail

bool auth_protocol_supported(AuthProtocol protocol) noexcept {
  std::size_t length = 0;
  return protocol == AuthProtocol::kNone || detail::auth_protocol_oid(protocol, length) != nullptr;
}

bool priv_protocol_supported(PrivProtocol protocol) noexcept {
  std::size_t length = 0;
  return protocol == PrivProtocol::kNone || detail::priv_protocol_oid(protocol, length) != nullptr;
}

}  // namespace netpulse::pollers
