// Ingest parsers: InfluxDB line protocol, the seeds' JSON and NetPulse CSV bodies turned into
// samples.
// Incremental parsers fed a body piece by piece as it arrives or inflates, and pure functions over
// a whole body built on them: no I/O, no clock (the caller passes "now"), no exceptions out.
// Hostile input yields issues, never a crash; every limit is explicit in ParseLimits. The accepted
// formats are written down in docs/format/ingest.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/tsdb/keyed_batch.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

// Unit of line protocol timestamps. InfluxDB v2 names ("ns","us","ms","s") and v1 names
// ("n","u","ms","s","m","h") are both accepted by parse_precision().
enum class Precision {
  kNanoseconds,
  kMicroseconds,
  kMilliseconds,
  kSeconds,
  kMinutes,
  kHours,
};

// The precision named by `name` ("ns","n","us","u","ms","s","m","h"; case-sensitive), or
// nullopt for anything else (including "").
std::optional<Precision> parse_precision(std::string_view name);

// Bounds applied while parsing; a body or line over a bound yields an issue, never a partial
// allocation of the hostile size.
struct ParseLimits {
  std::size_t max_lines = 100'000;           // lines (LP) or records incl. header (CSV) per body
  std::size_t max_line_bytes = 65'536;       // bytes of one line / record, excluding the newline
  std::size_t max_label_value_bytes = 1024;  // bytes of one label value
  std::size_t max_labels = 64;               // labels of one series
  std::size_t max_fields = 256;              // fields of one line protocol line
  // Bytes of series keys one line protocol body may produce. Every field of a line becomes a
  // sample carrying all of the line's tags, so without it a body of wide lines with many fields
  // would ask for hundreds of times its own size.
  std::size_t max_key_bytes = std::size_t{64} << 20;
  // JSON: nesting of arrays and objects (a sample array holds objects holding `tags`), and the
  // memory one sample's document may take while it is parsed (the body is never held whole);
  // also charged, 16 bytes per value or key plus its text, for what it pushes on the parser's
  // stack (counted, not measured, so that the verdict is the same wherever the body is cut).
  std::size_t max_json_depth = 8;
  std::size_t max_json_sample_bytes = 256u << 10;
  // JSON: a longer string or key is not kept; its sample gets an issue naming where it was.
  std::size_t max_json_string_bytes = 65'536;
};

// One sample ready for the store: metric + sorted, unique labels; sample.t in milliseconds.
struct ParsedSample {
  SeriesKey key;
  Sample sample;
  friend bool operator==(const ParsedSample&, const ParsedSample&) = default;
};

// Why one line (or CSV record) was refused. `line` is 1-based: the line number for line
// protocol, the line where the record starts for CSV (the header is line 1). `field` names the
// offending part ("measurement", "tag:<key>", "field:<key>", "timestamp", "line" for line
// protocol; the header's column name, "header" or "row" for CSV). `reason` is for people.
struct ParseIssue {
  std::size_t line = 0;
  std::string field;
  std::string reason;
  friend bool operator==(const ParseIssue&, const ParseIssue&) = default;
};

// Samples of the good lines and one issue per refused line, both in body order.
struct ParseResult {
  std::vector<ParsedSample> samples;
  std::vector<ParseIssue> issues;
  std::vector<std::size_t> sample_lines;  // parallel to `samples`: the line each came from
  // As in KeyedParseResult: too many lines (or key bytes); the rest was skipped.
  bool truncated = false;
  // Line protocol: string field values skipped (not stored, not an issue) in the good lines.
  std::size_t skipped_strings = 0;
};

