// The generic SMS gateway's body template (detail/body_template.hpp): "{{name}}" placeholders
// replaced by values encoded for a form body or the inside of a JSON string. No sections, no
// loops, no partials: a gateway's body is a handful of fields, and a small language is one that
// can be checked completely when the channel is saved.
#include "detail/body_template.hpp"

#include <array>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "detail/payload_text.hpp"

namespace netpulse::notify::detail {

namespace {

constexpr std::array<std::string_view, 11> kFields = {
    "to",        "text",    "title",       "severity",        "kind",         "receiver",
    "group_key", "ack_url", "alert_count", "notification_id", "external_url",
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// `text` escaped for the inside of a JSON string: what serialize() writes between the quotes.
std::string json_string_inside(std::string_view text) {
  auto quoted = boost::json::serialize(boost::json::string(valid_utf8(text)));
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::span<const std::string_view> body_template_fields() noexcept {
  return kFields;
}

core::Result<std::string> render_body_template(std::string_view tmpl, BodyEncoding encoding,
                                               const TemplateValues& values,
                                               std::string_view field) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const auto open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    // "{{{": the first brace is the body's own (a JSON object opening on a placeholder).
    if (open + 2 < tmpl.size() && tmpl[open + 2] == '{') {
      out.append(tmpl.substr(i, open + 1 - i));
      i = open + 1;
      continue;
    }
    out.append(tmpl.substr(i, open - i));
    const auto close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos)
      return core::invalid_field(field, "has a \"{{\" without its \"}}\"");
    auto name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    bool well_formed = !name.empty();
    for (char c : name) well_formed = well_formed && is_name_char(c);
    if (!well_formed)
      return core::invalid_field(field, "has a placeholder that is not {{name}} (a-z 0-9 _)");
    const auto v = values(name);
    if (!v)
      return core::invalid_field(field, "uses {{" + std::string(name) +
                                            "}}, which is neither a message field nor a "
                                            "secret_ field of this channel");
    out += encoding == BodyEncoding::kForm ? form_encode(*v) : json_string_inside(*v);
    i = close + 2;
  }
  return out;
}

}  // namespace netpulse::notify::detail
