// Fuzz target: the alert annotation template parser (alerts::AnnotationTemplate::parse). An error
// must name the template's field; an accepted template must render, and every field it names must
// parse again on its own.
#include <netpulse/alerts/annotation_template.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(annotation_template) {
  auto parsed = alerts::AnnotationTemplate::parse(fuzz::as_text(data, size), "annotations.x");
  if (!parsed) {
    const auto* field = parsed.error().details.if_contains("field");
    if (field == nullptr || !field->is_string() || field->as_string() != "annotations.x") {
      fuzz::fail("a refusal that does not name the annotation");
    }
    return 0;
  }
  alerts::AlertFields f;
  f.device = "core-1";
  f.value = 92.5;
  f.labels = {{"ifName", "xe-0/0/1"}};
  (void)parsed->render(f);
  (void)parsed->render(alerts::AlertFields{});
  for (const auto& name : parsed->fields()) {
    if (!alerts::AnnotationTemplate::parse("{" + name + "}", "f")) {
      fuzz::fail("a field the template accepted does not parse alone: " + name);
    }
  }
  return 0;
}
