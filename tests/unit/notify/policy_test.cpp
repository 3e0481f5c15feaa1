// Notification policies (src/notify/policy*.cpp): each match criterion on its own and together,
// routing order with first-match and continue, group labels and stable group keys, delivery
// modes and quiet hours, JSON round trips, and validation naming the field.
#include <string>
#include <tuple>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <netpulse/notify/policy.hpp>

using namespace netpulse;
using namespace netpulse::notify;

namespace {

boost::json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

Policy policy_from(const std::string& json) {
  auto p = policy_from_json(parse(json));
  if (!p) FAIL(p.error().message);
  return *p;
}

// An alert on device 7 (groups "core", "berlin"; tag "uplink") from rule 42.
struct Alert {
  std::map<std::string, std::string> labels = {
      {"alertname", "Interface down"}, {"ifName", "xe-0/0/1"}, {"site", "ber1"}};
  std::vector<std::string> groups = {"core", "berlin"};
  std::vector<std::string> tags = {"uplink"};
  std::string severity = "critical";
  std::optional<std::int64_t> device_id = 7;

  AlertFacts facts() const {
    AlertFacts f;
    f.severity = severity;
    f.labels = &labels;
    f.rule_id = 42;
    f.device_id = device_id;
    f.device_groups = groups;
    f.device_tags = tags;
    return f;
  }
};

}  // namespace

TEST_CASE("policies: each match criterion on its own", "[notify][policy]") {
  const Alert alert;
  const std::vector<std::pair<std::string, bool>> cases = {
      {R"({})", true},
      {R"({"severity": ["critical"]})", true},
      {R"({"severity": ["warning", "info"]})", false},
      {R"({"labels": {"ifName": "xe-0/0/1"}})", true},
      {R"({"labels": {"ifName": "xe-0/0/2"}})", false},
      {R"({"labels": {"ifName": {"op": "=~", "value": "xe-.*"}}})", true},
      {R"({"labels": {"ifName": {"op": "=~", "value": "xe-0"}}})", false},  // anchored
      {R"({"labels": {"ifName": {"op": "!~", "value": "ge-.*"}}})", true},
      {R"({"labels": {"ifName": {"op": "!=", "value": "xe-0/0/1"}}})", false},
      {R"({"labels": {"vlan": ""}})", true},  // a missing label reads as ""
      {R"({"labels": {"vlan": {"op": "!=", "value": "10"}}})", true},
      {R"({"rule_ids": [41, 42]})", true},
      {R"({"rule_ids": [41]})", false},
      {R"({"device_ids": [7]})", true},
      {R"({"device_ids": [8]})", false},
      {R"({"groups": ["edge", "core"]})", true},
      {R"({"groups": ["edge"]})", false},
      {R"({"tags": ["uplink"]})", true},
      {R"({"tags": ["customer"]})", false},
      {R"({"severity": ["critical"], "tags": ["uplink"], "labels": {"site": "ber1"}})", true},
      {R"({"severity": ["critical"], "tags": ["uplink"], "labels": {"site": "fra1"}})", false},
  };
  for (const auto& [match, expected] : cases) {
    INFO(match);
    const auto p = policy_from(R"({"name": "p", "match": )" + match + "}");
    CHECK(matches(p, alert.facts()) == expected);
  }
}

TEST_CASE("policies: device criteria need a device, and a disabled policy takes nothing",
          "[notify][policy]") {
  Alert no_device;
  no_device.device_id.reset();
  CHECK_FALSE(
      matches(policy_from(R"({"name": "p", "match": {"groups": ["core"]}})"), no_device.facts()));
  CHECK(matches(policy_from(R"({"name": "p", "match": {"severity": ["critical"]}})"),
                no_device.facts()));
  CHECK_FALSE(matches(policy_from(R"({"name": "p", "enabled": false})"), Alert().facts()));
  // A matcher built in code, not compiled: matched all the same.
  Policy p;
  p.name = "code";
  p.match.labels.push_back({{"ifName", alerts::MatchOp::kRegex, "xe-.*"}, nullptr});
  CHECK(matches(p, Alert().facts()));
  compile_matchers(p);
  CHECK(p.match.labels[0].regex != nullptr);
  CHECK(matches(p, Alert().facts()));
}

