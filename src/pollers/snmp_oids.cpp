// The polled MIB objects by numeric OID and the reading of their answers; see
// detail/snmp_oids.hpp.
#include "detail/snmp_oids.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <map>

namespace netpulse::pollers::detail {

namespace {

// ifTable (1.3.6.1.2.1.2.2.1.<column>) and ifXTable (1.3.6.1.2.1.31.1.1.1.<column>) columns.
enum class Field {
  kDescr,
  kName,
  kAlias,
  kAdmin,
  kOper,
  kSpeed,
  kHighSpeed,
  kInOctets,
  kOutOctets,
  kHcInOctets,
  kHcOutOctets,
  kCounter,  // stored as a sample under its name
};

struct Column {
  bool x_table;  // ifXTable
  std::uint32_t column;
  Field field;
  const char* name;     // the MIB object's name: the metric name of counters
  const char* hc_twin;  // for a 32-bit counter, the 64-bit object that replaces it
};

constexpr std::array<Column, 23> kColumns{{
    {false, 2, Field::kDescr, "ifDescr", nullptr},
    {false, 5, Field::kSpeed, "ifSpeed", nullptr},
    {false, 7, Field::kAdmin, "ifAdminStatus", nullptr},
    {false, 8, Field::kOper, "ifOperStatus", nullptr},
    {false, 10, Field::kInOctets, "ifInOctets", "ifHCInOctets"},
    {false, 11, Field::kCounter, "ifInUcastPkts", "ifHCInUcastPkts"},
    {false, 13, Field::kCounter, "ifInDiscards", nullptr},
    {false, 14, Field::kCounter, "ifInErrors", nullptr},
    {false, 16, Field::kOutOctets, "ifOutOctets", "ifHCOutOctets"},
    {false, 17, Field::kCounter, "ifOutUcastPkts", "ifHCOutUcastPkts"},
    {false, 19, Field::kCounter, "ifOutDiscards", nullptr},
    {false, 20, Field::kCounter, "ifOutErrors", nullptr},
    {true, 1, Field::kName, "ifName", nullptr},
    {true, 6, Field::kHcInOctets, "ifHCInOctets", nullptr},
    {true, 7, Field::kCounter, "ifHCInUcastPkts", nullptr},
    {true, 8, Field::kCounter, "ifHCInMulticastPkts", nullptr},
    {true, 9, Field::kCounter, "ifHCInBroadcastPkts", nullptr},
    {true, 10, Field::kHcOutOctets, "ifHCOutOctets", nullptr},
    {true, 11, Field::kCounter, "ifHCOutUcastPkts", nullptr},
    {true, 12, Field::kCounter, "ifHCOutMulticastPkts", nullptr},
    {true, 13, Field::kCounter, "ifHCOutBroadcastPkts", nullptr},
    {true, 15, Field::kHighSpeed, "ifHighSpeed", nullptr},
    {true, 18, Field::kAlias, "ifAlias", nullptr},
}};

Oid column_oid(const Column& c) {
  if (c.x_table) return Oid{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, c.column};
  return Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, c.column};
}

std::optional<std::uint64_t> unsigned_value(const SnmpValue& v) {
  if (auto* c = std::get_if<Counter64>(&v)) return c->value;
  if (auto* c = std::get_if<Counter32>(&v)) return c->value;
  if (auto* g = std::get_if<Gauge32>(&v)) return g->value;
  if (auto* t = std::get_if<TimeTicks>(&v)) return t->value;
  if (auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) {
    return static_cast<std::uint64_t>(*i);
  }
  return std::nullopt;
}

std::string text_value(const SnmpValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

}  // namespace

std::vector<Oid> system_oids() {
  return {Oid{1, 3, 6, 1, 2, 1, 1, 1, 0}, Oid{1, 3, 6, 1, 2, 1, 1, 2, 0},
          Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}, Oid{1, 3, 6, 1, 2, 1, 1, 5, 0},
          Oid{1, 3, 6, 1, 2, 1, 1, 6, 0}};
}

std::string vendor_of_enterprise(std::uint32_t enterprise) {
  static const std::map<std::uint32_t, std::string> vendors{
      {9, "Cisco"},        {11, "HP"},
      {171, "D-Link"},     {311, "Microsoft"},
      {674, "Dell"},       {890, "Zyxel"},
      {1916, "Extreme"},   {1991, "Brocade"},
      {2011, "Huawei"},    {2636, "Juniper"},
      {3375, "F5"},        {3902, "ZTE"},
      {4526, "Netgear"},   {6486, "Alcatel-Lucent"},
      {6527, "Nokia"},     {8072, "Net-SNMP"},
      {10002, "Ubiquiti"}, {11863, "TP-Link"},
      {12356, "Fortinet"}, {14988, "MikroTik"},
      {17713, "Cambium"},  {25461, "Palo Alto"},
      {25506, "H3C"},      {30065, "Arista"},
      {41112, "Ubiquiti"},
  };
  auto it = vendors.find(enterprise);
  return it == vendors.end() ? std::string() : it->second;
}

