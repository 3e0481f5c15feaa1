// Parsing and evaluating PromQL-style series selectors. A small hand-written parser walks the text
// once, byte by byte, in loops (a selector does not nest, so nothing here recurses and no input
// can deepen the stack), and reports the first problem with its byte offset; no exception leaves
// this file. Regex matchers are compiled once here with RE2, Prometheus' own
// regex dialect, whose matching time is linear in the subject. The syntax and the limits are
// written down in include/netpulse/tsdb/selector.hpp.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <re2/re2.h>
#include <string>
#include <utility>

#include <netpulse/tsdb/selector.hpp>

namespace netpulse::tsdb {

namespace detail {

struct CompiledRegex {
  std::unique_ptr<const re2::RE2> re;
};

namespace {

bool is_metric_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_metric_char(char c) {
  return is_metric_start(c) || is_digit(c);
}
// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_metric_name(std::string_view name) {
  return !name.empty() && is_metric_start(name.front()) &&
         std::all_of(name.begin() + 1, name.end(), is_metric_char);
}
bool is_label_start(char c) {
  return is_metric_start(c) && c != ':';
}
bool is_label_char(char c) {
  return is_label_start(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

core::Result<std::shared_ptr<const CompiledRegex>> compile_regex(std::string_view pattern) {
  if (pattern.size() > kMaxRegexBytes) {
    return core::Error(core::Errc::kInvalidInput,
                       "regex longer than " + std::to_string(kMaxRegexBytes) + " bytes");
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_dot_nl(true);  // as Prometheus, which compiles "^(?s:" + re + ")$"
  auto re =
      std::make_unique<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return core::Error(core::Errc::kInvalidInput, "invalid regex: " + re->error());
  }
  return std::make_shared<const CompiledRegex>(CompiledRegex{std::move(re)});
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

void append_quoted(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

const char* op_text(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual:
      return "=";
    case MatchOp::kNotEqual:
      return "!=";
    case MatchOp::kRegex:
      return "=~";
    case MatchOp::kNotRegex:
      return "!~";
  }
  return "=";
}

// One pass over the selector text; `pos_` is the byte offset of the next unread byte.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  core::Result<std::pair<std::optional<std::string>, std::vector<Matcher>>> run() {
    if (text_.size() > kMaxSelectorBytes) {
      return fail(kMaxSelectorBytes,
                  "selector longer than " + std::to_string(kMaxSelectorBytes) + " bytes");
    }
    if (const auto nul = text_.find('\0'); nul != std::string_view::npos) {
      return fail(nul, "NUL byte in selector");
    }
    std::optional<std::string> metric;
    std::vector<Matcher> matchers;
    std::vector<std::size_t> matcher_offsets;

    skip_space();
    if (!at_end() && is_metric_start(peek())) {
      const std::size_t begin = pos_;
      while (!at_end() && is_metric_char(peek())) ++pos_;
      metric.emplace(text_.substr(begin, pos_ - begin));
      skip_space();
    }
    const std::size_t brace_offset = pos_;
    const bool has_braces = !at_end() && peek() == '{';
    if (has_braces) {
      auto parsed = parse_matchers(matchers, matcher_offsets);
      if (!parsed) return std::move(parsed).error();
      skip_space();
    } else if (!metric) {
      return fail(pos_, "expected a metric name or '{'");
    }
    if (!at_end()) {
      return fail(pos_,
                  has_braces ? "expected end of selector" : "expected '{' or end of selector");
    }

    const auto is_name_matcher = [](const Matcher& m) { return m.name == kMetricNameLabel; };
    const auto name_matchers = std::count_if(matchers.begin(), matchers.end(), is_name_matcher);
    if (metric && name_matchers > 0) {
      const auto it = std::find_if(matchers.begin(), matchers.end(), is_name_matcher);
      return fail(matcher_offsets[static_cast<std::size_t>(it - matchers.begin())],
                  "metric name set twice (bare name and __name__ matcher)");
    }
    if (!metric && name_matchers == 1) {
      const auto it = std::find_if(matchers.begin(), matchers.end(), is_name_matcher);
      // Only a value that is a metric name can be printed back bare by to_string(); any other
      // (`{__name__="u'"}`, `{__name__=""}`) stays a matcher with the same meaning.
      if (it->op == MatchOp::kEqual && is_metric_name(it->value)) {
        metric = std::move(it->value);
        matchers.erase(it);
      }
    }
    if (!metric && std::all_of(matchers.begin(), matchers.end(),
                               [](const Matcher& m) { return m.matches(""); })) {
      return fail(brace_offset,
                  "expected at least one matcher that does not match the empty string");
    }
    return std::pair{std::move(metric), std::move(matchers)};
  }

 private:
  static core::Error fail(std::size_t at, const std::string& what) {
    return core::Error(core::Errc::kInvalidInput,
                       "selector: at " + std::to_string(at) + ": " + what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(peek())) ++pos_;
  }

  // Parses `{ matcher, ... }`; `pos_` is at the '{'.
  core::Result<void> parse_matchers(std::vector<Matcher>& matchers,
                                    std::vector<std::size_t>& offsets) {
    ++pos_;
    while (true) {
      skip_space();
      if (!at_end() && peek() == '}') {
        ++pos_;
        return core::ok();
      }
      if (at_end() || !is_label_start(peek())) return fail(pos_, "expected a label name or '}'");
      if (matchers.size() == kMaxMatchers) {
        return fail(pos_, "more than " + std::to_string(kMaxMatchers) + " matchers");
      }
      const std::size_t begin = pos_;
      while (!at_end() && is_label_char(peek())) ++pos_;
      std::string name(text_.substr(begin, pos_ - begin));

      skip_space();
      const auto op = parse_op();
      if (!op) return fail(pos_, "expected '=', '!=', '=~' or '!~'");

      skip_space();
      const std::size_t value_offset = pos_;
      auto value = parse_string();
      if (!value) return std::move(value).error();

      auto matcher = Matcher::make(std::move(name), *op, std::move(*value));
      if (!matcher) {
        // Matcher::make says "selector: <what>"; add the offset of the string.
        constexpr std::string_view kPrefix = "selector: ";
        return fail(value_offset, matcher.error().message.substr(kPrefix.size()));
      }
      matchers.push_back(std::move(*matcher));
      offsets.push_back(begin);

      skip_space();
      if (at_end()) return fail(pos_, "expected ',' or '}'");
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        return fail(pos_, "expected ',' or '}'");
      }
    }
  }

  std::optional<MatchOp> parse_op() {
    const std::string_view rest = text_.substr(pos_);
    const auto take = [this](MatchOp op) {
      pos_ += 2;
      return op;
    };
    if (rest.starts_with("=~")) return take(MatchOp::kRegex);
    if (rest.starts_with("!=")) return take(MatchOp::kNotEqual);
    if (rest.starts_with("!~")) return take(MatchOp::kNotRegex);
    if (rest.starts_with("=")) {
      ++pos_;
      return MatchOp::kEqual;
    }
    return std::nullopt;
  }

  core::Result<std::string> parse_string() {
    if (at_end() || (peek() != '"' && peek() != '\'')) {
      return fail(pos_, "expected a quoted string");
    }
    const std::size_t open = pos_;
    const char quote = peek();
    ++pos_;
    std::string out;
    while (true) {
      if (at_end()) return fail(open, "unterminated string");
      const char c = peek();
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return fail(pos_, "control character in string (use an escape)");
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t escape = pos_;
      ++pos_;
      if (at_end()) return fail(open, "unterminated string");
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\'':
        case '\\':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'u': {
          auto code_point = parse_hex4(escape);
          if (!code_point) return std::move(code_point).error();
          append_utf8(out, *code_point);
          break;
        }
        default:
          return fail(escape, "invalid escape (expected \\\" \\' \\\\ \\n \\t \\r or \\uXXXX)");
      }
    }
  }

