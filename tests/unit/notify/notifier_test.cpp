// The notifier end to end inside one process (src/notify/notifier*.cpp): channels with sealed
// secrets, policies, AlertChanged on the bus → a signed webhook at a loopback HTTP receiver,
// retried after a 5xx, symptoms held, the delivery log, "send test", and a restart that sends
// what was still pending. A real database in a temp dir; a ManualClock for the retries.
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/core/random.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/notify/notifier.hpp>

#include "support/run_until.hpp"
#include "support/scripted_http_server.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"
#include "unit/notify/notifier_harness.hpp"

using namespace netpulse;
namespace json = boost::json;

using test::NotifierHarness;

TEST_CASE("a firing alert reaches a webhook once, signed, and the log shows it",
          "[notify][notifier]") {
  test::ScriptedHttpServer receiver(
      [](const auto&) { return test::http_reply(200, R"({"ok":true})"); });
  NotifierHarness h;
  auto channel = h.webhook(receiver.url("/hook"));
  // The secret never comes back, and is not stored in clear.
  CHECK(json::serialize(channel.settings).find("s3cret-value-0123456789") == std::string::npos);
  CHECK(channel.settings.at("secret") == json::object{{"set", true}});
  const auto raw = h.database->read([](db::Connection& c) {
    auto st = c.prepare("SELECT settings || quote(secrets) FROM notification_channels");
    REQUIRE(st);
    REQUIRE(*st->step());
    return st->get_text(0);
  });
  CHECK(raw.find("s3cret") == std::string::npos);
  h.policy_to(channel.id);

  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  const auto req = receiver.requests().front();
  CHECK(req.method_string() == "POST");
  CHECK(req.target() == "/hook");
  CHECK(std::string(req["X-NetPulse-Signature"]).starts_with("t="));
  auto body = json::parse(req.body()).as_object();
  REQUIRE(body.at("alerts").as_array().size() == 1);
  CHECK(body.at("alerts").as_array()[0].at("id").as_int64() == 42);
  CHECK(body.at("receiver").as_string() == "everything");
  REQUIRE(test::run_until(h.env.loop(), [&] {
    auto l = h.log();
    return l.size() == 1 && l[0].status == "delivered";
  }));
  auto one = h.notifier->get_notification(h.scope, h.log()[0].id);
  REQUIRE(one);
  CHECK(one->alert_ids == std::vector<std::int64_t>{42});
  REQUIRE(one->attempt_log.size() == 1);
  CHECK(one->attempt_log[0].outcome == "delivered");
  CHECK(one->attempt_log[0].remote_status == 200);
  // Another organization sees none of it.
  auto other = h.notifier->list_notifications(core::OrgScope::trusted(2), {}, core::Page{1, 10});
  REQUIRE(other);
  CHECK(other->total == 0);
  CHECK_FALSE(h.notifier->get_channel(core::OrgScope::trusted(2), channel.id));
}

TEST_CASE("a 5xx is retried after the back-off and the channel's health follows",
          "[notify][notifier]") {
  std::atomic<int> calls{0};
  test::ScriptedHttpServer receiver([&](const auto&) {
    return ++calls <= 1 ? test::http_reply(503, "busy") : test::http_reply(200, "ok");
  });
  NotifierHarness h;
  auto channel = h.webhook(receiver.url("/hook"));
  h.policy_to(channel.id);
  h.publish(NotifierHarness::alert(7), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  REQUIRE(test::run_until(h.env.loop(), [&] {
    auto c = h.notifier->get_channel(h.scope, channel.id);
    return c && c->consecutive_failures == 1;
  }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log()[0].status == "pending"; }));
  // Not before the back-off (0.5..1 s of the ManualClock) has passed.
  h.clock.advance(std::chrono::milliseconds(1'000));
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log()[0].status == "delivered"; }));
  auto c = h.notifier->get_channel(h.scope, channel.id);
  REQUIRE(c);
  CHECK(c->health == "ok");
  CHECK(c->consecutive_failures == 0);
  auto one = h.notifier->get_notification(h.scope, h.log()[0].id);
  REQUIRE(one);
  REQUIRE(one->attempt_log.size() == 2);
  CHECK(one->attempt_log[0].outcome == "retry");
  CHECK(one->attempt_log[0].remote_status == 503);
}

