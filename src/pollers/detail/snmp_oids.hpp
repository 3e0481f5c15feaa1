// The MIB objects NetPulse polls, by numeric OID (no MIB files at run time): the system group and
// the IF-MIB interface table (ifTable + ifXTable), and how their answers become a SystemInfo and
// interface rows. Private to the pollers module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <netpulse/devices/types.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers::detail {

// sysDescr.0, sysObjectID.0, sysUpTime.0, sysName.0, sysLocation.0 (in this order).
std::vector<Oid> system_oids();
// The system group's answer (in system_oids() order) as inventory facts; vendor from the
// enterprise number in sysObjectID (1.3.6.1.4.1.<n>...), when known.
devices::SystemInfo system_info(const std::vector<VarBind>& vbs);
// The vendor behind an IANA enterprise number, or "" when not in NetPulse's table.
std::string vendor_of_enterprise(std::uint32_t enterprise);

// The ifTable/ifXTable columns walked in one GETBULK stream.
std::vector<Oid> interface_columns();
// The MIB name of an ifTable (x_table false) or ifXTable column the interface walk reads
// ("ifDescr", "ifHCInOctets", ...), or "" for one it does not read.
std::string_view interface_column_name(bool x_table, std::uint32_t column);

struct InterfaceRow {
  std::uint32_t if_index = 0;
  std::string descr, name, alias;
  int admin_status = 0;
  int oper_status = 0;
  std::optional<std::uint64_t> speed_bps;                    // ifSpeed (caps at 2^32-1)
  std::optional<std::uint64_t> high_speed_mbps;              // ifHighSpeed
  std::optional<std::uint64_t> in_octets, out_octets;        // 32-bit
  std::optional<std::uint64_t> hc_in_octets, hc_out_octets;  // 64-bit
  // Every counter the row has, by the MIB object's name (ifHCInOctets, ifInErrors, ...): the
  // 64-bit one where the agent has it, else the 32-bit one.
  std::vector<std::pair<std::string, std::uint64_t>> values;
};

// Groups a column walk's answer by ifIndex (the last arc), in ifIndex order. Values of the wrong
// type are ignored (a broken agent costs that value, not the poll).
std::vector<InterfaceRow> interface_rows(const std::vector<VarBind>& vbs);

// HOST-RESOURCES-MIB (hrProcessorLoad; hrStorage type, descr, allocation units, size, used) and
// ENTITY-SENSOR-MIB (entPhySensorType, Scale, Precision, Value) columns, walked in one stream.
std::vector<Oid> host_columns();

// One sample the host tables give: metric name, extra labels, value.
struct HostSample {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// hrProcessorLoad{cpu} (%), hrStorageSizeBytes / hrStorageUsedBytes{storage, type} (type "ram",
// "virtual", "disk" or "other"), entPhySensorCelsius{sensor} for temperature sensors (value
// scaled by entPhySensorScale and Precision). Rows with missing or mistyped cells are skipped.
std::vector<HostSample> host_samples(const std::vector<VarBind>& vbs);

}  // namespace netpulse::pollers::detail
