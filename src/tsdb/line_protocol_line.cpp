// Line protocol, one record at a time: `measurement[,tag=v...] field=v[,field=v...] [timestamp]`
// turned into one sample per numeric field. Records are sliced with string_views; a token is
// copied to unescape it only when it holds a backslash, numbers go through std::from_chars, and
// the per-line scratch buffers (detail/line_protocol.hpp) are reused so a line allocates little
// beyond the samples it emits. Every refusal names the offending part; docs/format/ingest.md is
// the contract. Finding where records end in a body is line_protocol.cpp.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/line_protocol.hpp"
#include "detail/series_key.hpp"

namespace netpulse::tsdb::detail {
namespace {

constexpr std::size_t kMaxNameInIssue = 64;

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

// Why a measurement, tag key or field key (unescaped) cannot be a name, or "": names are
// sanitized to [a-zA-Z0-9_:] later, but bytes that are not text at all are refused rather than
// turned into underscores, so two different binary names cannot become the same series.
std::string_view name_problem(std::string_view name) {
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
  }
  if (!valid_utf8(name)) return "is not valid UTF-8";
  return {};
}

// Byte classes: the scanning loops make one table lookup per byte.
enum ByteClass : std::uint8_t {
  kComma = 1,
  kSpace = 2,
  kEquals = 4,
  kBackslash = 8,
  kNameByte = 16,  // [a-zA-Z0-9_:]
  kColon = 32,
};
// Where a measurement or tag value ends, and where a tag or field key ends (also the bytes a
// backslash escapes in each).
constexpr std::uint8_t kValueStops = kComma | kSpace;
constexpr std::uint8_t kKeyStops = kComma | kEquals | kSpace;

constexpr std::array<std::uint8_t, 256> kByteClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kNameByte;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kNameByte;
  for (int c = '0'; c <= '9'; ++c) t[c] = kNameByte;
  t['_'] = kNameByte;
  t[':'] = kNameByte | kColon;
  t[','] = kComma;
  t[' '] = kSpace;
  t['='] = kEquals;
  t['\\'] = kBackslash;
  return t;
}();

inline std::uint8_t byte_class(char c) {
  return kByteClass[static_cast<unsigned char>(c)];
}

inline bool is_name_byte(char c) {
  return (byte_class(c) & kNameByte) != 0;
}

// Scans an escapable token from `pos` to the first unescaped byte of class `stops` (or the end).
// A backslash always takes the next byte with it, so `\\,` is an escaped backslash followed by a
// real comma. Returns false if the line ends right after a backslash.
bool scan_token(std::string_view line, std::size_t& pos, std::uint8_t stops,
                std::string_view& token, bool& escaped) {
  const std::size_t start = pos;
  escaped = false;
  while (pos < line.size()) {
    const std::uint8_t cls = byte_class(line[pos]);
    if ((cls & (stops | kBackslash)) == 0) {
      ++pos;
      continue;
    }
    if (cls & stops) break;
    if (pos + 1 == line.size()) return false;
    escaped = true;
    pos += 2;
  }
  token = line.substr(start, pos - start);
  return true;
}

// Writes `token` to `out` with `\c` turned into `c` for c of class `specials` or a backslash;
// any other backslash stays literal, as InfluxDB does.
void unescape(std::string_view token, std::uint8_t specials, std::string& out) {
  out.clear();
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (c == '\\' && i + 1 < token.size() &&
        (byte_class(token[i + 1]) & (specials | kBackslash)) != 0) {
      out.push_back(token[++i]);
    } else {
      out.push_back(c);
    }
  }
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

// Copies `text` into the line's arena and returns the copy. The arena's capacity is reserved for
// the whole line before parsing it (see Scratch), so earlier views into it stay valid.
std::string_view stash(Scratch& s, std::string_view text) {
  if (s.text.size() + text.size() > s.text.capacity()) std::abort();  // a bug in this file
  const std::size_t at = s.text.size();
  s.text.append(text);
  return std::string_view(s.text).substr(at);
}