TEST_CASE("a symptom is not sent; its root is, once", "[notify][notifier]") {
  test::ScriptedHttpServer receiver([](const auto&) { return test::http_reply(200, "ok"); });
  NotifierHarness h;
  h.policy_to(h.webhook(receiver.url("/hook")).id);
  auto symptom = NotifierHarness::alert(100);
  symptom.symptom_of = 42;
  symptom.device_name = "cpe-1";
  h.publish(symptom, "symptom");
  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  // A little longer: nothing else comes.
  test::run_until(
      h.env.loop(), [] { return false; }, std::chrono::milliseconds(300));
  REQUIRE(receiver.requests().size() == 1);
  auto body = json::parse(receiver.requests()[0].body()).as_object();
  REQUIRE(body.at("alerts").as_array().size() == 1);
  CHECK(body.at("alerts").as_array()[0].at("id").as_int64() == 42);
}

TEST_CASE("channels and policies refuse what cannot be delivered", "[notify][notifier]") {
  NotifierHarness h;
  auto create = [&](std::string kind, json::object settings) {
    notify::ChannelInput in;
    in.name = "x";
    in.kind = std::move(kind);
    in.settings = std::move(settings);
    return h.wait<notify::Channel>(
        [&](auto done) { h.notifier->create_channel(h.scope, std::move(in), std::move(done)); });
  };
  auto metadata = create("webhook", {{"url", "http://169.254.169.254/latest"}});
  REQUIRE_FALSE(metadata);
  CHECK(metadata.error().code == core::Errc::kOutboundDenied);
  auto unknown = create("carrier-pigeon", {});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().details.at("field").as_string() == "kind");
  auto no_url = create("webhook", {});
  REQUIRE_FALSE(no_url);
  CHECK(no_url.error().code == core::Errc::kInvalidInput);

  // A policy naming a user that does not exist or another organization's channel is refused.
  auto ch = h.webhook("http://127.0.0.1:9/hook");
  notify::Policy p;
  p.name = "people";
  p.targets = {{notify::PolicyTarget::Kind::kUser, 5}};
  auto user = h.wait<notify::StoredPolicy>(
      [&](auto done) { h.notifier->create_policy(h.scope, p, std::move(done)); });
  REQUIRE_FALSE(user);
  CHECK(user.error().details.at("field").as_string() == "targets[0]");
  p.targets = {{notify::PolicyTarget::Kind::kChannel, ch.id}};
  auto foreign = h.wait<notify::StoredPolicy>([&](auto done) {
    h.notifier->create_policy(core::OrgScope::trusted(2), p, std::move(done));
  });
  REQUIRE_FALSE(foreign);
  // A channel a policy sends to cannot be deleted from under it.
  REQUIRE(h.wait<notify::StoredPolicy>(
      [&](auto done) { h.notifier->create_policy(h.scope, p, std::move(done)); }));
  auto del =
      h.wait<void>([&](auto done) { h.notifier->delete_channel(h.scope, ch.id, std::move(done)); });
  REQUIRE_FALSE(del);
  CHECK(del.error().code == core::Errc::kConflict);
}

TEST_CASE("send test reports the remote's answer", "[notify][notifier]") {
  test::ScriptedHttpServer receiver(
      [](const auto&) { return test::http_reply(410, R"({"error":"gone"})"); });
  NotifierHarness h;
  auto ch = h.webhook(receiver.url("/hook"));
  auto r = h.wait<notify::TestResult>(
      [&](auto done) { h.notifier->test_channel(h.scope, ch.id, std::move(done)); });
  REQUIRE(r);
  CHECK_FALSE(r->delivered);
  CHECK(r->remote_status == 410);
  CHECK(r->detail.find("410") != std::string::npos);
  REQUIRE(receiver.requests().size() == 1);
}

TEST_CASE("what was pending when the notifier stopped is sent after the restart",
          "[notify][notifier]") {
  std::atomic<bool> up{false};
  test::ScriptedHttpServer receiver([&](const auto&) {
    return up ? test::http_reply(200, "ok") : test::http_reply(503, "down");
  });
  NotifierHarness h;
  h.policy_to(h.webhook(receiver.url("/hook")).id);
  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  REQUIRE(test::run_until(h.env.loop(), [&] {
    auto l = h.log();
    return l.size() == 1 && l[0].status == "pending" && l[0].attempts == 1;
  }));
  h.notifier.reset();  // stopped with a retry due
  up = true;
  h.clock.advance(std::chrono::minutes(5));
  h.open();
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log()[0].status == "delivered"; }));
}

TEST_CASE(
    "a message being rendered when the notifier closes is written, then sent after the restart",
    "[notify][notifier]") {
  test::ScriptedHttpServer receiver([](const auto&) { return test::http_reply(200, "ok"); });
  NotifierHarness h;
  h.policy_to(h.webhook(receiver.url("/hook")).id);
  h.publish(NotifierHarness::alert(42), "firing");
  // One handler at a time: the turn that planned the dispatch handed its message to the
  // transport to render; the loop stops right after it, before the rendered batch comes back.
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.notifier->stats().dispatches == 1; }));
  CHECK(h.notifier->stats().enqueued == 0);
  h.notifier->close();  // the transport renders it; close() writes it
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log().size() == 1; }));
  CHECK(h.log()[0].status == "pending");
  CHECK(h.log()[0].title == "CRIT: core-1 down — 55 devices behind it unreachable");
  CHECK(receiver.requests().empty());
  h.notifier.reset();
  h.open();
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log()[0].status == "delivered"; }));
  CHECK(h.log().size() == 1);
}

