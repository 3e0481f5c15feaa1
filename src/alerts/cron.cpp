// The cron expression parser (detail/cron.hpp): five fields, each a list of values, ranges and
// steps, into bitsets. Written by hand because the grammar is small and the errors must name
// the field; what a schedule means in a time zone is maintenance_schedule.cpp's business.
#include "detail/cron.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace netpulse::alerts::detail {
namespace {

struct FieldDef {
  const char* name;  // as in the error: "cron.<name>"
  unsigned min;
  unsigned max;                              // inclusive; day_of_week accepts 7 as Sunday
  const std::array<const char*, 12>* names;  // names[i] is value min + i; nullptr: numbers only
};

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri",
                                                   "sat", "",    "",    "",    "",    ""};

constexpr std::array<FieldDef, 5> kFields = {{{"minute", 0, 59, nullptr},
                                              {"hour", 0, 23, nullptr},
                                              {"day_of_month", 1, 31, nullptr},
                                              {"month", 1, 12, &kMonthNames},
                                              {"day_of_week", 0, 7, &kDayNames}}};

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

core::Error field_error(const FieldDef& f, std::string_view reason) {
  return core::invalid_field(std::string("cron.") + f.name, reason);
}

// One value: a number or (for months and weekdays) a three-letter name.
core::Result<unsigned> parse_value(const FieldDef& f, std::string_view s) {
  if (s.empty()) return field_error(f, "a value is missing");
  if (f.names != nullptr && s.size() == 3) {
    const std::string folded{lower(s[0]), lower(s[1]), lower(s[2])};
    for (unsigned i = 0; i < f.names->size(); ++i) {
      if (folded == (*f.names)[i]) return f.min + i;
    }
  }
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range)
    return field_error(f, fmt::format("{} is out of {}..{}", s, f.min, f.max));
  if (ec != std::errc() || end != s.data() + s.size())
    return field_error(
        f, fmt::format("\"{}\" is not a number{}", s, f.names == nullptr ? "" : " or a name"));
  if (v < f.min || v > f.max)
    return field_error(f, fmt::format("{} is out of {}..{}", v, f.min, f.max));
  return v;
}

// One field into `bits` (bit v - min for each value v; day_of_week folds 7 onto 0). Sets
// `star` when the field starts with '*' (Vixie cron's test for an unrestricted day field).
template <std::size_t N>
core::Result<void> parse_field(const FieldDef& f, std::string_view text, std::bitset<N>& bits,
                               bool& star) {
  star = !text.empty() && text.front() == '*';
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (item.empty()) return field_error(f, "an empty list item");
    std::string_view range = item;
    unsigned step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
          step == 0 || step > f.max)
        return field_error(
            f, fmt::format("the step \"{}\" is not a number in 1..{}", step_text, f.max));
      if (range != "*" && range.find('-') == std::string_view::npos)
        return field_error(f, fmt::format("a step needs * or a range (\"{}\")", item));
    }
    unsigned first = f.min;
    // "*" in the day-of-week field means 0..6: 7 is only another name for Sunday.
    unsigned last = f.max == 7 ? 6 : f.max;
    if (range != "*") {
      const auto dash = range.find('-');
      auto a = parse_value(f, range.substr(0, dash));
      if (!a) return std::move(a).error();
      first = last = *a;
      if (dash != std::string_view::npos) {
        auto b = parse_value(f, range.substr(dash + 1));
        if (!b) return std::move(b).error();
        last = *b;
        if (last < first)
          return field_error(f, fmt::format("the range \"{}\" runs backwards", range));
      }
    }
    for (unsigned v = first; v <= last; v += step) bits.set((v - f.min) % N);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return core::ok();
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

bool CronSpec::matches_day(unsigned month, unsigned day, unsigned weekday) const noexcept {
  if (month < 1 || month > 12 || day < 1 || day > 31 || weekday > 6) return false;
  if (!months.test(month - 1)) return false;
  const bool dom = days_of_month.test(day - 1);
  const bool dow = days_of_week.test(weekday);
  if (!day_of_month_star && !day_of_week_star) return dom || dow;
  return dom && dow;
}

core::Result<CronSpec> parse_cron(std::string_view text) {
  if (text.size() > kMaxCronBytes)
    return core::invalid_field("cron", fmt::format("at most {} bytes", kMaxCronBytes));
  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (count == fields.size()) {
      count = fields.size() + 1;
      break;
    }
    fields[count++] = text.substr(start, i - start);
  }
  if (count != fields.size()) {
    return core::invalid_field(
        "cron", "five fields are needed: minute hour day-of-month month day-of-week");
  }
  CronSpec spec;
  bool star = false;
  if (auto r = parse_field(kFields[0], fields[0], spec.minutes, star); !r)
    return std::move(r).error();
  if (auto r = parse_field(kFields[1], fields[1], spec.hours, star); !r)
    return std::move(r).error();
  if (auto r = parse_field(kFields[2], fields[2], spec.days_of_month, spec.day_of_month_star); !r)
    return std::move(r).error();
  if (auto r = parse_field(kFields[3], fields[3], spec.months, star); !r)
    return std::move(r).error();
  if (auto r = parse_field(kFields[4], fields[4], spec.days_of_week, spec.day_of_week_star); !r)
    return std::move(r).error();
  return spec;
}

bool cron_can_match(const CronSpec& spec) noexcept {
  // Both day fields restricted: any day of a listed weekday matches, and every month has one.
  if (!spec.day_of_month_star && !spec.day_of_week_star) return spec.months.any();
  // Otherwise a day must be in days_of_month; every date falls on every weekday in some year,
  // so only whether a listed month has a listed day is in question.
  constexpr std::array<unsigned, 12> kLongest = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; ++m) {
    if (!spec.months.test(m - 1)) continue;
    for (unsigned d = 1; d <= kLongest[m - 1]; ++d) {
      if (spec.days_of_month.test(d - 1)) return true;
    }
  }
  return false;
}

}  // namespace netpulse::alerts::detail
