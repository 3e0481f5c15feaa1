// The default rule set (src/alerts/default_rules.cpp): every entry of the table reads back as a
// valid rule, under its own key, with a name of its own.
#include "alerts/detail/default_rules.hpp"

#include <set>

#include <catch2/catch.hpp>

using namespace netpulse::alerts;

TEST_CASE("default rules: every entry reads back, valid, with its own key and name",
          "[alerts][rules]") {
  const auto rules = detail::default_rules();
  REQUIRE(rules.size() == detail::default_rule_count());
  CHECK(rules.size() == 9);
  std::set<std::string> keys, names;
  for (auto& d : rules) {
    INFO(d.key);
    CHECK(validate_rule(d.rule));
    CHECK(d.rule.enabled);
    keys.insert(d.key);
    names.insert(d.rule.name);
  }
  CHECK(keys.size() == rules.size());
  CHECK(names.size() == rules.size());
}