TEST_CASE(
    "after a restart the open alerts are picked up: one that went out is not sent again "
    "and gets its resolved message; one raised just before the restart goes out",
    "[notify][notifier]") {
  test::ScriptedHttpServer receiver([](const auto&) { return test::http_reply(200, "ok"); });
  std::vector<alerts::Alert> open;
  NotifierHarness h(false);
  h.options.open_alerts = [&] { return open; };
  h.open();
  h.policy_to(h.webhook(receiver.url("/hook")).id);
  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 1; }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log()[0].status == "delivered"; }));

  // The server stops; alert 43 was raised just before, too late for its message.
  h.notifier.reset();
  auto other = NotifierHarness::alert(43);
  other.device_id = 12;
  other.device_name = "core-2";
  other.subject = "device:12";
  open = {NotifierHarness::alert(42), other};
  h.open();
  // 43 joins a group that has sent: it goes out group_interval after that message, as it would
  // have without the restart.
  h.clock.advance(std::chrono::minutes(5));
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  auto body = json::parse(receiver.requests()[1].body()).as_object();
  CHECK(body.at("kind") == "firing");
  const auto& listed = body.at("alerts").as_array();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("id") == 43);  // 42 went out before the restart: not again

  auto resolved = NotifierHarness::alert(42);
  resolved.status = alerts::AlertStatus::kResolved;
  resolved.resolved_at = resolved.fired_at;
  h.publish(resolved, "resolved");
  h.clock.advance(std::chrono::minutes(5));  // the group's group_interval since its last message
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 3; }));
  body = json::parse(receiver.requests()[2].body()).as_object();
  CHECK(body.at("kind") == "resolved");
  REQUIRE(body.at("alerts").as_array().size() == 1);
  CHECK(body.at("alerts").as_array()[0].at("id") == 42);
  // Nothing more: no repeat of 42's firing, no second message for 43.
  CHECK_FALSE(test::run_until(
      h.env.loop(), [&] { return receiver.requests().size() > 3; },
      std::chrono::milliseconds(300)));
}

TEST_CASE(
    "a policy's own templates render its messages, another policy's keep the built-in ones, "
    "and they survive a restart",
    "[notify][notifier]") {
  test::ScriptedHttpServer receiver([](const auto&) { return test::http_reply(200, "ok"); });
  NotifierHarness h;
  const auto channel = h.webhook(receiver.url("/hook")).id;
  notify::Policy own;
  own.name = "own";
  own.continue_matching = true;  // the next policy takes the alert too
  own.group_wait_s = 0;
  own.targets = {{notify::PolicyTarget::Kind::kChannel, channel}};
  own.templates["chat"]["critical"].title = "OWN {{#first}}{{device}}{{/first}}";
  own.templates["chat"]["default"].text = "{{count}} for {{receiver}}";
  own.templates["sms"]["critical"].text = "never used: no SMS channel";
  REQUIRE(h.wait<notify::StoredPolicy>(
      [&](auto done) { h.notifier->create_policy(h.scope, own, std::move(done)); }));
  auto builtin = h.policy_to(channel);
  builtin.policy.position = 1;  // after "own"
  REQUIRE(h.wait<notify::StoredPolicy>([&](auto done) {
    h.notifier->replace_policy(h.scope, builtin.policy.id, builtin.policy, std::move(done));
  }));

  auto titles = [&] {
    std::multiset<std::string> out;
    for (const auto& n : h.log()) out.insert(n.title);
    return out;
  };
  h.publish(NotifierHarness::alert(42), "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log().size() == 2; }));
  CHECK(titles() == std::multiset<std::string>{
                        "OWN core-1", "CRIT: core-1 down — 55 devices behind it unreachable"});
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  bool own_text = false;
  for (const auto& r : receiver.requests()) {
    auto body = json::parse(r.body()).as_object();
    if (body.at("receiver") == "own") own_text = body.at("text") == "1 for own";
  }
  CHECK(own_text);

  // Read back from the database after a restart, the templates are the same.
  h.notifier.reset();
  h.open();
  auto other = NotifierHarness::alert(43);
  other.rule_id = 4;
  other.rule_name = "Device down (edge)";
  h.publish(other, "firing");
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.log().size() == 4; }));
  CHECK(titles().count("OWN core-1") == 2);
}