devices::SystemInfo system_info(const std::vector<VarBind>& vbs) {
  devices::SystemInfo info;
  auto at = [&](std::size_t i) -> const SnmpValue* {
    return i < vbs.size() ? &vbs[i].value : nullptr;
  };
  if (auto* v = at(0)) info.sys_descr = text_value(*v).substr(0, 1024);
  if (auto* v = at(1)) {
    if (auto* oid = std::get_if<Oid>(v)) {
      info.sys_object_id = oid->str();
      const Oid enterprises{1, 3, 6, 1, 4, 1};
      if (oid->size() > 6 && oid->starts_with(enterprises)) {
        info.vendor = vendor_of_enterprise((*oid)[6]);
      }
    }
  }
  if (auto* v = at(2)) {
    if (auto* t = std::get_if<TimeTicks>(v)) info.uptime_s = t->value / 100;
  }
  if (auto* v = at(3)) info.sys_name = text_value(*v).substr(0, 256);
  if (auto* v = at(4)) info.sys_location = text_value(*v).substr(0, 256);
  // The first line of sysDescr names the OS on most agents ("Cisco IOS Software, ...").
  info.os = info.sys_descr.substr(0, info.sys_descr.find_first_of("\r\n"));
  if (info.os.size() > 128) info.os.resize(128);
  return info;
}

std::vector<Oid> interface_columns() {
  std::vector<Oid> out;
  out.reserve(kColumns.size());
  for (auto& c : kColumns) out.push_back(column_oid(c));
  return out;
}

std::string_view interface_column_name(bool x_table, std::uint32_t column) {
  for (const auto& c : kColumns) {
    if (c.x_table == x_table && c.column == column) return c.name;
  }
  return {};
}

std::vector<InterfaceRow> interface_rows(const std::vector<VarBind>& vbs) {
  std::map<std::uint32_t, InterfaceRow> rows;
  std::map<std::uint32_t, std::map<std::string, std::uint64_t>> counters;
  std::vector<Oid> roots;
  roots.reserve(kColumns.size());
  for (auto& c : kColumns) roots.push_back(column_oid(c));
  for (auto& vb : vbs) {
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
      const auto& root = roots[i];
      if (vb.oid.size() != root.size() + 1 || !vb.oid.starts_with(root)) continue;
      const auto index = vb.oid[root.size()];
      auto& row = rows[index];
      row.if_index = index;
      const auto& col = kColumns[i];
      const auto number = unsigned_value(vb.value);
      switch (col.field) {
        case Field::kDescr:
          row.descr = text_value(vb.value);
          break;
        case Field::kName:
          row.name = text_value(vb.value);
          break;
        case Field::kAlias:
          row.alias = text_value(vb.value);
          break;
        case Field::kAdmin:
          if (number) row.admin_status = static_cast<int>(std::min<std::uint64_t>(*number, 99));
          break;
        case Field::kOper:
          if (number) row.oper_status = static_cast<int>(std::min<std::uint64_t>(*number, 99));
          break;
        case Field::kSpeed:
          row.speed_bps = number;
          break;
        case Field::kHighSpeed:
          row.high_speed_mbps = number;
          break;
        case Field::kInOctets:
          row.in_octets = number;
          if (number) counters[index][col.name] = *number;
          break;
        case Field::kOutOctets:
          row.out_octets = number;
          if (number) counters[index][col.name] = *number;
          break;
        case Field::kHcInOctets:
          row.hc_in_octets = number;
          if (number) counters[index][col.name] = *number;
          break;
        case Field::kHcOutOctets:
          row.hc_out_octets = number;
          if (number) counters[index][col.name] = *number;
          break;
        case Field::kCounter:
          if (number) counters[index][col.name] = *number;
          break;
      }
      break;
    }
  }
  std::vector<InterfaceRow> out;
  for (auto& [index, row] : rows) {
    auto& have = counters[index];
    for (auto& c : kColumns) {
      auto it = have.find(c.name);
      if (it == have.end()) continue;
      // A 32-bit counter is stored only when its 64-bit twin is missing.
      if (c.hc_twin && have.count(c.hc_twin)) continue;
      row.values.emplace_back(c.name, it->second);
    }
    out.push_back(std::move(row));
  }
  return out;
}

