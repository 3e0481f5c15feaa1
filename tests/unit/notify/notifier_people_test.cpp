// Users and on-call schedules as notification targets, in one process (notifier_people.cpp,
// notifier_inapp.cpp, notifier_oncall.cpp): a user's email through a real SMTP peer (the relay),
// an SMS through a scripted gateway to the user's phone, quiet hours, the in-app inbox and
// mark-read, escalation to whoever an on-call schedule names at the ManualClock's time (and an
// override), the admins' notice of a failing channel, and what is refused when saved.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/types.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/notify/notifier.hpp>

#include "support/peers.hpp"
#include "support/run_until.hpp"
#include "support/scripted_http_server.hpp"
#include "support/smtp_peer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"
#include "unit/notify/notifier_harness.hpp"

using namespace netpulse;
namespace json = boost::json;
using Kind = notify::PolicyTarget::Kind;

namespace {

constexpr std::int64_t kOrg = 1;
constexpr std::int64_t kAna = 5, kBen = 6, kCleo = 7, kAdmin = 8, kOther = 9;

struct PeopleHarness : test::NotifierHarness {
  std::vector<notify::DirectoryUser> users = {
      {kAna, kOrg, "Ana", "ana@isp.example", "operator", true},
      {kBen, kOrg, "Ben", "ben@isp.example", "operator", true},
      {kCleo, kOrg, "Cleo", "cleo@isp.example", "viewer", true},
      {kAdmin, kOrg, "Root", "root@isp.example", "admin", true},
      {kOther, 2, "Otto", "otto@two.example", "admin", true},
  };

  explicit PeopleHarness(std::optional<std::uint16_t> smtp_port = std::nullopt)
      : NotifierHarness(false) {
    REQUIRE(database->write_sync([this](db::Connection& c) -> core::Result<void> {
      for (const auto& u : users) {
        auto st = c.prepare(
            "INSERT INTO users (id, org_id, email, name, role, password_hash, "
            "password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'x', 0, 0, 0)");
        if (!st) return st.error();
        st->bind(1, u.id).bind(2, u.org_id).bind(3, u.email).bind(4, u.name).bind(5, u.role);
        if (auto r = st->run(); !r) return r;
      }
      return core::ok();
    }));
    if (smtp_port) {
      options.smtp.host = "127.0.0.1";
      options.smtp.port = *smtp_port;
      options.smtp.tls = "none";
      options.smtp.from = "netpulse@np.example";
      options.smtp.timeout_ms = 5'000;
    }
    options.users.find = [this](std::int64_t org,
                                std::int64_t id) -> std::optional<notify::DirectoryUser> {
      for (const auto& u : users) {
        if (u.id == id && u.org_id == org) return u;
      }
      return std::nullopt;
    };
    options.users.members = [this](std::int64_t org) {
      std::vector<notify::DirectoryUser> out;
      for (const auto& u : users) {
        if (u.org_id == org) out.push_back(u);
      }
      return out;
    };
    open();
  }

  core::Result<notify::Channel> channel(std::string name, std::string kind, json::object settings) {
    notify::ChannelInput in;
    in.name = std::move(name);
    in.kind = std::move(kind);
    in.settings = std::move(settings);
    return wait<notify::Channel>(
        [&](auto done) { notifier->create_channel(scope, std::move(in), std::move(done)); });
  }

  notify::Channel sms_gateway(const std::string& url) {
    auto c = channel("SMS", "sms_http",
                     {{"url", url},
                      {"body_format", "form"},
                      {"body_template", "to={{to}}&text={{text}}"},
                      {"to", json::array{"+10000000000"}}});
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    return *c;
  }

  core::Result<notify::UserContacts> contacts(std::int64_t user, const std::string& body) {
    auto c = notify::contacts_from_json(json::parse(body));
    if (!c) return c.error();
    return wait<notify::UserContacts>(
        [&](auto done) { notifier->put_contacts(scope, user, *c, std::move(done)); });
  }

  // Ben's phone, +254712345678, through `sms`, and no email.
  void ben_by_sms(const notify::Channel& sms) {
    REQUIRE(contacts(
        kBen, R"({"email": {"enabled": false}, "sms": {"phone": "+254712345678", "channel_id": )" +
                  std::to_string(sms.id) + "}}"));
  }

