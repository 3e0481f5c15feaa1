// InfluxDB line protocol parser over a body that arrives in pieces (or inflates): a scanner that
// keeps its state between pieces finds where each record ends, and only the record a piece ends
// in is copied, to be finished with the next piece; each record is then parsed where it lies by
// parse_line() (line_protocol_line.cpp), which turns it into one sample per numeric field. Every
// refusal names its line and the offending part; docs/format/ingest.md is the contract.
#include "detail/line_protocol.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/series_key.hpp"

namespace netpulse::tsdb {
namespace detail {

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