TEST_CASE("policies: routing stops at the first match unless it continues", "[notify][policy]") {
  std::vector<Policy> policies = {
      policy_from(R"({"name": "catch-all", "position": 30})"),
      policy_from(R"({"name": "core", "position": 10, "match": {"groups": ["core"]},
                      "continue": true})"),
      policy_from(R"({"name": "warnings", "position": 5, "match": {"severity": ["warning"]}})"),
      policy_from(R"({"name": "off", "position": 1, "enabled": false})"),
      policy_from(R"({"name": "uplinks", "position": 20, "match": {"tags": ["uplink"]}})"),
  };
  auto names = [](const std::vector<const Policy*>& taken) {
    std::vector<std::string> out;
    for (const auto* p : taken) out.push_back(p->name);
    return out;
  };
  Alert alert;
  CHECK(names(route(policies, alert.facts())) == std::vector<std::string>{"core", "uplinks"});
  alert.tags.clear();
  CHECK(names(route(policies, alert.facts())) == std::vector<std::string>{"core", "catch-all"});
  alert.severity = "warning";
  CHECK(names(route(policies, alert.facts())) == std::vector<std::string>{"warnings"});
  policies[1].continue_matching = false;
  alert.severity = "critical";
  CHECK(names(route(policies, alert.facts())) == std::vector<std::string>{"core"});
  CHECK(route({}, alert.facts()).empty());
}

TEST_CASE("policies: group labels and stable group keys", "[notify][policy]") {
  auto p = policy_from(R"({"name": "p"})");
  p.id = 12;
  const std::map<std::string, std::string> a = {
      {"alertname", "Interface down"}, {"ifName", "xe-0/0/1"}, {"site", "ber1"}};
  const std::map<std::string, std::string> b = {
      {"alertname", "Interface down"}, {"ifName", "xe-0/0/2"}, {"site", "fra1"}};
  CHECK(p.group_by == std::vector<std::string>{"alertname"});  // the default
  CHECK(group_labels(p, a) == std::map<std::string, std::string>{{"alertname", "Interface down"}});
  CHECK(group_key(p, a) == group_key(p, b));
  CHECK(group_key(p, a).size() == 16);
  // Pinned (FNV-1a 64 of "5:id 12" "9:alertname" "14:Interface down", checked by hand): the key
  // must not change between runs, builds or releases (PagerDuty dedup keys).
  CHECK(group_key(p, a) == "84e0269bc37be732");
  p.group_by = {"site", "missing"};
  CHECK(group_labels(p, a) == std::map<std::string, std::string>{{"site", "ber1"}});
  CHECK(group_key(p, a) != group_key(p, b));
  p.group_by = {"..."};
  CHECK(group_labels(p, a) == a);
  p.group_by = {};
  CHECK(group_labels(p, a).empty());
  CHECK(group_key(p, a) == group_key(p, b));
  // The policy is part of the key.
  auto other = p;
  other.id = 13;
  CHECK(group_key(p, a) != group_key(other, a));
  // Length-prefixed: moving a byte between name and value changes the key.
  p.group_by = {"..."};
  CHECK(group_key(p, {{"ab", "c"}}) != group_key(p, {{"a", "bc"}}));
}

TEST_CASE("policies: delivery modes per severity, digest 0 as immediate, quiet hours",
          "[notify][policy]") {
  auto p = policy_from(R"({"name": "p"})");
  CHECK(delivery_mode(p, "critical") == DeliveryMode::kImmediate);
  CHECK(delivery_mode(p, "warning") == DeliveryMode::kDigest);
  CHECK(delivery_mode(p, "info") == DeliveryMode::kRecord);
  CHECK(delivery_mode(p, "unknown") == DeliveryMode::kRecord);
  p.digest_interval_s = 0;
  CHECK(delivery_mode(p, "warning") == DeliveryMode::kImmediate);
  CHECK(overrides_quiet_hours(p, "critical"));
  CHECK_FALSE(overrides_quiet_hours(p, "warning"));
  p.override_quiet_hours = true;
  CHECK(overrides_quiet_hours(p, "info"));
}