// Samples of the good lines with their series keys, ready for Store::append(), and one issue
// per refused line, both in body order.
struct KeyedParseResult {
  KeyedBatch batch;
  std::vector<ParseIssue> issues;
  std::vector<std::size_t> sample_lines;  // parallel to `batch`: the line each came from
  // The body had more than limits.max_lines lines, or its keys more than limits.max_key_bytes
  // bytes: the rest was skipped, and the last issue says which.
  bool truncated = false;
  // String field values skipped (not stored, not an issue) in the good lines.
  std::size_t skipped_strings = 0;
  // The body is refused as a whole (kPayloadTooLarge): more samples than the parser's cap, or a
  // CSV record too long to carry from one piece to the next. Parsing stopped there.
  std::optional<core::Error> error;
};

// Parses an InfluxDB line protocol body. Each numeric or boolean (1 / 0) field of a good line
// becomes one sample: field `value` is named after the measurement, any other field
// `<measurement>_<field>`, tags become labels. String fields are skipped and counted
// (skipped_strings); a line of strings only stores nothing and is no issue. A quoted string may
// span newlines, as in InfluxDB; line numbers count newlines. A refused line contributes no
// sample and exactly one issue; the other lines still parse, so the caller decides between
// all-or-nothing and partial writes. `now_ms` stamps lines without a timestamp. Past
// `limits.max_lines` lines parsing stops with one issue. The rules, row by row against
// InfluxDB's reference, are in docs/tsdb.md.
ParseResult parse_line_protocol(std::string_view body, Precision precision, Timestamp now_ms,
                                const ParseLimits& limits);
// The same, straight into the series keys of `org_id`: what the ingest routes use (no label
// vector per sample).
KeyedParseResult parse_line_protocol(std::string_view body, Precision precision, Timestamp now_ms,
                                     const ParseLimits& limits, std::int64_t org_id);

// The end of the line protocol record that starts at `pos` in `body`: the index of the newline
// that ends it, or body.size(). A newline inside a quoted string field value does not end a
// record. Where a body may be cut in two without splitting a record.
std::size_t line_protocol_record_end(std::string_view body, std::size_t pos);

// Parses a line protocol body as it arrives, straight into the series keys of `org_id`: write()
// each piece (e.g. a buffer of inflated gzip), then take(). The result is parse_line_protocol()'s
// on the whole body however it is cut into pieces, line numbers included. Only the record a piece
// ends in is carried over to the next, and only while it is at most limits.max_line_bytes long: a
// longer one is an issue of its line whatever its length, its end found without keeping it. So
// the parser holds that carry-over and the samples so far. Parsing stops at the limits of
// parse_line_protocol() (`truncated`) and, with `error`, at the first line that takes the samples
// past `max_samples`. One instance per body, one thread at a time.
class LineProtocolParser {
 public:
  LineProtocolParser(Precision precision, Timestamp now_ms, const ParseLimits& limits,
                     std::size_t max_samples, std::int64_t org_id);
  ~LineProtocolParser();
  LineProtocolParser(const LineProtocolParser&) = delete;
  LineProtocolParser& operator=(const LineProtocolParser&) = delete;

