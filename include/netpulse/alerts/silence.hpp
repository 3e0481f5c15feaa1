// Silences: an operator's "do not notify me about this until then". A silence names what it
// mutes — label matchers, devices, groups, tags, rules — and a time span; an alert inside it is
// still recorded and shown, marked silenced, but not notified. The engine tests each alert's
// subject against the organization's compiled silences (silences()).
//
// Pure: no I/O, no clock; times are Unix seconds passed in. The JSON shape (the body of
// /api/v1/silences) is in docs/alerts.md, "Silences and maintenance windows".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/result.hpp>

namespace re2 {
class RE2;
}

namespace netpulse::alerts {

enum class MatchOp : std::uint8_t {
  kEqual,     // "="
  kNotEqual,  // "!="
  kRegex,     // "=~": an RE2 expression over the whole value (anchored, as Prometheus does)
  kNotRegex,  // "!~"
};
std::string_view match_op_name(MatchOp op) noexcept;  // "=", "!=", "=~", "!~"
std::optional<MatchOp> parse_match_op(std::string_view name) noexcept;

// One condition on an alert's labels. A label the alert lacks reads as "" (so `x=""` matches
// an alert without x, and `x!="a"` does too), as in Prometheus.
struct LabelMatcher {
  std::string name;  // a label name: [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes
  MatchOp op = MatchOp::kEqual;
  std::string value;  // at most 1,024 bytes; for =~ and !~ a valid RE2 expression

  friend bool operator==(const LabelMatcher&, const LabelMatcher&) = default;
};

struct Silence {
  std::int64_t id = 0;      // set by the store; 0 before
  std::int64_t org_id = 0;  // set by the API from the caller's organization
  // The criteria. Every kind that is given must hold (AND across kinds): every matcher
  // matches; device_ids, when not empty, holds the alert's device; group_ids, when not empty,
  // holds one of the device's groups; tags, when not empty, holds one of the device's tags;
  // rule_ids, when not empty, holds the alert's rule. A silence with no criteria is refused.
  std::vector<LabelMatcher> matchers;    // at most 32
  std::vector<std::int64_t> device_ids;  // each list at most 1,000 items
  std::vector<std::int64_t> group_ids;
  std::vector<std::string> tags;
  std::vector<std::int64_t> rule_ids;
  std::int64_t starts_at = 0;   // Unix seconds; the silence holds in [starts_at, ends_at)
  std::int64_t ends_at = 0;     // after starts_at, at most 366 days later
  std::int64_t created_by = 0;  // the user's id; set by the API
  std::string created_by_name;  // the user's name when created; set by the API
  std::string reason;           // 1..1,000 bytes
  std::int64_t created_at = 0;  // Unix seconds; set by the API

  friend bool operator==(const Silence&, const Silence&) = default;
};

// Checks a silence as it is saved: kInvalidInput naming the first offending field ("matchers",
// "matchers[2].value", "device_ids", "ends_at", "reason", ...). Regular expressions must compile.
// Whether ends_at is still in the future is the caller's business (it has the clock).
core::Result<void> validate_silence(const Silence& silence);

// What the engine tests an alert against: its rule, its device (if any) with the device's groups
// and tags, and its labels. Non-owning: the spans and the map must outlive the call.
struct AlertSubject {
  std::int64_t rule_id = 0;
  std::optional<std::int64_t> device_id;
  std::span<const std::int64_t> device_groups;
  std::span<const std::string> device_tags;
  const std::map<std::string, std::string>* labels = nullptr;  // nullptr: no labels
};

// A validated silence with its regular expressions compiled once. Copies share the compiled
// expressions (immutable, safe to use from several threads).
class CompiledSilence {
 public:
  // Validates (validate_silence) and compiles.
  static core::Result<CompiledSilence> compile(Silence silence);

  // The silence as given.
  const Silence& silence() const noexcept { return silence_; }

 private:
  friend bool silences(const CompiledSilence&, const AlertSubject&, std::int64_t);
  CompiledSilence() = default;

  Silence silence_;
  // One per matcher, in order: the anchored expression for =~ and !~, nullptr for = and !=.
  std::vector<std::shared_ptr<const re2::RE2>> regexes_;
};

// Whether the silence mutes the subject at `unix_s`: inside [starts_at, ends_at) and every
// given criterion holds (Silence's comment says how each kind is tested).
bool silences(const CompiledSilence& silence, const AlertSubject& subject, std::int64_t unix_s);

// Reads a silence (without id, org_id, created_by, created_by_name and created_at, which the
// server sets; they are accepted and ignored) and validates it. kInvalidInput naming the field:
// missing starts_at, ends_at or reason, a wrong type, an unknown field, then whatever
// validate_silence refuses. Matchers: [{"name": "ifName", "op": "=~", "value": "xe-.*"}].
core::Result<Silence> silence_from_json(const boost::json::value& body);

// The silence as silence_from_json reads it, plus the server-set fields when set.
// silence_from_json(silence_to_json(s)) == s for every silence it returned, those fields aside.
boost::json::object silence_to_json(const Silence& silence);

}  // namespace netpulse::alerts