  core::Result<notify::StoredPolicy> policy(std::vector<notify::PolicyTarget> targets,
                                            std::vector<notify::EscalationStep> escalation = {},
                                            core::OrgScope in = core::OrgScope::trusted(kOrg)) {
    notify::Policy p;
    p.name = "people";
    p.group_wait_s = 0;
    p.warning_mode = notify::DeliveryMode::kImmediate;
    p.targets = std::move(targets);
    p.escalation = std::move(escalation);
    return wait<notify::StoredPolicy>(
        [&](auto done) { notifier->create_policy(in, p, std::move(done)); });
  }

  core::Result<notify::StoredSchedule> schedule(const std::string& body,
                                                core::OrgScope in = core::OrgScope::trusted(kOrg)) {
    auto s = notify::oncall_from_json(json::parse(body));
    REQUIRE(s);
    return wait<notify::StoredSchedule>(
        [&](auto done) { notifier->create_schedule(in, *s, std::move(done)); });
  }

  static alerts::Alert alert(std::int64_t id, alerts::Severity severity, std::string rule) {
    alerts::Alert a;
    a.id = id;
    a.org_id = kOrg;
    a.rule_id = id;
    a.rule_name = std::move(rule);
    a.kind = alerts::RuleKind::kDeviceDown;
    a.subject = "device";
    a.status = alerts::AlertStatus::kFiring;
    a.severity = severity;
    a.device_id = 11;
    a.device_name = "core-1";
    a.started_at = 1'767'225'000'000;
    a.fired_at = 1'767'225'000'000;
    return a;
  }

  void publish(alerts::Alert a) {
    env.bus().publish(alerts::AlertChanged{kOrg, std::move(a), "firing"});
  }

  std::vector<notify::InappNotification> inbox(std::int64_t user, bool all = false,
                                               std::int64_t org = kOrg) {
    auto page = notifier->list_inapp(core::OrgScope::trusted(org), user, all, core::Page{1, 100});
    REQUIRE(page);
    return page->items;
  }

  std::vector<notify::Notification> log() {
    auto page = notifier->list_notifications(scope, {}, core::Page{1, 100});
    REQUIRE(page);
    return page->items;
  }

  // Lets the loop run a while (for "nothing more happens" checks).
  void settle() {
    test::run_until(
        env.loop(), [] { return false; }, std::chrono::milliseconds(300));
  }
};

std::string field_of(const core::Error& e) {
  const auto* f = e.details.if_contains("field");
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}

}  // namespace

TEST_CASE("a user target is emailed through the SMTP relay and gets an in-app row",
          "[notify][notifier][people]") {
  test::TempDir mail;
  test::SmtpPeer peer(mail, {});
  PeopleHarness h(peer.port());
  REQUIRE(h.policy({{Kind::kUser, kAna}}));
  h.publish(PeopleHarness::alert(42, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return peer.message_count() == 1; }));
  const auto msg = peer.message(1);
  CHECK(msg.at("rcpt_tos") == json::array{"ana@isp.example"});
  // The delivery log names who was paged, through the relay's pseudo channel.
  REQUIRE(test::run_until(h.env.loop(), [&] {
    auto l = h.log();
    return l.size() == 1 && l[0].status == "delivered";
  }));
  const auto row = h.log()[0];
  CHECK(row.recipient_user == kAna);
  CHECK(row.channel_id == 0);
  CHECK(row.channel_name == "smtp relay");
  auto inbox = h.inbox(kAna);
  REQUIRE(inbox.size() == 1);
  CHECK(inbox[0].kind == "firing");
  CHECK(inbox[0].alert_id == 42);
  CHECK(inbox[0].title.find("core-1") != std::string::npos);
  // Nobody else's inbox.
  CHECK(h.inbox(kBen).empty());
  CHECK(h.inbox(kAna, true, 2).empty());
}

