// Fuzz target: a message template's text (notify::detail::MessageTemplate::parse), rendered over
// a message whose values come from the input too. A refusal is kInvalidInput naming the
// template's field; an accepted template renders without failing in text and HTML; a value is
// never read as a template (a value made of the input's own text renders as itself); the
// built-in SMS title stays within 160 bytes whatever the values.
#include <string>

#include <netpulse/core/error.hpp>

#include "notify/detail/message_template.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;
using notify::detail::ChannelFamily;

namespace {

notify::detail::Message message_from(std::string_view text) {
  notify::detail::Message m;
  m.severity = "critical";
  m.receiver = std::string(text.substr(0, 64));
  m.ack_url = "https://netpulse.isp.example/ack/abc";
  for (int i = 0; i < 3; ++i) {
    notify::detail::MessageAlert a;
    a.rule_name = std::string(text.substr(0, 40));
    a.device_name = std::string(text.substr(text.size() / 2));
    a.value = static_cast<double>(text.size()) / 7.0;
    a.threshold = 90;
    a.impact = i == 1 ? static_cast<std::int64_t>(text.size()) : 0;
    a.started_at = 1'774'746'300'000;
    a.labels["ifName"] = std::string(text);
    a.annotations["summary"] = std::string(text);
    m.alerts.push_back(std::move(a));
  }
  return m;
}

}  // namespace

NETPULSE_FUZZ_TARGET(message_template) {
  const auto text = fuzz::as_text(data, size);
  auto m = message_from(text);
  auto t = notify::detail::MessageTemplate::parse(text, "templates.text");
  if (!t) {
    const auto& error = t.error();
    const auto* field = error.details.if_contains("field");
    if (error.code != core::Errc::kInvalidInput || field == nullptr || !field->is_string() ||
        field->get_string() != "templates.text")
      fuzz::fail("a refusal that does not name the template");
  } else {
    notify::detail::RenderOptions options;
    options.time_zone = "Europe/Berlin";
    options.max_alerts = 2;
    (void)t->render(m, options);
    options.escape_html = true;
    (void)t->render(m, options);
  }
  // A value is text: the label holds the input, and renders as exactly the input.
  auto label = notify::detail::MessageTemplate::parse("{{#first}}{{{labels.ifName}}}{{/first}}",
                                                      "templates.label");
  if (!label) fuzz::fail("a fixed template is refused");
  // (Mustache drops a line inside a section that renders as spaces and tabs only: such a value
  // is left out of the comparison.)
  const bool blank = text.find_first_not_of(" \t") == std::string_view::npos;
  if (!blank && label->render(m, {}) != text) fuzz::fail("a value was not inserted as itself");
  notify::detail::render_into(m, notify::detail::default_templates(ChannelFamily::kSms),
                              ChannelFamily::kSms, {});
  if (m.title.size() > notify::detail::kMaxSmsBytes) fuzz::fail("an SMS over 160 bytes");
  return 0;
}
