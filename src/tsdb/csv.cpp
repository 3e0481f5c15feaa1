// NetPulse CSV parser: a header `metric,value,timestamp[,<label name>...]` and one sample per
// record, with RFC 4180 quoting (quoted cells may hold commas, newlines and doubled quotes) and
// LF or CRLF record ends, parsed piece by piece as the body arrives (or inflates) straight into the
// store's series keys. Cells are string_views into the piece; only the record a piece ends in is
// copied, to be finished with the next piece, and a quoted cell is copied only when it holds a
// doubled quote. Names are validated, never sanitized: this is NetPulse's own format.
// docs/format/ingest.md is the contract.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <netpulse/core/csv.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/series_key.hpp"

namespace netpulse::tsdb {
namespace detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
           return lower(x) == lower(y);
         });
}

// Parses a value cell; returns "" or why it was refused.
std::string_view parse_value(std::string_view text, double& out) {
  if (text.empty()) return "missing value";
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, out, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return "value out of range";
  if (ec != std::errc{} || ptr != last) return "value is not a number";
  if (std::isnan(out)) return "NaN is not accepted";
  if (std::isinf(out)) return "infinity is not accepted";
  return {};
}

// Parses Unix seconds `digits[.digits]` to milliseconds, dropping digits past the third decimal.
std::string_view parse_seconds(std::string_view text, Timestamp& out) {
  if (text.empty()) return "missing timestamp";
  if (text.front() == '-') return "timestamps before 1970 are not accepted";
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty())) {
    return "timestamp is not Unix seconds";
  }
  std::int64_t seconds = 0;
  const auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec == std::errc::result_out_of_range) return "timestamp out of range";
  if (ec != std::errc{} || ptr != whole.data() + whole.size()) {
    return "timestamp is not Unix seconds";
  }
  std::int64_t millis = 0;
  for (std::size_t i = 0; i < fraction.size(); ++i) {
    const char c = fraction[i];
    if (c < '0' || c > '9') return "timestamp is not Unix seconds";
    if (i < 3) millis = millis * 10 + (c - '0');
  }
  for (std::size_t i = fraction.size(); i < 3; ++i) millis *= 10;
  if (__builtin_mul_overflow(seconds, std::int64_t{1000}, &out) ||
      __builtin_add_overflow(out, millis, &out)) {
    return "timestamp out of range";
  }
  return {};
}

constexpr std::size_t kFixedColumns = 3;

}  // namespace
}  // namespace detail

struct CsvParser::Impl {
  Impl(const ParseLimits& limits, std::int64_t org_id) : limits_(limits) {
    detail::append_org_prefix(prefix_, org_id);
  }

  bool write(std::string_view piece) {
    if (stopped_ || piece.empty()) return !stopped_;
    if (!seen_bytes_) {
      // A guess from the first piece (the whole body when it is not compressed): records and
      // keys take about as many bytes, a record some 40.
      result_.batch.reserve(piece.size() / 40 + 1, piece.size());
    }
    if (carry_.empty()) {
      // Records are parsed where they lie; only the last, unfinished one is copied.
      const std::size_t used = parse(piece, false);
      if (!stopped_) carry_.assign(piece.substr(used));
    } else {
      carry_.append(piece);
      // A record ends only at a newline, so without one the carried record goes on.
      if (piece.find('\n') != std::string_view::npos) carry_.erase(0, parse(carry_, false));
      const std::size_t bound = CsvParser::kCarryLineLimits * limits_.max_line_bytes;
      if (!stopped_ && carry_.size() > bound) {
        result_.error = core::Error(
            core::Errc::kPayloadTooLarge,
            fmt::format("the record on line {} is longer than {} bytes; parsing stopped there",
                        line_no_, bound),
            {{"field", "body"}});
        stopped_ = true;
      }
    }
    peak_carry_bytes_ = std::max(peak_carry_bytes_, carry_.size());
    return !stopped_;
  }