TEST_CASE("a user's SMS goes to their phone through the org's gateway, not the channel's number",
          "[notify][notifier][people]") {
  test::ScriptedHttpServer gateway([](const auto&) { return test::http_reply(200, "ok"); });
  PeopleHarness h;
  auto sms = h.sms_gateway(gateway.url("/sms"));
  h.ben_by_sms(sms);
  REQUIRE(h.policy({{Kind::kUser, kBen}}));
  h.publish(PeopleHarness::alert(42, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return gateway.requests().size() == 1; }));
  const auto body = std::string(gateway.requests()[0].body());
  CHECK(body.find("to=%2B254712345678") != std::string::npos);
  CHECK(body.find("10000000000") == std::string::npos);
  // The SMS carries an acknowledgement link that acknowledges as Ben, not as the channel.
  const std::string prefix = "np.example%2Fapi%2Fv1%2Fack%2F";
  const auto at = body.find(prefix);
  REQUIRE(at != std::string::npos);
  const auto start = at + prefix.size();
  const auto token = body.substr(start, body.find_first_of("&%", start) - start);
  auto link = h.notifier->inspect_ack(token);
  INFO(body);
  REQUIRE(link);
  CHECK(link->user_id == kBen);
  CHECK_FALSE(link->channel_id);
  CHECK(link->alert_ids == std::vector<std::int64_t>{42});
  h.settle();
  CHECK(gateway.requests().size() == 1);
  REQUIRE(h.log().size() == 1);
  CHECK(h.log()[0].recipient_user == kBen);
  CHECK(h.log()[0].channel_id == sms.id);
}

TEST_CASE("quiet hours hold a warning (in-app only) but not a critical",
          "[notify][notifier][people]") {
  test::ScriptedHttpServer gateway([](const auto&) { return test::http_reply(200, "ok"); });
  PeopleHarness h;  // the ManualClock: 2026-01-01 00:00 UTC, a Thursday
  auto sms = h.sms_gateway(gateway.url("/sms"));
  REQUIRE(h.contacts(kBen, R"({"email": {"enabled": false},
      "sms": {"phone": "+254712345678", "channel_id": )" +
                               std::to_string(sms.id) + R"(},
      "quiet_hours": {"time_zone": "Europe/Berlin", "from": "22:00", "to": "07:00"}})"));
  REQUIRE(h.policy({{Kind::kUser, kBen}}));
  h.publish(PeopleHarness::alert(1, alerts::Severity::kWarning, "High CPU"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kBen).size() == 1; }));
  h.settle();
  CHECK(gateway.requests().empty());
  CHECK(h.log().empty());
  h.publish(PeopleHarness::alert(2, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return gateway.requests().size() == 1; }));
  CHECK(h.inbox(kBen).size() == 2);
  // Out of quiet hours (07:00 in Berlin is 06:00 UTC) a warning goes out too (the still-firing
  // ones may be repeated by then as well: the repeat interval has passed).
  h.clock.advance(std::chrono::hours(6));
  h.publish(PeopleHarness::alert(3, alerts::Severity::kWarning, "Disk full"));
  REQUIRE(test::run_until(h.env.loop(), [&] {
    for (const auto& r : gateway.requests()) {
      if (std::string(r.body()).find("Disk") != std::string::npos) return true;
    }
    return false;
  }));
}

TEST_CASE("in-app notifications are marked read one by one or all at once, by their owner only",
          "[notify][notifier][people]") {
  PeopleHarness h;  // no relay: email is skipped, in-app still lands
  REQUIRE(h.policy({{Kind::kUser, kAna}, {Kind::kUser, kBen}}));
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "A"));
  h.publish(PeopleHarness::alert(2, alerts::Severity::kCritical, "B"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAna).size() == 2; }));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kBen).size() == 2; }));
  const auto first = h.inbox(kAna)[0].id;
  // Ben cannot mark Ana's.
  auto foreign = h.wait<void>(
      [&](auto done) { h.notifier->mark_inapp_read(h.scope, kBen, first, std::move(done)); });
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == core::Errc::kNotFound);
  REQUIRE(h.wait<void>(
      [&](auto done) { h.notifier->mark_inapp_read(h.scope, kAna, first, std::move(done)); }));
  CHECK(h.inbox(kAna).size() == 1);
  CHECK(h.inbox(kAna, true).size() == 2);
  CHECK(h.inbox(kBen).size() == 2);
  auto marked = h.wait<std::int64_t>(
      [&](auto done) { h.notifier->mark_all_inapp_read(h.scope, kAna, std::move(done)); });
  REQUIRE(marked);
  CHECK(*marked == 1);
  CHECK(h.inbox(kAna).empty());
  CHECK(h.inbox(kBen).size() == 2);
}

TEST_CASE("each user keeps the newest in-app notifications only", "[notify][notifier][people]") {
  PeopleHarness h;
  h.options.inapp_keep_per_user = 3;
  h.notifier.reset();
  h.open();
  REQUIRE(h.policy({{Kind::kUser, kAna}}));
  for (int i = 1; i <= 5; ++i) {
    h.publish(PeopleHarness::alert(i, alerts::Severity::kCritical, "rule " + std::to_string(i)));
    REQUIRE(test::run_until(h.env.loop(), [&] {
      auto all = h.inbox(kAna, true);
      return !all.empty() && all.front().alert_id == i;
    }));
  }
  auto all = h.inbox(kAna, true);
  REQUIRE(all.size() == 3);
  CHECK(all[0].alert_id == 5);
  CHECK(all[2].alert_id == 3);
}

