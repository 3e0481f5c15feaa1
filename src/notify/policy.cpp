// Notification policies (policy.hpp): validation as a policy is saved, the match the notifier
// runs for each alert against each policy of its organization (a few comparisons and at most one
// RE2 match per label matcher), routing order, grouping and delivery modes. JSON is
// policy_json.cpp.
#include <algorithm>
#include <array>
#include <re2/re2.h>
#include <utility>

#include <fmt/format.h>

#include <netpulse/notify/policy.hpp>

#include "detail/json_read.hpp"
#include "detail/message_template.hpp"

namespace netpulse::notify {
namespace {

constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxListItems = 1'000;
constexpr std::size_t kMaxTagBytes = 128;
constexpr std::size_t kMaxMatcherValueBytes = 1'024;
constexpr std::size_t kMaxGroupBy = 32;
constexpr std::int64_t kMaxPosition = 1'000'000;
constexpr std::int64_t kDayS = 86'400;

constexpr std::array<std::pair<DeliveryMode, std::string_view>, 3> kModes = {
    {{DeliveryMode::kImmediate, "immediate"},
     {DeliveryMode::kDigest, "digest"},
     {DeliveryMode::kRecord, "record"}}};
constexpr std::array<std::string_view, 3> kSeverities = {"info", "warning", "critical"};

bool is_regex(alerts::MatchOp op) {
  return op == alerts::MatchOp::kRegex || op == alerts::MatchOp::kNotRegex;
}

// Anchored as Prometheus anchors (FullMatch), without rewriting the pattern.
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const re2::RE2>(pattern, options);
}

bool holds(const PolicyLabelMatcher& m, std::string_view value) {
  switch (m.matcher.op) {
    case alerts::MatchOp::kEqual:
      return value == m.matcher.value;
    case alerts::MatchOp::kNotEqual:
      return value != m.matcher.value;
    case alerts::MatchOp::kRegex:
    case alerts::MatchOp::kNotRegex:
      break;
  }
  auto re = m.regex ? m.regex : compile_regex(m.matcher.value);
  if (!re->ok()) return false;
  const bool full = RE2::FullMatch(value, *re);
  return m.matcher.op == alerts::MatchOp::kRegex ? full : !full;
}

template <class T>
bool contains(std::span<const T> items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

bool intersects(const std::vector<std::string>& wanted, std::span<const std::string> have) {
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return contains(have, w); });
}

core::Result<void> check_ids(const std::vector<std::int64_t>& ids, std::string_view field) {
  if (ids.size() > kMaxListItems)
    return core::invalid_field(field, fmt::format("at most {} ids", kMaxListItems));
  for (auto id : ids) {
    if (id <= 0) return core::invalid_field(field, "ids are positive integers");
  }
  return core::ok();
}

core::Result<void> check_names(const std::vector<std::string>& names, std::string_view field) {
  if (names.size() > kMaxListItems)
    return core::invalid_field(field, fmt::format("at most {} names", kMaxListItems));
  for (const auto& n : names) {
    if (n.empty() || n.size() > kMaxTagBytes)
      return core::invalid_field(field, fmt::format("a name is 1..{} bytes", kMaxTagBytes));
  }
  return core::ok();
}

core::Result<void> check_match(const PolicyMatch& m) {
  if (m.severities.size() > kSeverities.size())
    return core::invalid_field("match.severity", "info, warning and critical, each at most once");
  for (const auto& s : m.severities) {
    if (!contains(std::span<const std::string_view>(kSeverities), std::string_view(s)))
      return core::invalid_field("match.severity", "info, warning or critical");
    if (std::count(m.severities.begin(), m.severities.end(), s) > 1)
      return core::invalid_field("match.severity", fmt::format("{} is listed twice", s));
  }
  if (m.labels.size() > kMaxLabelMatchers)
    return core::invalid_field("match.labels",
                               fmt::format("at most {} label matchers", kMaxLabelMatchers));
  for (std::size_t i = 0; i < m.labels.size(); ++i) {
    const auto& lm = m.labels[i].matcher;
    if (!detail::is_label_name(lm.name))
      return core::invalid_field("match.labels",
                                 "a label name is [A-Za-z_][A-Za-z0-9_]*, 1..128 bytes");
    const std::string field = "match.labels." + lm.name;
    for (std::size_t j = 0; j < i; ++j) {
      if (m.labels[j].matcher.name == lm.name)
        return core::invalid_field(field, "one matcher per label name");
    }
    if (lm.value.size() > kMaxMatcherValueBytes)
      return core::invalid_field(field, fmt::format("at most {} bytes", kMaxMatcherValueBytes));
    if (is_regex(lm.op)) {
      const auto re = m.labels[i].regex ? m.labels[i].regex : compile_regex(lm.value);
      if (!re->ok())
        return core::invalid_field(field, "not a valid regular expression: " + re->error());
    }
  }
  if (auto r = check_ids(m.rule_ids, "match.rule_ids"); !r) return r;
  if (auto r = check_ids(m.device_ids, "match.device_ids"); !r) return r;
  if (auto r = check_names(m.groups, "match.groups"); !r) return r;
  return check_names(m.tags, "match.tags");
}

