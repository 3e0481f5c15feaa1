// Device credentials (the inventory's types) as SNMP engine targets.
#include "detail/credentials.hpp"

namespace netpulse::pollers::detail {

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
  switch (c.settings.auth) {
    case devices::SnmpAuth::kNone:
      t.auth_protocol = AuthProtocol::kNone;
      break;
    case devices::SnmpAuth::kMd5:
      t.auth_protocol = AuthProtocol::kMD5;
      break;
    case devices::SnmpAuth::kSha:
      t.auth_protocol = AuthProtocol::kSHA;
      break;
    case devices::SnmpAuth::kSha224:
      t.auth_protocol = AuthProtocol::kSHA224;
      break;
    case devices::SnmpAuth::kSha256:
      t.auth_protocol = AuthProtocol::kSHA256;
      break;
    case devices::SnmpAuth::kSha384:
      t.auth_protocol = AuthProtocol::kSHA384;
      break;
    case devices::SnmpAuth::kSha512:
      t.auth_protocol = AuthProtocol::kSHA512;
      break;
  }
  switch (c.settings.priv) {
    case devices::SnmpPriv::kNone:
      t.priv_protocol = PrivProtocol::kNone;
      break;
    case devices::SnmpPriv::kDes:
      t.priv_protocol = PrivProtocol::kDES;
      break;
    case devices::SnmpPriv::kAes128:
      t.priv_protocol = PrivProtocol::kAES128;
      break;
    case devices::SnmpPriv::kAes192:
      t.priv_protocol = PrivProtocol::kAES192;
      break;
    case devices::SnmpPriv::kAes256:
      t.priv_protocol = PrivProtocol::kAES256;
      break;
  }
  return t;
}

}  // namespace netpulse::pollers::detail
