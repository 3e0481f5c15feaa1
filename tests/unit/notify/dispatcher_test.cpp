// The dispatcher (src/notify/dispatcher.cpp): grouping a storm into a few messages, group_wait
// and group_interval, resolutions to everyone told, symptoms, silences and flapping held,
// escalation stopped by acknowledgement, repeats, digests and record-only severities. Time is
// passed in; nothing here sleeps.
#include "notify/detail/dispatcher.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace netpulse;
using namespace netpulse::notify::detail;
using alerts::Alert;
using alerts::AlertStatus;
using alerts::Severity;
using netpulse::notify::DeliveryMode;
using netpulse::notify::Policy;

namespace {

constexpr std::int64_t kT0 = 1'767'225'600'000;
const Target kNoc{Target::Kind::kChannel, 1};
const Target kPager{Target::Kind::kChannel, 2};
const Target kLead{Target::Kind::kUser, 9};

Policy route() {
  Policy r;
  r.id = 1;
  r.org_id = 1;
  r.name = "everything";
  r.group_by = {"alertname"};
  r.group_wait_s = 30;
  r.group_interval_s = 300;
  r.repeat_interval_s = 0;
  r.warning_mode = DeliveryMode::kImmediate;
  r.targets = {kNoc};
  return r;
}

Alert alert(std::int64_t id, std::string rule = "Device down",
            Severity severity = Severity::kCritical) {
  Alert a;
  a.id = id;
  a.org_id = 1;
  a.rule_id = 1;
  a.rule_name = rule;
  a.subject = fmt::format("device:{}", id);
  a.status = AlertStatus::kFiring;
  a.severity = severity;
  a.device_id = id;
  a.device_name = fmt::format("dev-{}", id);
  a.labels = {{"alertname", rule}, {"device", a.device_name}};
  return a;
}

alerts::AlertChanged changed(Alert a, std::string transition) {
  return alerts::AlertChanged{a.org_id, std::move(a), std::move(transition)};
}

std::size_t alerts_in(const std::vector<Dispatch>& ds) {
  std::size_t n = 0;
  for (auto& d : ds) n += d.alerts.size();
  return n;
}

}  // namespace

