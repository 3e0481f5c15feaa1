// A notifier in one process for unit tests (tests/unit/notify/notifier*_test.cpp): a real
// database in a temp dir with organizations 1 and 2, a ManualClock, the outbound policy opened to
// loopback, and helpers for channels, policies, alerts and the delivery log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/notify/notifier.hpp>

#include "support/run_until.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

namespace netpulse::test {

// The organization the harness acts in (organization 2 exists too, with nothing in it).
inline constexpr std::int64_t kHarnessOrg = 1;

struct NotifierHarness {
  test::TempDir dir;
  test::TestEnv env;
  core::ManualClock& clock = env.manual_clock();
  std::unique_ptr<db::Database> database;
  std::unique_ptr<notify::Notifier> notifier;
  notify::NotifierOptions options;
  core::OrgScope scope = core::OrgScope::trusted(kHarnessOrg);

  // `open_now` false: the caller adds to the database and options, then calls open().
  explicit NotifierHarness(bool open_now = true) {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env.env());
    REQUIRE(opened);
    database = std::move(*opened);
    REQUIRE(database->write_sync([](db::Connection& c) {
      return c.exec(
          "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
          "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    }));
    options.data_dir = dir.path();
    options.external_url = "https://np.example";
    options.retry_base_ms = 1'000;
    options.tick_ms = 20;
    if (open_now) open();
  }

  ~NotifierHarness() {
    notifier.reset();
    if (database) database->close();
  }

  void open() {
    core::OutboundLists lists = core::OutboundLists::defaults();
    lists.allow.push_back("127.0.0.0/8");
    auto policy = core::OutboundPolicy::make(lists);
    REQUIRE(policy);
    auto n = notify::Notifier::open(options, env.env(), *database, *policy);
    REQUIRE(n);
    notifier = std::move(*n);
  }

  template <class T, class Call>
  core::Result<T> wait(Call&& call) {
    std::optional<core::Result<T>> got;
    call([&](core::Result<T> r) { got.emplace(std::move(r)); });
    REQUIRE(test::run_until(env.loop(), [&] { return got.has_value(); }));
    return std::move(*got);
  }

  notify::Channel webhook(const std::string& url, const std::string& name = "NOC hook") {
    notify::ChannelInput in;
    in.name = name;
    in.kind = "webhook";
    in.settings = boost::json::object{
        {"url", url}, {"format", "netpulse"}, {"secret", "s3cret-value-0123456789"}};
    auto c = wait<notify::Channel>(
        [&](auto done) { notifier->create_channel(scope, std::move(in), std::move(done)); });
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    return *c;
  }

  notify::StoredPolicy policy_to(std::int64_t channel_id) {
    notify::Policy p;
    p.name = "everything";
    p.group_wait_s = 0;
    p.warning_mode = notify::DeliveryMode::kImmediate;
    p.targets = {{notify::PolicyTarget::Kind::kChannel, channel_id}};
    auto stored = wait<notify::StoredPolicy>(
        [&](auto done) { notifier->create_policy(scope, p, std::move(done)); });
    REQUIRE(stored);
    return *stored;
  }

  static alerts::Alert alert(std::int64_t id) {
    alerts::Alert a;
    a.id = id;
    a.org_id = kHarnessOrg;
    a.rule_id = 3;
    a.rule_name = "Device down";
    a.kind = alerts::RuleKind::kDeviceDown;
    a.subject = "device";
    a.status = alerts::AlertStatus::kFiring;
    a.severity = alerts::Severity::kCritical;
    a.device_id = 11;
    a.device_name = "core-1";
    a.impact = 55;
    a.started_at = 1'767'225'000'000;
    a.fired_at = 1'767'225'000'000;
    return a;
  }

  void publish(alerts::Alert a, std::string transition) {
    env.bus().publish(alerts::AlertChanged{kHarnessOrg, std::move(a), std::move(transition)});
  }

  std::vector<notify::Notification> log() {
    auto page = notifier->list_notifications(scope, {}, core::Page{1, 100});
    REQUIRE(page);
    return page->items;
  }
};

}  // namespace netpulse::test
