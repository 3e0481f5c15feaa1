// Silences to and from JSON (silence.hpp): the body of POST /api/v1/silences and the stored form.
// Every field is read with its type checked and its name in the error; unknown fields are
// refused; the fields the server sets are accepted and ignored.
#include <utility>

#include <fmt/format.h>

#include <netpulse/alerts/silence.hpp>

#include "detail/json_fields.hpp"

namespace netpulse::alerts {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::size_t kMaxMatchersRead = 64;  // validation allows 32; more is refused unread

core::Result<std::vector<LabelMatcher>> read_matchers(const object& o) {
  std::vector<LabelMatcher> out;
  const auto* v = o.if_contains("matchers");
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return core::invalid_field("matchers", "must be an array of matchers");
  if (v->get_array().size() > kMaxMatchersRead)
    return core::invalid_field("matchers", "too many matchers");
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const std::string field = fmt::format("matchers[{}]", i);
    const auto& item = v->get_array()[i];
    if (!item.is_object()) return core::invalid_field(field, "must be an object");
    const auto& m = item.get_object();
    if (auto r = detail::only_fields(m, field, {"name", "op", "value"}, "a matcher"); !r)
      return std::move(r).error();
    LabelMatcher matcher;
    auto name = detail::get_string(m, field, "name");
    if (!name) return std::move(name).error();
    if (!*name) return core::invalid_field(field + ".name", "required");
    matcher.name = std::move(**name);
    auto op = detail::get_string(m, field, "op");
    if (!op) return std::move(op).error();
    if (*op) {
      auto parsed = parse_match_op(**op);
      if (!parsed) return core::invalid_field(field + ".op", "=, !=, =~ or !~");
      matcher.op = *parsed;
    }
    auto val = detail::get_string(m, field, "value");
    if (!val) return std::move(val).error();
    if (!*val) return core::invalid_field(field + ".value", "required");
    matcher.value = std::move(**val);
    out.push_back(std::move(matcher));
  }
  return out;
}

core::Result<std::int64_t> required_time(const object& o, std::string_view name) {
  auto t = detail::get_int(o, "", name);
  if (!t) return std::move(t).error();
  if (!*t) return core::invalid_field(name, "required: Unix seconds");
  return **t;
}

}  // namespace

core::Result<Silence> silence_from_json(const value& body) {
  if (!body.is_object()) return core::invalid_field("body", "the silence must be a JSON object");
  const auto& o = body.get_object();
  if (auto r = detail::only_fields(
          o, "",
          {"id", "matchers", "device_ids", "group_ids", "tags", "rule_ids", "starts_at", "ends_at",
           "created_by", "created_by_name", "reason", "created_at"},
          "a silence");
      !r)
    return std::move(r).error();
  Silence s;
  auto matchers = read_matchers(o);
  if (!matchers) return std::move(matchers).error();
  s.matchers = std::move(*matchers);
  auto devices = detail::get_ids(o, "", "device_ids");
  if (!devices) return std::move(devices).error();
  s.device_ids = std::move(*devices);
  auto groups = detail::get_ids(o, "", "group_ids");
  if (!groups) return std::move(groups).error();
  s.group_ids = std::move(*groups);
  auto tags = detail::get_strings(o, "", "tags");
  if (!tags) return std::move(tags).error();
  s.tags = std::move(*tags);
  auto rules = detail::get_ids(o, "", "rule_ids");
  if (!rules) return std::move(rules).error();
  s.rule_ids = std::move(*rules);
  auto starts = required_time(o, "starts_at");
  if (!starts) return std::move(starts).error();
  s.starts_at = *starts;
  auto ends = required_time(o, "ends_at");
  if (!ends) return std::move(ends).error();
  s.ends_at = *ends;
  auto reason = detail::get_string(o, "", "reason");
  if (!reason) return std::move(reason).error();
  if (!*reason) return core::invalid_field("reason", "required: why the alerts are silenced");
  s.reason = std::move(**reason);
  if (auto v = validate_silence(s); !v) return std::move(v).error();
  return s;
}

object silence_to_json(const Silence& s) {
  object o;
  if (s.id != 0) o["id"] = s.id;
  array matchers;
  for (const auto& m : s.matchers)
    matchers.emplace_back(
        object{{"name", m.name}, {"op", match_op_name(m.op)}, {"value", m.value}});
  o["matchers"] = std::move(matchers);
  o["device_ids"] = array(s.device_ids.begin(), s.device_ids.end());
  o["group_ids"] = array(s.group_ids.begin(), s.group_ids.end());
  array tags;
  for (const auto& t : s.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  o["rule_ids"] = array(s.rule_ids.begin(), s.rule_ids.end());
  o["starts_at"] = s.starts_at;
  o["ends_at"] = s.ends_at;
  o["reason"] = s.reason;
  if (s.created_by != 0) o["created_by"] = s.created_by;
  if (!s.created_by_name.empty()) o["created_by_name"] = s.created_by_name;
  if (s.created_at != 0) o["created_at"] = s.created_at;
  return o;
}

}  // namespace netpulse::alerts
