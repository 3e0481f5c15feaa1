// InfluxDB line protocol parser: `measurement[,tag=v...] field=v[,field=v...] [timestamp]` per
// line, turned into one sample per numeric field. The body is parsed piece by piece as it arrives
// (or inflates): a scanner that keeps its state between pieces finds where each record ends, and
// only the record a piece ends in is copied, to be finished with the next piece. Records are
// sliced with string_views; a token is copied to unescape it only when it holds a backslash,
// numbers go through std::from_chars, and per-line scratch buffers are reused so a line allocates
// little beyond the samples it emits. Every refusal names its line and the offending part;
// docs/format/ingest.md is the contract.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/series_key.hpp"

namespace netpulse::tsdb {
namespace detail {
namespace {

constexpr std::size_t kMaxNameInIssue = 64;

// What went wrong on one line, before the line number is attached.
struct LineError {
  std::string field;
  std::string reason;
};

// A field of the line being parsed: its key (unescaped) and value.
struct FieldEntry {
  std::string_view key;
  bool is_value = false;  // the key is "value": the metric is the measurement's name
  double value = 0;
};

// A tag of the line being parsed: its label name and value.
struct TagView {
  std::string_view name;
  std::string_view value;
};

// Buffers reused from line to line so their capacity is paid for once per body. Names and values
// that need unescaping or sanitizing are copied into `text`; the others are views of the line.
struct Scratch {
  std::string prefix;  // the org's key prefix
  std::string text;
  std::string unescaped;
  std::string key;
  std::vector<TagView> tags;
  std::vector<FieldEntry> fields;
  std::size_t skipped_strings = 0;  // string field values skipped so far in the body
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

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Finds where a record ends, one piece of the body at a time: what it has seen of the record
// carries over from one piece to the next, so a record is scanned once however the body is cut,
// and one too long to keep can be skipped without keeping it. The rules are those of
// line_protocol_record_end().
class RecordScanner {
 public:
  // Scans `text` from `pos` as the continuation of the current record: the index of the newline
  // that ends it, or npos if the record goes on past `text`.
  std::size_t scan(std::string_view text, std::size_t pos);
  // Newlines inside the current record (in its quoted strings) so far.
  std::size_t inner_newlines() const { return inner_newlines_; }
  // Starts the next record.
  void reset() { *this = RecordScanner(); }