core::Result<void> check_targets(const std::vector<PolicyTarget>& targets, std::string_view field,
                                 bool required) {
  if (targets.size() > kMaxPolicyTargets)
    return core::invalid_field(field, fmt::format("at most {} targets", kMaxPolicyTargets));
  if (required && targets.empty()) return core::invalid_field(field, "at least one target");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].id <= 0)
      return core::invalid_field(fmt::format("{}[{}]", field, i), "ids are positive integers");
  }
  return core::ok();
}

core::Result<void> check_timing(const Policy& p) {
  if (p.group_wait_s < 0 || p.group_wait_s > 3'600)
    return core::invalid_field("group_wait_s", "0 .. 3600 seconds");
  if (p.group_interval_s < 1 || p.group_interval_s > kDayS)
    return core::invalid_field("group_interval_s", "1 .. 86400 seconds");
  if (p.repeat_interval_s != 0 && (p.repeat_interval_s < 60 || p.repeat_interval_s > 30 * kDayS))
    return core::invalid_field("repeat_interval_s", "0 (never repeat) or 60 s .. 30 days");
  if (p.digest_interval_s != 0 && (p.digest_interval_s < 60 || p.digest_interval_s > kDayS))
    return core::invalid_field("digest_interval_s",
                               "0 (digests are sent as they come) or 60 .. 86400 seconds");
  return core::ok();
}

core::Result<void> check_group_by(const std::vector<std::string>& group_by) {
  if (group_by.size() > kMaxGroupBy)
    return core::invalid_field("group_by", fmt::format("at most {} label names", kMaxGroupBy));
  for (const auto& name : group_by) {
    if (name == "...") {
      if (group_by.size() != 1)
        return core::invalid_field("group_by", "\"...\" (every label) stands alone");
    } else if (!detail::is_label_name(name)) {
      return core::invalid_field("group_by", fmt::format("\"{}\" is not a label name", name));
    }
  }
  return core::ok();
}

core::Result<void> check_escalation(const std::vector<EscalationStep>& steps) {
  if (steps.size() > kMaxEscalationSteps)
    return core::invalid_field("escalation", fmt::format("at most {} steps", kMaxEscalationSteps));
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::string field = fmt::format("escalation[{}]", i);
    if (steps[i].after_s < 60 || steps[i].after_s > 7 * kDayS)
      return core::invalid_field(field + ".after_s", "60 s .. 7 days");
    if (steps[i].after_s <= previous)
      return core::invalid_field(field + ".after_s", "after the previous step's after_s");
    previous = steps[i].after_s;
    if (auto r = check_targets(steps[i].targets, field + ".targets", true); !r) return r;
  }
  return core::ok();
}

void feed(std::uint64_t& hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
}

// Length-prefixed, so that no two label sets feed the same bytes.
void feed_field(std::uint64_t& hash, std::string_view bytes) {
  feed(hash, fmt::format("{}:", bytes.size()));
  feed(hash, bytes);
}

}  // namespace

std::string_view delivery_mode_name(DeliveryMode m) noexcept {
  for (const auto& [mode, name] : kModes) {
    if (mode == m) return name;
  }
  return "immediate";
}

std::optional<DeliveryMode> parse_delivery_mode(std::string_view name) noexcept {
  for (const auto& [mode, n] : kModes) {
    if (n == name) return mode;
  }
  return std::nullopt;
}

