// Acknowledgement links in the notifier (src/notify/notifier_ack.cpp): the link a firing message
// carries for its channel (and not a resolved one's), its key file, inspect and redeem of a
// valid, expired (ManualClock), reused, forged and other-organization link, and the purge of
// used links past their expiry.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/random.hpp>

#include "notify/detail/ack_link.hpp"
#include "support/run_until.hpp"
#include "support/scripted_http_server.hpp"
#include "unit/notify/notifier_harness.hpp"

using namespace netpulse;
using notify::detail::AckClaims;
using test::NotifierHarness;
namespace json = boost::json;

namespace {

std::string ack_key(const NotifierHarness& h) {
  std::ifstream in(h.dir.file("ack_link.key"), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

AckClaims claims_for(const NotifierHarness& h, std::int64_t channel_id) {
  AckClaims c;
  c.org_id = test::kHarnessOrg;
  c.alert_ids = {42, 43};
  c.channel_id = channel_id;
  c.expires_s = h.clock.unix_seconds() + 3600;
  c.nonce = notify::detail::new_ack_nonce();
  return c;
}

std::string sign(const NotifierHarness& h, const AckClaims& c) {
  auto t = notify::detail::sign_ack_token(ack_key(h), c);
  REQUIRE(t);
  return *t;
}

core::Result<notify::AckLink> redeem(NotifierHarness& h, const std::string& token) {
  return h.wait<notify::AckLink>(
      [&](auto done) { h.notifier->redeem_ack(token, std::move(done)); });
}

std::int64_t used_rows(NotifierHarness& h) {
  return h.database->read([](db::Connection& c) {
    auto st = c.prepare("SELECT count(*) FROM ack_link_uses");
    REQUIRE(st);
    REQUIRE(*st->step());
    return st->get_int64(0);
  });
}

}  // namespace

TEST_CASE("the acknowledgement key is 32 random bytes, private to the server, kept",
          "[notify][ack]") {
  std::string first;
  {
    NotifierHarness h;
    first = ack_key(h);
    CHECK(first.size() == 32);
    const auto perms = std::filesystem::status(h.dir.file("ack_link.key")).permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
          std::filesystem::perms::none);
    // A restart signs with the same key: links already sent keep working.
    h.notifier.reset();
    h.open();
    CHECK(ack_key(h) == first);
  }
  NotifierHarness other;
  CHECK(ack_key(other) != first);
}

TEST_CASE("a firing message carries its channel's acknowledgement link; a resolved one none",
          "[notify][ack]") {
  test::ScriptedHttpServer receiver([](const auto&) { return test::http_reply(200, "ok"); });
  NotifierHarness h;
  h.options.ack_link_ttl_s = 600;
  h.notifier.reset();
  h.open();
  auto channel = h.webhook(receiver.url("/hook"));
  h.policy_to(channel.id);
  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  auto body = json::parse(receiver.requests()[0].body()).as_object();
  const std::string url(body.at("ack_url").as_string());
  const std::string prefix = "https://np.example/api/v1/ack/";
  REQUIRE(url.rfind(prefix, 0) == 0);
  CHECK(std::string(body.at("text").as_string()).find("Acknowledge: " + url) != std::string::npos);
  auto claims = notify::detail::verify_ack_token(ack_key(h), url.substr(prefix.size()),
                                                 h.clock.unix_millis());
  REQUIRE(claims);
  CHECK(claims->org_id == test::kHarnessOrg);
  CHECK(claims->alert_ids == std::vector<std::int64_t>{42});
  CHECK(claims->channel_id == channel.id);
  CHECK(claims->user_id == 0);
  CHECK(claims->expires_s == h.clock.unix_seconds() + 600);

  auto link = h.notifier->inspect_ack(url.substr(prefix.size()));
  REQUIRE(link);
  CHECK(link->actor_name == "NOC hook (link)");
  CHECK(link->channel_id == channel.id);
  CHECK_FALSE(link->user_id);

  auto resolved = NotifierHarness::alert(42);
  resolved.status = alerts::AlertStatus::kResolved;
  resolved.resolved_at = resolved.fired_at.value_or(0) + 60'000;
  h.publish(resolved, "resolved");
  h.clock.advance(std::chrono::minutes(6));  // the group's group_interval
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  body = json::parse(receiver.requests()[1].body()).as_object();
  CHECK(body.at("kind").as_string() == "resolved");
  CHECK(body.at("ack_url").as_string().empty());
}

TEST_CASE("an acknowledgement link is redeemed once; expired, forged and reused links are not",
          "[notify][ack]") {
  NotifierHarness h;
  const auto channel = h.webhook("https://hooks.example/np").id;

  SECTION("valid: inspect changes nothing, redeem uses it up, a second redeem is refused") {
    const auto token = sign(h, claims_for(h, channel));
    auto seen = h.notifier->inspect_ack(token);
    REQUIRE(seen);
    CHECK(seen->alert_ids == std::vector<std::int64_t>{42, 43});
    CHECK(seen->actor_name == "NOC hook (link)");
    CHECK(h.notifier->inspect_ack(token));  // still unused
    auto used = redeem(h, token);
    REQUIRE(used);
    CHECK(used->alert_ids == std::vector<std::int64_t>{42, 43});
    CHECK(used->org_id == test::kHarnessOrg);
    CHECK(used_rows(h) == 1);
    for (auto again : {redeem(h, token), h.notifier->inspect_ack(token)}) {
      REQUIRE_FALSE(again);
      CHECK(again.error().code == core::Errc::kConflict);
      CHECK(again.error().details.at("reason").as_string() == "used");
    }
  }
  SECTION("two redeems racing: exactly one wins") {
    const auto token = sign(h, claims_for(h, channel));
    std::vector<core::Result<notify::AckLink>> got;
    for (int i = 0; i < 2; ++i)
      h.notifier->redeem_ack(token, [&](core::Result<notify::AckLink> r) { got.push_back(r); });
    REQUIRE(test::run_until(h.env.loop(), [&] { return got.size() == 2; }));
    CHECK(static_cast<bool>(got[0]) != static_cast<bool>(got[1]));
  }
  SECTION("expired: refused once the clock reaches the expiry, and never recorded") {
    const auto token = sign(h, claims_for(h, channel));
    h.clock.advance(std::chrono::seconds(3599));
    CHECK(h.notifier->inspect_ack(token));
    h.clock.advance(std::chrono::seconds(1));
    auto r = redeem(h, token);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kTokenExpired);
    CHECK(h.notifier->inspect_ack(token).error().code == core::Errc::kTokenExpired);
    CHECK(used_rows(h) == 0);
  }
  SECTION("forged: another key, or claims changed under the signature") {
    auto c = claims_for(h, channel);
    auto other_key = notify::detail::sign_ack_token(std::string(32, 'x'), c);
    REQUIRE(other_key);
    auto token = sign(h, c);
    std::string raw;
    REQUIRE(core::base64url_decode(token, raw));
    raw[1] = static_cast<char>(raw[1] + 1);  // another organization, same signature
    for (const auto& bad : {*other_key, core::base64url_encode(raw), std::string("x")}) {
      auto r = redeem(h, bad);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == core::Errc::kTokenInvalid);
      CHECK(h.notifier->inspect_ack(bad).error().code == core::Errc::kTokenInvalid);
    }
    CHECK(used_rows(h) == 0);
  }
  SECTION("another organization's link speaks for that organization only") {
    auto c = claims_for(h, channel);
    c.org_id = 2;
    auto link = redeem(h, sign(h, c));
    REQUIRE(link);
    CHECK(link->org_id == 2);
    // The channel is organization 1's: the link does not borrow its name.
    CHECK(link->actor_name == "channel " + std::to_string(channel) + " (link)");
  }
  SECTION("a user's link names the user, not a channel") {
    auto c = claims_for(h, channel);
    c.channel_id = 0;
    c.user_id = 5;
    auto link = h.notifier->inspect_ack(sign(h, c));
    REQUIRE(link);
    CHECK(link->user_id == 5);
    CHECK_FALSE(link->channel_id);
    CHECK(link->actor_name.empty());
  }
}

TEST_CASE("used acknowledgement links are forgotten once expired", "[notify][ack]") {
  NotifierHarness h;
  const auto channel = h.webhook("https://hooks.example/np").id;
  auto short_lived = claims_for(h, channel);
  short_lived.expires_s = h.clock.unix_seconds() + 60;
  REQUIRE(redeem(h, sign(h, short_lived)));
  REQUIRE(redeem(h, sign(h, claims_for(h, channel))));
  REQUIRE(used_rows(h) == 2);
  // The purge runs from the tick at most every 10 minutes.
  h.clock.advance(std::chrono::minutes(11));
  REQUIRE(test::run_until(h.env.loop(), [&] { return used_rows(h) == 1; }));
}
