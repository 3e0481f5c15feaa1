// NetPulse CSV parser: a header `metric,value,timestamp[,<label name>...]` and one sample per
// record, with RFC 4180 quoting (quoted cells may hold commas, newlines and doubled quotes) and
// LF or CRLF record ends. Cells are string_views into the body; a quoted cell is copied only when
// it holds a doubled quote. Names are validated, never sanitized: this is NetPulse's own format.
// docs/format/ingest.md is the contract.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <netpulse/core/csv.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>

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

ParseResult parse_csv(std::string_view body, const ParseLimits& limits) {
  ParseResult result;
  core::CsvReader reader(body);
  std::vector<core::CsvCell> cells;
  std::string buffer;
  std::size_t bytes = 0;
  std::size_t cell_count = 0;

  if (body.empty()) {
    result.issues.push_back({1, "header", "empty body; a header row is required"});
    return result;
  }
  if (const std::string_view problem =
          reader.read(cells, detail::kFixedColumns + limits.max_labels + 1, bytes, cell_count);
      !problem.empty()) {
    result.issues.push_back({1, "header", std::string(problem)});
    return result;
  }
  if (bytes > limits.max_line_bytes) {
    result.issues.push_back({1, "header", "header longer than the line limit"});
    return result;
  }
  constexpr std::string_view kFixed[detail::kFixedColumns] = {"metric", "value", "timestamp"};
  if (cell_count < detail::kFixedColumns) {
    result.issues.push_back({1, "header", "header must start with metric,value,timestamp"});
    return result;
  }
  for (std::size_t i = 0; i < detail::kFixedColumns; ++i) {
    if (cells[i].has_doubled_quotes || !detail::iequals(cells[i].raw, kFixed[i])) {
      result.issues.push_back(
          {1, "header",
           "column " + std::to_string(i + 1) + " must be '" + std::string(kFixed[i]) + "'"});
      return result;
    }
  }
  if (cell_count - detail::kFixedColumns > limits.max_labels) {
    result.issues.push_back(
        {1, "header", "more than " + std::to_string(limits.max_labels) + " label columns"});
    return result;
  }
  std::vector<std::string> label_names;
  for (std::size_t i = detail::kFixedColumns; i < cells.size(); ++i) {
    const std::string_view name = cells[i].raw;
    if (cells[i].has_doubled_quotes || !valid_label_name(name)) {
      result.issues.push_back({1, "header",
                               "column " + std::to_string(i + 1) +
                                   " is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no "
                                   "leading \"__\")"});
      return result;
    }
    label_names.emplace_back(name);
  }
  // Label columns in name order, so each record's labels come out sorted without a sort.
  std::vector<std::size_t> label_order(label_names.size());
  std::iota(label_order.begin(), label_order.end(), std::size_t{0});
  std::sort(label_order.begin(), label_order.end(),
            [&](std::size_t a, std::size_t b) { return label_names[a] < label_names[b]; });
  for (std::size_t i = 1; i < label_order.size(); ++i) {
    if (label_names[label_order[i]] == label_names[label_order[i - 1]]) {
      result.issues.push_back(
          {1, "header", "duplicate label column '" + label_names[label_order[i]] + "'"});
      return result;
    }
  }

  const std::size_t columns = detail::kFixedColumns + label_names.size();
  std::size_t records = 1;
  while (!reader.at_end()) {
    const std::string_view problem = reader.read(cells, columns + 1, bytes, cell_count);
    const std::size_t line = reader.record_line();
    if (problem.empty() && cell_count == 1 && cells[0].raw.empty() &&
        !cells[0].has_doubled_quotes && bytes == 0) {
      continue;  // blank line
    }
    if (++records > limits.max_lines) {
      result.issues.push_back({line, "row",
                               "body has more than " + std::to_string(limits.max_lines) +
                                   " records; the rest was not parsed"});
      result.truncated = true;
      break;
    }
    if (!problem.empty()) {
      result.issues.push_back({line, "row", std::string(problem)});
      continue;
    }
    if (bytes > limits.max_line_bytes) {
      result.issues.push_back(
          {line, "row", "record longer than " + std::to_string(limits.max_line_bytes) + " bytes"});
      continue;
    }
    if (cell_count != columns) {
      result.issues.push_back(
          {line, "row",
           "expected " + std::to_string(columns) + " cells, got " + std::to_string(cell_count)});
      continue;
    }
    const std::string_view metric = core::csv_cell_text(cells[0], buffer);
    if (!valid_metric_name(metric)) {
      result.issues.push_back(
          {line, "metric", "not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"});
      continue;
    }
    ParsedSample sample;
    sample.key.metric = metric;
    if (const std::string_view why =
            detail::parse_value(core::csv_cell_text(cells[1], buffer), sample.sample.v);
        !why.empty()) {
      result.issues.push_back({line, "value", std::string(why)});
      continue;
    }
    if (const std::string_view why =
            detail::parse_seconds(core::csv_cell_text(cells[2], buffer), sample.sample.t);
        !why.empty()) {
      result.issues.push_back({line, "timestamp", std::string(why)});
      continue;
    }
    bool ok = true;
    for (const std::size_t index : label_order) {
      const std::string_view value =
          core::csv_cell_text(cells[detail::kFixedColumns + index], buffer);
      if (value.empty()) continue;
      if (const std::string_view why = label_value_problem(value, limits); !why.empty()) {
        result.issues.push_back({line, label_names[index], std::string(why)});
        ok = false;
        break;
      }
      sample.key.labels.emplace_back(label_names[index], value);
    }
    if (ok) {
      result.samples.push_back(std::move(sample));
      result.sample_lines.push_back(line);
    }
  }
  return result;
}

}  // namespace netpulse::tsdb
