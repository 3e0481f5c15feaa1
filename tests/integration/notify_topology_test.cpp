// The topology scenario of the alerts issue end to end through the notifier (issue 15): the
// 56-device network of tests/support/netns_topology.hpp, real pings, the engine's correlation, and
// a policy with two targets — a webhook (NetPulse's format) and a Slack channel, both at local
// receivers. The core's link goes down → exactly one message per target, about the core's
// "Device down" alert, naming the 55 devices behind it, and nothing for the 55 symptoms; the link
// comes back → one resolved message per target, and nothing else.
//
// Devices the pollers see fail a moment before the core (they are polled at different phases of
// the second) are roots for that moment; the policy's group_wait of 1 s lets the engine make
// them the core's symptoms before the group's first message goes out.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/netns_topology.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

using namespace netpulse::test;
namespace json = boost::json;

namespace {

constexpr auto kStatusChange = std::chrono::seconds(30);  // a few poll cycles, with margin

std::int64_t created(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(r.status == 201);
  const auto doc = r.json();
  return doc.at("data").at("id").as_int64();
}

json::object body_of(const json::object& request) {
  return json::parse(request.at("body").as_string()).as_object();
}

}  // namespace

TEST_CASE(
    "notify: a core down with 55 devices behind it is one message per target naming the 55; its "
    "recovery one resolved message",
    "[notify][integration][netns]") {
  NetnsTopology net;
  REQUIRE(net.ok());  // this machine can make namespaces (support/catch_main.cpp probed it)
  TempDir dir;
  auto env = topology_polling_env();
  env["NETPULSE_NETWORK_OUTBOUND_ALLOW"] = "127.0.0.0/8";
  ServerProcess server(dir.path(), env);
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  WebhookReceiver hook(dir, "hook", {"200"});
  WebhookReceiver slack(dir, "slack", {"body:200:ok"});
  const auto hook_id = created(c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"hook","kind":"webhook","settings":{"url":")" + hook.url("/np") + R"("}})",
      admin));
  const auto slack_id = created(c.post_json(
      "/api/v1/notification-channels",
      R"({"name":"slack","kind":"slack","settings":{"url":")" + slack.url("/slack") + R"("}})",
      admin));
  // Every alert, default grouping (by rule), critical at once.
  created(c.post_json("/api/v1/notification-policies",
                      R"({"name":"noc","group_wait_s":1,"group_interval_s":1,"targets":[)"
                      R"({"channel_id":)" +
                          std::to_string(hook_id) + R"(},{"channel_id":)" +
                          std::to_string(slack_id) + "}]}",
                      admin));

  const auto devices = create_topology_devices(c, admin, net);
  REQUIRE(
      eventually([&] { return all_devices_are(c, admin, devices.all(), {"up"}); }, kStatusChange));
  CHECK(hook.requests().empty());

  net.set_core_link(false);
  REQUIRE(eventually([&] { return all_devices_are(c, admin, {devices.core}, {"down"}); },
                     kStatusChange));
  REQUIRE(
      eventually([&] { return all_devices_are(c, admin, devices.behind_core, {"unreachable"}); },
                 kStatusChange));
  REQUIRE(eventually([&] { return !hook.requests().empty() && !slack.requests().empty(); }));
  // Whatever else was coming has come by now: group_wait and group_interval are 1 s.
  REQUIRE_FALSE(
      eventually([&] { return hook.requests().size() > 1 || slack.requests().size() > 1; },
                 std::chrono::seconds(4)));

  // The webhook: one firing message, about the core's root alert alone, with its impact.
  {
    const auto b = body_of(hook.requests().at(0));
    INFO(json::serialize(b));
    CHECK(b.at("kind") == "firing");
    const auto& alerts = b.at("alerts").as_array();
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].at("rule_name") == "Device down");
    CHECK(alerts[0].at("device_id").as_int64() == devices.core);
    CHECK(alerts[0].at("device_name") == "core");
    CHECK(alerts[0].at("impact").as_int64() == 55);
    CHECK(b.at("title") == "CRIT: core down — 55 devices behind it unreachable");
  }
  // Slack: the same heading.
  {
    const auto b = body_of(slack.requests().at(0));
    INFO(json::serialize(b));
    CHECK(b.at("text") == "CRIT: core down — 55 devices behind it unreachable");
  }
  // The delivery log: two notifications, each carrying the one root alert.
  {
    auto r = c.get("/api/v1/notifications", admin);
    REQUIRE(r.status == 200);
    const auto doc = r.json();
    const auto& log = doc.at("data").as_array();
    INFO(json::serialize(log));
    REQUIRE(log.size() == 2);
    for (auto& n : log) CHECK(n.at("alert_ids").as_array().size() == 1);
  }

  // The link comes back: one resolved message per target.
  net.set_core_link(true);
  REQUIRE(
      eventually([&] { return all_devices_are(c, admin, devices.all(), {"up"}); }, kStatusChange));
  REQUIRE(eventually([&] { return hook.requests().size() >= 2 && slack.requests().size() >= 2; }));
  REQUIRE_FALSE(
      eventually([&] { return hook.requests().size() > 2 || slack.requests().size() > 2; },
                 std::chrono::seconds(4)));
  {
    const auto b = body_of(hook.requests().at(1));
    INFO(json::serialize(b));
    CHECK(b.at("kind") == "resolved");
    const auto& alerts = b.at("alerts").as_array();
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].at("device_id").as_int64() == devices.core);
    CHECK(alerts[0].at("status") == "resolved");
    CHECK(hook.requests().at(1).at("headers").at("x-netpulse-event") == "resolved");
  }
  CHECK(std::string(body_of(slack.requests().at(1)).at("text").as_string()).find("RESOLVED") !=
        std::string::npos);
  CHECK(server.running());
}
