// Fuzz target: a silence's JSON body (alerts::silence_from_json, after Boost.JSON), then the
// compiled silence tested against an alert made from the input's own labels. A refusal names a
// field; an accepted silence survives silence_to_json and back unchanged, compiles, and its
// answer for an alert is the same twice and false outside [starts_at, ends_at).
#include <map>
#include <string>

#include <boost/json/parse.hpp>

#include <netpulse/alerts/silence.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(silence) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = boost::json::parse(text, ec);
  if (ec) return 0;
  auto s = alerts::silence_from_json(body);
  if (!s) {
    const auto* field = s.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  auto again = alerts::silence_from_json(alerts::silence_to_json(*s));
  if (!again) fuzz::fail("silence_to_json of an accepted silence is refused");
  if (!(*again == *s)) fuzz::fail("silence_from_json(silence_to_json(s)) differs from s");
  auto compiled = alerts::CompiledSilence::compile(*s);
  if (!compiled) fuzz::fail("an accepted silence does not compile");
  // An alert whose labels are the matchers' own values, on the silence's first device and rule.
  std::map<std::string, std::string> labels;
  for (auto& m : s->matchers) labels[m.name] = m.value;
  alerts::AlertSubject subject;
  subject.rule_id = s->rule_ids.empty() ? 1 : s->rule_ids.front();
  if (!s->device_ids.empty()) subject.device_id = s->device_ids.front();
  subject.device_groups = s->group_ids;
  subject.device_tags = s->tags;
  subject.labels = &labels;
  const bool inside = alerts::silences(*compiled, subject, s->starts_at);
  if (inside != alerts::silences(*compiled, subject, s->starts_at)) fuzz::fail("not repeatable");
  if (alerts::silences(*compiled, subject, s->ends_at)) fuzz::fail("silences at its end");
  if (alerts::silences(*compiled, subject, s->starts_at - 1)) fuzz::fail("silences before start");
  return 0;
}
