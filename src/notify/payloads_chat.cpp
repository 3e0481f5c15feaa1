// Chat payloads: a Slack incoming webhook (Block Kit), a Microsoft Teams workflow webhook (an
// Adaptive Card) and Telegram's sendMessage (HTML). Alert text is written by devices and users,
// so every piece of it is escaped for the destination's markup: it can neither mention
// @channel, nor make a link, nor break the layout.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <netpulse/core/text.hpp>

#include "detail/payload_builders.hpp"
#include "detail/payload_text.hpp"

namespace netpulse::notify::detail {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kTelegramApi = "https://api.telegram.org";
constexpr std::size_t kMaxButtonUrl = 3000;

// `text` cut and escaped so that the escaped form has at most `max` code points.
std::string fit_escaped(std::string_view text, std::size_t max,
                        std::string (*escape)(std::string_view)) {
  auto budget = max;
  for (;;) {
    auto escaped = escape(truncate_utf8(text, budget));
    const auto length = core::utf8_length(escaped).value_or(escaped.size());
    if (length <= max || budget == 0) return length <= max ? escaped : std::string();
    budget = budget > length - max ? budget - (length - max) : 0;
  }
}

struct Fact {
  std::string title;
  std::string value;
};

// The facts every chat message shows beside its text.
std::vector<Fact> facts_of(const Message& m) {
  std::vector<Fact> facts{
      {"Severity", display_text(m.severity, true)},
      {"Status", std::string(message_kind_name(m.kind))},
      {"Alerts", std::to_string(m.alerts.size())},
  };
  if (!m.receiver.empty()) facts.push_back({"Policy", display_text(m.receiver, true)});
  if (!m.alerts.empty() && !m.alerts.front().device_name.empty())
    facts.push_back({"Device", display_text(m.alerts.front().device_name, true)});
  for (auto& f : facts) f.value = truncate_utf8(f.value, 200);
  return facts;
}

std::string heading_of(const Message& m) {
  auto title = display_text(m.title, true);
  return title.empty() ? "NetPulse " + std::string(message_kind_name(m.kind)) : title;
}

object slack_text(std::string text) {
  return object{{"type", "mrkdwn"}, {"text", std::move(text)}, {"verbatim", true}};
}

object plain_text(std::string text) {
  return object{{"type", "plain_text"}, {"text", std::move(text)}, {"emoji", true}};
}

}  // namespace

Requests build_slack(const ChannelSettings& channel, const Message& message) {
  const auto heading = heading_of(message);
  array blocks;
  blocks.emplace_back(
      object{{"type", "header"}, {"text", plain_text(truncate_utf8(heading, 150))}});
  array fields;
  for (const auto& f : facts_of(message))
    fields.emplace_back(slack_text("*" + f.title + "*\n" + slack_escape(f.value)));
  object section{{"type", "section"}, {"fields", std::move(fields)}};
  if (const auto text = display_text(message.text); !text.empty())
    section["text"] = slack_text(fit_escaped(text, 3000, slack_escape));
  blocks.emplace_back(std::move(section));
  std::string context = "NetPulse";
  if (!message.external_url.empty())
    context += " \xC2\xB7 <" + slack_escape(valid_utf8(message.external_url)) + "|Open NetPulse>";
  blocks.emplace_back(object{{"type", "context"}, {"elements", array{slack_text(context)}}});
  array buttons;
  if (offers_ack(message) && message.ack_url.size() <= kMaxButtonUrl)
    buttons.emplace_back(object{{"type", "button"},
                                {"text", plain_text("Acknowledge")},
                                {"url", valid_utf8(message.ack_url)},
                                {"style", "primary"},
                                {"action_id", "netpulse_ack"}});
  if (const auto link = subject_url(message); !link.empty() && link.size() <= kMaxButtonUrl)
    buttons.emplace_back(object{{"type", "button"},
                                {"text", plain_text("View alert")},
                                {"url", valid_utf8(link)},
                                {"action_id", "netpulse_view"}});
  if (!buttons.empty())
    blocks.emplace_back(object{{"type", "actions"}, {"elements", std::move(buttons)}});
  object body{{"text", fit_escaped(heading, 3000, slack_escape)}, {"blocks", std::move(blocks)}};
  if (const auto* c = channel.settings.if_contains("channel")) body["channel"] = *c;
  return std::vector<core::HttpRequest>{json_post(secret_of(channel, "url"), body)};
}