  KeyedParseResult take() {
    if (!seen_bytes_) {
      result_.issues.push_back({1, "header", "empty body; a header row is required"});
    } else if (!stopped_ && !carry_.empty()) {
      parse(carry_, true);  // the last record, not ended by a newline
    }
    carry_.clear();
    return std::move(result_);
  }

  // Parses the records of `text`, which starts on line line_no_: all of them if `last` (the end
  // of the body), else those ended by a newline. Returns the bytes used.
  std::size_t parse(std::string_view text, bool last) {
    seen_bytes_ = true;
    core::CsvReader reader(text);
    std::size_t used = 0;
    std::size_t next_line = 1;  // in `text`
    while (!reader.at_end() && !stopped_) {
      const std::string_view problem =
          reader.read(cells_, header_done_ ? columns_ + 1 : max_header_cells_, bytes_, cell_count_);
      if (!last && !reader.record_ended_by_newline()) break;  // goes on in the next piece
      used = reader.position();
      next_line = reader.line();
      const std::size_t line = line_no_ + reader.record_line() - 1;
      if (header_done_) {
        record(problem, line);
      } else {
        header(problem);
      }
    }
    line_no_ += next_line - 1;
    return used;
  }

  // The header row (line 1): the label columns, or one issue and no samples.
  void header(std::string_view problem) {
    header_done_ = true;
    const auto refuse = [&](std::string reason) {
      result_.issues.push_back({1, "header", std::move(reason)});
      stopped_ = true;
    };
    if (!problem.empty()) return refuse(std::string(problem));
    if (bytes_ > limits_.max_line_bytes) return refuse("header longer than the line limit");
    constexpr std::string_view kFixed[detail::kFixedColumns] = {"metric", "value", "timestamp"};
    if (cell_count_ < detail::kFixedColumns) {
      return refuse("header must start with metric,value,timestamp");
    }
    for (std::size_t i = 0; i < detail::kFixedColumns; ++i) {
      if (cells_[i].has_doubled_quotes || !detail::iequals(cells_[i].raw, kFixed[i])) {
        return refuse("column " + std::to_string(i + 1) + " must be '" + std::string(kFixed[i]) +
                      "'");
      }
    }
    if (cell_count_ - detail::kFixedColumns > limits_.max_labels) {
      return refuse("more than " + std::to_string(limits_.max_labels) + " label columns");
    }
    for (std::size_t i = detail::kFixedColumns; i < cells_.size(); ++i) {
      const std::string_view name = cells_[i].raw;
      if (cells_[i].has_doubled_quotes || !valid_label_name(name)) {
        return refuse("column " + std::to_string(i + 1) +
                      " is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading \"__\")");
      }
      label_names_.emplace_back(name);
    }
    // Label columns in name order, so each record's labels come out sorted without a sort.
    label_order_.resize(label_names_.size());
    std::iota(label_order_.begin(), label_order_.end(), std::size_t{0});
    std::sort(label_order_.begin(), label_order_.end(),
              [&](std::size_t a, std::size_t b) { return label_names_[a] < label_names_[b]; });
    for (std::size_t i = 1; i < label_order_.size(); ++i) {
      if (label_names_[label_order_[i]] == label_names_[label_order_[i - 1]]) {
        return refuse("duplicate label column '" + label_names_[label_order_[i]] + "'");
      }
    }
    columns_ = detail::kFixedColumns + label_names_.size();
  }

