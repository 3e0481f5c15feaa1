// Silences (src/alerts/silence*.cpp): each criterion alone and together, matcher semantics as in
// Prometheus (anchored regexes, a missing label reads as ""), the time bounds, validation naming
// the field, and JSON round trips and refusals.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/silence.hpp>

using namespace netpulse;
using namespace netpulse::alerts;

namespace {

constexpr std::int64_t kStart = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kEnd = kStart + 3'600;

Silence by_matchers(std::vector<LabelMatcher> matchers) {
  Silence s;
  s.matchers = std::move(matchers);
  s.starts_at = kStart;
  s.ends_at = kEnd;
  s.reason = "planned fibre work";
  return s;
}

CompiledSilence compiled(Silence s) {
  auto c = CompiledSilence::compile(std::move(s));
  if (!c) FAIL(c.error().message);
  return std::move(c).value();
}

boost::json::value parse(const char* text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

}  // namespace

TEST_CASE("silences: label matchers, as Prometheus matches them", "[alerts][silence]") {
  struct Case {
    LabelMatcher matcher;
    const char* if_name;  // the alert's ifName label; nullptr: the alert has none
    bool silenced;
  };
  const std::vector<Case> cases{
      {{"ifName", MatchOp::kEqual, "xe-0/0/1"}, "xe-0/0/1", true},
      {{"ifName", MatchOp::kEqual, "xe-0/0/1"}, "xe-0/0/10", false},
      {{"ifName", MatchOp::kEqual, "xe-0/0/1"}, nullptr, false},
      {{"ifName", MatchOp::kNotEqual, "xe-0/0/1"}, "ge-1", true},
      {{"ifName", MatchOp::kNotEqual, "xe-0/0/1"}, "xe-0/0/1", false},
      {{"ifName", MatchOp::kNotEqual, "xe-0/0/1"}, nullptr, true},
      {{"ifName", MatchOp::kRegex, "xe-.*"}, "xe-0/0/1", true},
      // Anchored at both ends: no match inside the value.
      {{"ifName", MatchOp::kRegex, "xe-.*"}, "ge-0/xe-1", false},
      {{"ifName", MatchOp::kRegex, "xe"}, "xe-0", false},
      {{"ifName", MatchOp::kRegex, "xe|ge"}, "ge", true},
      {{"ifName", MatchOp::kRegex, "xe|ge"}, "xge", false},
      {{"ifName", MatchOp::kRegex, "xe-.*"}, nullptr, false},
      {{"ifName", MatchOp::kNotRegex, "xe-.*"}, "ge-1", true},
      {{"ifName", MatchOp::kNotRegex, "xe-.*"}, "xe-1", false},
      {{"ifName", MatchOp::kNotRegex, "xe-.*"}, nullptr, true},
  };
  for (const auto& c : cases) {
    INFO(match_op_name(c.matcher.op)
         << " " << c.matcher.value << " on " << (c.if_name ? c.if_name : "(none)"));
    // A second matcher that holds keeps the silence from muting everything on its own.
    auto s = compiled(by_matchers({c.matcher, {"job", MatchOp::kEqual, "snmp"}}));
    std::map<std::string, std::string> labels{{"job", "snmp"}};
    if (c.if_name) labels["ifName"] = c.if_name;
    CHECK(silences(s, AlertSubject{1, std::nullopt, {}, {}, &labels}, kStart) == c.silenced);
  }
}

TEST_CASE("silences: every given criterion must hold", "[alerts][silence]") {
  Silence s = by_matchers({});
  s.device_ids = {7, 8};
  s.group_ids = {3};
  s.tags = {"core", "edge"};
  s.rule_ids = {42};
  s.matchers = {{"ifName", MatchOp::kRegex, "xe-.*"}};
  const auto c = compiled(s);
  const std::vector<std::int64_t> groups{1, 3};
  const std::vector<std::int64_t> other_groups{1};
  const std::vector<std::string> tags{"edge"};
  const std::vector<std::string> other_tags{"access"};
  const std::map<std::string, std::string> labels{{"ifName", "xe-1"}};
  const std::map<std::string, std::string> other_labels{{"ifName", "ge-1"}};
  CHECK(silences(c, {42, 7, groups, tags, &labels}, kStart));
  CHECK_FALSE(silences(c, {41, 7, groups, tags, &labels}, kStart));  // rule
  CHECK_FALSE(silences(c, {42, 9, groups, tags, &labels}, kStart));  // device
  CHECK_FALSE(silences(c, {42, std::nullopt, groups, tags, &labels}, kStart));
  CHECK_FALSE(silences(c, {42, 7, other_groups, tags, &labels}, kStart));  // group
  CHECK_FALSE(silences(c, {42, 7, groups, other_tags, &labels}, kStart));  // tag
  CHECK_FALSE(silences(c, {42, 7, groups, tags, &other_labels}, kStart));  // matcher
  CHECK_FALSE(silences(c, {42, 7, groups, tags, nullptr}, kStart));

  // Each kind alone.
  Silence by_rule = by_matchers({});
  by_rule.rule_ids = {42};
  CHECK(silences(compiled(by_rule), {42, std::nullopt, {}, {}, nullptr}, kStart));
  CHECK_FALSE(silences(compiled(by_rule), {43, 7, {}, {}, nullptr}, kStart));
  Silence by_group = by_matchers({});
  by_group.group_ids = {3};
  CHECK(silences(compiled(by_group), {1, 7, groups, {}, nullptr}, kStart));
  CHECK_FALSE(silences(compiled(by_group), {1, 7, other_groups, {}, nullptr}, kStart));
  Silence by_tag = by_matchers({});
  by_tag.tags = {"edge"};
  CHECK(silences(compiled(by_tag), {1, 7, {}, tags, nullptr}, kStart));
  CHECK_FALSE(silences(compiled(by_tag), {1, 7, {}, other_tags, nullptr}, kStart));
}

TEST_CASE("silences: hold from starts_at up to, not including, ends_at", "[alerts][silence]") {
  Silence s = by_matchers({});
  s.device_ids = {7};
  const auto c = compiled(s);
  const AlertSubject subject{1, 7, {}, {}, nullptr};
  CHECK_FALSE(silences(c, subject, kStart - 1));
  CHECK(silences(c, subject, kStart));
  CHECK(silences(c, subject, kEnd - 1));
  CHECK_FALSE(silences(c, subject, kEnd));
}

TEST_CASE("silences: each way to get a silence wrong is refused naming the field",
          "[alerts][silence]") {
  struct Case {
    const char* what;
    std::function<void(Silence&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases{
      {"no criteria", [](Silence& s) { s.matchers.clear(); }, "matchers"},
      {"matchers that match everything",
       [](Silence& s) {
         s.matchers = {{"ifName", MatchOp::kRegex, ".*"}};
       },
       "matchers"},
      {"a bad regex",
       [](Silence& s) {
         s.matchers[0] = {"ifName", MatchOp::kRegex, "(["};
       },
       "matchers[0].value"},
      {"a bad label name", [](Silence& s) { s.matchers[0].name = "if name"; }, "matchers[0].name"},
      {"a long value", [](Silence& s) { s.matchers[0].value.assign(1'025, 'x'); },
       "matchers[0].value"},
      {"33 matchers",
       [](Silence& s) {
         s.matchers.assign(33, {"job", MatchOp::kEqual, "snmp"});
       },
       "matchers"},
      {"device id 0", [](Silence& s) { s.device_ids = {0}; }, "device_ids"},
      {"group id -1", [](Silence& s) { s.group_ids = {-1}; }, "group_ids"},
      {"rule id 0", [](Silence& s) { s.rule_ids = {0}; }, "rule_ids"},
      {"empty tag", [](Silence& s) { s.tags = {""}; }, "tags"},
      {"ends when it starts", [](Silence& s) { s.ends_at = s.starts_at; }, "ends_at"},
      {"over a year", [](Silence& s) { s.ends_at = s.starts_at + 367 * 86'400; }, "ends_at"},
      {"negative start", [](Silence& s) { s.starts_at = -5; }, "starts_at"},
      {"no reason", [](Silence& s) { s.reason.clear(); }, "reason"},
      {"long reason", [](Silence& s) { s.reason.assign(1'001, 'x'); }, "reason"},
  };
  const auto base = by_matchers({{"ifName", MatchOp::kRegex, "xe-.*"}});
  REQUIRE(validate_silence(base));
  for (const auto& c : cases) {
    INFO(c.what);
    auto s = base;
    c.spoil(s);
    auto v = validate_silence(s);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == core::Errc::kInvalidInput);
    CHECK(v.error().details.at("field").as_string() == c.field);
    CHECK_FALSE(CompiledSilence::compile(s));
  }
  // With another criterion, a matcher that matches everything is allowed.
  auto s = base;
  s.matchers = {{"ifName", MatchOp::kRegex, ".*"}};
  s.device_ids = {7};
  CHECK(validate_silence(s));
}

TEST_CASE("silence JSON: the documented body reads as written and round-trips",
          "[alerts][silence][json]") {
  auto s = silence_from_json(parse(R"({"matchers": [{"name": "ifName", "op": "=~",
      "value": "xe-.*"}, {"name": "job", "value": "snmp"}], "device_ids": [7],
      "starts_at": 1767225600, "ends_at": 1767229200, "reason": "fibre work",
      "id": 3, "created_by": 2, "created_by_name": "ana", "created_at": 1767225000})"));
  if (!s) FAIL(s.error().message);
  REQUIRE(s->matchers.size() == 2);
  CHECK(s->matchers[0] == LabelMatcher{"ifName", MatchOp::kRegex, "xe-.*"});
  CHECK(s->matchers[1] == LabelMatcher{"job", MatchOp::kEqual, "snmp"});
  CHECK(s->id == 0);
  CHECK(s->created_by_name.empty());
  CHECK(boost::json::serialize(silence_to_json(*s)) ==
        R"({"matchers":[{"name":"ifName","op":"=~","value":"xe-.*"},)"
        R"({"name":"job","op":"=","value":"snmp"}],"device_ids":[7],"group_ids":[],"tags":[],)"
        R"("rule_ids":[],"starts_at":1767225600,"ends_at":1767229200,"reason":"fibre work"})");
  auto again = silence_from_json(silence_to_json(*s));
  REQUIRE(again);
  CHECK(*again == *s);
}

TEST_CASE("silence JSON: a malformed body is refused naming the field", "[alerts][silence][json]") {
  struct Case {
    const char* body;
    const char* field;
  };
  const std::vector<Case> cases{
      {R"("silence")", "body"},
      {R"({"rule_ids": [1], "starts_at": 0, "ends_at": 60, "reason": "r", "until": 5})", "until"},
      {R"({"matchers": {"name": "x"}, "starts_at": 0, "ends_at": 60, "reason": "r"})", "matchers"},
      {R"({"matchers": [{"name": "x", "op": "==", "value": "y"}], "starts_at": 0,
           "ends_at": 60, "reason": "r"})",
       "matchers[0].op"},
      {R"({"matchers": [{"name": "x", "value": "y", "regex": true}], "starts_at": 0,
           "ends_at": 60, "reason": "r"})",
       "matchers[0].regex"},
      {R"({"matchers": [{"name": "x"}], "starts_at": 0, "ends_at": 60, "reason": "r"})",
       "matchers[0].value"},
      {R"({"matchers": [{"name": "x", "op": "=~", "value": "(["}], "starts_at": 0,
           "ends_at": 60, "reason": "r"})",
       "matchers[0].value"},
      {R"({"rule_ids": ["1"], "starts_at": 0, "ends_at": 60, "reason": "r"})", "rule_ids"},
      {R"({"rule_ids": [1], "ends_at": 60, "reason": "r"})", "starts_at"},
      {R"({"rule_ids": [1], "starts_at": 0, "ends_at": 1.5, "reason": "r"})", "ends_at"},
      {R"({"rule_ids": [1], "starts_at": 0, "ends_at": 60})", "reason"},
      {R"({"starts_at": 0, "ends_at": 60, "reason": "r"})", "matchers"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto s = silence_from_json(parse(c.body));
    REQUIRE_FALSE(s);
    CHECK(s.error().code == core::Errc::kInvalidInput);
    CHECK(s.error().details.at("field").as_string() == c.field);
  }
}
