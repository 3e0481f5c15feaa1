// Which devices a trap reaches: the device's own credentials, and the configuration's grants for
// the system organization's devices. See detail/trap_match.hpp and docs/traps.md.
#include "detail/trap_match.hpp"

#include <algorithm>

#include "detail/credentials.hpp"

namespace netpulse::pollers::detail {

std::string normalize_engine_id(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  std::string out(hex);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {

// The configured sender (engine ID, user) that authenticated a v3 trap.
const TrapV3User* sender_of(const Trap& trap, const TrapGrants& grants) {
  const auto engine = normalize_engine_id(trap.v3_engine_id);
  for (const auto& u : grants.v3_users) {
    if (u.user == trap.v3_user && normalize_engine_id(u.engine_id) == engine) return &u;
  }
  return nullptr;
}

// A v3 trap carries the device's own v3 credentials: the same user, protocols and passwords as
// the sender's entry that USM authenticated it with.
bool carries_v3_credentials(const Trap& trap, const devices::SnmpCredentials& creds,
                            const TrapGrants& grants) {
  if (creds.settings.version != devices::SnmpVersion::kV3) return false;
  if (creds.settings.user.empty() || creds.settings.user != trap.v3_user) return false;
  const auto* sender = sender_of(trap, grants);
  return sender != nullptr && sender->auth_protocol == to_auth_protocol(creds.settings.auth) &&
         sender->auth_password == creds.secrets.auth_password &&
         sender->priv_protocol == to_priv_protocol(creds.settings.priv) &&
         sender->priv_password == creds.secrets.priv_password;
}

}  // namespace

bool trap_reaches_device(const Trap& trap, std::int64_t org_id,
                         const std::optional<devices::SnmpCredentials>& creds,
                         const TrapGrants& grants) {
  const bool system = grants.system_org_id != 0 && org_id == grants.system_org_id;
  if (trap.version == SnmpVersion::kV3) {
    // The receiver passes only v3 traps USM authenticated against a configured sender: the
    // operator's grant, for the operator's own organization.
    if (system && sender_of(trap, grants) != nullptr) return true;
    return creds && carries_v3_credentials(trap, *creds, grants);
  }
  // v1 / v2c: a community is a device's whichever of the two versions it polls with.
  if (creds && creds->settings.version != devices::SnmpVersion::kV3 &&
      !creds->secrets.community.empty() && creds->secrets.community == trap.community) {
    return true;
  }
  return system && !trap.community.empty() &&
         std::find(grants.system_communities.begin(), grants.system_communities.end(),
                   trap.community) != grants.system_communities.end();
}

}  // namespace netpulse::pollers::detail
