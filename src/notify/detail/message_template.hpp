// Message templates: how a Message (message.hpp) becomes the title, text and HTML a channel
// sends. Templates are Mustache (the kainjow/mustache library as Debian ships it), checked when
// they are saved: bad syntax, a partial, or a name that is not a field of a message ("{{devcie}}")
// is refused then, with the known names listed, not when the alert fires at 3 a.m.
//
// The fields (docs/notify-routing.md, "Message templates", is the reference):
//   message:   severity, severity_short (CRIT/WARN/INFO), kind (firing, resolved, acknowledged,
//              escalation, digest, test), resolved (true for kind resolved), acknowledged
//              (true for kind acknowledged), receiver, count,
//              many (count > 1), more (alerts not listed, absent when none), root, impact,
//              ack_url, external_url, group_labels.<name>, common_labels.<name>,
//              first (the first alert, as a section), alerts (the listed alerts, as a section)
//   an alert:  rule, device, value, threshold, status, severity, summary, description,
//              runbook_url, url, started, acknowledged_by, labels.<name>
// Inside {{#alerts}} and {{#first}} both lists may be named; outside, only the message's. Any
// known name may open a section ({{#threshold}} ... {{/threshold}}): a field that is empty or
// missing is absent, so its section is skipped and its inverted section ({{^...}}) shown.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>
#include <netpulse/notify/policy.hpp>

#include "message.hpp"

namespace netpulse::notify::detail {

struct RenderOptions {
  std::string time_zone = "UTC";  // the organization's: {{started}} is local time there
  bool escape_html = false;       // {{x}} HTML-escaped ({{{x}}} and {{&x}} never are)
  std::size_t max_alerts = 10;    // alerts listed in {{#alerts}}; the rest counted in {{more}}
};

class MessageTemplate {
 public:
  static constexpr std::size_t kMaxBytes = 16'384;

  // The empty template (renders "").
  MessageTemplate() = default;

  // At most kMaxBytes. kInvalidInput naming `field` (e.g. "templates.email.title"): the Mustache
  // syntax error, a partial ({{> x}}), or an unknown name with the known ones listed.
  static core::Result<MessageTemplate> parse(std::string_view text, std::string_view field);

  // The template over the message's fields. Never fails: a value is inserted as text, never
  // read as a template. The text is parsed once, by parse(); copies share the parsed form, and
  // any thread may render (one at a time per template: the library renders through non-const
  // members, so a render holds the template's mutex).
  std::string render(const Message& message, const RenderOptions& options) const;

  const std::string& text() const noexcept { return text_; }

 private:
  friend struct TemplateAccess;
  std::string text_;
  std::shared_ptr<struct ParsedTemplate> parsed_;  // null for the empty template
};

// The names a template may use, for errors and the API's documentation.
std::string_view known_message_fields() noexcept;

// The families of channel kinds, each with its own defaults.
enum class ChannelFamily {
  kEmail,   // title = subject, text = plain body, html = HTML body
  kChat,    // Slack, Teams, Telegram, Mattermost...: title = heading, text = markdown-ish body
  kSms,     // title = the whole text, at most kMaxSmsBytes
  kPaging,  // PagerDuty, Opsgenie: title = summary, text = details
};
inline constexpr std::size_t kMaxSmsBytes = 160;

struct TemplateSet {
  MessageTemplate title;  // one line: line breaks are folded into spaces
  MessageTemplate text;
  MessageTemplate html;  // empty but for email
};

// The built-in templates of a family. The severity is in the text ({{severity_short}}), so one
// set serves every severity; an organization's own set per (family, severity) replaces it.
const TemplateSet& default_templates(ChannelFamily family);

// "email", "chat", "sms", "paging": a policy's templates are keyed by these.
std::string_view channel_family_name(ChannelFamily family) noexcept;

// Checks a policy's own templates as they are saved (validate_policy): families and severities
// ("critical", "warning", "info", "default") by name, each given text parsed as above, html only
// for email, no title for SMS (its text is the whole SMS), at most kMaxPolicyTemplateBytes in
// all. kInvalidInput naming the field: "templates.sms.critical.text".
core::Result<void> check_policy_templates(const PolicyTemplates& templates);

// The templates a message of `severity` gets on a channel of `family` under a policy's own: each
// part from the policy's set for that severity, else its "default" set, else the built-in. An
// SMS's text is rendered as the set's title (the whole SMS). Texts that do not parse (never
// after check_policy_templates) fall back like absent ones.
TemplateSet policy_template_set(const PolicyTemplates& templates, ChannelFamily family,
                                std::string_view severity);

// Renders the set into message.title, .text and .html: the title folded to one line and capped
// (SMS at kMaxSmsBytes, keeping the ack link whole when it fits; other titles at 255 bytes, paging
// at 1,024), text and html as rendered (html with escape_html forced on, text and title with it
// off whatever the options say).
void render_into(Message& message, const TemplateSet& set, ChannelFamily family,
                 const RenderOptions& options);

}  // namespace netpulse::notify::detail
