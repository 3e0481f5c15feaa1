// Fuzz target: one received trap datagram, from BER to the device event the poller records.
// decode_trap_datagram (net-snmp's parser, v1/v2c/v3 with one USM user configured, informs and
// their Response), then what Poller::on_trap makes of an accepted trap: the summary line, the
// kind, and the event's details JSON. Only the inventory lookup and the database write are left
// out (they need no bytes of the datagram).
#include <cstdint>
#include <vector>

#include <boost/json/serialize.hpp>

#include <netpulse/pollers/traps.hpp>

#include "pollers/detail/trap_decode.hpp"
#include "support/fuzz_target.hpp"
#include "support/netsnmp_once.hpp"

using namespace netpulse;

namespace {

void add_v3_user_once() {
  static const bool ok = [] {
    fuzz::init_netsnmp_once();
    pollers::TrapV3User user;
    user.engine_id = "0x80001f8880c71100000a9b3c55";
    user.user = "fuzzer";
    user.auth_protocol = pollers::AuthProtocol::kSHA;
    user.auth_password = "fuzz-auth-pass";
    user.priv_protocol = pollers::PrivProtocol::kAES128;
    user.priv_password = "fuzz-priv-pass";
    auto r = pollers::detail::add_v3_trap_user(user);
    if (!r) fuzz::fail("v3 user: " + r.error().message);
    return true;
  }();
  (void)ok;
}

}  // namespace

NETPULSE_FUZZ_TARGET(trap_decode) {
  add_v3_user_once();
  std::vector<std::uint8_t> datagram(data, data + size);
  pollers::detail::TrapDecodeLimits limits;
  limits.max_varbinds = 1000;
  limits.v3_enabled = true;
  auto decoded = pollers::detail::decode_trap_datagram(datagram, limits);
  using Outcome = pollers::detail::DecodedTrap::Outcome;
  if (decoded.outcome != Outcome::kTrap) {
    if (decoded.reason.empty()) fuzz::fail("a refused datagram without a reason");
    return 0;
  }
  const auto& t = decoded.trap;
  if (t.varbinds.size() > limits.max_varbinds) fuzz::fail("more varbinds than the limit");
  if (t.kind != pollers::trap_kind_of(t.trap_oid)) fuzz::fail("kind does not follow the trap OID");
  const auto summary = pollers::trap_summary(t);
  if (summary.empty()) fuzz::fail("an empty summary");
  boost::json::object details{{"trap_oid", t.trap_oid.str()},
                              {"kind", pollers::trap_kind_name(t.kind)},
                              {"inform", t.inform},
                              {"varbinds", t.varbinds.size()}};
  if (t.if_index) details["if_index"] = *t.if_index;
  (void)boost::json::serialize(details);
  if (t.inform && decoded.inform_response.empty()) fuzz::fail("an inform without a Response");
  return 0;
}
