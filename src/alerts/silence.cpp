// Silences (silence.hpp): validation as a silence is saved, compiling its regular expressions
// once, and the test the engine runs for every alert against every silence of its
// organization — a few comparisons and at most one RE2 match per matcher.
#include <algorithm>
#include <array>
#include <re2/re2.h>
#include <utility>

#include <fmt/format.h>

#include <netpulse/alerts/silence.hpp>

#include "detail/schedule_limits.hpp"

namespace netpulse::alerts {
namespace {

constexpr std::size_t kMaxMatchers = 32;
constexpr std::size_t kMaxMatcherValueBytes = 1'024;
constexpr std::int64_t kMaxSilenceS = std::int64_t{366} * 86'400;

constexpr std::array<std::pair<MatchOp, std::string_view>, 4> kOps = {{{MatchOp::kEqual, "="},
                                                                       {MatchOp::kNotEqual, "!="},
                                                                       {MatchOp::kRegex, "=~"},
                                                                       {MatchOp::kNotRegex, "!~"}}};

bool is_regex(MatchOp op) {
  return op == MatchOp::kRegex || op == MatchOp::kNotRegex;
}

// The compiled expression of a =~ or !~ matcher: matched against the whole value (FullMatch),
// which is Prometheus's anchoring without rewriting the pattern.
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const re2::RE2>(pattern, options);
}

bool matcher_holds(const LabelMatcher& m, const re2::RE2* re, std::string_view label_value) {
  switch (m.op) {
    case MatchOp::kEqual:
      return label_value == m.value;
    case MatchOp::kNotEqual:
      return label_value != m.value;
    case MatchOp::kRegex:
      return RE2::FullMatch(label_value, *re);
    case MatchOp::kNotRegex:
      return !RE2::FullMatch(label_value, *re);
  }
  return false;
}

core::Result<void> check_ids(const std::vector<std::int64_t>& ids, std::string_view field) {
  if (ids.size() > detail::kMaxScopeItems)
    return core::invalid_field(field, fmt::format("at most {} ids", detail::kMaxScopeItems));
  for (auto id : ids) {
    if (id <= 0) return core::invalid_field(field, "ids are positive integers");
  }
  return core::ok();
}

template <class T>
bool contains(std::span<const T> items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

template <class T>
bool intersects(const std::vector<T>& wanted, std::span<const T> have) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const T& w) { return contains(have, w); });
}

}  // namespace

namespace detail {

bool label_name_ok(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxTagBytes) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace detail

std::string_view match_op_name(MatchOp op) noexcept {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return "=";
}

std::optional<MatchOp> parse_match_op(std::string_view name) noexcept {
  for (const auto& [o, n] : kOps) {
    if (n == name) return o;
  }
  return std::nullopt;
}

core::Result<void> validate_silence(const Silence& s) {
  if (s.matchers.size() > kMaxMatchers)
    return core::invalid_field("matchers", fmt::format("at most {} matchers", kMaxMatchers));
  bool every_matcher_matches_empty = true;
  for (std::size_t i = 0; i < s.matchers.size(); ++i) {
    const auto& m = s.matchers[i];
    const std::string field = fmt::format("matchers[{}]", i);
    if (!detail::label_name_ok(m.name))
      return core::invalid_field(field + ".name", "a label name: [A-Za-z_][A-Za-z0-9_]*, 1..128");
    if (m.value.size() > kMaxMatcherValueBytes)
      return core::invalid_field(field + ".value",
                                 fmt::format("at most {} bytes", kMaxMatcherValueBytes));
    const re2::RE2* re = nullptr;
    std::shared_ptr<const re2::RE2> compiled;
    if (is_regex(m.op)) {
      compiled = compile_regex(m.value);
      if (!compiled->ok())
        return core::invalid_field(field + ".value",
                                   "not a valid regular expression: " + compiled->error());
      re = compiled.get();
    }
    every_matcher_matches_empty = every_matcher_matches_empty && matcher_holds(m, re, "");
  }
  if (auto r = check_ids(s.device_ids, "device_ids"); !r) return r;
  if (auto r = check_ids(s.group_ids, "group_ids"); !r) return r;
  if (auto r = check_ids(s.rule_ids, "rule_ids"); !r) return r;
  if (s.tags.size() > detail::kMaxScopeItems)
    return core::invalid_field("tags", fmt::format("at most {} tags", detail::kMaxScopeItems));
  for (const auto& t : s.tags) {
    if (t.empty() || t.size() > detail::kMaxTagBytes)
      return core::invalid_field("tags", "a tag is 1..128 bytes");
  }
  const bool other_criteria =
      !s.device_ids.empty() || !s.group_ids.empty() || !s.tags.empty() || !s.rule_ids.empty();
  if (s.matchers.empty() && !other_criteria)
    return core::invalid_field(
        "matchers",
        "a silence needs a criterion: matchers, device_ids, group_ids, tags or rule_ids");
  // As Alertmanager: matchers alone must not mute every alert (`x=~".*"`, `x!="a"` with no x).
  if (!other_criteria && every_matcher_matches_empty)
    return core::invalid_field("matchers",
                               "every matcher matches an alert without labels: the silence would "
                               "mute everything");
  if (s.starts_at < 0 || s.starts_at > detail::kMaxScheduleTime)
    return core::invalid_field("starts_at", "Unix seconds, 0 .. year 3000");
  if (s.ends_at <= s.starts_at) return core::invalid_field("ends_at", "must be after starts_at");
  if (s.ends_at - s.starts_at > kMaxSilenceS)
    return core::invalid_field("ends_at", "a silence lasts at most 366 days");
  if (s.reason.empty() || s.reason.size() > detail::kMaxTextBytes)
    return core::invalid_field("reason", "1..1000 bytes");
  return core::ok();
}

core::Result<CompiledSilence> CompiledSilence::compile(Silence silence) {
  if (auto v = validate_silence(silence); !v) return std::move(v).error();
  CompiledSilence c;
  c.regexes_.reserve(silence.matchers.size());
  for (const auto& m : silence.matchers)
    c.regexes_.push_back(is_regex(m.op) ? compile_regex(m.value) : nullptr);
  c.silence_ = std::move(silence);
  return c;
}

bool silences(const CompiledSilence& compiled, const AlertSubject& subject, std::int64_t unix_s) {
  const Silence& s = compiled.silence_;
  if (unix_s < s.starts_at || unix_s >= s.ends_at) return false;
  if (!s.rule_ids.empty() && !contains(std::span<const std::int64_t>(s.rule_ids), subject.rule_id))
    return false;
  const bool device_criteria = !s.device_ids.empty() || !s.group_ids.empty() || !s.tags.empty();
  if (device_criteria && !subject.device_id) return false;
  if (!s.device_ids.empty() &&
      !contains(std::span<const std::int64_t>(s.device_ids), *subject.device_id))
    return false;
  if (!s.group_ids.empty() && !intersects(s.group_ids, subject.device_groups)) return false;
  if (!s.tags.empty() && !intersects(s.tags, subject.device_tags)) return false;
  for (std::size_t i = 0; i < s.matchers.size(); ++i) {
    std::string_view value;
    if (subject.labels != nullptr) {
      if (auto it = subject.labels->find(s.matchers[i].name); it != subject.labels->end())
        value = it->second;
    }
    if (!matcher_holds(s.matchers[i], compiled.regexes_[i].get(), value)) return false;
  }
  return true;
}

}  // namespace netpulse::alerts
