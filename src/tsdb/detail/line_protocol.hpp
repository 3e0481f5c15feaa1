// Line protocol parsing, the pieces its two files share: line_protocol_line.cpp parses one
// record (escaping, names, tags, fields, timestamps) and line_protocol.cpp finds where records end
// in a body that arrives in pieces and drives the line parser over them. Private to the tsdb
// module; the contract is docs/format/ingest.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/tsdb/ingest_parse.hpp>

namespace netpulse::tsdb::detail {

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

// Parses one non-blank, non-comment line, appending one sample per field to `out` (keys for the
// org whose key prefix is `s.prefix`) on success. On failure nothing is appended and `err` says
// why. `key_bytes_left` is what the body's keys may still take; a line that would overrun it is
// refused with `over_budget` set.
bool parse_line(std::string_view line, Precision precision, Timestamp now_ms,
                const ParseLimits& limits, Scratch& s, KeyedBatch& out, std::size_t& key_bytes_left,
                bool& over_budget, LineError& err);

// A blank that may surround a record (a '\r' before the newline included).
inline bool is_blank(char c) {
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

}  // namespace netpulse::tsdb::detail