// `name` as a metric (allow_colon) or label name: itself when it already is one, else its
// sanitize_*_name() form in the arena.
std::string_view clean_name(Scratch& s, std::string_view name, bool allow_colon) {
  const bool digit_first = !name.empty() && name.front() >= '0' && name.front() <= '9';
  const std::uint8_t refused = allow_colon ? 0 : kColon;
  const bool clean = !digit_first && std::all_of(name.begin(), name.end(), [&](char c) {
    const std::uint8_t cls = byte_class(c);
    return (cls & kNameByte) != 0 && (cls & refused) == 0;
  });
  if (clean) return name;
  return stash(s, allow_colon ? sanitize_metric_name(name) : sanitize_label_name(name));
}

// The token's text: itself when unescaped, else its unescaped copy in the arena.
std::string_view token_text(Scratch& s, std::string_view token, bool escaped,
                            std::uint8_t specials) {
  if (!escaped) return token;
  unescape(token, specials, s.unescaped);
  return stash(s, s.unescaped);
}

// Whether fields `a` and `b` map to the same metric: both `value`, or the same bytes once each
// non-name byte is read as '_'.
bool same_metric(const FieldEntry& a, const FieldEntry& b) {
  if (a.is_value || b.is_value) return a.is_value && b.is_value;
  if (a.key.size() != b.key.size()) return false;
  for (std::size_t i = 0; i < a.key.size(); ++i) {
    const char x = is_name_byte(a.key[i]) ? a.key[i] : '_';
    const char y = is_name_byte(b.key[i]) ? b.key[i] : '_';
    if (x != y) return false;
  }
  return true;
}

}  // namespace

