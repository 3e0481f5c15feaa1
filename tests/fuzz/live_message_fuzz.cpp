// Fuzz target: the live feed's protocol. The input is up to eight messages, one per line, from
// one client of the hub (over the real auth service and store); `@ADMIN@` and `@KEY@` become
// valid credentials so inputs reach past authentication. Checked: the hub answers only JSON
// objects with a "type", closes a client only with the feed's close codes, and a client that
// never authenticated gets nothing but its close.
#include <boost/json/parse.hpp>

#include "support/api_fixture.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(live_message) {
  auto text = fuzz::as_text(data, size);
  std::vector<std::string> messages;
  while (!text.empty() && messages.size() < 8) {
    auto nl = text.find('\n');
    messages.emplace_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  auto answer = fuzz::ApiFixture::instance().live_exchange(messages);
  bool ready = false;
  for (const auto& sent : answer.sent) {
    boost::system::error_code ec;
    auto v = boost::json::parse(sent, ec);
    if (ec || !v.is_object() || !v.as_object().contains("type") || !v.at("type").is_string()) {
      fuzz::fail("the live feed sent something other than a typed JSON object: " + sent);
    }
    if (v.at("type") == "ready") ready = true;
    if (!ready) fuzz::fail("the live feed sent \"" + sent + "\" before the client authenticated");
  }
  switch (answer.close_code) {
    case 0:
    case 4000:
    case 4001:
    case 4003:
      break;
    default:
      fuzz::fail("the live feed closed with an unexpected code " +
                 std::to_string(answer.close_code));
  }
  return 0;
}