TEST_CASE("policy JSON: the documented body reads as written and round-trips", "[notify][policy]") {
  const auto p = policy_from(R"({
    "name": "Core network", "position": 10, "enabled": true,
    "match": {"severity": ["critical", "warning"],
              "labels": {"site": "ber1", "ifName": {"op": "=~", "value": "xe-.*"}},
              "rule_ids": [4], "device_ids": [7], "groups": ["core"], "tags": ["uplink"]},
    "continue": true, "group_by": ["alertname", "site"],
    "group_wait_s": 10, "group_interval_s": 120, "repeat_interval_s": 0,
    "digest_interval_s": 600,
    "modes": {"critical": "immediate", "warning": "digest", "info": "record"},
    "targets": [{"channel_id": 3}, {"schedule_id": 1}],
    "escalation": [{"after_s": 600, "targets": [{"user_id": 5}]},
                   {"after_s": 1800, "targets": [{"channel_id": 9}]}],
    "override_quiet_hours": true})");
  CHECK(p.match.labels.size() == 2);
  CHECK(p.match.labels[1].matcher.op == alerts::MatchOp::kRegex);
  CHECK(p.match.labels[1].regex != nullptr);
  CHECK(p.targets[1] == PolicyTarget{PolicyTarget::Kind::kSchedule, 1});
  CHECK(p.escalation[1].after_s == 1800);
  CHECK(p.repeat_interval_s == 0);
  auto again = policy_from_json(to_json(p));
  REQUIRE(again);
  CHECK(*again == p);
  // Defaults.
  const auto d = policy_from(R"({"name": "d"})");
  CHECK(d.enabled);
  CHECK_FALSE(d.continue_matching);
  CHECK(d.group_wait_s == 30);
  CHECK(d.group_interval_s == 300);
  CHECK(d.repeat_interval_s == 14'400);
  CHECK(d.digest_interval_s == 900);
}

TEST_CASE("policy JSON: each way to get a policy wrong is refused naming the field",
          "[notify][policy]") {
  std::string eleven_steps = "[";
  for (int i = 1; i <= 11; ++i)
    eleven_steps += R"({"after_s": )" + std::to_string(i * 60) +
                    R"(, "targets": [{"user_id": 1}]})" + (i < 11 ? "," : "]");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("x")", "body"},
      {R"({})", "name"},
      {R"({"name": ""})", "name"},
      {R"({"name": "p", "contine": true})", "contine"},
      {R"({"name": "p", "enabled": "yes"})", "enabled"},
      {R"({"name": "p", "position": -1})", "position"},
      {R"({"name": "p", "match": {"severity": ["fatal"]}})", "match.severity"},
      {R"({"name": "p", "match": {"severity": ["info", "info"]}})", "match.severity"},
      {R"({"name": "p", "match": {"labels": {"ifName": 3}}})", "match.labels.ifName"},
      {R"({"name": "p", "match": {"labels": {"ifName": {"op": "~", "value": "x"}}}})",
       "match.labels.ifName.op"},
      {R"({"name": "p", "match": {"labels": {"ifName": {"op": "=~", "value": "("}}}})",
       "match.labels.ifName"},
      {R"({"name": "p", "match": {"labels": {"ifName": {"op": "=~"}}}})",
       "match.labels.ifName.value"},
      {R"({"name": "p", "match": {"labels": {"if-name": "x"}}})", "match.labels"},
      {R"({"name": "p", "match": {"rule_ids": [0]}})", "match.rule_ids"},
      {R"({"name": "p", "match": {"device_ids": ["7"]}})", "match.device_ids"},
      {R"({"name": "p", "match": {"groups": [""]}})", "match.groups"},
      {R"({"name": "p", "match": {"tag": ["x"]}})", "match.tag"},
      {R"({"name": "p", "group_by": ["...", "site"]})", "group_by"},
      {R"({"name": "p", "group_by": ["if-name"]})", "group_by"},
      {R"({"name": "p", "group_wait_s": 3601})", "group_wait_s"},
      {R"({"name": "p", "group_interval_s": 0})", "group_interval_s"},
      {R"({"name": "p", "repeat_interval_s": 30})", "repeat_interval_s"},
      {R"({"name": "p", "digest_interval_s": 86401})", "digest_interval_s"},
      {R"({"name": "p", "modes": {"warning": "later"}})", "modes.warning"},
      {R"({"name": "p", "modes": {"debug": "record"}})", "modes.debug"},
      {R"({"name": "p", "targets": [{"channel_id": 1, "user_id": 2}]})", "targets[0]"},
      {R"({"name": "p", "targets": [{"team_id": 1}]})", "targets[0].team_id"},
      {R"({"name": "p", "targets": [{"user_id": 0}]})", "targets[0]"},
      {R"({"name": "p", "targets": [{"user_id": "5"}]})", "targets[0].user_id"},
      {R"({"name": "p", "escalation": [{"after_s": 30, "targets": [{"user_id": 1}]}]})",
       "escalation[0].after_s"},
      {R"({"name": "p", "escalation": [{"after_s": 600, "targets": [{"user_id": 1}]},
                                       {"after_s": 600, "targets": [{"user_id": 2}]}]})",
       "escalation[1].after_s"},
      {R"({"name": "p", "escalation": [{"after_s": 600, "targets": []}]})",
       "escalation[0].targets"},
      {R"({"name": "p", "escalation": [{"after_s": 600}]})", "escalation[0].targets"},
      {R"({"name": "p", "escalation": )" + eleven_steps + "}", "escalation"},
  };
  for (const auto& [text, field] : cases) {
    INFO(text);
    auto r = policy_from_json(parse(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == field);
  }
}

