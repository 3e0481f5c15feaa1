// Fuzz target: a user's contact methods JSON body (notify::contacts_from_json, after
// Boost.JSON). A refusal names a field; accepted contacts survive to_json and back unchanged,
// and the quiet-hours test answers for instants around 2026 without crashing (a quiet period
// of from < to holds at `from` on every listed day).
#include <string>

#include <boost/json/parse.hpp>

#include <netpulse/notify/contacts.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(user_contacts) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = boost::json::parse(text, ec);
  if (ec) return 0;
  auto c = notify::contacts_from_json(body);
  if (!c) {
    const auto* field = c.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  auto again = notify::contacts_from_json(notify::to_json(*c));
  if (!again) fuzz::fail("to_json of accepted contacts is refused");
  if (!(*again == *c)) fuzz::fail("contacts_from_json(to_json(c)) differs from c");
  if (c->quiet_hours) {
    for (std::int64_t t = 1'767'225'600'000; t < 1'767'225'600'000 + 8 * 86'400'000;
         t += 3'600'000 * 5) {
      (void)notify::in_quiet_hours(*c->quiet_hours, t);
    }
  }
  return 0;
}