  core::Result<std::uint32_t> parse_hex4(std::size_t escape) {
    std::uint32_t code_point = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      if (at_end()) return fail(escape, "expected 4 hex digits after \\u");
      const char c = peek();
      std::uint32_t digit = 0;
      if (is_digit(c)) {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return fail(escape, "expected 4 hex digits after \\u");
      }
      code_point = code_point * 16 + digit;
    }
    if (code_point == 0) return fail(escape, "NUL (\\u0000) in string");
    if (code_point >= 0xD800 && code_point <= 0xDFFF) {
      return fail(escape, "surrogate code point in \\u escape");
    }
    return code_point;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

}  // namespace detail

core::Result<Matcher> Matcher::make(std::string name, MatchOp op, std::string value) {
  Matcher m;
  if (op == MatchOp::kRegex || op == MatchOp::kNotRegex) {
    auto compiled = detail::compile_regex(value);
    if (!compiled) {
      return core::Error(core::Errc::kInvalidInput, "selector: " + compiled.error().message);
    }
    m.regex_ = std::move(*compiled);
  }
  m.name = std::move(name);
  m.op = op;
  m.value = std::move(value);
  return m;
}

bool Matcher::matches(std::string_view v) const {
  switch (op) {
    case MatchOp::kEqual:
      return v == value;
    case MatchOp::kNotEqual:
      return v != value;
    case MatchOp::kRegex:
      return regex_ && re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex_->re);
    case MatchOp::kNotRegex:
      return !regex_ || !re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex_->re);
  }
  return false;
}

core::Result<Selector> Selector::parse(std::string_view text) {
  auto parsed = detail::Parser(text).run();
  if (!parsed) return std::move(parsed).error();
  return Selector(std::move(parsed->first), std::move(parsed->second));
}

bool Selector::matches(const SeriesKey& key) const {
  if (metric_ && key.metric != *metric_) return false;
  for (const Matcher& m : matchers_) {
    std::string_view value;
    if (m.name == kMetricNameLabel) {
      value = key.metric;
    } else {
      const auto it = std::find_if(key.labels.begin(), key.labels.end(),
                                   [&](const Label& label) { return label.first == m.name; });
      if (it != key.labels.end()) value = it->second;
    }
    if (!m.matches(value)) return false;
  }
  return true;
}

std::string Selector::to_string() const {
  std::string out = metric_.value_or("");
  if (!matchers_.empty() || !metric_) {
    out += '{';
    for (std::size_t i = 0; i < matchers_.size(); ++i) {
      if (i > 0) out += ',';
      out += matchers_[i].name;
      out += detail::op_text(matchers_[i].op);
      detail::append_quoted(out, matchers_[i].value);
    }
    out += '}';
  }
  return out;
}

}  // namespace netpulse::tsdb
