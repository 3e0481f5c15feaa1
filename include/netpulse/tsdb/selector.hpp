// Series selectors in PromQL syntax: `name{label="v", label!="v", label=~"re", label!~"re"}`.
//
// Grammar (whitespace allowed between tokens):
//   selector := metric_name [ '{' [ matcher { ',' matcher } [ ',' ] ] '}' ]
//             | '{' matcher { ',' matcher } [ ',' ] '}'
//   metric_name := [a-zA-Z_:][a-zA-Z0-9_:]*      label_name := [a-zA-Z_][a-zA-Z0-9_]*
//   matcher := label_name ( '=' | '!=' | '=~' | '!~' ) string
//   string := '"' ... '"' | '\'' ... '\''
// Escapes inside strings: \" \' \\ \n \t \r and \uXXXX (a Unicode code point from the Basic
// Multilingual Plane, written as UTF-8; surrogates are refused). Any other escape, a raw control
// character (below 0x20) inside a string, and a NUL byte anywhere are errors. Go raw strings
// (backticks) are not accepted. A regex is written as a string, so `\d` must be spelled "\\d".
//
// Semantics follow Prometheus: a label missing from a series has the value "" (so `a=""` matches
// series without `a`); regexes are fully anchored, as if written `^(?:re)$`; `__name__` matches the
// metric name; a selector without a metric name needs at least one matcher that does not match
// "" (so `{}` and `{a=""}` are refused, since they would select every series).
//
// Regex engine: RE2 (Prometheus' dialect), matching time linear in the label value; patterns
// are limited to kMaxRegexBytes; `.` matches a newline, as in Prometheus. Back-references and
// look-around do not exist in RE2 and are refused as invalid regexes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

namespace detail {
struct CompiledRegex;  // defined in src/tsdb/selector.cpp
}  // namespace detail

// Longest accepted selector text, in bytes.
inline constexpr std::size_t kMaxSelectorBytes = 4096;
// Most matchers one selector may hold (counting each written matcher, `__name__` included).
inline constexpr std::size_t kMaxMatchers = 32;
// Longest accepted regex pattern (after unescaping the string), in bytes.
inline constexpr std::size_t kMaxRegexBytes = 256;

// The label name that matches the metric name.
inline constexpr std::string_view kMetricNameLabel = "__name__";

enum class MatchOp { kEqual, kNotEqual, kRegex, kNotRegex };

// One label matcher. Build it with make(), which compiles the regex of kRegex/kNotRegex; the
// fields are public for reading, and must not be changed afterwards (the compiled regex would no
// longer agree with `value`). Copies share the compiled regex, which is immutable, so a Matcher may
// be used from several threads at once.
struct Matcher {
  std::string name;
  MatchOp op = MatchOp::kEqual;
  std::string value;

  // A matcher of `name op value`; kInvalidInput if `value` is not an acceptable regex for the
  // regex ops (see the file comment), with a message starting "selector: ".
  static core::Result<Matcher> make(std::string name, MatchOp op, std::string value);

  // Whether the label value `v` satisfies the matcher ("" stands for a missing label). A regex
  // matcher not built by make() has no compiled regex: kRegex then matches nothing and kNotRegex
  // everything.
  bool matches(std::string_view v) const;

  // Equality of name, op and value (the compiled regex follows from them).
  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.name == b.name && a.op == b.op && a.value == b.value;
  }

 private:
  std::shared_ptr<const detail::CompiledRegex> regex_;
};

// A parsed selector: an optional metric name plus label matchers. Immutable once parsed; safe to
// share between threads.
class Selector {
 public:
  // Parses `text`. On failure returns kInvalidInput with a message of the form
  // "selector: at <byte offset, from 0>: <what was expected or what is wrong>".
  // `{__name__="x", ...}` (one `__name__` matcher, with `=`, and no bare name) is stored as the
  // metric name "x" when "x" is a metric name; other `__name__` matchers stay matchers. A bare name
  // together with a
  // `__name__` matcher is refused, as in Prometheus.
  static core::Result<Selector> parse(std::string_view text);

  // The metric name the selector pins by equality, if any.
  const std::optional<std::string>& metric() const { return metric_; }

  // The label matchers in written order (without the one hoisted into metric()).
  const std::vector<Matcher>& matchers() const { return matchers_; }

  // Whether the series `key` is selected: the metric name equals metric() (when set) and every
  // matcher accepts the series' value of its label ("" when the label is missing; `__name__` is
  // the metric name). Labels are looked up by scanning, so `key.labels` need not be sorted.
  bool matches(const SeriesKey& key) const;

  // Canonical text: `name{a="v",b=~"re"}`, `name`, or `{a="v"}`; double quotes, escapes as
  // written by parse() (other control characters as \uXXXX). parse(to_string()) == *this.
  std::string to_string() const;

  friend bool operator==(const Selector&, const Selector&) = default;

 private:
  Selector(std::optional<std::string> metric, std::vector<Matcher> matchers)
      : metric_(std::move(metric)), matchers_(std::move(matchers)) {}

  std::optional<std::string> metric_;
  std::vector<Matcher> matchers_;
};

}  // namespace netpulse::tsdb
