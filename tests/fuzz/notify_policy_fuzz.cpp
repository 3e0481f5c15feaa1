// Fuzz target: a notification policy's JSON body (notify::policy_from_json, after Boost.JSON),
// then the policy matched and routed for an alert made of its own criteria. A refusal names a
// field; an accepted policy survives to_json and back unchanged, matches the alert the same way
// twice, and routing takes it only when it matches; its group key is 16 hex digits and the same
// for the same group labels; its own message templates render for every channel family and
// severity (each part from the severity's set, its default set or the built-in one), an SMS
// within 160 bytes.
#include <map>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include <netpulse/notify/policy.hpp>

#include "notify/detail/message_template.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(notify_policy) {
  const auto text = fuzz::as_text(data, size);
  boost::system::error_code ec;
  auto body = boost::json::parse(text, ec);
  if (ec) return 0;
  auto p = notify::policy_from_json(body);
  if (!p) {
    const auto* field = p.error().details.if_contains("field");
    if (field == nullptr || !field->is_string()) fuzz::fail("a refusal that names no field");
    return 0;
  }
  auto again = notify::policy_from_json(notify::to_json(*p));
  if (!again) fuzz::fail("to_json of an accepted policy is refused");
  if (!(*again == *p)) fuzz::fail("policy_from_json(to_json(p)) differs from p");
  // An alert whose labels are the matchers' own values, with the policy's first criteria.
  std::map<std::string, std::string> labels;
  for (const auto& m : p->match.labels) labels[m.matcher.name] = m.matcher.value;
  const std::string severity =
      p->match.severities.empty() ? "critical" : p->match.severities.front();
  notify::AlertFacts alert;
  alert.severity = severity;
  alert.labels = &labels;
  alert.rule_id = p->match.rule_ids.empty() ? 1 : p->match.rule_ids.front();
  if (!p->match.device_ids.empty()) alert.device_id = p->match.device_ids.front();
  alert.device_groups = p->match.groups;
  alert.device_tags = p->match.tags;
  const bool matched = notify::matches(*p, alert);
  if (notify::matches(*again, alert) != matched) fuzz::fail("two answers for one alert");
  const std::vector<notify::Policy> policies = {*p};
  const auto routed = notify::route(policies, alert);
  if (routed.size() != (matched ? 1U : 0U)) fuzz::fail("route disagrees with matches");
  const auto key = notify::group_key(*p, labels);
  if (key.size() != 16 || key.find_first_not_of("0123456789abcdef") != std::string::npos)
    fuzz::fail("a group key that is not 16 hex digits");
  auto grouped = notify::group_labels(*p, labels);
  grouped["not_grouped_by_anything"] = "x";
  if (!(p->group_by.size() == 1 && p->group_by.front() == "...") &&
      notify::group_key(*p, grouped) != key)
    fuzz::fail("a label outside group_by changes the group key");
  using notify::detail::ChannelFamily;
  notify::detail::Message message;
  message.severity = severity;
  message.alerts.emplace_back().rule_name = "rule";
  for (auto family :
       {ChannelFamily::kEmail, ChannelFamily::kChat, ChannelFamily::kSms, ChannelFamily::kPaging}) {
    for (auto sev : {"critical", "warning", "info"}) {
      auto m = message;
      notify::detail::render_into(m, notify::detail::policy_template_set(p->templates, family, sev),
                                  family, {});
      if (family == ChannelFamily::kSms && m.title.size() > notify::detail::kMaxSmsBytes)
        fuzz::fail("a policy's SMS template renders past 160 bytes");
    }
  }
  return 0;
}
