// Annotation templates (src/alerts/annotation_template.cpp): the fields an alert's text may name,
// refused when unknown at save time, rendered with numbers as people read them.
#include <cmath>
#include <limits>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/annotation_template.hpp>

using namespace netpulse;
using alerts::AlertFields;
using alerts::AnnotationTemplate;

TEST_CASE("annotation template: renders the alert's fields", "[alerts][template]") {
  AlertFields f;
  f.device = "core-1";
  f.device_id = 17;
  f.value = 92.5;
  f.threshold = 90;
  f.rule = "CPU high";
  f.severity = "critical";
  f.status = "firing";
  f.labels = {{"ifName", "xe-0/0/1"}};
  struct Case {
    const char* text;
    const char* want;
  };
  for (const auto& c : std::vector<Case>{
           {"{device} CPU at {value} %", "core-1 CPU at 92.5 %"},
           {"{rule} ({severity}, {status}) over {threshold}",
            "CPU high (critical, firing) over 90"},
           {"device {device_id} port {labels.ifName}", "device 17 port xe-0/0/1"},
           {"https://wiki/{labels.ifName}/{labels.missing}", "https://wiki/xe-0/0/1/"},
           {"literal {{braces}} stay", "literal {braces} stay"},
           {"", ""},
           {"no fields at all", "no fields at all"},
       }) {
    INFO(c.text);
    auto t = AnnotationTemplate::parse(c.text, "annotations.summary");
    REQUIRE(t);
    CHECK(t->render(f) == c.want);
  }
  auto t = AnnotationTemplate::parse("{value}/{threshold}", "x");
  REQUIRE(t);
  CHECK(t->render(AlertFields{}) == "/");  // no value, no threshold: nothing printed
  CHECK(t->fields() == std::vector<std::string>{"value", "threshold"});
}

TEST_CASE("annotation template: a bad template is refused naming the annotation and the problem",
          "[alerts][template]") {
  struct Case {
    std::string text;
    const char* reason_has;
  };
  for (const auto& c : std::vector<Case>{
           {"{devcie} down", "{devcie} is not a field of an alert"},
           {"{labels.} x", "is not a label name"},
           {"{labels.9x}", "is not a label name"},
           {"{device", "never closed"},
           {"oops }", "a lone }"},
           {"{}", "empty {}"},
           {"{ device }", "is not a field"},
           {"{{device}", "a lone }"},
           {std::string(AnnotationTemplate::kMaxBytes + 1, 'a'), "at most 4096 bytes"},
       }) {
    INFO(c.text.substr(0, 40));
    auto t = AnnotationTemplate::parse(c.text, "annotations.description");
    REQUIRE_FALSE(t);
    CHECK(t.error().code == core::Errc::kInvalidInput);
    CHECK(t.error().details.at("field").as_string() == "annotations.description");
    CHECK_THAT(t.error().message + " " + boost::json::serialize(t.error().details),
               Catch::Contains(c.reason_has));
  }
}

TEST_CASE("annotation template: numbers print as people read them", "[alerts][template]") {
  CHECK(alerts::format_number(92.5) == "92.5");
  CHECK(alerts::format_number(90) == "90");
  CHECK(alerts::format_number(-1) == "-1");
  CHECK(alerts::format_number(0) == "0");
  CHECK(alerts::format_number(1.0 / 3) == "0.333");
  CHECK(alerts::format_number(12.3456) == "12.346");
  CHECK(alerts::format_number(0.0004) == "0.0004");
  CHECK(alerts::format_number(1e18) == "1e+18");
  CHECK(alerts::format_number(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(alerts::format_number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(alerts::format_number(-std::numeric_limits<double>::infinity()) == "-Inf");
}
