// InfluxDB line protocol parser: `measurement[,tag=v...] field=v[,field=v...] [timestamp]` per
// line, turned into one sample per numeric field. The body is sliced with string_views; a token is
// copied to unescape it only when it holds a backslash, numbers go through std::from_chars, and
// per-line scratch buffers are reused so a line allocates little beyond the samples it emits.
// Every refusal names its line and the offending part; docs/format/ingest.md is the contract.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <netpulse/tsdb/ingest_parse.hpp>

namespace netpulse::tsdb {
namespace detail {
namespace {

constexpr std::size_t kMaxNameInIssue = 64;

// What went wrong on one line, before the line number is attached.
struct LineError {
  std::string field;
  std::string reason;
};

// A field of the line being parsed: the metric it maps to and its value.
struct FieldEntry {
  std::string metric;
  double value = 0;
};

// Buffers reused from line to line so their capacity is paid for once per body.
struct Scratch {
  std::string measurement;
  std::string key;
  LabelSet tags;
  std::vector<FieldEntry> fields;
  std::size_t field_count = 0;
};

// A name from hostile input made safe to echo in an issue: at most kMaxNameInIssue bytes and
// printable ASCII only (other bytes become '?').
std::string printable(std::string_view name) {
  std::string out;
  const std::size_t n = std::min(name.size(), kMaxNameInIssue);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = name[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (name.size() > n) out += "...";
  return out;
}

// `stops` is two or three bytes: a plain loop, which inlines (string_view::find calls memchr for
// every byte of the line, the parser's hottest spot).
inline bool is_stop(char c, std::string_view stops) {
  for (const char s : stops) {
    if (c == s) return true;
  }
  return false;
}

// Scans an escapable token from `pos` to the first unescaped byte in `stops` (or the end).
// A backslash always takes the next byte with it, so `\\,` is an escaped backslash followed by a
// real comma. Returns false if the line ends right after a backslash.
bool scan_token(std::string_view line, std::size_t& pos, std::string_view stops,
                std::string_view& token, bool& escaped) {
  const std::size_t start = pos;
  escaped = false;
  while (pos < line.size()) {
    const char c = line[pos];
    if (c == '\\') {
      if (pos + 1 == line.size()) return false;
      escaped = true;
      pos += 2;
      continue;
    }
    if (is_stop(c, stops)) break;
    ++pos;
  }
  token = line.substr(start, pos - start);
  return true;
}

// Writes `token` to `out` with `\c` turned into `c` for c in `specials` or a backslash; any
// other backslash stays literal, as InfluxDB does.
void unescape(std::string_view token, std::string_view specials, std::string& out) {
  out.clear();
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (c == '\\' && i + 1 < token.size() &&
        (token[i + 1] == '\\' || is_stop(token[i + 1], specials))) {
      out.push_back(token[++i]);
    } else {
      out.push_back(c);
    }
  }
}

// The token's text: itself when unescaped, else its unescaped copy held in `buffer`.
std::string_view token_text(std::string_view token, bool escaped, std::string_view specials,
                            std::string& buffer) {
  if (!escaped) return token;
  unescape(token, specials, buffer);
  return buffer;
}

bool is_name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

// Parses a non-string field value; returns "" on success or why it was refused.
std::string_view parse_field_value(std::string_view text, double& out) {
  if (text.empty()) return "missing field value";
  if (text == "t" || text == "T" || text == "true" || text == "True" || text == "TRUE") {
    out = 1;
    return {};
  }
  if (text == "f" || text == "F" || text == "false" || text == "False" || text == "FALSE") {
    out = 0;
    return {};
  }
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.back() == 'i') {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(first, last - 1, v);
    if (ec == std::errc::result_out_of_range) return "integer does not fit in 64 bits";
    if (ec != std::errc{} || ptr != last - 1 || first == last - 1) return "invalid integer";
    out = static_cast<double>(v);
    return {};
  }
  if (text.back() == 'u') {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(first, last - 1, v);
    if (ec == std::errc::result_out_of_range) return "unsigned integer does not fit in 64 bits";
    if (ec != std::errc{} || ptr != last - 1 || first == last - 1)
      return "invalid unsigned integer";
    out = static_cast<double>(v);
    return {};
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(first, last, v, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return "float out of range";
  if (ec != std::errc{} || ptr != last) return "invalid number";
  if (std::isnan(v)) return "NaN is not accepted";
  if (std::isinf(v)) return "infinity is not accepted";
  out = v;
  return {};
}

// Converts a timestamp in `precision` to milliseconds, flooring finer units.
bool to_milliseconds(std::int64_t raw, Precision precision, Timestamp& out) {
  switch (precision) {
    case Precision::kNanoseconds:
      out = raw / 1'000'000;
      return true;
    case Precision::kMicroseconds:
      out = raw / 1'000;
      return true;
    case Precision::kMilliseconds:
      out = raw;
      return true;
    case Precision::kSeconds:
      return !__builtin_mul_overflow(raw, std::int64_t{1'000}, &out);
    case Precision::kMinutes:
      return !__builtin_mul_overflow(raw, std::int64_t{60'000}, &out);
    case Precision::kHours:
      return !__builtin_mul_overflow(raw, std::int64_t{3'600'000}, &out);
  }
  return false;
}

// Parses the timestamp token; returns "" on success or why it was refused.
std::string_view parse_timestamp(std::string_view text, Precision precision, Timestamp& out) {
  std::int64_t raw = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), raw);
  if (ec == std::errc::result_out_of_range) return "timestamp out of range";
  if (ec != std::errc{} || ptr != text.data() + text.size()) return "timestamp is not an integer";
  if (raw < 0) return "timestamps before 1970 are not accepted";
  if (!to_milliseconds(raw, precision, out)) return "timestamp out of range";
  return {};
}

LineError error(std::string field, std::string_view reason) {
  return LineError{std::move(field), std::string(reason)};
}

// Parses one non-blank, non-comment line, appending its samples to `out` on success.
// On failure nothing is appended and `err` says why.
bool parse_line(std::string_view line, Precision precision, Timestamp now_ms,
                const ParseLimits& limits, Scratch& s, std::vector<ParsedSample>& out,
                LineError& err) {
  constexpr std::string_view kMeasurementSpecials = ", ";
  constexpr std::string_view kKeySpecials = ",= ";
  std::size_t pos = 0;
  std::string_view token;
  bool escaped = false;

  // Measurement.
  if (!scan_token(line, pos, kMeasurementSpecials, token, escaped)) {
    err = error("measurement", "line ends with a backslash");
    return false;
  }
  if (token.empty()) {
    err = error("measurement", "missing measurement");
    return false;
  }
  s.measurement = sanitize_metric_name(token_text(token, escaped, kMeasurementSpecials, s.key));

  // Tags.
  s.tags.clear();
  while (pos < line.size() && line[pos] == ',') {
    ++pos;
    std::string_view key_token;
    bool key_escaped = false;
    if (!scan_token(line, pos, ",= ", key_token, key_escaped)) {
      err = error("tag", "line ends with a backslash");
      return false;
    }
    if (key_token.empty()) {
      err = error("tag", "empty tag key");
      return false;
    }
    const auto field = [&] { return "tag:" + printable(key_token); };
    if (pos == line.size() || line[pos] != '=') {
      err = error(field(), "tag without '='");
      return false;
    }
    ++pos;
    std::string_view value_token;
    bool value_escaped = false;
    if (!scan_token(line, pos, ", ", value_token, value_escaped)) {
      err = error(field(), "line ends with a backslash");
      return false;
    }
    if (s.tags.size() == limits.max_labels) {
      err = error("line", "more than " + std::to_string(limits.max_labels) + " tags");
      return false;
    }
    std::string name = sanitize_label_name(token_text(key_token, key_escaped, kKeySpecials, s.key));
    if (!valid_label_name(name)) {
      err = error(field(), "tag key '" + printable(name) + "' is reserved (starts with \"__\")");
      return false;
    }
    if (value_token.size() > limits.max_label_value_bytes) {
      err = error(field(), "label value longer than the limit");
      return false;
    }
    const std::string_view value = token_text(value_token, value_escaped, kKeySpecials, s.key);
    if (const std::string_view problem = label_value_problem(value, limits); !problem.empty()) {
      err = error(field(), problem);
      return false;
    }
    s.tags.emplace_back(std::move(name), std::string(value));
  }
  if (pos == line.size()) {
    err = error("line", "missing field set");
    return false;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (pos == line.size()) {
    err = error("line", "missing field set");
    return false;
  }

  // Fields.
  s.field_count = 0;
  while (true) {
    std::string_view key_token;
    bool key_escaped = false;
    if (!scan_token(line, pos, kKeySpecials, key_token, key_escaped)) {
      err = error("field", "line ends with a backslash");
      return false;
    }
    if (key_token.empty()) {
      err = error("field", "empty field key");
      return false;
    }
    if (pos == line.size() || line[pos] != '=') {
      err = error("field:" + printable(key_token), "field without '='");
      return false;
    }
    ++pos;
    if (pos < line.size() && line[pos] == '"') {
      // Scan to the closing quote only to tell an unterminated string from a refused one.
      std::size_t i = pos + 1;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      err = error("field:" + printable(key_token),
                  i >= line.size() ? "unterminated string value"
                                   : "string field values are not accepted (numbers only)");
      return false;
    }
    const std::size_t value_end = std::min(line.find_first_of(", ", pos), line.size());
    double value = 0;
    if (const std::string_view problem =
            parse_field_value(line.substr(pos, value_end - pos), value);
        !problem.empty()) {
      err = error("field:" + printable(key_token), problem);
      return false;
    }
    pos = value_end;
    if (s.field_count == limits.max_fields) {
      err = error("line", "more than " + std::to_string(limits.max_fields) + " fields");
      return false;
    }
    if (s.fields.size() == s.field_count) s.fields.emplace_back();
    FieldEntry& entry = s.fields[s.field_count];
    const std::string_view key = token_text(key_token, key_escaped, kKeySpecials, s.key);
    entry.metric = s.measurement;
    if (key != "value") {
      entry.metric.push_back('_');
      for (char c : key) entry.metric.push_back(is_name_byte(c) ? c : '_');
    }
    entry.value = value;
    for (std::size_t i = 0; i < s.field_count; ++i) {
      if (s.fields[i].metric == entry.metric) {
        err = error("field:" + printable(key_token),
                    "duplicate field (or two fields mapping to the same metric name)");
        return false;
      }
    }
    ++s.field_count;
    if (pos == line.size() || line[pos] == ' ') break;
    ++pos;  // the ',' between fields
    if (pos == line.size()) {
      err = error("field", "empty field key");
      return false;
    }
  }

  // Timestamp.
  while (pos < line.size() && line[pos] == ' ') ++pos;
  Timestamp t = now_ms;
  if (pos < line.size()) {
    if (const std::string_view problem = parse_timestamp(line.substr(pos), precision, t);
        !problem.empty()) {
      err = error("timestamp", problem);
      return false;
    }
  }

  const auto by_name = [](const Label& a, const Label& b) { return a.first < b.first; };
  if (!std::is_sorted(s.tags.begin(), s.tags.end(), by_name)) {
    std::sort(s.tags.begin(), s.tags.end(), by_name);
  }
  const auto dup =
      std::adjacent_find(s.tags.begin(), s.tags.end(),
                         [](const Label& a, const Label& b) { return a.first == b.first; });
  if (dup != s.tags.end()) {
    err = error("tag:" + printable(dup->first), "duplicate tag key");
    return false;
  }
  for (std::size_t i = 0; i < s.field_count; ++i) {
    ParsedSample& sample = out.emplace_back();
    sample.key.metric = s.fields[i].metric;
    sample.key.labels = s.tags;  // copied, so s.tags keeps its capacity for the next line
    sample.sample = Sample{t, s.fields[i].value};
  }
  return true;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

}  // namespace
}  // namespace detail

std::optional<Precision> parse_precision(std::string_view name) {
  if (name == "ns" || name == "n") return Precision::kNanoseconds;
  if (name == "us" || name == "u") return Precision::kMicroseconds;
  if (name == "ms") return Precision::kMilliseconds;
  if (name == "s") return Precision::kSeconds;
  if (name == "m") return Precision::kMinutes;
  if (name == "h") return Precision::kHours;
  return std::nullopt;
}

ParseResult parse_line_protocol(std::string_view body, Precision precision, Timestamp now_ms,
                                const ParseLimits& limits) {
  ParseResult result;
  detail::Scratch scratch;
  detail::LineError err;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t newline = body.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? body.size() : newline;
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line_no > limits.max_lines) {
      result.issues.push_back({line_no, "line",
                               "body has more than " + std::to_string(limits.max_lines) +
                                   " lines; the rest was not parsed"});
      result.truncated = true;
      break;
    }
    if (line.size() > limits.max_line_bytes) {
      result.issues.push_back(
          {line_no, "line",
           "line longer than " + std::to_string(limits.max_line_bytes) + " bytes"});
      continue;
    }
    while (!line.empty() && detail::is_blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && detail::is_blank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.find('\0') != std::string_view::npos) {
      result.issues.push_back({line_no, "line", "line contains a NUL byte"});
      continue;
    }
    if (!detail::parse_line(line, precision, now_ms, limits, scratch, result.samples, err)) {
      result.issues.push_back({line_no, std::move(err.field), std::move(err.reason)});
    }
    result.sample_lines.resize(result.samples.size(), line_no);
  }
  return result;
}

}  // namespace netpulse::tsdb