TEST_CASE("escalation to a schedule pages whoever is on call then; an override wins",
          "[notify][notifier][people]") {
  PeopleHarness h;
  // Daily rotation from 2026-01-01 00:00 UTC: Ben that day, Cleo the next.
  auto s = h.schedule(R"({"name": "NOC-L2", "time_zone": "UTC",
      "rotation": {"users": [6, 7], "handover": {"time": "00:00"}, "length_days": 1,
                   "start": "2026-01-01"}})");
  REQUIRE(s);
  notify::EscalationStep step{60, {{Kind::kSchedule, s->schedule.id}}};
  REQUIRE(h.policy({{Kind::kUser, kAna}}, {step}));

  SECTION("the rotation's user") {
    h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
    REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAna).size() == 1; }));
    CHECK(h.inbox(kBen).empty());
    h.clock.advance(std::chrono::seconds(61));
    REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kBen).size() == 1; }));
    CHECK(h.inbox(kBen)[0].kind == "escalation");
    CHECK(h.inbox(kCleo).empty());
  }
  SECTION("an override covering the escalation") {
    auto body = notify::to_json(s->schedule);
    body["overrides"] = json::array{json::object{{"user_id", kCleo},
                                                 {"start_ms", 1'767'225'600'000},
                                                 {"end_ms", 1'767'229'200'000},
                                                 {"reason", "Ben at the dentist"}}};
    auto replaced = notify::oncall_from_json(body);
    REQUIRE(replaced);
    REQUIRE(h.wait<notify::StoredSchedule>([&](auto done) {
      h.notifier->replace_schedule(h.scope, s->schedule.id, *replaced, std::move(done));
    }));
    auto now = h.notifier->oncall_now(h.scope, s->schedule.id);
    REQUIRE(now);
    CHECK(now->user_id == kCleo);
    CHECK(now->until == 1'767'229'200'000);
    REQUIRE(now->next.size() >= 2);
    CHECK(now->next[1].user_id == kBen);
    h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
    REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAna).size() == 1; }));
    h.clock.advance(std::chrono::seconds(61));
    REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kCleo).size() == 1; }));
    CHECK(h.inbox(kBen).empty());
  }
}

TEST_CASE("a user named directly and through a schedule is paged once",
          "[notify][notifier][people]") {
  test::ScriptedHttpServer gateway([](const auto&) { return test::http_reply(200, "ok"); });
  PeopleHarness h;
  auto sms = h.sms_gateway(gateway.url("/sms"));
  h.ben_by_sms(sms);
  auto s = h.schedule(R"({"name": "NOC-L1", "rotation": {"users": [6], "start": "2025-01-01"}})");
  REQUIRE(s);
  REQUIRE(h.policy({{Kind::kUser, kBen}, {Kind::kSchedule, s->schedule.id}}));
  h.publish(PeopleHarness::alert(42, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return gateway.requests().size() == 1; }));
  h.settle();
  CHECK(gateway.requests().size() == 1);
  CHECK(h.inbox(kBen).size() == 1);
  REQUIRE(h.log().size() == 1);
  CHECK(h.log()[0].recipient_user == kBen);
}

TEST_CASE("a schedule with nobody on call is visible to the admins, not dropped silently",
          "[notify][notifier][people]") {
  PeopleHarness h;
  auto s = h.schedule(R"({"name": "Later", "rotation": {"users": [6], "start": "2027-01-01"}})");
  REQUIRE(s);
  REQUIRE(h.policy({{Kind::kSchedule, s->schedule.id}}));
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAdmin).size() == 1; }));
  CHECK(h.inbox(kAdmin)[0].kind == "nobody_on_call");
  CHECK(h.inbox(kAdmin)[0].title.find("Later") != std::string::npos);
  CHECK(h.notifier->stats().unreachable_targets == 1);
  CHECK(h.inbox(kBen).empty());
}

