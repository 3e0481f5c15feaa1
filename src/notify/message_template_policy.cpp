// A policy's own message templates (detail/message_template.hpp): checked when the policy is
// saved, naming the field ("templates.sms.critical.text"), and chosen for a message by channel
// family and severity, part by part, with the built-in templates under them.
#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "detail/message_template.hpp"

namespace netpulse::notify::detail {
namespace {

constexpr std::array<ChannelFamily, 4> kFamilies = {ChannelFamily::kEmail, ChannelFamily::kChat,
                                                    ChannelFamily::kSms, ChannelFamily::kPaging};
constexpr std::array<std::string_view, 4> kSeverityKeys = {"critical", "warning", "info",
                                                           "default"};

// Where a part is rendered for the family, or nullptr when the family has no such part.
MessageTemplate* slot(TemplateSet& set, ChannelFamily family, std::string_view part) {
  if (part == "title") return family == ChannelFamily::kSms ? nullptr : &set.title;
  if (part == "text") return family == ChannelFamily::kSms ? &set.title : &set.text;
  if (part == "html") return family == ChannelFamily::kEmail ? &set.html : nullptr;
  return nullptr;
}

std::array<std::pair<std::string_view, const std::string*>, 3> parts(
    const MessageTemplateTexts& texts) {
  return {{{"title", &texts.title}, {"text", &texts.text}, {"html", &texts.html}}};
}

const ChannelFamily* family_named(std::string_view name) {
  for (const auto& f : kFamilies) {
    if (channel_family_name(f) == name) return &f;
  }
  return nullptr;
}

}  // namespace

std::string_view channel_family_name(ChannelFamily family) noexcept {
  switch (family) {
    case ChannelFamily::kEmail:
      return "email";
    case ChannelFamily::kChat:
      return "chat";
    case ChannelFamily::kSms:
      return "sms";
    case ChannelFamily::kPaging:
      return "paging";
  }
  return "chat";
}

core::Result<void> check_policy_templates(const PolicyTemplates& templates) {
  std::size_t total = 0;
  for (const auto& [family_name, by_severity] : templates) {
    const auto* family = family_named(family_name);
    if (family == nullptr)
      return core::invalid_field(fmt::format("templates.{}", family_name),
                                 "not a channel family: email, chat, sms or paging");
    for (const auto& [severity, texts] : by_severity) {
      const auto path = fmt::format("templates.{}.{}", family_name, severity);
      if (std::find(kSeverityKeys.begin(), kSeverityKeys.end(), severity) == kSeverityKeys.end())
        return core::invalid_field(path, "not a severity: critical, warning, info or default");
      for (const auto& [part, text] : parts(texts)) {
        if (text->empty()) continue;
        const auto field = fmt::format("{}.{}", path, part);
        TemplateSet unused;
        if (slot(unused, *family, part) == nullptr)
          return core::invalid_field(field, *family == ChannelFamily::kSms
                                                ? "an SMS is one text: give it as text"
                                                : "only email has an html body");
        if (auto parsed = MessageTemplate::parse(*text, field); !parsed)
          return std::move(parsed).error();
        total += text->size();
      }
    }
  }
  if (total > kMaxPolicyTemplateBytes)
    return core::invalid_field(
        "templates", fmt::format("at most {} bytes of templates in all", kMaxPolicyTemplateBytes));
  return core::ok();
}

TemplateSet policy_template_set(const PolicyTemplates& templates, ChannelFamily family,
                                std::string_view severity) {
  auto set = default_templates(family);
  auto own = templates.find(std::string(channel_family_name(family)));
  if (own == templates.end()) return set;
  // The "default" set first, then the severity's over it.
  for (const std::string_view key : {std::string_view("default"), severity}) {
    auto texts = own->second.find(std::string(key));
    if (texts == own->second.end()) continue;
    for (const auto& [part, text] : parts(texts->second)) {
      auto* target = slot(set, family, part);
      if (text->empty() || target == nullptr) continue;
      if (auto parsed = MessageTemplate::parse(*text, part); parsed) *target = std::move(*parsed);
    }
  }
  return set;
}

}  // namespace netpulse::notify::detail
