// Fuzz target: the series selector parser (tsdb::Selector::parse). A parsed selector must print
// as text that parses back to an equal selector, and matching it against a few series must not
// fail.
#include <netpulse/tsdb/selector.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(selector) {
  auto parsed = tsdb::Selector::parse(fuzz::as_text(data, size));
  if (!parsed) {
    if (parsed.error().message.rfind("selector: ", 0) != 0) {
      fuzz::fail("an error message without the \"selector: \" prefix");
    }
    return 0;
  }
  const auto text = parsed->to_string();
  auto again = tsdb::Selector::parse(text);
  if (!again) fuzz::fail("to_string() of a parsed selector does not parse: " + text);
  if (!(*again == *parsed)) fuzz::fail("parse(to_string()) differs from the selector: " + text);
  const tsdb::SeriesKey keys[] = {
      {"cpu", {{"host", "web-01"}, {"region", "eu"}}},
      {"if_in_octets", {{"device", "core-1"}, {"ifName", "eth0\n"}}},
      {"up", {}},
  };
  for (const auto& k : keys) (void)parsed->matches(k);
  return 0;
}
