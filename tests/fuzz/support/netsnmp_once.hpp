// net-snmp set up once per fuzz process (no config files, no MIBs, a private scratch directory),
// shared by the SNMP targets. Aborts if the library cannot be initialised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <netpulse/pollers/snmp.hpp>

namespace netpulse::fuzz {

void init_netsnmp_once();

// net-snmp's parser on `bytes` (a copy; the parser may write into it) with a blank session, as
// the trap receiver uses it: the PDU's command, error-status, error-index and varbinds, or
// nothing when it does not parse.
struct ParsedPdu {
  long version = 0;
  int command = 0;
  long errstat = 0;
  long errindex = 0;
  std::vector<pollers::VarBind> varbinds;
};
std::unique_ptr<ParsedPdu> parse_pdu(const std::uint8_t* data, std::size_t size);

}  // namespace netpulse::fuzz