TEST_CASE("policy JSON: templates per family and severity read, round-trip and render checks",
          "[notify][policy]") {
  const auto p = policy_from(R"({"name": "t", "templates": {
    "chat": {"critical": {"title": "{{severity_short}} {{#first}}{{rule}}{{/first}}",
                          "text": "{{#alerts}}{{device}}: {{value}}\n{{/alerts}}"},
             "default": {"text": "{{count}} alerts"}},
    "email": {"warning": {"title": "[{{receiver}}] {{count}}", "html": "<b>{{count}}</b>"}},
    "sms": {"default": {"text": "{{severity_short}} {{#first}}{{device}}{{/first}}"}},
    "paging": {"info": {}}}})");
  REQUIRE(p.templates.size() == 4);
  CHECK(p.templates.at("chat").at("critical").title ==
        "{{severity_short}} {{#first}}{{rule}}{{/first}}");
  CHECK(p.templates.at("chat").at("default").title.empty());
  CHECK(p.templates.at("email").at("warning").html == "<b>{{count}}</b>");
  auto again = policy_from_json(to_json(p));
  REQUIRE(again);
  CHECK(*again == p);
  // None given: none kept, and the JSON says so.
  const auto d = policy_from(R"({"name": "d"})");
  CHECK(d.templates.empty());
  CHECK(to_json(d).at("templates").as_object().empty());
}

TEST_CASE("policy JSON: a bad template is refused when saved, naming the field",
          "[notify][policy]") {
  const std::string big(16 * 1024 + 1, 'x');  // one byte over a template's limit
  std::string too_much;  // 4 sets of 17,000 bytes: each text allowed, 68,000 in all
  for (auto sev : {"critical", "warning", "info", "default"})
    too_much += std::string(too_much.empty() ? "" : ",") + "\"" + sev + "\": {\"title\": \"" +
                std::string(16'000, 'x') + "\", \"text\": \"" + std::string(1'000, 'y') + "\"}";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {R"({"name": "p", "templates": {"sms": {"critical": {"text": "{{valu}}"}}}})",
       "templates.sms.critical.text", "{{valu}} is not a field of a message"},
      {R"({"name": "p", "templates": {"sms": {"critical": {"text": "{{value}}"}}}})",
       "templates.sms.critical.text", "{{value}} is a field of an alert"},
      {R"({"name": "p", "templates": {"chat": {"default": {"title": "{{#alerts}}"}}}})",
       "templates.chat.default.title", "not a valid Mustache template"},
      {R"({"name": "p", "templates": {"chat": {"default": {"text": "{{> line}}"}}}})",
       "templates.chat.default.text", "partials"},
      {R"({"name": "p", "templates": {"pager": {"default": {"text": "x"}}}})", "templates.pager",
       "not a channel family"},
      {R"({"name": "p", "templates": {"chat": {"fatal": {"text": "x"}}}})", "templates.chat.fatal",
       "not a severity"},
      {R"({"name": "p", "templates": {"chat": {"info": {"html": "<b>x</b>"}}}})",
       "templates.chat.info.html", "only email"},
      {R"({"name": "p", "templates": {"sms": {"info": {"title": "x"}}}})",
       "templates.sms.info.title", "give it as text"},
      {R"({"name": "p", "templates": {"chat": {"info": {"body": "x"}}}})",
       "templates.chat.info.body", "not a field"},
      {R"({"name": "p", "templates": {"chat": {"info": {"text": ""}}}})",
       "templates.chat.info.text", "not be empty"},
      {R"({"name": "p", "templates": {"chat": {"info": {"text": 3}}}})", "templates.chat.info.text",
       "string"},
      {R"({"name": "p", "templates": {"chat": {"info": "x"}}})", "templates.chat.info", "object"},
      {R"({"name": "p", "templates": {"chat": []}})", "templates.chat", "object"},
      {R"({"name": "p", "templates": []})", "templates", ""},
      {R"({"name": "p", "templates": {"chat": {"info": {"text": ")" + big + R"("}}}})",
       "templates.chat.info.text", "at most"},
      {R"({"name": "p", "templates": {"chat": {)" + too_much + "}}}", "templates", "in all"},
  };
  for (const auto& [text, field, says] : cases) {
    INFO(text.substr(0, 200));
    auto r = policy_from_json(parse(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == field);
    CHECK(r.error().message.find(says) != std::string::npos);
  }
}
