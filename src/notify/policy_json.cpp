// Notification policies to and from JSON (policy.hpp): the body of POST and PUT
// /api/v1/notification-policies and the stored form. Every field is read with its type checked
// and its path in the error; unknown fields are refused; id and org_id are accepted and ignored.
#include <utility>

#include <fmt/format.h>

#include <netpulse/notify/policy.hpp>

#include "detail/json_read.hpp"

namespace netpulse::notify {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::size_t kMaxListRead = 1'000;
constexpr std::size_t kMaxGroupByRead = 64;  // validation allows 32; more is refused unread

constexpr std::array<std::pair<PolicyTarget::Kind, std::string_view>, 3> kTargetKeys = {
    {{PolicyTarget::Kind::kChannel, "channel_id"},
     {PolicyTarget::Kind::kUser, "user_id"},
     {PolicyTarget::Kind::kSchedule, "schedule_id"}}};

core::Result<PolicyTarget> read_target(const value& v, const std::string& path) {
  if (!v.is_object() || v.get_object().size() != 1)
    return core::invalid_field(path,
                               "one of {\"channel_id\": n}, {\"user_id\": n}, "
                               "{\"schedule_id\": n}");
  const auto& [key, id] = *v.get_object().begin();
  for (const auto& [kind, name] : kTargetKeys) {
    if (key != name) continue;
    auto n = detail::json_integer(id);
    if (!n) return core::invalid_field(path + "." + std::string(name), "must be an integer");
    return PolicyTarget{kind, *n};
  }
  return core::invalid_field(path + "." + std::string(key),
                             "not a target: channel_id, user_id or schedule_id");
}

core::Result<std::vector<PolicyTarget>> read_targets(const detail::ObjectReader& in,
                                                     std::string_view name) {
  std::vector<PolicyTarget> out;
  auto items = in.array(name, kMaxPolicyTargets * 2);
  if (!items) return std::move(items).error();
  if (*items == nullptr) return out;
  for (std::size_t i = 0; i < (*items)->size(); ++i) {
    auto t = read_target((**items)[i], fmt::format("{}[{}]", in.path_of(name), i));
    if (!t) return std::move(t).error();
    out.push_back(*t);
  }
  return out;
}

core::Result<std::vector<PolicyLabelMatcher>> read_labels(const detail::ObjectReader& in) {
  std::vector<PolicyLabelMatcher> out;
  auto labels = in.object("labels");
  if (!labels) return std::move(labels).error();
  if (*labels == nullptr) return out;
  if ((*labels)->size() > kMaxLabelMatchers * 2)
    return core::invalid_field("match.labels", "too many label matchers");
  for (const auto& [name, v] : **labels) {
    const std::string path = "match.labels." + std::string(name);
    PolicyLabelMatcher m;
    m.matcher.name = std::string(name);
    if (v.is_string()) {
      m.matcher.value = std::string(v.get_string());
    } else if (v.is_object()) {
      const detail::ObjectReader matcher(v.get_object(), path);
      if (auto r = matcher.refuse_unknown({"op", "value"}, "a label matcher"); !r)
        return std::move(r).error();
      auto op = matcher.text("op");
      if (!op) return std::move(op).error();
      if (*op) {
        auto parsed = alerts::parse_match_op(**op);
        if (!parsed) return core::invalid_field(path + ".op", "=, !=, =~ or !~");
        m.matcher.op = *parsed;
      }
      auto text = matcher.text("value");
      if (!text) return std::move(text).error();
      if (!*text) return core::invalid_field(path + ".value", "required");
      m.matcher.value = std::move(**text);
    } else {
      return core::invalid_field(path, "a value, or {\"op\": \"=~\", \"value\": \"...\"}");
    }
    out.push_back(std::move(m));
  }
  return out;
}

core::Result<PolicyMatch> read_match(const object& o) {
  const detail::ObjectReader in(o, "match");
  if (auto r = in.refuse_unknown({"severity", "labels", "rule_ids", "device_ids", "groups", "tags"},
                                 "a policy's match");
      !r)
    return std::move(r).error();
  PolicyMatch m;
  auto severities = in.texts("severity", kMaxListRead);
  if (!severities) return std::move(severities).error();
  m.severities = std::move(*severities);
  auto labels = read_labels(in);
  if (!labels) return std::move(labels).error();
  m.labels = std::move(*labels);
  for (auto [name, target] :
       {std::pair{"rule_ids", &m.rule_ids}, std::pair{"device_ids", &m.device_ids}}) {
    auto ids = in.integers(name, kMaxListRead);
    if (!ids) return std::move(ids).error();
    *target = std::move(*ids);
  }
  for (auto [name, target] : {std::pair{"groups", &m.groups}, std::pair{"tags", &m.tags}}) {
    auto names = in.texts(name, kMaxListRead);
    if (!names) return std::move(names).error();
    *target = std::move(*names);
  }
  return m;
}

core::Result<void> read_modes(const object& o, Policy& p) {
  const detail::ObjectReader in(o, "modes");
  if (auto r = in.refuse_unknown({"critical", "warning", "info"}, "the delivery modes"); !r)
    return r;
  for (auto [name, target] :
       {std::pair{"critical", &p.critical_mode}, std::pair{"warning", &p.warning_mode},
        std::pair{"info", &p.info_mode}}) {
    auto text = in.text(name);
    if (!text) return std::move(text).error();
    if (!*text) continue;
    auto mode = parse_delivery_mode(**text);
    if (!mode) return core::invalid_field(in.path_of(name), "immediate, digest or record");
    *target = *mode;
  }
  return core::ok();
}

core::Result<std::vector<EscalationStep>> read_escalation(const detail::ObjectReader& in) {
  std::vector<EscalationStep> out;
  auto items = in.array("escalation", kMaxEscalationSteps * 2);
  if (!items) return std::move(items).error();
  if (*items == nullptr) return out;
  for (std::size_t i = 0; i < (*items)->size(); ++i) {
    const std::string path = fmt::format("escalation[{}]", i);
    const auto& item = (**items)[i];
    if (!item.is_object()) return core::invalid_field(path, "must be an object");
    const detail::ObjectReader step(item.get_object(), path);
    if (auto r = step.refuse_unknown({"after_s", "targets"}, "an escalation step"); !r)
      return std::move(r).error();
    EscalationStep s;
    auto after = step.integer("after_s");
    if (!after) return std::move(after).error();
    if (!*after) return core::invalid_field(path + ".after_s", "required: seconds");
    s.after_s = **after;
    auto targets = read_targets(step, "targets");
    if (!targets) return std::move(targets).error();
    s.targets = std::move(*targets);
    out.push_back(std::move(s));
  }
  return out;
}

// {"<family>": {"<severity>": {"title", "text", "html"}}}: the shape and the types here, the
// names of families, severities and parts and the templates themselves in validate_policy.
core::Result<PolicyTemplates> read_templates(const detail::ObjectReader& in) {
  PolicyTemplates out;
  auto families = in.object("templates");
  if (!families) return std::move(families).error();
  if (*families == nullptr) return out;
  constexpr std::size_t kMaxKeys = 8;  // 4 families, 4 severity keys: more is refused unread
  if ((*families)->size() > kMaxKeys)
    return core::invalid_field("templates", "email, chat, sms and paging at most");
  for (const auto& [family, by_severity] : **families) {
    const std::string path = "templates." + std::string(family);
    if (!by_severity.is_object()) return core::invalid_field(path, "must be an object");
    if (by_severity.get_object().size() > kMaxKeys)
      return core::invalid_field(path, "critical, warning, info and default at most");
    auto& sets = out[std::string(family)];
    for (const auto& [severity, parts] : by_severity.get_object()) {
      const std::string set_path = path + "." + std::string(severity);
      if (!parts.is_object()) return core::invalid_field(set_path, "must be an object");
      const detail::ObjectReader set(parts.get_object(), set_path);
      if (auto r = set.refuse_unknown({"title", "text", "html"}, "a template set"); !r)
        return std::move(r).error();
      auto& texts = sets[std::string(severity)];
      for (auto [name, target] : {std::pair{"title", &texts.title}, std::pair{"text", &texts.text},
                                  std::pair{"html", &texts.html}}) {
        auto text = set.text(name);
        if (!text) return std::move(text).error();
        if (!*text) continue;
        if ((*text)->empty()) return core::invalid_field(set.path_of(name), "must not be empty");
        *target = std::move(**text);
      }
    }
  }
  return out;
}

object templates_json(const PolicyTemplates& templates) {
  object out;
  for (const auto& [family, by_severity] : templates) {
    object sets;
    for (const auto& [severity, texts] : by_severity) {
      object parts;
      for (auto [name, text] : {std::pair{"title", &texts.title}, std::pair{"text", &texts.text},
                                std::pair{"html", &texts.html}}) {
        if (!text->empty()) parts[name] = *text;
      }
      sets[severity] = std::move(parts);
    }
    out[family] = std::move(sets);
  }
  return out;
}

// The scalar fields, each optional with its default.
core::Result<void> read_settings(const detail::ObjectReader& in, Policy& p) {
  for (auto [name, target] :
       {std::pair{"enabled", &p.enabled}, std::pair{"continue", &p.continue_matching},
        std::pair{"override_quiet_hours", &p.override_quiet_hours}}) {
    auto flag = in.flag(name);
    if (!flag) return std::move(flag).error();
    if (*flag) *target = **flag;
  }
  for (auto [name, target] :
       {std::pair{"position", &p.position}, std::pair{"group_wait_s", &p.group_wait_s},
        std::pair{"group_interval_s", &p.group_interval_s},
        std::pair{"repeat_interval_s", &p.repeat_interval_s},
        std::pair{"digest_interval_s", &p.digest_interval_s}}) {
    auto n = in.integer(name);
    if (!n) return std::move(n).error();
    if (*n) *target = **n;
  }
  if (in.find("group_by") != nullptr) {
    auto group_by = in.texts("group_by", kMaxGroupByRead);
    if (!group_by) return std::move(group_by).error();
    p.group_by = std::move(*group_by);
  }
  return core::ok();
}

array targets_json(const std::vector<PolicyTarget>& targets) {
  array out;
  for (const auto& t : targets) {
    std::string_view key = "channel_id";
    for (const auto& [kind, name] : kTargetKeys) {
      if (kind == t.kind) key = name;
    }
    out.emplace_back(object{{key, t.id}});
  }
  return out;
}

template <class T>
array list_json(const std::vector<T>& items) {
  array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

}  // namespace

core::Result<Policy> policy_from_json(const value& body) {
  if (!body.is_object())
    return core::invalid_field("body", "the notification policy must be a JSON object");
  const detail::ObjectReader in(body.get_object(), "");
  if (auto r = in.refuse_unknown(
          {"id", "org_id", "name", "enabled", "position", "match", "continue", "group_by",
           "group_wait_s", "group_interval_s", "repeat_interval_s", "digest_interval_s", "modes",
           "targets", "escalation", "override_quiet_hours", "templates"},
          "a notification policy");
      !r)
    return std::move(r).error();
  Policy p;
  auto name = in.text("name");
  if (!name) return std::move(name).error();
  if (!*name) return core::invalid_field("name", "required");
  p.name = std::move(**name);
  if (auto r = read_settings(in, p); !r) return std::move(r).error();
  auto match = in.object("match");
  if (!match) return std::move(match).error();
  if (*match != nullptr) {
    auto m = read_match(**match);
    if (!m) return std::move(m).error();
    p.match = std::move(*m);
  }
  auto modes = in.object("modes");
  if (!modes) return std::move(modes).error();
  if (*modes != nullptr) {
    if (auto r = read_modes(**modes, p); !r) return std::move(r).error();
  }
  auto targets = read_targets(in, "targets");
  if (!targets) return std::move(targets).error();
  p.targets = std::move(*targets);
  auto escalation = read_escalation(in);
  if (!escalation) return std::move(escalation).error();
  p.escalation = std::move(*escalation);
  auto templates = read_templates(in);
  if (!templates) return std::move(templates).error();
  p.templates = std::move(*templates);
  if (auto v = validate_policy(p); !v) return std::move(v).error();
  compile_matchers(p);
  return p;
}

object to_json(const Policy& p) {
  object o;
  if (p.id != 0) o["id"] = p.id;
  o["name"] = p.name;
  o["enabled"] = p.enabled;
  o["position"] = p.position;
  object labels;
  for (const auto& lm : p.match.labels) {
    if (lm.matcher.op == alerts::MatchOp::kEqual)
      labels[lm.matcher.name] = lm.matcher.value;
    else
      labels[lm.matcher.name] =
          object{{"op", alerts::match_op_name(lm.matcher.op)}, {"value", lm.matcher.value}};
  }
  o["match"] = object{
      {"severity", list_json(p.match.severities)}, {"labels", std::move(labels)},
      {"rule_ids", list_json(p.match.rule_ids)},   {"device_ids", list_json(p.match.device_ids)},
      {"groups", list_json(p.match.groups)},       {"tags", list_json(p.match.tags)}};
  o["continue"] = p.continue_matching;
  o["group_by"] = list_json(p.group_by);
  o["group_wait_s"] = p.group_wait_s;
  o["group_interval_s"] = p.group_interval_s;
  o["repeat_interval_s"] = p.repeat_interval_s;
  o["digest_interval_s"] = p.digest_interval_s;
  o["modes"] = object{{"critical", delivery_mode_name(p.critical_mode)},
                      {"warning", delivery_mode_name(p.warning_mode)},
                      {"info", delivery_mode_name(p.info_mode)}};
  o["targets"] = targets_json(p.targets);
  array steps;
  for (const auto& s : p.escalation) {
    steps.emplace_back(object{{"after_s", s.after_s}, {"targets", targets_json(s.targets)}});
  }
  o["escalation"] = std::move(steps);
  o["override_quiet_hours"] = p.override_quiet_hours;
  o["templates"] = templates_json(p.templates);
  return o;
}

}  // namespace netpulse::notify