 private:
  enum class Part : std::uint8_t {
    kLead,     // blanks before the record
    kComment,  // a line starting with '#'
    kSeries,   // measurement and tags: up to the first unescaped space
    kFields,   // fields and timestamp
    kString,   // a quoted string field value: up to the next unescaped quote
  };
  Part part_ = Part::kLead;
  bool escaped_ = false;      // the last byte was a backslash: it takes the next byte with it
  bool value_start_ = false;  // kFields: the last byte was an '=' (a value starts next)
  std::size_t inner_newlines_ = 0;
};

std::size_t RecordScanner::scan(std::string_view text, std::size_t i) {
  const std::size_t n = text.size();
  while (i < n) {
    if (escaped_) {
      // The escaped byte, except a newline outside a string: that always ends the record.
      escaped_ = false;
      if (text[i] == '\n') {
        if (part_ != Part::kString) return i;
        ++inner_newlines_;
      }
      ++i;
      continue;
    }
    switch (part_) {
      case Part::kLead:
        if (is_blank(text[i])) {
          ++i;
        } else {
          part_ = text[i] == '#' ? Part::kComment : Part::kSeries;
        }
        break;
      case Part::kComment:
        return text.find('\n', i);
      case Part::kSeries:  // quotes are ordinary bytes here
        for (; i < n; ++i) {
          const char c = text[i];
          if (c == '\n') return i;
          if (c == ' ') {
            part_ = Part::kFields;
            ++i;
            break;
          }
          if (c == '\\') {
            escaped_ = true;
            ++i;
            break;
          }
        }
        break;
      case Part::kFields:  // a value that starts with a quote is a string
        for (; i < n; ++i) {
          const char c = text[i];
          if (c == '\n') return i;
          if (c == '"' && value_start_) {
            part_ = Part::kString;
            ++i;
            break;
          }
          value_start_ = c == '=';
          if (c == '\\') {
            escaped_ = true;
            ++i;
            break;
          }
        }
        break;
      case Part::kString:  // newlines included
        for (; i < n; ++i) {
          const char c = text[i];
          if (c == '"') {
            part_ = Part::kFields;
            value_start_ = false;
            ++i;
            break;
          }
          if (c == '\\') {
            escaped_ = true;
            ++i;
            break;
          }
          if (c == '\n') ++inner_newlines_;
        }
        break;
    }
  }
  return std::string_view::npos;
}

}  // namespace
}  // namespace detail

std::size_t line_protocol_record_end(std::string_view body, std::size_t pos) {
  detail::RecordScanner scanner;
  const std::size_t end = scanner.scan(body, pos);
  return end == std::string_view::npos ? body.size() : end;
}

std::optional<Precision> parse_precision(std::string_view name) {
  if (name == "ns" || name == "n") return Precision::kNanoseconds;
  if (name == "us" || name == "u") return Precision::kMicroseconds;
  if (name == "ms") return Precision::kMilliseconds;
  if (name == "s") return Precision::kSeconds;
  if (name == "m") return Precision::kMinutes;
  if (name == "h") return Precision::kHours;
  return std::nullopt;
}

struct LineProtocolParser::Impl {
  Impl(Precision precision, Timestamp now_ms, const ParseLimits& limits, std::size_t max_samples,
       std::int64_t org_id)
      : precision_(precision),
        now_ms_(now_ms),
        limits_(limits),
        max_samples_(max_samples),
        key_bytes_left_(limits.max_key_bytes) {
    detail::append_org_prefix(scratch_.prefix, org_id);
  }

  bool write(std::string_view piece) {
    if (stopped_) return false;
    if (!reserved_) {
      // A guess from the benchmark's lines (~65 bytes, ~45 of key), from the first piece (the
      // whole body when it is not compressed): enough that the buffers rarely grow, bounded by
      // the piece so a small request reserves little.
      result_.batch.reserve(piece.size() / 48 + 1, piece.size());
      reserved_ = true;
    }
    std::size_t pos = 0;
    if (in_record_) {
      const std::size_t end = scanner_.scan(piece, 0);
      keep(piece.substr(0, end == std::string_view::npos ? piece.size() : end));
      if (end == std::string_view::npos) return true;
      in_record_ = false;
      end_record(carry_, carry_bytes_);
      pos = end + 1;
    }
    while (pos < piece.size() && !stopped_) {
      if (line_no_ > limits_.max_lines) {
        result_.issues.push_back({line_no_, "line",
                                  "body has more than " + std::to_string(limits_.max_lines) +
                                      " lines; the rest was not parsed"});
        result_.truncated = true;
        stopped_ = true;
        break;
      }
      scanner_.reset();
      const std::size_t end = scanner_.scan(piece, pos);
      if (end == std::string_view::npos) {
        // The record goes on in the next piece.
        in_record_ = true;
        carry_.clear();
        carry_bytes_ = 0;
        keep(piece.substr(pos));
        break;
      }
      end_record(piece.substr(pos, end - pos), end - pos);
      pos = end + 1;
    }
    return !stopped_;
  }

  KeyedParseResult take() {
    if (in_record_ && !stopped_) end_record(carry_, carry_bytes_);  // no newline after it
    in_record_ = false;
    result_.skipped_strings = scratch_.skipped_strings;
    return std::move(result_);
  }

  // Keeps `part` of the record that goes on past the piece, while the record is short enough to
  // be parsed at all; of a longer one only the length is kept.
  void keep(std::string_view part) {
    carry_bytes_ += part.size();
    if (carry_bytes_ <= limits_.max_line_bytes) {
      carry_.append(part);
      peak_carry_bytes_ = std::max(peak_carry_bytes_, carry_.size());
    } else {
      carry_.clear();
    }
  }

