// Device credentials (the inventory's types) as SNMP engine targets.
#include "detail/credentials.hpp"

#include <fmt/format.h>

namespace netpulse::pollers::detail {

AuthProtocol to_auth_protocol(devices::SnmpAuth a) noexcept {
  switch (a) {
    case devices::SnmpAuth::kNone:
      return AuthProtocol::kNone;
    case devices::SnmpAuth::kMd5:
      return AuthProtocol::kMD5;
    case devices::SnmpAuth::kSha:
      return AuthProtocol::kSHA;
    case devices::SnmpAuth::kSha224:
      return AuthProtocol::kSHA224;
    case devices::SnmpAuth::kSha256:
      return AuthProtocol::kSHA256;
    case devices::SnmpAuth::kSha384:
      return AuthProtocol::kSHA384;
    case devices::SnmpAuth::kSha512:
      return AuthProtocol::kSHA512;
  }
  return AuthProtocol::kNone;
}

PrivProtocol to_priv_protocol(devices::SnmpPriv p) noexcept {
  switch (p) {
    case devices::SnmpPriv::kNone:
      return PrivProtocol::kNone;
    case devices::SnmpPriv::kDes:
      return PrivProtocol::kDES;
    case devices::SnmpPriv::kAes128:
      return PrivProtocol::kAES128;
    case devices::SnmpPriv::kAes192:
      return PrivProtocol::kAES192;
    case devices::SnmpPriv::kAes256:
      return PrivProtocol::kAES256;
  }
  return PrivProtocol::kNone;
}

core::Result<TrapV3User> parse_trap_v3_user(std::string_view line, std::string_view field) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  auto fail = [&](const std::string& why) {
    return core::Error(core::Errc::kConfigError, fmt::format("{}: {}", field, why),
                       {{"field", std::string(field)}});
  };
  if (words.size() != 4 && words.size() != 6) {
    return fail(
        "must be \"ENGINEID USER AUTH AUTHPASS [PRIV PRIVPASS]\", e.g. "
        "\"0x80001f8880c71100 trapper SHA-256 authpass1 AES privpass1\"");
  }
  TrapV3User u;
  u.engine_id = words[0];
  u.user = words[1];
  auto auth = devices::parse_snmp_auth(words[2]);
  if (!auth || *auth == devices::SnmpAuth::kNone) {
    return fail("the auth protocol must be MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512");
  }
  u.auth_protocol = to_auth_protocol(*auth);
  u.auth_password = words[3];
  if (words.size() == 6) {
    auto priv = devices::parse_snmp_priv(words[4]);
    if (!priv || *priv == devices::SnmpPriv::kNone) {
      return fail("the privacy protocol must be DES, AES, AES-128, AES-192 or AES-256");
    }
    u.priv_protocol = to_priv_protocol(*priv);
    u.priv_password = words[5];
  }
  return u;
}

SnmpTarget to_snmp_target(const boost::asio::ip::address& ip, const devices::SnmpCredentials& c,
                          std::chrono::milliseconds timeout, int retries) {
  SnmpTarget t;
  t.address = ip;
  t.port = c.settings.port;
  t.timeout = timeout;
  t.retries = retries;
  switch (c.settings.version) {
    case devices::SnmpVersion::kV1:
      t.version = SnmpVersion::kV1;
      break;
    case devices::SnmpVersion::kV2c:
      t.version = SnmpVersion::kV2c;
      break;
    case devices::SnmpVersion::kV3:
      t.version = SnmpVersion::kV3;
      break;
  }
  t.community = c.secrets.community;
  t.user = c.settings.user;
  t.context = c.settings.context;
  t.auth_password = c.secrets.auth_password;
  t.priv_password = c.secrets.priv_password;
  t.auth_protocol = to_auth_protocol(c.settings.auth);
  t.priv_protocol = to_priv_protocol(c.settings.priv);
  return t;
}

}  // namespace netpulse::pollers::detail
