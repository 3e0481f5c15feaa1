// Log lines escape what comes from outside: a user agent, a device name or a trap string cannot
// start a new line, carry terminal escapes or hide text behind a bidirectional override.
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/text.hpp>

using netpulse::core::Logger;
using netpulse::core::LogLevel;
using netpulse::core::ManualClock;

namespace {

std::string escaped(std::string_view text) {
  std::string out;
  netpulse::core::append_log_safe(out, text);
  return out;
}

}  // namespace

TEST_CASE("log escaping: control characters, invalid UTF-8 and overrides become visible",
          "[core][logger]") {
  struct Row {
    std::string input;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"plain ascii, with \\ and \"quotes\"", "plain ascii, with \\ and \"quotes\""},
      {"two\nlines", "two\\nlines"},
      {"cr\r\ttab", "cr\\r\\ttab"},
      {std::string("nul\0byte", 8), "nul\\x00byte"},
      {"\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
      {"del\x7f", "del\\x7f"},
      {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},          // valid UTF-8 kept
      {"c1 \xc2\x85 next line", "c1 \\u{0085} next line"},               // NEL, a C1 control
      {"ls \xe2\x80\xa8 ps \xe2\x80\xa9", "ls \\u{2028} ps \\u{2029}"},  // line/paragraph sep.
      {"rlo \xe2\x80\xae gnp.exe", "rlo \\u{202e} gnp.exe"},             // right-to-left override
      {"bad \xff\xfe", "bad \\xff\\xfe"},
      {"truncated \xe2\x9c", "truncated \\xe2\\x9c"},
      {"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
      {"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
  };
  for (const auto& row : rows) {
    INFO(row.input);
    CHECK(escaped(row.input) == row.expected);
  }
  // The fast path is taken for printable ASCII only; anything else goes through the escaper.
  CHECK(netpulse::core::is_log_safe(rows[0].input));
  CHECK_FALSE(netpulse::core::is_log_safe("two\nlines"));
  CHECK_FALSE(netpulse::core::is_log_safe("caf\xc3\xa9"));
}

TEST_CASE("logger: a hostile field cannot forge a second line, in text or JSON", "[core][logger]") {
  ManualClock clock;
  std::vector<std::string> lines;
  const std::string agent = "curl\n2026-01-01T00:00:00.000Z INFO  [auth] login ok admin\x1b[2K";
  {
    Logger log(
        clock, [&](std::string_view line) { lines.emplace_back(line); }, LogLevel::kInfo);
    log.info("http", "request from agent {}", agent);
  }
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find('\n') == lines[0].size() - 1);
  CHECK(lines[0].find('\x1b') == std::string::npos);
  CHECK(
      lines[0].find("agent curl\\n2026-01-01T00:00:00.000Z INFO  [auth] login ok admin\\x1b[2K") !=
      std::string::npos);

  lines.clear();
  {
    Logger log(
        clock, [&](std::string_view line) { lines.emplace_back(line); }, LogLevel::kInfo,
        Logger::Format::kJson);
    log.info("http", "name {}", std::string("bad \xff byte\n"));
  }
  REQUIRE(lines.size() == 1);
  // Valid JSON (invalid UTF-8 would make a strict reader refuse the whole line).
  auto v = boost::json::parse(lines[0]);
  CHECK(v.at("msg").as_string() == "name bad \\xff byte\\n");
}