namespace {

const Oid kHrProcessorLoad{1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2};
const Oid kHrStorageType{1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 2};
const Oid kHrStorageDescr{1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 3};
const Oid kHrStorageUnits{1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 4};
const Oid kHrStorageSize{1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 5};
const Oid kHrStorageUsed{1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 6};
const Oid kSensorType{1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 1};
const Oid kSensorScale{1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 2};
const Oid kSensorPrecision{1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 3};
const Oid kSensorValue{1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 4};

// The values of one column by its last arc (the row index).
std::map<std::uint32_t, const SnmpValue*> column(const std::vector<VarBind>& vbs, const Oid& root) {
  std::map<std::uint32_t, const SnmpValue*> out;
  for (auto& vb : vbs) {
    if (vb.oid.size() == root.size() + 1 && vb.oid.starts_with(root)) {
      out[vb.oid[root.size()]] = &vb.value;
    }
  }
  return out;
}

const SnmpValue* cell(const std::map<std::uint32_t, const SnmpValue*>& col, std::uint32_t index) {
  auto it = col.find(index);
  return it == col.end() ? nullptr : it->second;
}

std::optional<std::int64_t> signed_value(const SnmpValue* v) {
  if (v == nullptr) return std::nullopt;
  if (auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (auto u = unsigned_value(*v); u && *u <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(*u);
  }
  return std::nullopt;
}

}  // namespace

std::vector<Oid> host_columns() {
  return {kHrProcessorLoad, kHrStorageType, kHrStorageDescr, kHrStorageUnits,  kHrStorageSize,
          kHrStorageUsed,   kSensorType,    kSensorScale,    kSensorPrecision, kSensorValue};
}

std::vector<HostSample> host_samples(const std::vector<VarBind>& vbs) {
  std::vector<HostSample> out;
  for (auto& [index, v] : column(vbs, kHrProcessorLoad)) {
    if (auto load = signed_value(v); load && *load >= 0 && *load <= 100) {
      out.push_back(
          {"hrProcessorLoad", {{"cpu", std::to_string(index)}}, static_cast<double>(*load)});
    }
  }
  const auto types = column(vbs, kHrStorageType);
  const auto descrs = column(vbs, kHrStorageDescr);
  const auto units = column(vbs, kHrStorageUnits);
  const auto sizes = column(vbs, kHrStorageSize);
  const auto used = column(vbs, kHrStorageUsed);
  const Oid storage_types{1, 3, 6, 1, 2, 1, 25, 2, 1};
  for (auto& [index, size_v] : sizes) {
    const auto unit = signed_value(cell(units, index));
    const auto size = signed_value(size_v);
    const auto in_use = signed_value(cell(used, index));
    if (!unit || !size || !in_use || *unit <= 0 || *size < 0 || *in_use < 0) continue;
    std::string type = "other";
    if (types.count(index)) {
      if (auto* oid = std::get_if<Oid>(types.at(index));
          oid && oid->size() == storage_types.size() + 1 && oid->starts_with(storage_types)) {
        const auto t = (*oid)[storage_types.size()];
        type = t == 2 ? "ram" : t == 3 ? "virtual" : t == 4 ? "disk" : "other";
      }
    }
    std::string name = descrs.count(index) ? text_value(*descrs.at(index)) : "";
    if (name.empty()) name = std::to_string(index);
    std::vector<std::pair<std::string, std::string>> labels{{"storage", name}, {"type", type}};
    const double factor = static_cast<double>(*unit);
    out.push_back({"hrStorageSizeBytes", labels, static_cast<double>(*size) * factor});
    out.push_back({"hrStorageUsedBytes", labels, static_cast<double>(*in_use) * factor});
    // The share in use: what a "full within N days" forecast watches, whatever the size.
    if (*size > 0) {
      out.push_back({"hrStorageUsedPct", labels,
                     100.0 * static_cast<double>(*in_use) / static_cast<double>(*size)});
    }
  }
  const auto sensor_types = column(vbs, kSensorType);
  const auto scales = column(vbs, kSensorScale);
  const auto precisions = column(vbs, kSensorPrecision);
  for (auto& [index, value_v] : column(vbs, kSensorValue)) {
    const auto type = signed_value(cell(sensor_types, index));
    const auto value = signed_value(value_v);
    if (!type || *type != 8 || !value) continue;  // 8: celsius
    // entPhySensorScale: 9 = units (10^0); each step is 10^3. Precision: decimal places.
    const auto scale = signed_value(cell(scales, index));
    const auto precision = signed_value(cell(precisions, index));
    double v = static_cast<double>(*value);
    if (scale && *scale >= 1 && *scale <= 17)
      v *= std::pow(10.0, 3.0 * static_cast<double>(*scale - 9));
    if (precision && *precision >= 1 && *precision <= 9) {
      v /= std::pow(10.0, static_cast<double>(*precision));
    }
    out.push_back({"entPhySensorCelsius", {{"sensor", std::to_string(index)}}, v});
  }
  return out;
}

}  // namespace netpulse::pollers::detail
