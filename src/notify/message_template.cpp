// Message templates (detail/message_template.hpp): checking a Mustache template when it is saved,
// the fields a message offers it, and rendering a template set into a message for one channel
// family. The built-in templates are message_template_defaults.cpp.
//
// The check walks the syntax tree the kainjow library itself builds (its parser, component and
// tag types are public in the header, though not documented), so the names checked are exactly
// the names rendering will look up, custom delimiters ({{=<% %>=}}) included.
#include "detail/message_template.hpp"

#include <algorithm>
#include <chrono>
#include <date/date.h>
#include <date/tz.h>
#include <exception>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <span>
#include <utility>

#include <fmt/format.h>

#include <netpulse/alerts/annotation_template.hpp>

#include "detail/json_read.hpp"

namespace netpulse::notify::detail {
namespace {

namespace mustache = kainjow::mustache;
using Component = mustache::component<std::string>;
using mustache::tag_type;

}  // namespace

// A template's text parsed by the library, twice: {{x}} as is, and HTML-escaped.
struct ParsedTemplate {
  explicit ParsedTemplate(const std::string& text) : plain(text), escaped(text) {
    plain.set_custom_escape([](const std::string& s) { return s; });
  }
  std::mutex mutex;  // the library renders through non-const members
  mustache::mustache plain;
  mustache::mustache escaped;
};

struct TemplateAccess {
  static std::string render(const MessageTemplate& t, const mustache::data& data,
                            bool escape_html) {
    if (!t.parsed_) return {};
    std::lock_guard lock(t.parsed_->mutex);
    return (escape_html ? t.parsed_->escaped : t.parsed_->plain).render(data);
  }
};

namespace {

constexpr std::string_view kMessageFields[] = {
    "severity", "severity_short", "kind",   "resolved", "acknowledged", "receiver", "count", "many",
    "more",     "root",           "impact", "ack_url",  "external_url", "first",    "alerts"};
constexpr std::string_view kAlertFields[] = {
    "rule",     "device",          "value",         "threshold",   "status",
    "severity", "summary",         "description",   "runbook_url", "url",
    "started",  "acknowledged_by", "severity_short"};
constexpr std::size_t kMaxListedAlerts = 100;
constexpr std::size_t kMaxSectionDepth = 16;
constexpr std::size_t kMaxTitleBytes = 255;
constexpr std::size_t kMaxPagingTitleBytes = 1'024;

enum class Scope { kMessage, kAlert };

bool listed(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Whether `name` is `prefix` followed by a label name.
bool is_label_field(std::string_view name, std::string_view prefix) {
  return name.starts_with(prefix) && is_label_name(name.substr(prefix.size()));
}

core::Result<void> check_name(std::string_view name, Scope scope, std::string_view field) {
  const bool known =
      listed(kMessageFields, name) || is_label_field(name, "group_labels.") ||
      is_label_field(name, "common_labels.") ||
      (scope == Scope::kAlert && (listed(kAlertFields, name) || is_label_field(name, "labels.")));
  if (known) return core::ok();
  if (scope == Scope::kMessage && (listed(kAlertFields, name) || name.starts_with("labels.")))
    return core::invalid_field(
        field, fmt::format("{{{{{}}}}} is a field of an alert: use it inside {{{{#alerts}}}} or "
                           "{{{{#first}}}}",
                           name));
  return core::invalid_field(
      field, fmt::format("{{{{{}}}}} is not a field of a message; the fields are {}", name,
                         known_message_fields()));
}

core::Result<void> check_components(const std::vector<Component>& children, Scope scope,
                                    std::size_t depth, std::string_view field) {
  for (const auto& c : children) {
    const auto& tag = c.tag;
    switch (tag.type) {
      case tag_type::text:
      case tag_type::comment:
      case tag_type::set_delimiter:
      case tag_type::section_end:
        continue;
      case tag_type::partial:
        return core::invalid_field(
            field, fmt::format("{{{{> {}}}}}: partials are not supported", tag.name));
      case tag_type::variable:
      case tag_type::unescaped_variable:
        if (auto r = check_name(tag.name, scope, field); !r) return r;
        continue;
      case tag_type::section_begin:
      case tag_type::section_begin_inverted:
        break;
    }
    if (auto r = check_name(tag.name, scope, field); !r) return r;
    const bool list = tag.name == "alerts" || tag.name == "first";
    if (list && scope == Scope::kAlert)
      return core::invalid_field(
          field, fmt::format("{{{{#{}}}}} inside the alerts: the alerts are not nested", tag.name));
    if (depth + 1 > kMaxSectionDepth)
      return core::invalid_field(
          field, fmt::format("sections nested more than {} deep", kMaxSectionDepth));
    const Scope inner = list && tag.type == tag_type::section_begin ? Scope::kAlert : scope;
    if (auto r = check_components(c.children, inner, depth + 1, field); !r) return r;
  }
  return core::ok();
}

// object[name] = value, moved in: the library's set() and push_back() copy what they are given,
// deeply (a message's data was copied three times over, and building it was most of the cost
// of rendering). A boolean, which copies for free, goes in first and the value is moved over it
// (the library hands out const pointers only, to data that is not itself const).
void set_moved(mustache::data& object, const std::string& name, mustache::data value) {
  object.set(name, mustache::data(false));
  if (const auto* slot = object.get(name)) *const_cast<mustache::data*>(slot) = std::move(value);
}

void push_moved(mustache::data& list, mustache::data value) {
  list.push_back(mustache::data(false));
  if (list.is_non_empty_list()) {
    const auto& items = list.list_value();
    *const_cast<mustache::data*>(&items.back()) = std::move(value);
  }
}

// Sets `name` when `text` is not empty: an empty field is absent, so that {{#x}} skips it.
void put(mustache::data& object, const std::string& name, const std::string& text) {
  if (!text.empty()) set_moved(object, name, mustache::data(text));
}

mustache::data labels_data(const std::map<std::string, std::string>& labels) {
  mustache::data out(mustache::data::type::object);
  for (const auto& [name, value] : labels) put(out, name, value);
  return out;
}

std::string_view severity_short(std::string_view severity) {
  if (severity == "critical") return "CRIT";
  if (severity == "warning") return "WARN";
  if (severity == "info") return "INFO";
  return severity;
}

// A link a template may put in an href: http(s) only (a runbook URL is typed by people).
std::string web_link(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://") ? url : std::string();
}

std::string annotation(const MessageAlert& a, const std::string& name) {
  auto it = a.annotations.find(name);
  return it == a.annotations.end() ? std::string() : it->second;
}

class TimeFormat {
 public:
  explicit TimeFormat(const std::string& zone_name) {
    try {
      zone_ = date::locate_zone(zone_name);
    } catch (const std::exception&) {
      zone_ = nullptr;  // formatted in UTC
    }
  }

  // "2026-03-29 03:05 CEST"; "" for an unset time.
  std::string format(std::int64_t unix_ms) const {
    if (unix_ms <= 0) return {};
    const date::sys_seconds t{std::chrono::seconds{unix_ms / 1'000}};
    try {
      if (zone_ != nullptr) return date::format("%Y-%m-%d %H:%M %Z", date::make_zoned(zone_, t));
    } catch (const std::exception&) {
      // falls through to UTC
    }
    return date::format("%Y-%m-%d %H:%M UTC", t);
  }

 private:
  const date::time_zone* zone_ = nullptr;
};

mustache::data alert_data(const MessageAlert& a, const TimeFormat& time) {
  mustache::data out(mustache::data::type::object);
  put(out, "rule", a.rule_name);
  put(out, "device", a.device_name);
  put(out, "value", alerts::format_number(a.value));
  if (a.threshold) put(out, "threshold", alerts::format_number(*a.threshold));
  put(out, "status", a.status);
  put(out, "severity", a.severity);
  put(out, "severity_short", std::string(severity_short(a.severity)));
  put(out, "summary", annotation(a, "summary"));
  put(out, "description", annotation(a, "description"));
  put(out, "runbook_url", web_link(annotation(a, "runbook_url")));
  put(out, "url", a.url);
  put(out, "started", time.format(a.started_at));
  put(out, "acknowledged_by", a.acknowledged_by);
  set_moved(out, "labels", labels_data(a.labels));
  return out;
}

mustache::data message_data(const Message& m, const RenderOptions& options) {
  const TimeFormat time(options.time_zone);
  mustache::data out(mustache::data::type::object);
  put(out, "severity", m.severity);
  put(out, "severity_short", std::string(severity_short(m.severity)));
  put(out, "kind", std::string(message_kind_name(m.kind)));
  out.set("resolved", mustache::data(m.kind == MessageKind::kResolved));
  out.set("acknowledged", mustache::data(m.kind == MessageKind::kAcknowledged));
  put(out, "receiver", m.receiver);
  set_moved(out, "count", mustache::data(std::to_string(m.alerts.size())));
  out.set("many", mustache::data(m.alerts.size() > 1));
  const std::size_t shown = std::min({m.alerts.size(), options.max_alerts, kMaxListedAlerts});
  if (m.alerts.size() > shown) put(out, "more", std::to_string(m.alerts.size() - shown));
  const MessageAlert* root = nullptr;
  for (const auto& a : m.alerts) {
    if (a.impact > 0 && (root == nullptr || a.impact > root->impact)) root = &a;
  }
  if (root != nullptr) {
    put(out, "root", root->device_name.empty() ? root->rule_name : root->device_name);
    put(out, "impact", std::to_string(root->impact));
  }
  put(out, "ack_url", m.ack_url);
  put(out, "external_url", m.external_url);
  set_moved(out, "group_labels", labels_data(m.group_labels));
  set_moved(out, "common_labels", labels_data(m.common_labels));
  mustache::data list(mustache::data::type::list);
  for (std::size_t i = 0; i < shown; ++i) push_moved(list, alert_data(m.alerts[i], time));
  if (!m.alerts.empty()) set_moved(out, "first", alert_data(m.alerts.front(), time));
  set_moved(out, "alerts", std::move(list));
  return out;
}

// At most `max` bytes, not cutting a UTF-8 sequence.
std::string cut_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

std::string trim_end(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Line breaks and tabs as spaces, runs of spaces as one, no space at either end.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) {
    const char ch = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(ch);
  }
  return trim_end(std::move(out));
}

std::string cap(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  return trim_end(cut_utf8(s, max - 3)) + "...";
}

// An SMS at most kMaxSmsBytes. When it must be cut and it carries the ack link, the text before
// the link is cut and the link kept whole: an SMS whose link is cut is no use.
std::string fit_sms(const std::string& s, const std::string& ack_url) {
  if (s.size() <= kMaxSmsBytes) return s;
  const auto at = ack_url.empty() ? std::string::npos : s.rfind(ack_url);
  if (at == std::string::npos || ack_url.size() + 8 > kMaxSmsBytes) return cap(s, kMaxSmsBytes);
  const std::size_t budget = kMaxSmsBytes - ack_url.size() - 4;
  return trim_end(cut_utf8(s.substr(0, at), budget)) + "... " + ack_url;
}

}  // namespace

std::string_view known_message_fields() noexcept {
  return "severity, severity_short, kind, resolved, acknowledged, receiver, count, many, more, "
         "root, impact, "
         "ack_url, external_url, group_labels.<name>, common_labels.<name>, and in "
         "{{#alerts}} or {{#first}}: rule, device, value, threshold, status, severity, "
         "severity_short, summary, description, runbook_url, url, started, acknowledged_by, "
         "labels.<name>";
}

core::Result<MessageTemplate> MessageTemplate::parse(std::string_view text,
                                                     std::string_view field) {
  if (text.size() > kMaxBytes)
    return core::invalid_field(field, fmt::format("at most {} bytes", kMaxBytes));
  MessageTemplate t;
  t.text_ = std::string(text);
  // The library's own parser, over a tree this function walks (see the file's comment).
  mustache::context<std::string> context;
  mustache::context_internal<std::string> state{context};
  Component root;
  std::string error;
  mustache::parser<std::string> parser{t.text_, state, root, error};
  if (!error.empty()) return core::invalid_field(field, "not a valid Mustache template: " + error);
  if (auto r = check_components(root.children, Scope::kMessage, 0, field); !r)
    return std::move(r).error();
  if (!t.text_.empty()) t.parsed_ = std::make_shared<ParsedTemplate>(t.text_);
  return t;
}

std::string MessageTemplate::render(const Message& message, const RenderOptions& options) const {
  if (text_.empty()) return {};
  return TemplateAccess::render(*this, message_data(message, options), options.escape_html);
}

void render_into(Message& message, const TemplateSet& set, ChannelFamily family,
                 const RenderOptions& options) {
  const auto data = message_data(message, options);
  std::string title = one_line(TemplateAccess::render(set.title, data, false));
  switch (family) {
    case ChannelFamily::kSms:
      title = fit_sms(title, message.ack_url);
      break;
    case ChannelFamily::kPaging:
      title = cap(title, kMaxPagingTitleBytes);
      break;
    case ChannelFamily::kEmail:
    case ChannelFamily::kChat:
      title = cap(title, kMaxTitleBytes);
      break;
  }
  message.title = std::move(title);
  message.text = TemplateAccess::render(set.text, data, false);
  message.html = TemplateAccess::render(set.html, data, true);
}

}  // namespace netpulse::notify::detail
