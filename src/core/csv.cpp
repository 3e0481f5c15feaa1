// RFC 4180 records for every CSV edge; see csv.hpp.
#include <algorithm>
#include <string>

#include <netpulse/core/csv.hpp>

namespace netpulse::core {

std::string_view CsvReader::read(std::vector<CsvCell>& cells, std::size_t max_cells,
                                 std::size_t& bytes, std::size_t& cell_count) {
  cells.clear();
  cell_count = 0;
  record_line_ = line_;
  record_ended_by_newline_ = false;
  const std::size_t start = pos_;
  std::string_view problem;
  while (true) {
    CsvCell cell;
    if (pos_ < body_.size() && body_[pos_] == '"') {
      const std::size_t open = ++pos_;
      while (true) {
        const std::size_t quote = body_.find('"', pos_);
        if (quote == std::string_view::npos) {
          pos_ = body_.size();
          bytes = pos_ - start;
          return "unterminated quoted cell";
        }
        line_ +=
            static_cast<std::size_t>(std::count(body_.begin() + static_cast<long>(pos_),
                                                body_.begin() + static_cast<long>(quote), '\n'));
        if (quote + 1 < body_.size() && body_[quote + 1] == '"') {
          cell.has_doubled_quotes = true;
          pos_ = quote + 2;
          continue;
        }
        cell.raw = body_.substr(open, quote - open);
        pos_ = quote + 1;
        break;
      }
      if (pos_ < body_.size() && !is_cell_end(pos_)) problem = "text after a closing quote";
    } else {
      const std::size_t begin = pos_;
      while (pos_ < body_.size() && !is_cell_end(pos_)) {
        if (body_[pos_] == '"') problem = "quote inside an unquoted cell";
        ++pos_;
      }
      cell.raw = body_.substr(begin, pos_ - begin);
    }
    if (!problem.empty()) break;
    ++cell_count;
    if (cells.size() < max_cells) cells.push_back(cell);
    if (pos_ < body_.size() && body_[pos_] == ',') {
      ++pos_;
      continue;
    }
    break;
  }
  if (!problem.empty()) {
    const std::size_t newline = body_.find('\n', pos_);
    pos_ = newline == std::string_view::npos ? body_.size() : newline;
  }
  bytes = pos_ - start;
  if (pos_ < body_.size() && body_[pos_] == '\r') ++pos_;
  if (pos_ < body_.size() && body_[pos_] == '\n') {
    ++pos_;
    ++line_;
    record_ended_by_newline_ = true;
  }
  return problem;
}

bool CsvReader::is_cell_end(std::size_t i) const {
  const char c = body_[i];
  return c == ',' || c == '\n' || (c == '\r' && i + 1 < body_.size() && body_[i + 1] == '\n') ||
         (c == '\r' && i + 1 == body_.size());
}

std::string_view csv_cell_text(const CsvCell& cell, std::string& buffer) {
  if (!cell.has_doubled_quotes) return cell.raw;
  buffer.clear();
  for (std::size_t i = 0; i < cell.raw.size(); ++i) {
    buffer.push_back(cell.raw[i]);
    if (cell.raw[i] == '"') ++i;
  }
  return buffer;
}

std::string csv_quote(std::string_view text, bool defuse_formulas) {
  std::string prefix;
  if (defuse_formulas && !text.empty() &&
      (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) {
    prefix = "'";
  }
  const bool needs_quotes = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                            (!text.empty() && text[0] == ' ') || !prefix.empty();
  if (!needs_quotes) return std::string(text);
  std::string out = "\"" + prefix;
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string_view csv_uncell_formula(std::string_view text) {
  if (text.size() >= 2 && text[0] == '\'' &&
      (text[1] == '=' || text[1] == '+' || text[1] == '-' || text[1] == '@')) {
    text.remove_prefix(1);
  }
  return text;
}

}  // namespace netpulse::core
