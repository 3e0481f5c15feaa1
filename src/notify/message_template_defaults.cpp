// The built-in message templates (detail/message_template.hpp), one set per channel family,
// written to read well on a phone: the first line says what is wrong and where, a topology root
// says how much is behind it, and a grouped message lists at most RenderOptions::max_alerts
// alerts, then "... and N more". Each is parsed (and so checked) like an organization's own; a
// unit test renders every one.
#include <array>
#include <utility>

#include "detail/message_template.hpp"

namespace netpulse::notify::detail {
namespace {

// The heading of email and chat: "[CRIT] core-1 down — 55 devices behind it unreachable",
// "[WARN] 3 alerts firing: Interface errors on edge-2".
constexpr std::string_view kHeading =
    "{{#root}}{{root}} down — {{impact}} devices behind it unreachable{{/root}}"
    "{{^root}}{{#many}}{{count}} alerts {{kind}}: {{/many}}"
    "{{#first}}{{rule}}{{#device}} on {{device}}{{/device}}{{/first}}{{/root}}";

// One line per alert: what, where, the value or the summary, since when.
constexpr std::string_view kAlertLine =
    "[{{severity_short}}] {{rule}}{{#device}} on {{device}}{{/device}}: "
    "{{#summary}}{{summary}}{{/summary}}{{^summary}}value {{value}}"
    "{{#threshold}} (threshold {{threshold}}){{/threshold}}{{/summary}}";

// What kind of follow-up a heading announces: "RESOLVED", "ACK" (someone owns it). An
// acknowledgement must not read like a new page.
constexpr std::string_view kFollowUp =
    "{{#resolved}} RESOLVED{{/resolved}}{{#acknowledged}} ACK{{/acknowledged}}";

// Sections open and close on the line they print, newline inside: the library drops a line that
// holds only section tags when the section renders, but keeps it when the section is skipped.
constexpr std::string_view kEmailText =
    "{{#root}}{{root}} is down — {{impact}} devices behind it are unreachable.\n\n{{/root}}"
    "{{count}} alert{{#many}}s{{/many}} {{kind}} ({{receiver}}):\n"
    "\n"
    "{{#alerts}}* {{> line}}\n"
    "  since {{started}}{{#status}}, {{status}}{{/status}}"
    "{{#acknowledged_by}}, acknowledged by {{acknowledged_by}}{{/acknowledged_by}}\n"
    "{{#description}}  {{description}}\n{{/description}}"
    "{{#runbook_url}}  Runbook: {{runbook_url}}\n{{/runbook_url}}"
    "{{#url}}  {{url}}\n{{/url}}"
    "{{/alerts}}"
    "{{#more}}... and {{more}} more.\n{{/more}}"
    "{{#ack_url}}Acknowledge: {{ack_url}}\n{{/ack_url}}"
    "{{#external_url}}NetPulse: {{external_url}}\n{{/external_url}}";

constexpr std::string_view kEmailHtml =
    "<h2>{{#root}}{{root}} is down — {{impact}} devices behind it are unreachable{{/root}}"
    "{{^root}}{{count}} alert{{#many}}s{{/many}} {{kind}}{{/root}}</h2>\n"
    "<ul>\n"
    "{{#alerts}}<li><strong>[{{severity_short}}] {{rule}}</strong>{{#device}} on {{device}}"
    "{{/device}}: {{#summary}}{{summary}}{{/summary}}{{^summary}}value {{value}}"
    "{{#threshold}} (threshold {{threshold}}){{/threshold}}{{/summary}}"
    "<br>since {{started}}{{#url}} · <a href=\"{{url}}\">open</a>{{/url}}"
    "{{#runbook_url}} · <a href=\"{{runbook_url}}\">runbook</a>{{/runbook_url}}</li>\n"
    "{{/alerts}}"
    "</ul>\n"
    "{{#more}}<p>... and {{more}} more.</p>\n{{/more}}"
    "{{#ack_url}}<p><a href=\"{{ack_url}}\">Acknowledge</a></p>\n{{/ack_url}}";

constexpr std::string_view kChatText =
    "{{#alerts}}• *{{rule}}*{{#device}} on {{device}}{{/device}}: "
    "{{#summary}}{{summary}}{{/summary}}{{^summary}}value {{value}}"
    "{{#threshold}} (threshold {{threshold}}){{/threshold}}{{/summary}}"
    ", since {{started}}{{#acknowledged_by}}, acknowledged by {{acknowledged_by}}"
    "{{/acknowledged_by}}{{#url}} {{url}}{{/url}}\n{{/alerts}}"
    "{{#more}}… and {{more}} more\n{{/more}}"
    "{{#ack_url}}Acknowledge: {{ack_url}}\n{{/ack_url}}";

// "CRIT core-1 down, 55 behind it. Ack: https://..." — ASCII only, so it stays one SMS. An
// acknowledgement: "CRIT ACK core-1 CPU high 92.5 by Ana."
constexpr std::string_view kSmsTitle =
    "{{severity_short}}{{#resolved}} OK{{/resolved}}{{#acknowledged}} ACK{{/acknowledged}} "
    "{{#root}}{{root}} down, {{impact}} behind it{{/root}}"
    "{{^root}}{{#first}}{{#device}}{{device}} {{/device}}{{rule}}{{^resolved}} {{value}}"
    "{{/resolved}}{{/first}}{{#many}} ({{count}} alerts){{/many}}"
    "{{/root}}{{#acknowledged}}{{#first}}{{#acknowledged_by}} by {{acknowledged_by}}"
    "{{/acknowledged_by}}{{/first}}{{/acknowledged}}"
    ".{{#ack_url}} Ack: {{ack_url}}{{/ack_url}}";

constexpr std::string_view kPagingTitle =
    "{{severity_short}}{{#acknowledged}} ACK{{/acknowledged}}: {{#root}}{{root}} down — {{impact}} "
    "devices behind it unreachable{{/root}}"
    "{{^root}}{{#first}}{{rule}}{{#device}} on {{device}}{{/device}}"
    "{{#summary}}: {{summary}}{{/summary}}{{/first}}{{#many}} ({{count}} alerts){{/many}}{{/root}}";

std::string with_line(std::string_view text) {
  std::string out(text);
  const std::string_view partial = "{{> line}}";
  if (auto at = out.find(partial); at != std::string::npos)
    out.replace(at, partial.size(), kAlertLine);
  return out;
}

MessageTemplate builtin(std::string_view text, std::string_view field) {
  auto parsed = MessageTemplate::parse(with_line(text), field);
  // The built-in texts are fixed and a unit test parses each; an error here is a programming
  // error, answered with the empty template rather than a crash in the notifier.
  return parsed ? std::move(*parsed) : MessageTemplate();
}

std::string heading(const std::string& prefix) {
  return prefix + std::string(kHeading);
}

TemplateSet parse_defaults(ChannelFamily family) {
  TemplateSet set;
  switch (family) {
    case ChannelFamily::kEmail:
      set.title =
          builtin(heading("[{{severity_short}}]" + std::string(kFollowUp) + " "), "email.title");
      set.text = builtin(kEmailText, "email.text");
      set.html = builtin(kEmailHtml, "email.html");
      break;
    case ChannelFamily::kChat:
      set.title =
          builtin(heading("{{severity_short}}" + std::string(kFollowUp) + ": "), "chat.title");
      set.text = builtin(kChatText, "chat.text");
      break;
    case ChannelFamily::kSms:
      set.title = builtin(kSmsTitle, "sms.title");
      break;
    case ChannelFamily::kPaging:
      set.title = builtin(kPagingTitle, "paging.title");
      set.text = builtin(kChatText, "paging.text");
      break;
  }
  return set;
}

}  // namespace

const TemplateSet& default_templates(ChannelFamily family) {
  // Parsed once: a storm renders thousands of messages with them.
  static const std::array<TemplateSet, 4> sets{
      parse_defaults(ChannelFamily::kEmail), parse_defaults(ChannelFamily::kSms),
      parse_defaults(ChannelFamily::kChat), parse_defaults(ChannelFamily::kPaging)};
  switch (family) {
    case ChannelFamily::kEmail:
      return sets[0];
    case ChannelFamily::kSms:
      return sets[1];
    case ChannelFamily::kChat:
      return sets[2];
    case ChannelFamily::kPaging:
      return sets[3];
  }
  return sets[2];
}

}  // namespace netpulse::notify::detail