TEST_CASE("the admins hear of a failing channel once, and again after it recovered",
          "[notify][notifier][people]") {
  std::atomic<bool> up{false};
  test::ScriptedHttpServer receiver([&](const auto&) {
    return up ? test::http_reply(200, "ok") : test::http_reply(400, "bad hook");
  });
  PeopleHarness h;
  h.options.unhealthy_after = 1;
  h.notifier.reset();
  h.open();
  auto hook =
      h.channel("NOC hook", "webhook", {{"url", receiver.url("/hook")}, {"format", "netpulse"}});
  REQUIRE(hook);
  REQUIRE(h.policy({{Kind::kChannel, hook->id}}));
  auto notices = [&] { return h.inbox(kAdmin, true).size(); };
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "A"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return notices() == 1; }));
  const auto notice = h.inbox(kAdmin)[0];
  CHECK(notice.kind == "channel_failing");
  CHECK(notice.title.find("Channel 'NOC hook' is failing") == 0);
  CHECK(notice.title.find("400") != std::string::npos);
  CHECK(h.inbox(kAna).empty());              // operators are not told
  CHECK(h.inbox(kOther, false, 2).empty());  // nor another organization's admins
  h.publish(PeopleHarness::alert(2, alerts::Severity::kCritical, "B"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return receiver.requests().size() == 2; }));
  h.settle();
  CHECK(notices() == 1);
  up = true;
  h.publish(PeopleHarness::alert(3, alerts::Severity::kCritical, "C"));
  REQUIRE(test::run_until(h.env.loop(), [&] {
    auto c = h.notifier->get_channel(h.scope, hook->id);
    return c && c->health == "ok";
  }));
  up = false;
  h.publish(PeopleHarness::alert(4, alerts::Severity::kCritical, "D"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return notices() == 2; }));
}

TEST_CASE("the admins hear of a dead SMTP relay that users' email goes through",
          "[notify][notifier][people]") {
  PeopleHarness h(test::free_tcp_port());  // nothing listens there
  h.options.unhealthy_after = 1;
  h.notifier.reset();
  h.open();
  REQUIRE(h.policy({{Kind::kUser, kBen}}));
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAdmin).size() == 1; }));
  const auto notice = h.inbox(kAdmin)[0];
  CHECK(notice.kind == "channel_failing");
  CHECK(notice.title.find("Channel 'smtp relay' is failing") == 0);
  CHECK(h.inbox(kOther, false, 2).empty());  // another organization's admins are not told
}

TEST_CASE("user and schedule targets, schedules and contacts are checked when saved",
          "[notify][notifier][people]") {
  PeopleHarness h;
  // Another organization's user, a user that does not exist.
  auto foreign = h.policy({{Kind::kUser, kOther}});
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == core::Errc::kInvalidInput);
  CHECK(field_of(foreign.error()) == "targets[0]");
  auto missing = h.policy({{Kind::kChannel, 999}});
  REQUIRE_FALSE(missing);
  // A schedule of another organization, in an escalation step.
  auto theirs =
      h.schedule(R"({"name": "Theirs", "rotation": {"users": [9], "start": "2026-01-01"}})",
                 core::OrgScope::trusted(2));
  REQUIRE(theirs);
  auto step =
      notify::EscalationStep{60, {{Kind::kUser, kBen}, {Kind::kSchedule, theirs->schedule.id}}};
  auto esc = h.policy({{Kind::kUser, kAna}}, {step});
  REQUIRE_FALSE(esc);
  CHECK(field_of(esc.error()) == "escalation[0].targets[1]");
  // A schedule naming another organization's user.
  auto bad =
      h.schedule(R"({"name": "Mixed", "rotation": {"users": [6, 9], "start": "2026-01-01"}})");
  REQUIRE_FALSE(bad);
  CHECK(field_of(bad.error()) == "rotation.users[1]");
  // A schedule a policy pages cannot be deleted.
  auto mine = h.schedule(R"({"name": "Mine", "rotation": {"users": [6], "start": "2026-01-01"}})");
  REQUIRE(mine);
  REQUIRE(h.policy({{Kind::kSchedule, mine->schedule.id}}));
  auto del = h.wait<void>(
      [&](auto done) { h.notifier->delete_schedule(h.scope, mine->schedule.id, std::move(done)); });
  REQUIRE_FALSE(del);
  CHECK(del.error().code == core::Errc::kConflict);
  CHECK(del.error().message.find("people") != std::string::npos);
  // Contacts: the SMS channel must be the org's SMS gateway.
  auto hook = h.channel("hook", "webhook", {{"url", "http://127.0.0.1:9/x"}});
  REQUIRE(hook);
  auto wrong_kind = h.contacts(kAna, R"({"sms": {"phone": "+254712345678", "channel_id": )" +
                                         std::to_string(hook->id) + "}}");
  REQUIRE_FALSE(wrong_kind);
  CHECK(field_of(wrong_kind.error()) == "sms.channel_id");
  auto no_channel = h.contacts(kAna, R"({"telegram": {"chat_id": "12345", "channel_id": 999}})");
  REQUIRE_FALSE(no_channel);
  CHECK(field_of(no_channel.error()) == "telegram.channel_id");
  auto other_user = h.wait<notify::UserContacts>([&](auto done) {
    h.notifier->put_contacts(h.scope, kOther, notify::UserContacts{}, std::move(done));
  });
  REQUIRE_FALSE(other_user);
  CHECK(other_user.error().code == core::Errc::kUserNotFound);
  // Saved contacts survive a restart.
  REQUIRE(h.contacts(kAna, R"({"email": {"address": "pager@isp.example"}})"));
  h.notifier.reset();
  h.open();
  auto back = h.notifier->get_contacts(h.scope, kAna);
  REQUIRE(back);
  CHECK(back->email.address == "pager@isp.example");
  CHECK(h.notifier->list_schedules(h.scope, core::Page{1, 50})->total == 1);
}

