// CSV records (RFC 4180): quoted cells may hold commas, newlines and doubled quotes; records end
// with LF or CRLF. Cells are string_views into the body; a quoted cell is copied only when it holds
// a doubled quote. Shared by every CSV edge (metric ingest, device import) so they quote alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netpulse::core {

// One cell of a record: its bytes as in the body (without the surrounding quotes) and whether
// it holds doubled quotes to collapse.
struct CsvCell {
  std::string_view raw;
  bool has_doubled_quotes = false;
};

// Reads CSV records from a body, one at a time, tracking line numbers. The body must outlive the
// reader and the cells it returns.
class CsvReader {
 public:
  explicit CsvReader(std::string_view body) : body_(body) {}

  bool at_end() const { return pos_ >= body_.size(); }
  // The line on which the record that read() returns starts.
  std::size_t record_line() const { return record_line_; }
  // Where the next read() starts: its offset in the body, and its line.
  std::size_t position() const { return pos_; }
  std::size_t line() const { return line_; }
  // Whether the record read() returned ended with a line end, not with the end of the body: a
  // body that arrives in pieces may end in the middle of a record (of a quoted cell, even).
  bool record_ended_by_newline() const { return record_ended_by_newline_; }

  // Reads the next record, keeping its first `max_cells` cells in `cells` so a hostile record
  // of a million empty cells costs no memory. Returns "" or why the record is malformed; in the
  // malformed case the reader has skipped to the next line (or to the end for an unterminated
  // quote). `bytes` receives the record's size without its line end, `cell_count` the number
  // of cells it holds.
  std::string_view read(std::vector<CsvCell>& cells, std::size_t max_cells, std::size_t& bytes,
                        std::size_t& cell_count);

 private:
  bool is_cell_end(std::size_t i) const;

  std::string_view body_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
  bool record_ended_by_newline_ = false;
};

// The cell's text: a view of the body, or its copy with doubled quotes collapsed in `buffer`.
std::string_view csv_cell_text(const CsvCell& cell, std::string& buffer);

// `text` as one CSV cell: unchanged when it holds no comma, quote, CR or LF and does not start
// with a space; otherwise quoted with inner quotes doubled. Cells starting with = + - @ get a
// leading apostrophe when `defuse_formulas` (spreadsheets would run them).
std::string csv_quote(std::string_view text, bool defuse_formulas = true);

// The inverse of the formula defusing for a cell read back: "'=x" -> "=x" (likewise + - @).
std::string_view csv_uncell_formula(std::string_view text);

}  // namespace netpulse::core