TEST_CASE("a storm of 500 alerts in 10 s is one message per group, after group_wait",
          "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  for (int i = 0; i < 500; ++i) {
    // Five rules, so five groups by alertname.
    d.on_alert(changed(alert(i + 1, fmt::format("rule {}", i % 5)), "firing"), kT0 + i * 20);
  }
  CHECK(d.tick(kT0 + 10'000).empty());
  CHECK(d.tick(kT0 + 29'999).empty());
  REQUIRE(d.next_due());
  CHECK(*d.next_due() == kT0 + 30'000);
  auto out = d.tick(kT0 + 40'000);
  CHECK(out.size() == 5);
  CHECK(alerts_in(out) == 500);
  for (auto& m : out) {
    CHECK(m.kind == MessageKind::kFiring);
    CHECK(m.targets == std::vector<Target>{kNoc});
    CHECK(m.alerts.size() == 100);
    CHECK(m.group_labels.size() == 1);
  }
  CHECK(d.tick(kT0 + 100'000).empty());
}

TEST_CASE("an alert joining a group that has sent waits for group_interval",
          "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  d.on_alert(changed(alert(1), "firing"), kT0);
  REQUIRE(d.tick(kT0 + 30'000).size() == 1);
  d.on_alert(changed(alert(2), "firing"), kT0 + 60'000);
  CHECK(d.tick(kT0 + 60'000 + 30'000).empty());  // group_wait is not enough now
  auto out = d.tick(kT0 + 30'000 + 300'000);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].alerts.size() == 1);
  CHECK(out[0].alerts[0].id == 2);
}

TEST_CASE("resolutions reach every target told of the firing, even when silenced by then",
          "[notify][dispatcher]") {
  auto r = route();
  r.escalation = {{600, {kPager}}};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  auto a = alert(1);
  d.on_alert(changed(a, "firing"), kT0);
  REQUIRE(d.tick(kT0 + 30'000).size() == 1);
  auto esc = d.tick(kT0 + 30'000 + 600'000);
  REQUIRE(esc.size() == 1);
  CHECK(esc[0].kind == MessageKind::kEscalation);
  CHECK(esc[0].escalation_step == 0);
  CHECK(esc[0].targets == std::vector<Target>{kPager});
  // Silenced, then resolved: Alertmanager's #2754 — the resolution still goes out.
  a.silenced = true;
  d.on_alert(changed(a, "silenced"), kT0 + 700'000);
  a.status = AlertStatus::kResolved;
  d.on_alert(changed(a, "resolved"), kT0 + 710'000);
  auto out = d.tick(kT0 + 710'000 + 30'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kResolved);
  CHECK(out[0].targets == std::vector<Target>{kNoc, kPager});
  CHECK(d.stats().groups == 0);  // nothing left to track
}

TEST_CASE("an alert that never went out resolves quietly", "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  auto a = alert(1);
  d.on_alert(changed(a, "firing"), kT0);
  a.status = AlertStatus::kResolved;
  d.on_alert(changed(a, "resolved"), kT0 + 10'000);  // within group_wait
  CHECK(d.tick(kT0 + 3'600'000).empty());
}

TEST_CASE("symptoms are never sent while their root is open; a root's failure is",
          "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  auto root = alert(1);
  root.impact = 55;
  d.on_alert(changed(root, "firing"), kT0);
  std::vector<Alert> cpes;
  for (int i = 0; i < 55; ++i) {
    auto cpe = alert(100 + i, "Device down");
    d.on_alert(changed(cpe, "firing"), kT0 + 1'000);  // fires, then the engine links it
    cpe.symptom_of = 1;
    d.on_alert(changed(cpe, "symptom"), kT0 + 1'000);
    cpes.push_back(cpe);
  }
  auto out = d.tick(kT0 + 31'000);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].alerts.size() == 1);
  CHECK(out[0].alerts[0].id == 1);
  CHECK(out[0].alerts[0].impact == 55);
  CHECK(d.stats().symptoms_held == 55);
  // The root recovers; one CPE still fails on its own: it becomes a root and is sent.
  root.status = AlertStatus::kResolved;
  d.on_alert(changed(root, "resolved"), kT0 + 600'000);
  for (auto& cpe : cpes) {
    cpe.symptom_of.reset();
    if (cpe.id == 100) {
      d.on_alert(changed(cpe, "root"), kT0 + 600'000);
    } else {
      cpe.status = AlertStatus::kResolved;
      d.on_alert(changed(cpe, "resolved"), kT0 + 600'000);
    }
  }
  auto after = d.tick(kT0 + 600'000 + 300'000);
  REQUIRE(after.size() == 2);
  CHECK(after[0].kind == MessageKind::kFiring);
  REQUIRE(after[0].alerts.size() == 1);
  CHECK(after[0].alerts[0].id == 100);
  CHECK(after[1].kind == MessageKind::kResolved);
  REQUIRE(after[1].alerts.size() == 1);
  CHECK(after[1].alerts[0].id == 1);
}

TEST_CASE("acknowledgement stops escalation and repeats at once", "[notify][dispatcher]") {
  auto r = route();
  r.repeat_interval_s = 3'600;
  r.escalation = {{300, {kLead}}, {900, {kPager}}};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  auto a = alert(1);
  d.on_alert(changed(a, "firing"), kT0);
  REQUIRE(d.tick(kT0 + 30'000).size() == 1);
  auto step1 = d.tick(kT0 + 30'000 + 300'000);
  REQUIRE(step1.size() == 1);
  CHECK(step1[0].targets == std::vector<Target>{kLead});
  a.status = AlertStatus::kAcknowledged;
  a.acknowledged_by_name = "lead@isp.example";
  d.on_alert(changed(a, "acknowledged"), kT0 + 400'000);
  auto acked = d.tick(kT0 + 400'000 + 30'000);
  REQUIRE(acked.size() == 1);
  CHECK(acked[0].kind == MessageKind::kAcknowledged);
  CHECK(acked[0].targets == std::vector<Target>{kNoc, kLead});
  // Neither the second step nor a repeat ever comes.
  CHECK(d.tick(kT0 + 30'000 + 900'000).empty());
  CHECK(d.tick(kT0 + 10'000'000).empty());
}

TEST_CASE("still firing and unacknowledged, a group goes out again every repeat_interval",
          "[notify][dispatcher]") {
  auto r = route();
  r.repeat_interval_s = 3'600;
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  d.on_alert(changed(alert(1), "firing"), kT0);
  REQUIRE(d.tick(kT0 + 30'000).size() == 1);
  CHECK(d.tick(kT0 + 30'000 + 3'599'999).empty());
  auto again = d.tick(kT0 + 30'000 + 3'600'000);
  REQUIRE(again.size() == 1);
  CHECK(again[0].kind == MessageKind::kFiring);
  CHECK(again[0].alerts.size() == 1);
}

TEST_CASE("warnings go to a digest, info is recorded only", "[notify][dispatcher]") {
  auto r = route();
  r.warning_mode = DeliveryMode::kDigest;
  r.digest_interval_s = 900;
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  d.on_alert(changed(alert(1, "CPU high", Severity::kWarning), "firing"), kT0);
  d.on_alert(changed(alert(2, "CPU high", Severity::kWarning), "firing"), kT0 + 60'000);
  d.on_alert(changed(alert(3, "Note", Severity::kInfo), "firing"), kT0 + 60'000);
  CHECK(d.tick(kT0 + 899'999).empty());
  auto out = d.tick(kT0 + 900'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kDigest);
  CHECK(out[0].alerts.size() == 2);
  CHECK(d.stats().recorded_only == 1);
  CHECK(d.tick(kT0 + 10'000'000).empty());
}

TEST_CASE("a flapping alert is held, then sent once where it stands when it settles",
          "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  auto a = alert(1);
  d.on_alert(changed(a, "firing"), kT0);
  a.flapping = true;
  d.on_alert(changed(a, "flapping"), kT0 + 5'000);
  for (int i = 0; i < 6; ++i) d.on_alert(changed(a, "firing"), kT0 + 6'000 + i);
  CHECK(d.tick(kT0 + 600'000).empty());
  a.flapping = false;
  d.on_alert(changed(a, "settled"), kT0 + 700'000);
  auto out = d.tick(kT0 + 730'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kFiring);
}

TEST_CASE("an alert matching two routes goes to each, grouped by each", "[notify][dispatcher]") {
  auto a_route = route();
  auto b_route = route();
  b_route.id = 2;
  b_route.targets = {kPager};
  b_route.group_by = {};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{a_route, b_route}; });
  d.on_alert(changed(alert(1, "A"), "firing"), kT0);
  d.on_alert(changed(alert(2, "B"), "firing"), kT0);
  auto out = d.tick(kT0 + 30'000);
  // Route 1 groups by alertname (two groups); route 2 has one group.
  REQUIRE(out.size() == 3);
  CHECK(alerts_in(out) == 4);
}

TEST_CASE("fingerprints are stable and tell alerts apart", "[notify][dispatcher]") {
  auto a = alert(1);
  auto b = alert(2);
  CHECK(Dispatcher::fingerprint(a) == Dispatcher::fingerprint(a));
  CHECK(Dispatcher::fingerprint(a) != Dispatcher::fingerprint(b));
  CHECK(Dispatcher::fingerprint(a).size() == 16);
}

TEST_CASE("alerts are grouped by the labels a policy sees, alertname included",
          "[notify][dispatcher]") {
  Dispatcher d([](const Alert&) { return std::vector<Policy>{route()}; });
  // The engine's alerts carry their series' labels, not alertname: the rule's name is added.
  for (int i = 0; i < 6; ++i) {
    auto a = alert(i + 1, i % 2 ? "CPU high" : "Device down");
    a.labels = {{"host", fmt::format("h{}", i)}};
    d.on_alert(changed(a, "firing"), kT0);
  }
  auto out = d.tick(kT0 + 30'000);
  REQUIRE(out.size() == 2);
  for (auto& m : out) {
    CHECK(m.alerts.size() == 3);
    REQUIRE(m.group_labels.contains("alertname"));
    CHECK(m.group_labels.at("alertname") == m.alerts[0].rule_name);
  }
}

TEST_CASE("next_due follows each change of a group, and a group with nothing left is dropped",
          "[notify][dispatcher]") {
  auto r = route();
  r.repeat_interval_s = 3'600;
  r.escalation = {{300, {kLead}}};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  CHECK_FALSE(d.next_due());
  auto a = alert(1);
  d.on_alert(changed(a, "firing"), kT0);
  CHECK(d.next_due() == kT0 + 30'000);  // group_wait
  // Not due yet: nothing, and the schedule is unchanged.
  CHECK(d.tick(kT0 + 29'999).empty());
  CHECK(d.next_due() == kT0 + 30'000);
  REQUIRE(d.tick(kT0 + 30'000).size() == 1);
  CHECK(d.next_due() == kT0 + 30'000 + 300'000);  // the escalation step before the repeat
  REQUIRE(d.tick(kT0 + 330'000).size() == 1);
  CHECK(d.next_due() == kT0 + 30'000 + 3'600'000);  // only the repeat is left
  // A second group, due sooner, comes first; the first keeps its time.
  d.on_alert(changed(alert(2, "Interface down"), "firing"), kT0 + 400'000);
  CHECK(d.next_due() == kT0 + 430'000);
  REQUIRE(d.tick(kT0 + 430'000).size() == 1);
  CHECK(d.next_due() == kT0 + 430'000 + 300'000);  // the second group's escalation step
  // Resolving both: their resolved messages are due after group_interval from the groups' last
  // messages; once sent, both groups are gone and nothing is due.
  a.status = AlertStatus::kResolved;
  d.on_alert(changed(a, "resolved"), kT0 + 500'000);
  auto b = alert(2, "Interface down");
  b.status = AlertStatus::kResolved;
  d.on_alert(changed(b, "resolved"), kT0 + 500'000);
  CHECK(d.stats().groups == 2);
  REQUIRE(d.next_due());
  const auto resolved = d.tick(kT0 + 2'000'000);
  REQUIRE(resolved.size() == 2);
  CHECK(resolved[0].kind == MessageKind::kResolved);
  CHECK(resolved[1].kind == MessageKind::kResolved);
  CHECK_FALSE(d.next_due());
  CHECK(d.stats().groups == 0);
}

// --- after a restart: Dispatcher::restore ---------------------------------------------------

TEST_CASE(
    "restored: an alert that went out is not sent again, and its resolution goes to "
    "everyone told",
    "[notify][dispatcher]") {
  auto r = route();
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  SentBefore before;
  before.policy_id = r.id;
  before.first_sent_ms = kT0 - 600'000;
  before.last_sent_ms = kT0 - 100'000;
  before.told = {kNoc, kLead};  // the lead was told by an escalation step before the restart
  d.restore(alert(1), {before}, kT0);
  CHECK_FALSE(d.next_due());               // nothing to send, no repeats (repeat_interval 0)
  CHECK(d.tick(kT0 + 3'600'000).empty());  // no second firing message, ever
  auto resolved = alert(1);
  resolved.status = AlertStatus::kResolved;
  // Resolved 10 s after the restart: the group last sent 100 s before it, so its resolution
  // waits for group_interval (300 s) since then, as without a restart.
  d.on_alert(changed(resolved, "resolved"), kT0 + 10'000);
  CHECK(d.tick(kT0 + 199'999).empty());
  auto out = d.tick(kT0 + 200'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kResolved);
  CHECK(out[0].targets == std::vector<Target>{kNoc, kLead});
  CHECK(d.stats().groups == 0);  // nothing left to track
}

TEST_CASE("restored: an alert that never went out goes out after group_wait",
          "[notify][dispatcher]") {
  auto r = route();
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  d.restore(alert(1), {}, kT0);
  // What went out under another policy does not count for this one.
  SentBefore other;
  other.policy_id = 77;
  other.first_sent_ms = other.last_sent_ms = kT0 - 1'000;
  other.told = {kPager};
  d.restore(alert(2), {other}, kT0);
  CHECK(d.tick(kT0 + 29'999).empty());
  auto out = d.tick(kT0 + 30'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kFiring);
  CHECK(alerts_in(out) == 2);
  CHECK(out[0].targets == std::vector<Target>{kNoc});
}

TEST_CASE(
    "restored: escalation goes on from the first message; the steps sent are not sent "
    "again, one due while the server was down goes out at once",
    "[notify][dispatcher]") {
  auto r = route();
  r.escalation = {{300, {kLead}}, {900, {kPager}}, {1800, {kPager, kLead}}};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  // Sent at T0 - 1000 s; step 0 (300 s) went out at T0 - 700 s; step 1 (900 s) fell due at
  // T0 - 100 s, while the server was down.
  SentBefore before;
  before.policy_id = r.id;
  before.first_sent_ms = kT0 - 1'000'000;
  before.last_escalation_ms = kT0 - 700'000;
  before.last_sent_ms = kT0 - 700'000;
  before.told = {kNoc, kLead};
  d.restore(alert(1), {before}, kT0);
  auto now = d.tick(kT0);
  REQUIRE(now.size() == 1);
  CHECK(now[0].kind == MessageKind::kEscalation);
  CHECK(now[0].escalation_step == 1);
  CHECK(now[0].targets == std::vector<Target>{kPager});
  CHECK(d.tick(kT0 + 799'000).empty());
  auto later = d.tick(kT0 + 800'000);  // first + 1800 s
  REQUIRE(later.size() == 1);
  CHECK(later[0].escalation_step == 2);
}

TEST_CASE(
    "restored: an acknowledged alert does not escalate, and its resolution still goes "
    "out; a pending one waits for its firing",
    "[notify][dispatcher]") {
  auto r = route();
  r.escalation = {{300, {kLead}}};
  Dispatcher d([&](const Alert&) { return std::vector<Policy>{r}; });
  auto acked = alert(1);
  acked.status = AlertStatus::kAcknowledged;
  SentBefore before;
  before.policy_id = r.id;
  before.first_sent_ms = before.last_sent_ms = kT0 - 10'000;
  before.told = {kNoc};
  d.restore(acked, {before}, kT0);
  auto pending = alert(2);
  pending.status = AlertStatus::kPending;
  d.restore(pending, {}, kT0);
  CHECK(d.tick(kT0 + 3'600'000).empty());
  auto resolved = acked;
  resolved.status = AlertStatus::kResolved;
  d.on_alert(changed(resolved, "resolved"), kT0 + 3'600'000);
  auto out = d.tick(kT0 + 3'700'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == MessageKind::kResolved);
  CHECK(out[0].targets == std::vector<Target>{kNoc});
  // The pending one fires later: it goes out like any new firing.
  d.on_alert(changed(alert(2), "firing"), kT0 + 3'700'000);
  auto fired = d.tick(kT0 + 3'730'000);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].kind == MessageKind::kFiring);
}
