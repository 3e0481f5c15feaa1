// A message's JSON for the outbox (src/notify/message_json.cpp): every field round-trips, and a
// stored message that cannot be read is refused naming the field.
#include "notify/detail/message_json.hpp"

#include <catch2/catch.hpp>

using namespace netpulse;
using namespace netpulse::notify::detail;

namespace {

Message full() {
  Message m;
  m.org_id = 3;
  m.notification_id = 99;
  m.kind = MessageKind::kEscalation;
  m.severity = "critical";
  m.receiver = "NOC";
  m.group_key = "0123abcd";
  m.group_labels = {{"alertname", "Device down"}};
  m.common_labels = {{"alertname", "Device down"}, {"severity", "critical"}};
  m.common_annotations = {{"summary", "core-1 down"}};
  m.title = "core-1 down — 55 devices behind it unreachable";
  m.text = "line 1\nline \"2\"\t\u00e9";
  m.html = "<p>core-1 &amp; co</p>";
  m.ack_url = "https://np.example/ack/abc.def";
  m.external_url = "https://np.example";
  m.created_at = 1'767'225'600'123;
  MessageAlert a;
  a.id = 42;
  a.rule_id = 7;
  a.rule_name = "Device down";
  a.status = "firing";
  a.severity = "critical";
  a.subject = "device";
  a.device_id = 11;
  a.device_name = "core-1";
  a.labels = {{"device", "core-1"}, {"ifName", "xe-0/0/0"}};
  a.annotations = {{"summary", "core-1 is down"}};
  a.value = 92.5;
  a.threshold = 90;
  a.started_at = 1'767'225'000'000;
  a.fired_at = 1'767'225'060'000;
  a.acknowledged_by = "";
  a.impact = 55;
  a.fingerprint = "00112233aabbccdd";
  a.url = "https://np.example/alerts/42";
  m.alerts.push_back(a);
  MessageAlert b = a;
  b.id = 43;
  b.device_id.reset();
  b.threshold.reset();
  b.fired_at.reset();
  b.resolved_at = 1'767'226'000'000;
  b.status = "resolved";
  m.alerts.push_back(b);
  return m;
}

bool same(const MessageAlert& x, const MessageAlert& y) {
  return x.id == y.id && x.rule_id == y.rule_id && x.rule_name == y.rule_name &&
         x.status == y.status && x.severity == y.severity && x.subject == y.subject &&
         x.device_id == y.device_id && x.device_name == y.device_name && x.labels == y.labels &&
         x.annotations == y.annotations && x.value == y.value && x.threshold == y.threshold &&
         x.started_at == y.started_at && x.fired_at == y.fired_at &&
         x.resolved_at == y.resolved_at && x.acknowledged_by == y.acknowledged_by &&
         x.impact == y.impact && x.fingerprint == y.fingerprint && x.url == y.url;
}

}  // namespace

TEST_CASE("a message survives the outbox's JSON field by field", "[notify][message]") {
  const auto m = full();
  auto back = message_from_json(message_to_json(m));
  REQUIRE(back);
  CHECK(back->org_id == m.org_id);
  CHECK(back->notification_id == m.notification_id);
  CHECK(back->kind == m.kind);
  CHECK(back->severity == m.severity);
  CHECK(back->receiver == m.receiver);
  CHECK(back->group_key == m.group_key);
  CHECK(back->group_labels == m.group_labels);
  CHECK(back->common_labels == m.common_labels);
  CHECK(back->common_annotations == m.common_annotations);
  CHECK(back->title == m.title);
  CHECK(back->text == m.text);
  CHECK(back->html == m.html);
  CHECK(back->ack_url == m.ack_url);
  CHECK(back->external_url == m.external_url);
  CHECK(back->created_at == m.created_at);
  REQUIRE(back->alerts.size() == 2);
  CHECK(same(back->alerts[0], m.alerts[0]));
  CHECK(same(back->alerts[1], m.alerts[1]));
}

TEST_CASE("a stored message that cannot be read is refused naming the field", "[notify][message]") {
  const auto text = message_to_json(full());
  auto broken = [&](std::string from, std::string to) {
    auto t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    auto r = message_from_json(t);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    return r.error().details.at("field").as_string();
  };
  CHECK(broken(R"("kind":"escalation")", R"("kind":"shouting")") == "kind");
  CHECK(broken(R"("org_id":3)", R"("org_id":"3")") == "org_id");
  CHECK(broken(R"("impact":55)", R"("impact":"many")") == "alerts[0].impact");
  CHECK(broken(R"("labels":{"device":"core-1")", R"("labels":{"device":1)") == "alerts[0].labels");
  CHECK(broken(R"("alerts":[)", R"("alerts":[7,)") == "alerts[0].");
  for (const char* junk : {"", "null", "[]", "{", "{\"org_id\":1}"}) {
    CHECK_FALSE(message_from_json(junk));
  }
}
