// net-snmp for the SNMP fuzz targets: initialised once through the pollers' own set-up.
#include "support/netsnmp_once.hpp"

#include <cstdlib>

#include "pollers/detail/snmp_netsnmp.hpp"
#include "support/fuzz_target.hpp"

namespace netpulse::fuzz {

void init_netsnmp_once() {
  static const bool ok = [] {
    auto r = pollers::detail::init_netsnmp("");
    if (!r) fail("net-snmp: " + r.error().message);
    return true;
  }();
  (void)ok;
}

std::unique_ptr<ParsedPdu> parse_pdu(const std::uint8_t* data, std::size_t size) {
  init_netsnmp_once();
  std::vector<std::uint8_t> bytes(data, data + size);
  netsnmp_session session;
  snmp_sess_init(&session);
  auto* pdu = static_cast<netsnmp_pdu*>(std::calloc(1, sizeof(netsnmp_pdu)));
  if (pdu == nullptr) return nullptr;
  std::unique_ptr<ParsedPdu> out;
  if (snmp_parse(nullptr, &session, pdu, bytes.data(), bytes.size()) == 0) {
    out = std::make_unique<ParsedPdu>();
    out->version = pdu->version;
    out->command = pdu->command;
    out->errstat = pdu->errstat;
    out->errindex = pdu->errindex;
    for (netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable) {
      out->varbinds.push_back(pollers::detail::to_varbind(*v));
    }
  }
  snmp_free_pdu(pdu);
  return out;
}

}  // namespace netpulse::fuzz
