// Fuzz target: an SNMP agent's answer. The datagram goes through net-snmp's BER parser (as the
// client's session does), its varbinds through the pollers' conversion (to_varbind), and then
// through everything the poller makes of a response: the system group (system_info), the
// interface table (interface_rows), the host tables (host_samples), the value helpers and the
// OID text form, which must parse back to the same OID.
#include <cmath>

#include "pollers/detail/snmp_oids.hpp"
#include "support/fuzz_target.hpp"
#include "support/netsnmp_once.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(snmp_response) {
  auto pdu = fuzz::parse_pdu(data, size);
  if (!pdu) return 0;
  for (const auto& vb : pdu->varbinds) {
    (void)pollers::numeric_value(vb.value);
    if (pollers::value_type_name(vb.value).empty()) fuzz::fail("a value type without a name");
    if (vb.oid.size() > 0) {
      auto text = vb.oid.str();
      auto back = pollers::Oid::parse(text);
      if (back && *back != vb.oid) fuzz::fail("Oid::parse(str()) differs: " + text);
    }
  }
  (void)pollers::detail::system_info(pdu->varbinds);
  for (const auto& row : pollers::detail::interface_rows(pdu->varbinds)) {
    for (const auto& [name, value] : row.values) {
      if (name.empty()) fuzz::fail("an interface counter without a name");
      (void)value;
    }
  }
  for (const auto& s : pollers::detail::host_samples(pdu->varbinds)) {
    if (s.metric.empty()) fuzz::fail("a host sample without a metric name");
    if (!std::isfinite(s.value)) fuzz::fail("a host sample with a value that is not finite");
  }
  return 0;
}