core::Result<void> validate_policy(const Policy& p) {
  if (p.name.empty() || p.name.size() > kMaxNameBytes)
    return core::invalid_field("name", fmt::format("1..{} bytes", kMaxNameBytes));
  if (p.position < 0 || p.position > kMaxPosition)
    return core::invalid_field("position", "0 .. 1000000");
  if (auto r = check_match(p.match); !r) return r;
  if (auto r = check_group_by(p.group_by); !r) return r;
  if (auto r = check_timing(p); !r) return r;
  if (auto r = check_targets(p.targets, "targets", false); !r) return r;
  if (auto r = check_escalation(p.escalation); !r) return r;
  return detail::check_policy_templates(p.templates);
}

void compile_matchers(Policy& p) {
  for (auto& m : p.match.labels) {
    if (!is_regex(m.matcher.op) || m.regex) continue;
    auto re = compile_regex(m.matcher.value);
    if (re->ok()) m.regex = std::move(re);
  }
}

bool matches(const Policy& p, const AlertFacts& alert) {
  if (!p.enabled) return false;
  const auto& m = p.match;
  if (!m.severities.empty() &&
      std::find(m.severities.begin(), m.severities.end(), alert.severity) == m.severities.end())
    return false;
  if (!m.rule_ids.empty() && !contains(std::span<const std::int64_t>(m.rule_ids), alert.rule_id))
    return false;
  const bool device_criteria = !m.device_ids.empty() || !m.groups.empty() || !m.tags.empty();
  if (device_criteria && !alert.device_id) return false;
  if (!m.device_ids.empty() &&
      !contains(std::span<const std::int64_t>(m.device_ids), *alert.device_id))
    return false;
  if (!m.groups.empty() && !intersects(m.groups, alert.device_groups)) return false;
  if (!m.tags.empty() && !intersects(m.tags, alert.device_tags)) return false;
  for (const auto& lm : m.labels) {
    std::string_view value;
    if (alert.labels != nullptr) {
      if (auto it = alert.labels->find(lm.matcher.name); it != alert.labels->end())
        value = it->second;
    }
    if (!holds(lm, value)) return false;
  }
  return true;
}

std::vector<const Policy*> route(const std::vector<Policy>& policies, const AlertFacts& alert) {
  std::vector<const Policy*> ordered;
  ordered.reserve(policies.size());
  for (const auto& p : policies) ordered.push_back(&p);
  std::stable_sort(ordered.begin(), ordered.end(), [](const Policy* a, const Policy* b) {
    return a->position != b->position ? a->position < b->position : a->id < b->id;
  });
  std::vector<const Policy*> taken;
  for (const auto* p : ordered) {
    if (!matches(*p, alert)) continue;
    taken.push_back(p);
    if (!p->continue_matching) break;
  }
  return taken;
}

std::map<std::string, std::string> group_labels(const Policy& p,
                                                const std::map<std::string, std::string>& labels) {
  if (p.group_by.size() == 1 && p.group_by.front() == "...") return labels;
  std::map<std::string, std::string> out;
  for (const auto& name : p.group_by) {
    if (auto it = labels.find(name); it != labels.end()) out.emplace(name, it->second);
  }
  return out;
}

std::string group_key(const Policy& p, const std::map<std::string, std::string>& labels) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  feed_field(hash, p.id != 0 ? fmt::format("id {}", p.id) : fmt::format("name {}", p.name));
  for (const auto& [name, value] : group_labels(p, labels)) {
    feed_field(hash, name);
    feed_field(hash, value);
  }
  return fmt::format("{:016x}", hash);
}

DeliveryMode delivery_mode(const Policy& p, std::string_view severity) noexcept {
  DeliveryMode mode = p.info_mode;
  if (severity == "critical") mode = p.critical_mode;
  if (severity == "warning") mode = p.warning_mode;
  if (mode == DeliveryMode::kDigest && p.digest_interval_s == 0) return DeliveryMode::kImmediate;
  return mode;
}

bool overrides_quiet_hours(const Policy& p, std::string_view severity) noexcept {
  return severity == "critical" || p.override_quiet_hours;
}

}  // namespace netpulse::notify