// Parses one non-blank, non-comment line, appending one sample per field to `out` (keys for the
// org whose key prefix is `s.prefix`) on success. On failure nothing is appended and `err` says
// why. `key_bytes_left` is what the body's keys may still take; a line that would overrun it is
// refused with `over_budget` set.
bool parse_line(std::string_view line, Precision precision, Timestamp now_ms,
                const ParseLimits& limits, Scratch& s, KeyedBatch& out, std::size_t& key_bytes_left,
                bool& over_budget, LineError& err) {
  std::size_t pos = 0;
  std::string_view token;
  bool escaped = false;
  // Every name or value kept from this line fits: unescaping never grows a token and sanitizing
  // adds at most one byte, so a token takes at most twice its length plus one.
  s.text.clear();
  s.text.reserve(3 * line.size() + 16);

  // Measurement.
  if (!scan_token(line, pos, kValueStops, token, escaped)) {
    err = error("measurement", "line ends with a backslash");
    return false;
  }
  if (token.empty()) {
    err = error("measurement", "missing measurement");
    return false;
  }
  const std::string_view raw_measurement = token_text(s, token, escaped, kValueStops);
  if (const std::string_view problem = name_problem(raw_measurement); !problem.empty()) {
    err = error("measurement", problem);
    return false;
  }
  const std::string_view measurement = clean_name(s, raw_measurement, true);

  // Tags.
  s.tags.clear();
  while (pos < line.size() && line[pos] == ',') {
    ++pos;
    std::string_view key_token;
    bool key_escaped = false;
    if (!scan_token(line, pos, kKeyStops, key_token, key_escaped)) {
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
    if (!scan_token(line, pos, kValueStops, value_token, value_escaped)) {
      err = error(field(), "line ends with a backslash");
      return false;
    }
    if (s.tags.size() == limits.max_labels) {
      err = error("line", "more than " + std::to_string(limits.max_labels) + " tags");
      return false;
    }
    const std::string_view raw_name = token_text(s, key_token, key_escaped, kKeyStops);
    if (const std::string_view problem = name_problem(raw_name); !problem.empty()) {
      err = error(field(), problem);
      return false;
    }
    const std::string_view name = clean_name(s, raw_name, false);
    if (!valid_label_name(name)) {
      err = error(field(), "tag key '" + printable(name) + "' is reserved (starts with \"__\")");
      return false;
    }
    if (value_token.size() > limits.max_label_value_bytes) {
      err = error(field(), "label value longer than the limit");
      return false;
    }
    const std::string_view value = token_text(s, value_token, value_escaped, kKeyStops);
    if (const std::string_view problem = label_value_problem(value, limits); !problem.empty()) {
      err = error(field(), problem);
      return false;
    }
    s.tags.push_back({name, value});
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
  s.fields.clear();
  std::size_t line_strings = 0;  // string values skipped, counted once the line stands
  while (true) {
    std::string_view key_token;
    bool key_escaped = false;
    if (!scan_token(line, pos, kKeyStops, key_token, key_escaped)) {
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
      // A string value: NetPulse stores numbers, so it is skipped and counted, never refused
      // (Telegraf sends strings such as system's uptime_format in every batch). It runs to the
      // first quote not escaped by a backslash, newlines included (see record_end()).
      std::size_t i = pos + 1;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i >= line.size()) {
        err = error("field:" + printable(key_token), "unterminated string value");
        return false;
      }
      pos = i + 1;
      if (pos < line.size() && line[pos] != ',' && line[pos] != ' ') {
        err = error("field:" + printable(key_token), "unexpected bytes after a string value");
        return false;
      }
      if (const std::string_view problem =
              name_problem(token_text(s, key_token, key_escaped, kKeyStops));
          !problem.empty()) {
        err = error("field:" + printable(key_token), problem);
        return false;
      }
      ++line_strings;
      if (pos == line.size() || line[pos] == ' ') break;
      ++pos;  // the ',' between fields
      if (pos == line.size()) {
        err = error("field", "empty field key");
        return false;
      }
      continue;
    }
    std::size_t value_end = pos;
    while (value_end < line.size() && line[value_end] != ',' && line[value_end] != ' ') {
      ++value_end;
    }
    double value = 0;
    if (const std::string_view problem =
            parse_field_value(line.substr(pos, value_end - pos), value);
        !problem.empty()) {
      err = error("field:" + printable(key_token), problem);
      return false;
    }
    pos = value_end;
    if (s.fields.size() == limits.max_fields) {
      err = error("line", "more than " + std::to_string(limits.max_fields) + " fields");
      return false;
    }
    FieldEntry entry;
    entry.key = token_text(s, key_token, key_escaped, kKeyStops);
    if (const std::string_view problem = name_problem(entry.key); !problem.empty()) {
      err = error("field:" + printable(key_token), problem);
      return false;
    }
    entry.is_value = entry.key == "value";
    entry.value = value;
    for (const FieldEntry& other : s.fields) {
      if (same_metric(other, entry)) {
        err = error("field:" + printable(key_token),
                    "duplicate field (or two fields mapping to the same metric name)");
        return false;
      }
    }
    s.fields.push_back(entry);
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

  const auto by_name = [](const TagView& a, const TagView& b) { return a.name < b.name; };
  if (!std::is_sorted(s.tags.begin(), s.tags.end(), by_name)) {
    std::sort(s.tags.begin(), s.tags.end(), by_name);
  }
  const auto dup =
      std::adjacent_find(s.tags.begin(), s.tags.end(),
                         [](const TagView& a, const TagView& b) { return a.name == b.name; });
  if (dup != s.tags.end()) {
    err = error("tag:" + printable(dup->name), "duplicate tag key");
    return false;
  }

  // The keys: org prefix, metric, then NUL name NUL value per tag (detail/series_key.hpp).
  std::size_t tag_bytes = 0;
  for (const TagView& tag : s.tags) tag_bytes += 2 + tag.name.size() + tag.value.size();
  std::size_t line_key_bytes = 0;
  for (const FieldEntry& f : s.fields) {
    line_key_bytes +=
        s.prefix.size() + measurement.size() + tag_bytes + (f.is_value ? 0 : 1 + f.key.size());
  }
  if (line_key_bytes > key_bytes_left) {
    over_budget = true;
    err = error("line", "the body's series keys would take more than " +
                            std::to_string(limits.max_key_bytes) + " bytes");
    return false;
  }
  key_bytes_left -= line_key_bytes;
  for (const FieldEntry& f : s.fields) {
    s.key.assign(s.prefix);
    s.key.append(measurement);
    if (!f.is_value) {
      s.key.push_back('_');
      for (char c : f.key) s.key.push_back(is_name_byte(c) ? c : '_');
    }
    for (const TagView& tag : s.tags) {
      s.key.push_back('\0');
      s.key.append(tag.name);
      s.key.push_back('\0');
      s.key.append(tag.value);
    }
    out.push(s.key, Sample{t, f.value});
  }
  s.skipped_strings += line_strings;
  return true;
}

}  // namespace netpulse::tsdb::detail
