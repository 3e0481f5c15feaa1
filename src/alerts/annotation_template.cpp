// Annotation templates (annotation_template.hpp): parsed once when a rule is saved, rendered each
// time an alert's text is needed.
#include <cmath>

#include <fmt/format.h>

#include <netpulse/alerts/annotation_template.hpp>

namespace netpulse::alerts {
namespace {

constexpr std::string_view kPlainFields[] = {"device", "device_id", "value", "threshold",
                                             "rule",   "severity",  "status"};

bool label_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

core::Result<void> check_field(std::string_view name, std::string_view field) {
  for (auto known : kPlainFields) {
    if (name == known) return core::ok();
  }
  if (name.starts_with("labels.")) {
    if (label_name_ok(name.substr(7))) return core::ok();
    return core::invalid_field(
        field, fmt::format("{{{}}}: \"{}\" is not a label name", name, name.substr(7)));
  }
  return core::invalid_field(field, fmt::format("{{{}}} is not a field of an alert; the fields are "
                                                "{}",
                                                name, known_template_fields()));
}

}  // namespace

std::string_view known_template_fields() noexcept {
  return "device, device_id, value, threshold, rule, severity, status, labels.<name>";
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::fabs(v) >= 1e15) return fmt::format("{:.6g}", v);
  if (v == std::trunc(v)) return fmt::format("{}", static_cast<long long>(v));
  auto text = fmt::format("{:.3f}", v);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0" || text == "0") {
    // Smaller than a thousandth: keep its magnitude visible.
    return fmt::format("{:.3g}", v);
  }
  return text;
}

core::Result<AnnotationTemplate> AnnotationTemplate::parse(std::string_view text,
                                                           std::string_view field) {
  if (text.size() > kMaxBytes) {
    return core::invalid_field(field, fmt::format("at most {} bytes", kMaxBytes));
  }
  AnnotationTemplate t;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      return core::invalid_field(field,
                                 fmt::format("a lone }} at byte {} (write }}}} for a brace)", i));
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    const auto close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      return core::invalid_field(field, fmt::format("the {{ at byte {} is never closed", i));
    }
    const auto name = text.substr(i + 1, close - i - 1);
    if (name.empty()) return core::invalid_field(field, fmt::format("empty {{}} at byte {}", i));
    if (auto ok = check_field(name, field); !ok) return std::move(ok).error();
    if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
    literal.clear();
    t.pieces_.push_back({true, std::string(name)});
    i = close;
  }
  if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
  return t;
}

std::string AnnotationTemplate::render(const AlertFields& f) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.is_field) {
      out += p.text;
    } else if (p.text == "device") {
      out += f.device;
    } else if (p.text == "device_id") {
      out += std::to_string(f.device_id);
    } else if (p.text == "value") {
      out += f.value ? format_number(*f.value) : std::string();
    } else if (p.text == "threshold") {
      out += f.threshold ? format_number(*f.threshold) : std::string();
    } else if (p.text == "rule") {
      out += f.rule;
    } else if (p.text == "severity") {
      out += f.severity;
    } else if (p.text == "status") {
      out += f.status;
    } else if (auto it = f.labels.find(p.text.substr(7)); it != f.labels.end()) {
      out += it->second;  // a label the series does not have renders as nothing
    }
  }
  return out;
}

std::vector<std::string> AnnotationTemplate::fields() const {
  std::vector<std::string> out;
  for (const auto& p : pieces_) {
    if (p.is_field) out.push_back(p.text);
  }
  return out;
}

}  // namespace netpulse::alerts
