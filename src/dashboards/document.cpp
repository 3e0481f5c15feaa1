// parse_dashboard: a dashboard's JSON body checked field by field and normalized (every panel
// field present, defaults filled in), so what is stored is what the UI draws. Unknown fields are
// refused; the fields the server sets (id, org_id, created_*, updated_*) are accepted and ignored.
#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include <netpulse/core/json_fields.hpp>
#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/tsdb/aggregate.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/query.hpp>
#include <netpulse/tsdb/selector.hpp>

namespace netpulse::dashboards {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using core::get_int;
using core::get_number;
using core::get_object;
using core::get_string;

constexpr std::array kKinds = {"timeseries", "stat", "gauge", "table", "status", "topn"};
constexpr std::array kUnits = {"",    "short", "percent", "ms",  "s",      "bps",
                               "Bps", "bytes", "pps",     "dBm", "celsius"};
constexpr std::array kRanges = {"15m", "1h", "3h", "6h", "12h", "24h", "2d", "7d", "30d"};
constexpr std::array kSeverities = {"info", "warning", "critical"};
constexpr std::size_t kMaxSelector = 1'024;
constexpr std::size_t kMaxThresholds = 8;
constexpr std::size_t kMaxGroupBy = 16;
constexpr int kMaxRow = 999;
constexpr int kMaxHeight = 24;

template <std::size_t N>
bool one_of(const std::array<const char*, N>& set, std::string_view v) {
  return std::any_of(set.begin(), set.end(), [&](const char* s) { return v == s; });
}

template <std::size_t N>
std::string listed(const std::array<const char*, N>& set) {
  std::string out;
  for (const char* s : set) {
    if (*s == '\0') continue;
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// A string field of at most `max` characters (bytes of UTF-8), or `fallback` when absent.
core::Result<std::string> bounded_string(const object& o, std::string_view prefix,
                                         std::string_view name, std::size_t max,
                                         std::string fallback = {}) {
  auto s = get_string(o, prefix, name);
  if (!s) return std::move(s).error();
  if (!*s) return fallback;
  if ((*s)->size() > max)
    return core::invalid_field(core::field_path(prefix, name),
                               fmt::format("at most {} characters", max));
  return std::move(**s);
}

core::Result<int> grid_int(const object& o, std::string_view prefix, std::string_view name, int lo,
                           int hi, std::optional<int> fallback) {
  auto v = get_int(o, prefix, name);
  if (!v) return std::move(v).error();
  if (!*v) {
    if (fallback) return *fallback;
    return core::invalid_field(core::field_path(prefix, name),
                               fmt::format("required: an integer from {} to {}", lo, hi));
  }
  if (**v < lo || **v > hi)
    return core::invalid_field(core::field_path(prefix, name),
                               fmt::format("must be from {} to {}", lo, hi));
  return static_cast<int>(**v);
}

core::Result<value> parse_query(const object& panel, const std::string& prefix,
                                std::string_view kind) {
  auto q = get_object(panel, prefix, "query");
  if (!q) return std::move(q).error();
  const std::string field = prefix + ".query";
  if (!*q) {
    if (kind == "status") return value(nullptr);
    return core::invalid_field(field, "required: the series the panel shows ({\"selector\":...})");
  }
  const object& o = **q;
  if (auto r = core::only_fields(
          o, field, {"selector", "fn", "agg", "by", "group", "topk", "scale"}, "a panel query");
      !r)
    return std::move(r).error();
  object out;
  auto sel = get_string(o, field, "selector");
  if (!sel) return std::move(sel).error();
  if (!*sel || (*sel)->empty())
    return core::invalid_field(field + ".selector",
                               "required: a series selector such as ifHCInOctets{host=\"core-1\"}");
  if ((*sel)->size() > kMaxSelector)
    return core::invalid_field(field + ".selector",
                               fmt::format("at most {} characters", kMaxSelector));
  if (auto parsed = tsdb::Selector::parse(**sel); !parsed)
    return core::invalid_field(field + ".selector", parsed.error().message);
  out["selector"] = **sel;

  auto fn = get_string(o, field, "fn");
  if (!fn) return std::move(fn).error();
  if (*fn && !(*fn)->empty() && !tsdb::parse_range_fn(**fn))
    return core::invalid_field(field + ".fn", "must be rate or increase (counters), or absent");
  out["fn"] = *fn && !(*fn)->empty() ? value(**fn) : value(nullptr);

  for (const char* name : {"agg", "group"}) {
    auto a = get_string(o, field, name);
    if (!a) return std::move(a).error();
    if (*a && !tsdb::parse_agg(**a))
      return core::invalid_field(field + "." + name,
                                 "must be one of avg, min, max, sum, count, last, p50, p90, p95, "
                                 "p99");
    out[name] = *a ? value(**a) : value(nullptr);
  }
  auto by = core::get_strings(o, field, "by");
  if (!by) return std::move(by).error();
  if (by->size() > kMaxGroupBy)
    return core::invalid_field(field + ".by", fmt::format("at most {} labels", kMaxGroupBy));
  array by_out;
  for (const auto& label : *by) {
    if (label != "__name__" && !tsdb::valid_label_name(label))
      return core::invalid_field(field + ".by", "\"" + label + "\" is not a label name");
    by_out.emplace_back(label);
  }
  out["by"] = std::move(by_out);

  auto topk = get_int(o, field, "topk");
  if (!topk) return std::move(topk).error();
  if (*topk && (**topk < 1 || **topk > 100))
    return core::invalid_field(field + ".topk", "must be from 1 to 100");
  out["topk"] = *topk ? value(**topk) : value(nullptr);

  auto scale = get_number(o, field, "scale");
  if (!scale) return std::move(scale).error();
  if (*scale && (!std::isfinite(**scale) || **scale == 0))
    return core::invalid_field(field + ".scale",
                               "must be a finite number other than 0 (8 turns bytes into bits)");
  out["scale"] = scale->value_or(1.0);
  return value(std::move(out));
}

core::Result<value> parse_devices(const object& panel, const std::string& prefix) {
  auto d = get_object(panel, prefix, "devices");
  if (!d) return std::move(d).error();
  if (!*d) return value(nullptr);
  const std::string field = prefix + ".devices";
  if (auto r = core::only_fields(**d, field, {"group", "tag"}, "a device filter"); !r)
    return std::move(r).error();
  object out;
  for (const char* name : {"group", "tag"}) {
    auto s = bounded_string(**d, field, name, 200);
    if (!s) return std::move(s).error();
    out[name] = s->empty() ? value(nullptr) : value(*s);
  }
  return value(std::move(out));
}

core::Result<array> parse_thresholds(const object& panel, const std::string& prefix) {
  array out;
  const auto* v = panel.if_contains("thresholds");
  if (v == nullptr || v->is_null()) return out;
  const std::string field = prefix + ".thresholds";
  if (!v->is_array()) return core::invalid_field(field, "must be an array");
  if (v->get_array().size() > kMaxThresholds)
    return core::invalid_field(field, fmt::format("at most {}", kMaxThresholds));
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const std::string item = fmt::format("{}[{}]", field, i);
    if (!v->get_array()[i].is_object()) return core::invalid_field(item, "must be an object");
    const auto& t = v->get_array()[i].get_object();
    if (auto r = core::only_fields(t, item, {"value", "severity"}, "a threshold"); !r)
      return std::move(r).error();
    auto at = get_number(t, item, "value");
    if (!at) return std::move(at).error();
    if (!*at || !std::isfinite(**at))
      return core::invalid_field(item + ".value", "required: a finite number");
    auto sev = get_string(t, item, "severity");
    if (!sev) return std::move(sev).error();
    if (!*sev || !one_of(kSeverities, **sev))
      return core::invalid_field(item + ".severity", "must be info, warning or critical");
    out.push_back(object{{"value", **at}, {"severity", **sev}});
  }
  std::sort(out.begin(), out.end(), [](const value& a, const value& b) {
    return a.at("value").as_double() < b.at("value").as_double();
  });
  return out;
}

bool valid_panel_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

struct Box {
  int x, y, w, h;
};

core::Result<object> parse_panel(const value& v, std::size_t index, std::set<std::string>& ids,
                                 Box& box) {
  const std::string prefix = fmt::format("panels[{}]", index);
  if (!v.is_object()) return core::invalid_field(prefix, "must be an object");
  const object& o = v.get_object();
  if (auto r = core::only_fields(o, prefix,
                                 {"id", "title", "kind", "x", "y", "w", "h", "query", "devices",
                                  "unit", "min", "max", "thresholds"},
                                 "a panel");
      !r)
    return std::move(r).error();
  object out;
  auto id = get_string(o, prefix, "id");
  if (!id) return std::move(id).error();
  std::string panel_id = *id ? **id : fmt::format("p{}", index + 1);
  if (!valid_panel_id(panel_id))
    return core::invalid_field(prefix + ".id", "1 to 32 letters, digits, - or _");
  if (!ids.insert(panel_id).second)
    return core::invalid_field(prefix + ".id", "\"" + panel_id + "\" is another panel's id");
  out["id"] = panel_id;
  auto title = bounded_string(o, prefix, "title", 120);
  if (!title) return std::move(title).error();
  out["title"] = *title;
  auto kind = get_string(o, prefix, "kind");
  if (!kind) return std::move(kind).error();
  if (!*kind || !one_of(kKinds, **kind))
    return core::invalid_field(prefix + ".kind", "must be one of " + listed(kKinds));
  out["kind"] = **kind;

  auto x = grid_int(o, prefix, "x", 0, kGridColumns - 1, std::nullopt);
  if (!x) return std::move(x).error();
  auto y = grid_int(o, prefix, "y", 0, kMaxRow, std::nullopt);
  if (!y) return std::move(y).error();
  auto w = grid_int(o, prefix, "w", 1, kGridColumns, 6);
  if (!w) return std::move(w).error();
  auto h = grid_int(o, prefix, "h", 1, kMaxHeight, 4);
  if (!h) return std::move(h).error();
  if (*x + *w > kGridColumns)
    return core::invalid_field(
        prefix + ".w", fmt::format("x + w must be at most {} (the grid's columns)", kGridColumns));
  out["x"] = *x;
  out["y"] = *y;
  out["w"] = *w;
  out["h"] = *h;
  box = Box{*x, *y, *w, *h};

  auto query = parse_query(o, prefix, **kind);
  if (!query) return std::move(query).error();
  out["query"] = std::move(*query);
  auto devices = parse_devices(o, prefix);
  if (!devices) return std::move(devices).error();
  if (**kind != "status" && !devices->is_null())
    return core::invalid_field(prefix + ".devices", "only a status panel takes a device filter");
  out["devices"] = std::move(*devices);

  auto unit = get_string(o, prefix, "unit");
  if (!unit) return std::move(unit).error();
  if (*unit && !one_of(kUnits, **unit))
    return core::invalid_field(prefix + ".unit", "must be one of " + listed(kUnits));
  out["unit"] = *unit ? **unit : std::string();
  auto min = get_number(o, prefix, "min");
  if (!min) return std::move(min).error();
  auto max = get_number(o, prefix, "max");
  if (!max) return std::move(max).error();
  if (*min && !std::isfinite(**min)) return core::invalid_field(prefix + ".min", "not finite");
  if (*max && !std::isfinite(**max)) return core::invalid_field(prefix + ".max", "not finite");
  if (*min && *max && **max <= **min)
    return core::invalid_field(prefix + ".max", "must be above min");
  out["min"] = *min ? value(**min) : value(nullptr);
  out["max"] = *max ? value(**max) : value(nullptr);
  auto thresholds = parse_thresholds(o, prefix);
  if (!thresholds) return std::move(thresholds).error();
  out["thresholds"] = std::move(*thresholds);
  return out;
}

bool overlap(const Box& a, const Box& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

}  // namespace

core::Result<DashboardInput> parse_dashboard(const value& body) {
  if (!body.is_object()) return core::invalid_field("body", "must be a JSON object");
  const object& o = body.get_object();
  if (auto r = core::only_fields(
          o, "",
          {"name", "description", "time_range", "panels", "is_default", "version", "id", "org_id",
           "created_by", "updated_by", "created_at", "updated_at"},
          "a dashboard");
      !r)
    return std::move(r).error();
  DashboardInput in;
  auto name = bounded_string(o, "", "name", 100);
  if (!name) return std::move(name).error();
  if (name->empty() || name->find_first_not_of(" \t") == std::string::npos)
    return core::invalid_field("name", "required: 1 to 100 characters");
  in.name = std::move(*name);
  auto description = bounded_string(o, "", "description", 1'000);
  if (!description) return std::move(description).error();
  in.description = std::move(*description);
  auto range = bounded_string(o, "", "time_range", 8, "6h");
  if (!range) return std::move(range).error();
  if (!one_of(kRanges, *range))
    return core::invalid_field("time_range", "must be one of " + listed(kRanges));
  in.time_range = std::move(*range);
  auto is_default = core::get_bool(o, "", "is_default");
  if (!is_default) return std::move(is_default).error();
  in.is_default = is_default->value_or(false);
  auto version = get_int(o, "", "version");
  if (!version) return std::move(version).error();
  if (*version && **version < 1) return core::invalid_field("version", "must be at least 1");
  in.version = *version;

  const auto* panels = o.if_contains("panels");
  if (panels != nullptr && !panels->is_null()) {
    if (!panels->is_array()) return core::invalid_field("panels", "must be an array of panels");
    const auto& list = panels->get_array();
    if (list.size() > kMaxPanels)
      return core::invalid_field("panels", fmt::format("at most {} panels", kMaxPanels));
    std::set<std::string> ids;
    std::vector<Box> boxes;
    for (std::size_t i = 0; i < list.size(); ++i) {
      Box box{};
      auto panel = parse_panel(list[i], i, ids, box);
      if (!panel) return std::move(panel).error();
      for (std::size_t j = 0; j < boxes.size(); ++j) {
        if (overlap(box, boxes[j]))
          return core::invalid_field(fmt::format("panels[{}]", i),
                                     fmt::format("overlaps panels[{}] on the grid", j));
      }
      boxes.push_back(box);
      in.panels.push_back(std::move(*panel));
    }
  }
  return in;
}

}  // namespace netpulse::dashboards
