// The default rule set (src/alerts/default_rules.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <netpulse/alerts/rule.hpp>

namespace netpulse::alerts::detail {

struct DefaultRule {
  std::string key;  // kept as the stored rule's `builtin`
  Rule rule;
};

// Every default rule that reads back (all of them: the unit test compares with the count).
std::vector<DefaultRule> default_rules();
std::size_t default_rule_count() noexcept;

}  // namespace netpulse::alerts::detail