  // One record after the header, starting on `line`.
  void record(std::string_view problem, std::size_t line) {
    if (problem.empty() && cell_count_ == 1 && cells_[0].raw.empty() &&
        !cells_[0].has_doubled_quotes && bytes_ == 0) {
      return;  // blank line
    }
    if (++records_ > limits_.max_lines) {
      result_.issues.push_back({line, "row",
                                "body has more than " + std::to_string(limits_.max_lines) +
                                    " records; the rest was not parsed"});
      result_.truncated = true;
      stopped_ = true;
      return;
    }
    if (!problem.empty()) {
      result_.issues.push_back({line, "row", std::string(problem)});
      return;
    }
    if (bytes_ > limits_.max_line_bytes) {
      result_.issues.push_back(
          {line, "row", "record longer than " + std::to_string(limits_.max_line_bytes) + " bytes"});
      return;
    }
    if (cell_count_ != columns_) {
      result_.issues.push_back(
          {line, "row",
           "expected " + std::to_string(columns_) + " cells, got " + std::to_string(cell_count_)});
      return;
    }
    const std::string_view metric = core::csv_cell_text(cells_[0], buffer_);
    if (!valid_metric_name(metric)) {
      result_.issues.push_back(
          {line, "metric", "not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"});
      return;
    }
    // The canonical key: org prefix, metric, then NUL name NUL value per label
    // (detail/series_key.hpp).
    key_.assign(prefix_);
    key_.append(metric);
    Sample sample;
    if (const std::string_view why =
            detail::parse_value(core::csv_cell_text(cells_[1], buffer_), sample.v);
        !why.empty()) {
      result_.issues.push_back({line, "value", std::string(why)});
      return;
    }
    if (const std::string_view why =
            detail::parse_seconds(core::csv_cell_text(cells_[2], buffer_), sample.t);
        !why.empty()) {
      result_.issues.push_back({line, "timestamp", std::string(why)});
      return;
    }
    for (const std::size_t index : label_order_) {
      const std::string_view value =
          core::csv_cell_text(cells_[detail::kFixedColumns + index], buffer_);
      if (value.empty()) continue;
      if (const std::string_view why = label_value_problem(value, limits_); !why.empty()) {
        result_.issues.push_back({line, label_names_[index], std::string(why)});
        return;
      }
      key_.push_back('\0');
      key_.append(label_names_[index]);
      key_.push_back('\0');
      key_.append(value);
    }
    result_.batch.push(key_, sample);
    result_.sample_lines.push_back(line);
  }

  const ParseLimits limits_;
  // Cells of the header kept: enough to tell "too many label columns" from the rest.
  const std::size_t max_header_cells_ = detail::kFixedColumns + limits_.max_labels + 1;
  std::string prefix_;  // the org's key prefix
  KeyedParseResult result_;
  bool header_done_ = false;
  std::vector<std::string> label_names_;
  std::vector<std::size_t> label_order_;  // label columns by name
  std::size_t columns_ = 0;
  std::size_t records_ = 1;  // the header included
  std::vector<core::CsvCell> cells_;
  std::size_t bytes_ = 0;
  std::size_t cell_count_ = 0;
  std::string buffer_;  // a cell's text with doubled quotes collapsed
  std::string key_;
  std::string carry_;        // the record the last piece ended in
  std::size_t line_no_ = 1;  // the line on which carry_ (or the next piece) starts
  std::size_t peak_carry_bytes_ = 0;
  bool seen_bytes_ = false;
  bool stopped_ = false;
};

CsvParser::CsvParser(const ParseLimits& limits, std::int64_t org_id)
    : impl_(std::make_unique<Impl>(limits, org_id)) {}

CsvParser::~CsvParser() = default;

bool CsvParser::write(std::string_view piece) {
  return impl_->write(piece);
}

KeyedParseResult CsvParser::take() {
  return impl_->take();
}

std::size_t CsvParser::peak_carry_bytes() const noexcept {
  return impl_->peak_carry_bytes_;
}

KeyedParseResult parse_csv(std::string_view body, const ParseLimits& limits, std::int64_t org_id) {
  CsvParser parser(limits, org_id);
  parser.write(body);
  return parser.take();
}

ParseResult parse_csv(std::string_view body, const ParseLimits& limits) {
  KeyedParseResult keyed = parse_csv(body, limits, 0);
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
  return result;
}

}  // namespace netpulse::tsdb
