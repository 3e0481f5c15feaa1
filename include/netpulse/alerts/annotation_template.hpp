// Annotation templates: the summary, description and runbook URL of a rule, written with the
// alert's fields in braces — "{device} CPU at {value} % (threshold {threshold})",
// "https://wiki.isp.example/runbooks/{labels.ifName}". `{{` and `}}` are literal braces. A
// template is parsed when its rule is saved, so an unknown field is refused then, not when the
// alert fires at 3 a.m.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::alerts {

// What a template may name. Numbers are printed as people read them ("92.5", "3", "0.004").
struct AlertFields {
  std::string device;  // the device's name ("" for an alert without a device)
  std::int64_t device_id = 0;
  std::optional<double> value;      // the value that crossed (or the latest), when there is one
  std::optional<double> threshold;  // the rule's threshold, when it has one
  std::string rule;                 // the rule's name
  std::string severity;             // "info", "warning", "critical"
  std::string status;               // "pending", "firing", ...
  std::map<std::string, std::string> labels;  // the series' labels: {labels.ifName}
};

class AnnotationTemplate {
 public:
  // At most kMaxBytes of text. kInvalidInput naming the problem: an unknown field (the known ones
  // listed), an unclosed or empty brace, an invalid label name. `field` names the template in the
  // error's details (e.g. "annotations.summary").
  static core::Result<AnnotationTemplate> parse(std::string_view text, std::string_view field);
  static constexpr std::size_t kMaxBytes = 4096;

  std::string render(const AlertFields& fields) const;

  // The names the template uses, in order ("device", "labels.ifName", ...).
  std::vector<std::string> fields() const;

 private:
  struct Piece {
    bool is_field = false;
    std::string text;  // literal text, or the field's name
  };
  std::vector<Piece> pieces_;
};

// The fields a template may name, for error messages and the API's documentation:
// device, device_id, value, threshold, rule, severity, status, labels.<name>.
std::string_view known_template_fields() noexcept;

// A number as an annotation prints it: integral values without a decimal point, others with at
// most three decimals and no trailing zeros ("92.5", "0.004", "-1"); NaN "NaN", infinities "+Inf"
// and "-Inf".
std::string format_number(double v);

}  // namespace netpulse::alerts