  // The record of `bytes` bytes starting on line line_no_ has ended; `line` is its text unless
  // it is longer than the line limit.
  void end_record(std::string_view line, std::size_t bytes) {
    const std::size_t line_no = line_no_;
    // Line numbers count newlines, so a record with a string spanning lines keeps them right.
    line_no_ += 1 + scanner_.inner_newlines();
    if (bytes > limits_.max_line_bytes) {
      result_.issues.push_back(
          {line_no, "line",
           "line longer than " + std::to_string(limits_.max_line_bytes) + " bytes"});
      return;
    }
    while (!line.empty() && detail::is_blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && detail::is_blank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') return;
    if (line.find('\0') != std::string_view::npos) {
      result_.issues.push_back({line_no, "line", "line contains a NUL byte"});
      return;
    }
    bool over_budget = false;
    if (!detail::parse_line(line, precision_, now_ms_, limits_, scratch_, result_.batch,
                            key_bytes_left_, over_budget, err_)) {
      result_.issues.push_back({line_no, std::move(err_.field), std::move(err_.reason)});
      if (over_budget) {
        result_.truncated = true;
        stopped_ = true;
      }
      return;
    }
    result_.sample_lines.resize(result_.batch.size(), line_no);
    if (result_.batch.size() > max_samples_) {
      result_.error = core::Error(
          core::Errc::kPayloadTooLarge,
          fmt::format("at most {} samples per request; this one has more (parsing stopped at "
                      "line {})",
                      max_samples_, line_no),
          {{"field", "body"}});
      stopped_ = true;
    }
  }

  const Precision precision_;
  const Timestamp now_ms_;
  const ParseLimits limits_;
  const std::size_t max_samples_;
  detail::Scratch scratch_;
  detail::LineError err_;
  detail::RecordScanner scanner_;
  KeyedParseResult result_;
  std::size_t key_bytes_left_;
  std::size_t line_no_ = 1;  // the line on which the current record starts
  bool in_record_ = false;   // the current record began in an earlier piece
  std::string carry_;        // its bytes so far, while at most limits_.max_line_bytes
  std::size_t carry_bytes_ = 0;
  std::size_t peak_carry_bytes_ = 0;
  bool reserved_ = false;
  bool stopped_ = false;
};

LineProtocolParser::LineProtocolParser(Precision precision, Timestamp now_ms,
                                       const ParseLimits& limits, std::size_t max_samples,
                                       std::int64_t org_id)
    : impl_(std::make_unique<Impl>(precision, now_ms, limits, max_samples, org_id)) {}

LineProtocolParser::~LineProtocolParser() = default;

bool LineProtocolParser::write(std::string_view piece) {
  return impl_->write(piece);
}

KeyedParseResult LineProtocolParser::take() {
  return impl_->take();
}

std::size_t LineProtocolParser::peak_carry_bytes() const noexcept {
  return impl_->peak_carry_bytes_;
}

KeyedParseResult parse_line_protocol(std::string_view body, Precision precision, Timestamp now_ms,
                                     const ParseLimits& limits, std::int64_t org_id) {
  LineProtocolParser parser(precision, now_ms, limits, std::numeric_limits<std::size_t>::max(),
                            org_id);
  parser.write(body);
  return parser.take();
}

ParseResult parse_line_protocol(std::string_view body, Precision precision, Timestamp now_ms,
                                const ParseLimits& limits) {
  KeyedParseResult keyed = parse_line_protocol(body, precision, now_ms, limits, 0);
  ParseResult result;
  result.samples.reserve(keyed.batch.size());
  for (std::size_t i = 0; i < keyed.batch.size(); ++i) {
    result.samples.push_back(
        {detail::decode_series_key(keyed.batch.key(i).substr(detail::kOrgPrefixBytes)),
         keyed.batch.sample(i)});
  }
  result.issues = std::move(keyed.issues);
  result.sample_lines = std::move(keyed.sample_lines);
  result.truncated = keyed.truncated;
  result.skipped_strings = keyed.skipped_strings;
  return result;
}

}  // namespace netpulse::tsdb
