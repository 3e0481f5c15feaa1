// A trap's varbinds as an event keeps them (src/pollers/trap_varbinds.cpp): names of known
// objects, each SMI type as JSON, and the bounds on count and size.
#include "pollers/detail/trap_varbinds.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace netpulse::pollers;
using netpulse::pollers::detail::known_object_name;
using netpulse::pollers::detail::varbind_json;
using netpulse::pollers::detail::varbinds_json;

namespace {

Oid oid(const char* dotted) {
  auto o = Oid::parse(dotted);
  REQUIRE(o);
  return *o;
}

}  // namespace

TEST_CASE("trap varbinds: known objects are named with their instance", "[pollers][traps]") {
  struct Case {
    const char* oid;
    const char* name;
  };
  for (const auto& c : std::vector<Case>{
           {"1.3.6.1.2.1.2.2.1.1.3", "ifIndex.3"},
           {"1.3.6.1.2.1.2.2.1.2.3", "ifDescr.3"},
           {"1.3.6.1.2.1.2.2.1.7.12", "ifAdminStatus.12"},
           {"1.3.6.1.2.1.2.2.1.8.12", "ifOperStatus.12"},
           {"1.3.6.1.2.1.31.1.1.1.1.5", "ifName.5"},
           {"1.3.6.1.2.1.31.1.1.1.18.5", "ifAlias.5"},
           {"1.3.6.1.2.1.1.5.0", "sysName.0"},
           {"1.3.6.1.2.1.1.3.0", "sysUpTime.0"},
           {"1.3.6.1.2.1.2.2.1.8", "ifOperStatus"},  // the column itself
           {"1.3.6.1.4.1.9.9.41.1.2.3.1.2.7", ""},   // a vendor object: not named
           {"1.3.6.1.2.1.2.2.1", ""},                // above every column
           {"1.3.6.1.2.1.2.2.1.99.1", ""},           // a column NetPulse does not know
       }) {
    INFO(c.oid);
    CHECK(known_object_name(oid(c.oid)) == c.name);
  }
}

TEST_CASE("trap varbinds: every SMI type becomes JSON an operator can read", "[pollers][traps]") {
  struct Case {
    SnmpValue value;
    const char* json;  // the binding without its oid/name
  };
  const std::vector<Case> cases{
      {std::int64_t{-5}, R"({"type":"Integer32","value":-5})"},
      {Counter32{4'000'000'000u}, R"({"type":"Counter32","value":4000000000})"},
      {Gauge32{7}, R"({"type":"Gauge32","value":7})"},
      {TimeTicks{12345}, R"({"type":"TimeTicks","value":12345})"},
      {Counter64{18'446'744'073'709'551'615ull},
       R"({"type":"Counter64","value":18446744073709551615})"},
      {std::string("eth2"), R"({"type":"OctetString","value":"eth2"})"},
      {std::string("caf\xc3\xa9"), R"({"type":"OctetString","value":"café"})"},
      {std::string("\x00\x1b\x21\xff", 4), R"({"type":"OctetString","value":"0x001b21ff"})"},
      {std::string("\xc3", 1), R"({"type":"OctetString","value":"0xc3"})"},  // cut UTF-8
      {Oid{1, 3, 6, 1, 4, 1, 8072}, R"({"type":"ObjectIdentifier","value":"1.3.6.1.4.1.8072"})"},
      {IpAddress{{192, 0, 2, 7}}, R"({"type":"IpAddress","value":"192.0.2.7"})"},
      {Null{}, R"({"type":"Null","value":null})"},
      {NoSuchInstance{}, R"({"type":"noSuchInstance","value":null})"},
  };
  for (const auto& c : cases) {
    auto j = varbind_json(VarBind{oid("1.3.6.1.4.1.99.1"), c.value});
    CHECK(j.at("oid").as_string() == "1.3.6.1.4.1.99.1");
    CHECK_FALSE(j.contains("name"));
    j.erase("oid");
    const auto want = boost::json::parse(c.json).as_object();
    INFO(boost::json::serialize(j));
    CHECK(j == want);
  }
  CHECK(varbind_json(VarBind{oid("1.3.6.1.2.1.1.5.0"), std::string("core-1")}).at("name") ==
        "sysName.0");
}

TEST_CASE("trap varbinds: values and counts are bounded", "[pollers][traps]") {
  using netpulse::pollers::detail::kMaxEventValueBytes;
  using netpulse::pollers::detail::kMaxEventVarbinds;
  // A long text is cut (never inside a UTF-8 sequence) and marked.
  std::string long_text(kMaxEventValueBytes - 1, 'a');
  long_text += "\xc3\xa9 and more";
  auto j = varbind_json(VarBind{oid("1.3.6.1.2.1.31.1.1.1.18.1"), long_text});
  CHECK(j.at("value").as_string().size() == kMaxEventValueBytes - 1);
  CHECK(j.at("truncated").as_bool());
  // Binary bytes as hex, bounded the same way.
  auto b = varbind_json(VarBind{oid("1.3.6.1.4.1.1"), Opaque{std::string(10'000, '\x01')}});
  CHECK(b.at("value").as_string().size() <= kMaxEventValueBytes);
  CHECK(b.at("truncated").as_bool());
  // A short value is not marked.
  CHECK_FALSE(varbind_json(VarBind{oid("1.3.6.1.4.1.1"), std::string("ok")}).contains("truncated"));
  // At most kMaxEventVarbinds bindings, the first ones, in order.
  std::vector<VarBind> many;
  for (std::uint32_t i = 1; i <= 1000; ++i)
    many.push_back({Oid{1, 3, 6, 1, 4, 1, 99, i}, Gauge32{i}});
  auto arr = varbinds_json(many);
  REQUIRE(arr.size() == kMaxEventVarbinds);
  CHECK(arr.front().at("value") == 1u);
  CHECK(arr.back().at("value") == kMaxEventVarbinds);
  CHECK(varbinds_json({}).empty());
}