  // Parses the next piece of the body; false once parsing has stopped (a limit), after which
  // further pieces are ignored.
  bool write(std::string_view piece);
  // The result, the body's last record (one not ended by a newline) included. Call once.
  KeyedParseResult take();
  // The most bytes of one record carried from a piece to the next so far.
  std::size_t peak_carry_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses a NetPulse CSV body: header `metric,value,timestamp[,<label name>...]` (first three
// names case-insensitive, in that order), then one sample per record; timestamps are Unix
// seconds, integer or decimal, kept to the millisecond. A bad header yields one issue and no
// samples; a bad record yields one issue and the others still parse.
ParseResult parse_csv(std::string_view body, const ParseLimits& limits);
// The same, straight into the series keys of `org_id`: what the ingest route uses.
KeyedParseResult parse_csv(std::string_view body, const ParseLimits& limits, std::int64_t org_id);

// Parses a CSV body as it arrives, straight into the series keys of `org_id`: write() each piece,
// then take(). The result is parse_csv()'s on the whole body however it is cut into pieces, line
// numbers included (the header applies to every later piece). The record a piece ends in is
// carried over to the next; one that grows past kCarryLineLimits line limits while carried
// (16 x limits.max_line_bytes, 1 MiB by default) stops parsing with `error`: its end cannot be
// found without keeping it. So the parser holds that carry-over and the samples so far. One
// instance per body, one thread at a time.
class CsvParser {
 public:
  static constexpr std::size_t kCarryLineLimits = 16;

  CsvParser(const ParseLimits& limits, std::int64_t org_id);
  ~CsvParser();
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;

  // Parses the next piece of the body; false once parsing has stopped (a bad header or a limit),
  // after which further pieces are ignored.
  bool write(std::string_view piece);
  // The result, the body's last record (one not ended by a newline) included. Call once.
  KeyedParseResult take();
  // The most bytes carried from a piece to the next so far.
  std::size_t peak_carry_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a JSON body gave: keyed samples, one issue per refused sample (`line` holds the sample's
// 0-based index in the array), the metadata ("type"/"unit") of the good samples that carried
// some, in body order, and `error` when the body as a whole is refused (not JSON, not samples,
// more than the sample cap, a sample too big to parse, the key budget).
struct JsonParseResult {
  KeyedBatch batch;
  std::vector<ParseIssue> issues;
  std::vector<std::size_t> sample_indexes;  // parallel to `batch`: the index each came from
  std::vector<MetricMetadata> metadata;
  std::optional<core::Error> error;
};

// Parses the seeds' JSON samples, `{metric_name, value, timestamp, tags, type, unit}` or an
// array of them, as the body arrives: write() each piece (e.g. a buffer of inflated gzip), then
// take(). Only one sample's document exists at a time (at most limits.max_json_sample_bytes);
// samples go straight into the batch for `org_id`. Parsing stops at once when the body is
// refused as a whole: more than `max_samples` samples, malformed JSON, nesting beyond
// limits.max_json_depth. Timestamps are in `precision` units (seconds by default in the API);
// `now_ms` stamps samples without one. One instance per body, one thread at a time.
class JsonSampleParser {
 public:
  JsonSampleParser(Precision precision, Timestamp now_ms, const ParseLimits& limits,
                   std::size_t max_samples, std::int64_t org_id);
  ~JsonSampleParser();
  JsonSampleParser(const JsonSampleParser&) = delete;
  JsonSampleParser& operator=(const JsonSampleParser&) = delete;

  // Parses the next piece of the body; false once the body is refused (take().error says why),
  // after which further pieces are ignored.
  bool write(std::string_view piece);
  // The body is complete; false if it is refused (an incomplete document included).
  bool finish();
  // The result (finishing first if need be). Call once.
  JsonParseResult take();
  // The most memory one sample's document (and the parser's value stack) took so far.
  std::size_t peak_sample_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole body at once: JsonSampleParser's write() then take().
JsonParseResult parse_json_samples(std::string_view body, Precision precision, Timestamp now_ms,
                                   const ParseLimits& limits, std::size_t max_samples,
                                   std::int64_t org_id);

// True if `name` is a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name);

// True if `name` is a usable label name: [a-zA-Z_][a-zA-Z0-9_]* not starting with "__"
// (reserved for NetPulse's own labels).
bool valid_label_name(std::string_view name);

// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view text);

// `name` with every byte outside [a-zA-Z0-9_:] replaced by '_', and '_' prepended if it would
// start with a digit. Returns "" for "" (the caller refuses empty names).
std::string sanitize_metric_name(std::string_view name);

// As sanitize_metric_name() but ':' is also replaced (label names may not contain it).
std::string sanitize_label_name(std::string_view name);

// Why `value` cannot be a label value (empty, longer than limits.max_label_value_bytes,
// contains NUL, not UTF-8), or "" if it can. The reason is a static string.
std::string_view label_value_problem(std::string_view value, const ParseLimits& limits);

// Sorts `labels` by name; fails with kInvalidInput (field "labels") on a duplicate name.
core::Result<LabelSet> normalize_labels(LabelSet labels);

}  // namespace netpulse::tsdb