Requests build_teams(const ChannelSettings& channel, const Message& message) {
  std::string colour = "Default";
  if (message.kind == MessageKind::kResolved)
    colour = "Good";
  else if (message.severity == "critical")
    colour = "Attention";
  else if (message.severity == "warning")
    colour = "Warning";
  array body;
  body.emplace_back(object{{"type", "TextBlock"},
                           {"text", markdown_escape(truncate_utf8(heading_of(message), 300))},
                           {"weight", "Bolder"},
                           {"size", "Medium"},
                           {"color", colour},
                           {"wrap", true}});
  if (const auto text = display_text(message.text); !text.empty())
    body.emplace_back(object{{"type", "TextBlock"},
                             {"text", markdown_escape(truncate_utf8(text, 4000))},
                             {"wrap", true}});
  array facts;
  for (const auto& f : facts_of(message))
    facts.emplace_back(object{{"title", f.title}, {"value", markdown_escape(f.value)}});
  body.emplace_back(object{{"type", "FactSet"}, {"facts", std::move(facts)}});
  array actions;
  if (offers_ack(message))
    actions.emplace_back(object{{"type", "Action.OpenUrl"},
                                {"title", "Acknowledge"},
                                {"url", valid_utf8(message.ack_url)}});
  if (const auto link = subject_url(message); !link.empty())
    actions.emplace_back(
        object{{"type", "Action.OpenUrl"}, {"title", "View alert"}, {"url", valid_utf8(link)}});
  object card{
      {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
      {"type", "AdaptiveCard"},
      {"version", "1.4"},
      {"body", std::move(body)},
      {"actions", std::move(actions)},
      {"msteams", object{{"width", "Full"}}},
  };
  object envelope{
      {"type", "message"},
      {"attachments", array{object{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                   {"contentUrl", nullptr},
                                   {"content", std::move(card)}}}},
  };
  return std::vector<core::HttpRequest>{json_post(secret_of(channel, "url"), envelope)};
}

Requests build_telegram(const ChannelSettings& channel, const Message& message) {
  // Telegram counts at most 4096 characters after the markup is parsed: the title and the text
  // are cut well inside that before escaping.
  std::string text = "<b>" + html_escape(truncate_utf8(heading_of(message), 256)) + "</b>";
  if (const auto body = display_text(message.text); !body.empty())
    text += "\n\n" + html_escape(truncate_utf8(body, 3500));
  if (const auto link = subject_url(message); !link.empty())
    text += "\n\n<a href=\"" + html_escape(valid_utf8(link)) + "\">Open in NetPulse</a>";
  object body{
      {"chat_id", channel.settings.contains("chat_id") ? channel.settings.at("chat_id") : value()},
      {"text", std::move(text)},
      {"parse_mode", "HTML"},
      {"link_preview_options", object{{"is_disabled", true}}},
  };
  if (offers_ack(message))
    body["reply_markup"] = object{
        {"inline_keyboard",
         array{array{object{{"text", "Acknowledge"}, {"url", valid_utf8(message.ack_url)}}}}}};
  const auto api = setting_or(channel, "api_url", kTelegramApi);
  const auto base = !api.empty() && api.back() == '/' ? api.substr(0, api.size() - 1) : api;
  return std::vector<core::HttpRequest>{
      json_post(base + "/bot" + secret_of(channel, "bot_token") + "/sendMessage", body)};
}

}  // namespace netpulse::notify::detail
