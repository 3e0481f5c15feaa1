// Reading the polled MIB tables: the system group into inventory facts, IF-MIB rows (64-bit
// counters preferred, 32-bit kept where there is no twin), HOST-RESOURCES storage and processor
// load, ENTITY-SENSOR temperatures with their scale, and broken agents' mistyped cells.
#include "pollers/detail/snmp_oids.hpp"

#include <map>

#include <catch2/catch.hpp>

using namespace netpulse::pollers;
using namespace netpulse::pollers::detail;

namespace {

VarBind vb(std::initializer_list<std::uint32_t> oid, SnmpValue v) {
  return {Oid(oid), std::move(v)};
}

}  // namespace

TEST_CASE("snmp tables: the system group gives vendor, OS and uptime", "[pollers][snmp]") {
  std::vector<VarBind> vbs{
      vb({1, 3, 6, 1, 2, 1, 1, 1, 0}, std::string("RouterOS RB4011\r\nsecond line")),
      vb({1, 3, 6, 1, 2, 1, 1, 2, 0}, Oid{1, 3, 6, 1, 4, 1, 14988, 1}),
      vb({1, 3, 6, 1, 2, 1, 1, 3, 0}, TimeTicks{123456}),
      vb({1, 3, 6, 1, 2, 1, 1, 5, 0}, std::string("core-1")),
      vb({1, 3, 6, 1, 2, 1, 1, 6, 0}, std::string("POP A")),
  };
  auto info = system_info(vbs);
  CHECK(info.vendor == "MikroTik");
  CHECK(info.os == "RouterOS RB4011");
  CHECK(info.uptime_s == 1234);
  CHECK(info.sys_object_id == "1.3.6.1.4.1.14988.1");
  CHECK(info.sys_location == "POP A");
  // Wrong types cost the value, not the poll.
  std::vector<VarBind> broken{vb({1, 3, 6, 1, 2, 1, 1, 1, 0}, std::int64_t{5}),
                              vb({1, 3, 6, 1, 2, 1, 1, 2, 0}, std::string("x")),
                              vb({1, 3, 6, 1, 2, 1, 1, 3, 0}, std::string("y"))};
  auto b = system_info(broken);
  CHECK(b.sys_descr.empty());
  CHECK(b.vendor.empty());
  CHECK_FALSE(b.uptime_s);
  CHECK(vendor_of_enterprise(9) == "Cisco");
  CHECK(vendor_of_enterprise(999999).empty());
}

TEST_CASE("snmp tables: interface rows prefer 64-bit counters", "[pollers][snmp]") {
  const std::uint32_t if_table[] = {1, 3, 6, 1, 2, 1, 2, 2, 1};
  const std::uint32_t x_table[] = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1};
  auto t = [&](std::uint32_t col, std::uint32_t index, SnmpValue v) {
    Oid oid;
    for (auto a : if_table) oid.push_back(a);
    oid.push_back(col);
    oid.push_back(index);
    return VarBind{oid, std::move(v)};
  };
  auto x = [&](std::uint32_t col, std::uint32_t index, SnmpValue v) {
    Oid oid;
    for (auto a : x_table) oid.push_back(a);
    oid.push_back(col);
    oid.push_back(index);
    return VarBind{oid, std::move(v)};
  };
  std::vector<VarBind> vbs{
      t(2, 1, std::string("eth0")),
      t(2, 2, std::string("old0")),
      t(7, 1, std::int64_t{1}),
      t(8, 1, std::int64_t{1}),
      t(8, 2, std::int64_t{2}),
      t(10, 1, Counter32{100}),
      t(10, 2, Counter32{200}),
      t(14, 1, Counter32{7}),
      t(5, 2, Gauge32{10'000'000}),
      x(1, 1, std::string("ge-0/0/0")),
      x(6, 1, Counter64{1ull << 40}),
      x(15, 1, Gauge32{1000}),
      x(18, 1, std::string("uplink to core")),
      t(16, 1, std::string("not a counter")),  // a broken agent's cell
  };
  auto rows = interface_rows(vbs);
  REQUIRE(rows.size() == 2);
  auto& a = rows[0];
  CHECK(a.if_index == 1);
  CHECK(a.name == "ge-0/0/0");
  CHECK(a.alias == "uplink to core");
  CHECK(a.high_speed_mbps == 1000u);
  CHECK(a.hc_in_octets == (1ull << 40));
  CHECK_FALSE(a.out_octets);
  std::map<std::string, std::uint64_t> values(a.values.begin(), a.values.end());
  CHECK(values.count("ifHCInOctets"));
  CHECK_FALSE(values.count("ifInOctets"));  // its 64-bit twin is there
  CHECK(values.at("ifInErrors") == 7);
  auto& b = rows[1];
  CHECK(b.name.empty());
  CHECK(b.descr == "old0");
  CHECK(b.oper_status == 2);
  CHECK(b.speed_bps == 10'000'000u);
  std::map<std::string, std::uint64_t> bv(b.values.begin(), b.values.end());
  CHECK(bv.at("ifInOctets") == 200);  // no ifXTable: the 32-bit counter
}

TEST_CASE("snmp tables: storage, processor load and temperature sensors", "[pollers][snmp]") {
  std::vector<VarBind> vbs{
      vb({1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2, 196608}, std::int64_t{17}),
      vb({1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2, 196609}, std::int64_t{250}),  // out of range: skipped
      vb({1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 2, 1}, Oid{1, 3, 6, 1, 2, 1, 25, 2, 1, 2}),
      vb({1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 3, 1}, std::string("Physical memory")),
      vb({1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 4, 1}, std::int64_t{1024}),
      vb({1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 5, 1}, std::int64_t{1000}),
      vb({1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 6, 1}, std::int64_t{250}),
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 1, 5}, std::int64_t{8}),  // celsius
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 2, 5}, std::int64_t{9}),  // units
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 3, 5}, std::int64_t{1}),  // one decimal
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 4, 5}, std::int64_t{425}),
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 1, 6}, std::int64_t{4}),  // volts: not a temperature
      vb({1, 3, 6, 1, 2, 1, 99, 1, 1, 1, 4, 6}, std::int64_t{12}),
  };
  auto samples = host_samples(vbs);
  REQUIRE(samples.size() == 5);
  CHECK(samples[0].metric == "hrProcessorLoad");
  CHECK(samples[0].value == 17);
  CHECK(samples[1].metric == "hrStorageSizeBytes");
  CHECK(samples[1].value == 1000.0 * 1024);
  CHECK(samples[1].labels == std::vector<std::pair<std::string, std::string>>{
                                 {"storage", "Physical memory"}, {"type", "ram"}});
  CHECK(samples[2].value == 250.0 * 1024);
  CHECK(samples[3].metric == "hrStorageUsedPct");
  CHECK(samples[3].value == 25.0);
  CHECK(samples[4].metric == "entPhySensorCelsius");
  CHECK(samples[4].value == Approx(42.5));
}