TEST_CASE("a user's Telegram message goes to their chat through the org's bot",
          "[notify][notifier][people]") {
  test::ScriptedHttpServer telegram(
      [](const auto&) { return test::http_reply(200, R"({"ok":true,"result":{}})"); });
  PeopleHarness h;
  auto bot = h.channel("bot", "telegram",
                       {{"bot_token", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"},
                        {"chat_id", "-100999"},
                        {"api_url", telegram.url("")}});
  REQUIRE(bot);
  REQUIRE(h.contacts(kAna, R"({"email": {"enabled": false},
      "telegram": {"chat_id": "4242", "channel_id": )" +
                               std::to_string(bot->id) + "}}"));
  REQUIRE(h.policy({{Kind::kUser, kAna}}));
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return telegram.requests().size() == 1; }));
  const auto request = telegram.requests()[0];
  CHECK(std::string(request.target()).ends_with("/sendMessage"));
  auto body = json::parse(request.body()).as_object();
  CHECK(body.at("chat_id") == json::value("4242"));
}

TEST_CASE("a resolution reaches the user a schedule paged, even after the handover",
          "[notify][notifier][people]") {
  PeopleHarness h;
  // Daily at 00:00 UTC from 2026-01-01: Ben that day, Cleo from 2026-01-02 00:00.
  auto s = h.schedule(R"({"name": "NOC-L1", "rotation": {"users": [6, 7],
      "handover": {"time": "00:00"}, "length_days": 1, "start": "2026-01-01"}})");
  REQUIRE(s);
  REQUIRE(h.policy({{Kind::kSchedule, s->schedule.id}}));
  auto a = PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down");
  h.publish(a);
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kBen).size() == 1; }));
  h.clock.advance(std::chrono::hours(25));  // Cleo is on call now
  a.status = alerts::AlertStatus::kResolved;
  a.resolved_at = h.clock.unix_millis();
  h.env.bus().publish(alerts::AlertChanged{kOrg, a, "resolved"});
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kBen).size() == 2; }));
  CHECK(h.inbox(kBen)[0].kind == "resolved");
  CHECK(h.inbox(kCleo).empty());
}

TEST_CASE("a schedule putting a deactivated user on call is told to the admins",
          "[notify][notifier][people]") {
  PeopleHarness h;
  auto s = h.schedule(R"({"name": "NOC-L1", "rotation": {"users": [6],
      "handover": {"time": "00:00"}, "start": "2026-01-01"}})");
  REQUIRE(s);
  REQUIRE(h.policy({{Kind::kSchedule, s->schedule.id}}));
  h.users[1].enabled = false;  // Ben left
  h.publish(PeopleHarness::alert(1, alerts::Severity::kCritical, "Device down"));
  REQUIRE(test::run_until(h.env.loop(), [&] { return h.inbox(kAdmin).size() == 1; }));
  CHECK(h.inbox(kAdmin)[0].title == "Schedule 'NOC-L1' puts user 6 on call, who is deactivated");
  CHECK(h.inbox(kBen).empty());
  CHECK(h.notifier->stats().unreachable_targets == 1);
}
