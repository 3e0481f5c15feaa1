// The cron parser (src/alerts/cron.cpp): what each field's syntax sets, Vixie cron's rule for the
// two day fields, refusals naming the field, and which expressions can never match.
#include "alerts/detail/cron.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace netpulse::alerts::detail;

namespace {

// The set bits of a bitset, lowest first, shifted by `base` (1 for days of month and months).
template <std::size_t N>
std::vector<unsigned> bits(const std::bitset<N>& b, unsigned base = 0) {
  std::vector<unsigned> out;
  for (std::size_t i = 0; i < N; ++i) {
    if (b.test(i)) out.push_back(static_cast<unsigned>(i) + base);
  }
  return out;
}

std::vector<unsigned> range(unsigned first, unsigned last) {
  std::vector<unsigned> out;
  for (unsigned v = first; v <= last; ++v) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("cron: each field's syntax sets exactly its values", "[alerts][cron]") {
  struct Case {
    const char* text;
    std::vector<unsigned> minutes, hours, days_of_month, months, days_of_week;
    bool dom_star, dow_star;
  };
  const std::vector<Case> cases{
      {"* * * * *", range(0, 59), range(0, 23), range(1, 31), range(1, 12), range(0, 6), true,
       true},
      {"*/15 * * * *",
       {0, 15, 30, 45},
       range(0, 23),
       range(1, 31),
       range(1, 12),
       range(0, 6),
       true,
       true},
      {"30 2 * * 0", {30}, {2}, range(1, 31), range(1, 12), {0}, true, false},
      {"30 2 * * 7", {30}, {2}, range(1, 31), range(1, 12), {0}, true, false},
      {"0 9-17 * * MON-FRI",
       {0},
       range(9, 17),
       range(1, 31),
       range(1, 12),
       {1, 2, 3, 4, 5},
       true,
       false},
      {"0 0 1,15 * *", {0}, {0}, {1, 15}, range(1, 12), range(0, 6), false, true},
      {"0 0 * jan,JUL,Dec *", {0}, {0}, range(1, 31), {1, 7, 12}, range(0, 6), true, true},
      {"0 0 1-10/3 * *", {0}, {0}, {1, 4, 7, 10}, range(1, 12), range(0, 6), false, true},
      {"5-59/20 0 * * *", {5, 25, 45}, {0}, range(1, 31), range(1, 12), range(0, 6), true, true},
      {"0 0 * * 5-7", {0}, {0}, range(1, 31), range(1, 12), {0, 5, 6}, true, false},
      {"0 0 * * sat,sun", {0}, {0}, range(1, 31), range(1, 12), {0, 6}, true, false},
      {"0 0 */10 * *", {0}, {0}, {1, 11, 21, 31}, range(1, 12), range(0, 6), true, true},
      {" 0\t2  1 feb-apr/2 * ", {0}, {2}, {1}, {2, 4}, range(0, 6), false, true},
      {"59 23 31 12 6", {59}, {23}, {31}, {12}, {6}, false, false},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto spec = parse_cron(c.text);
    if (!spec) FAIL(spec.error().message);
    CHECK(bits(spec->minutes) == c.minutes);
    CHECK(bits(spec->hours) == c.hours);
    CHECK(bits(spec->days_of_month, 1) == c.days_of_month);
    CHECK(bits(spec->months, 1) == c.months);
    CHECK(bits(spec->days_of_week) == c.days_of_week);
    CHECK(spec->day_of_month_star == c.dom_star);
    CHECK(spec->day_of_week_star == c.dow_star);
  }
}

TEST_CASE("cron: a malformed expression is refused naming the field", "[alerts][cron]") {
  struct Case {
    std::string text;
    const char* message;  // the whole message: "<field>: <reason>"
  };
  const char* five = "cron: five fields are needed: minute hour day-of-month month day-of-week";
  const std::vector<Case> cases{
      {"", five},
      {"   ", five},
      {"* * * *", five},
      {"* * * * * *", five},
      {"60 * * * *", "cron.minute: 60 is out of 0..59"},
      {"0 25 * * *", "cron.hour: 25 is out of 0..23"},
      {"0 0 0 * *", "cron.day_of_month: 0 is out of 1..31"},
      {"0 0 32 * *", "cron.day_of_month: 32 is out of 1..31"},
      {"0 0 * 13 *", "cron.month: 13 is out of 1..12"},
      {"0 0 * 0 *", "cron.month: 0 is out of 1..12"},
      {"0 0 * * 8", "cron.day_of_week: 8 is out of 0..7"},
      {"99999999999 * * * *", "cron.minute: 99999999999 is out of 0..59"},
      {"0 0 * foo *", "cron.month: \"foo\" is not a number or a name"},
      {"0 0 * * monday", "cron.day_of_week: \"monday\" is not a number or a name"},
      {"0 mon * * *", "cron.hour: \"mon\" is not a number"},
      {"x * * * *", "cron.minute: \"x\" is not a number"},
      {"-1 * * * *", "cron.minute: a value is missing"},
      {"0 0 * * mon-", "cron.day_of_week: a value is missing"},
      {"*/0 * * * *", "cron.minute: the step \"0\" is not a number in 1..59"},
      {"*/60 * * * *", "cron.minute: the step \"60\" is not a number in 1..59"},
      {"*/ * * * *", "cron.minute: the step \"\" is not a number in 1..59"},
      {"5/15 * * * *", "cron.minute: a step needs * or a range (\"5/15\")"},
      {"0 10-5 * * *", "cron.hour: the range \"10-5\" runs backwards"},
      {"0 0 * dec-jan *", "cron.month: the range \"dec-jan\" runs backwards"},
      {"1,,2 * * * *", "cron.minute: an empty list item"},
      {"1, * * * *", "cron.minute: an empty list item"},
      {std::string(257, '*'), "cron: at most 256 bytes"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto spec = parse_cron(c.text);
    REQUIRE_FALSE(spec);
    CHECK(spec.error().code == netpulse::core::Errc::kInvalidInput);
    CHECK(spec.error().message == c.message);
    const std::string message = c.message;
    CHECK(spec.error().details.at("field").as_string() == message.substr(0, message.find(':')));
  }
}

TEST_CASE("cron: restricted day-of-month and day-of-week match either (Vixie cron)",
          "[alerts][cron]") {
  struct Case {
    const char* text;
    unsigned month, day, weekday;
    bool matches;
  };
  const std::vector<Case> cases{
      // Both restricted: the 13th OR any Friday.
      {"0 0 13 * 5", 1, 13, 2, true},
      {"0 0 13 * 5", 1, 16, 5, true},
      {"0 0 13 * 5", 1, 14, 2, false},
      // One of them starts with '*': both must hold (the '*' one always does unless stepped).
      {"0 0 */2 * 5", 1, 13, 5, true},
      {"0 0 */2 * 5", 1, 14, 5, false},
      {"0 0 */2 * 5", 1, 13, 2, false},
      {"0 0 13 * *", 3, 13, 0, true},
      {"0 0 13 * *", 3, 12, 5, false},
      {"0 0 * * 5", 3, 12, 5, true},
      {"0 0 * * 5", 3, 12, 4, false},
      // The month always has to match.
      {"0 0 13 2 5", 3, 13, 5, false},
      {"0 0 13 2 5", 2, 20, 5, true},
  };
  for (const auto& c : cases) {
    INFO(c.text << " on " << c.month << "/" << c.day << " weekday " << c.weekday);
    auto spec = parse_cron(c.text);
    REQUIRE(spec);
    CHECK(spec->matches_day(c.month, c.day, c.weekday) == c.matches);
  }
}

TEST_CASE("cron: an expression no date satisfies is told apart", "[alerts][cron]") {
  struct Case {
    const char* text;
    bool can_match;
  };
  const std::vector<Case> cases{
      {"0 0 31 2 *", false},        {"0 0 30 2 *", false},   {"0 0 30,31 2 *", false},
      {"0 0 31 4,6,9,11 *", false}, {"0 0 29 2 *", true},    {"0 0 31 * *", true},
      {"0 0 31 2 mon", true},       {"0 0 31 2 */2", false}, {"0 0 * 2 *", true},
      {"0 0 31 1-2 *", true},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto spec = parse_cron(c.text);
    REQUIRE(spec);
    CHECK(cron_can_match(*spec) == c.can_match);
  }
}
