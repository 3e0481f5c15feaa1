// JSON field readers (netpulse/core/json_fields.hpp): a type check per field, with
// the field's path in every refusal.
#include <cmath>

#include <fmt/format.h>

#include <netpulse/core/json_fields.hpp>

namespace netpulse::core {

using boost::json::object;

std::string field_path(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

core::Result<void> only_fields(const object& o, std::string_view prefix,
                               std::initializer_list<std::string_view> allowed,
                               std::string_view thing) {
  for (const auto& [k, v] : o) {
    bool known = false;
    for (auto a : allowed) known = known || k == a;
    if (!known)
      return core::invalid_field(field_path(prefix, k), "not a field of " + std::string(thing));
  }
  return core::ok();
}

core::Result<const object*> get_object(const object& o, std::string_view prefix,
                                       std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return static_cast<const object*>(nullptr);
  if (!v->is_object()) return core::invalid_field(field_path(prefix, name), "must be an object");
  return &v->get_object();
}

core::Result<std::optional<std::string>> get_string(const object& o, std::string_view prefix,
                                                    std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return core::invalid_field(field_path(prefix, name), "must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

core::Result<std::optional<double>> get_number(const object& o, std::string_view prefix,
                                               std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<double>();
  if (!v->is_number()) return core::invalid_field(field_path(prefix, name), "must be a number");
  return std::optional<double>(v->to_number<double>());
}

core::Result<std::optional<std::int64_t>> get_int(const object& o, std::string_view prefix,
                                                  std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  if (v->is_double() && std::trunc(v->get_double()) == v->get_double() &&
      std::fabs(v->get_double()) < 9e15)
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_double()));
  return core::invalid_field(field_path(prefix, name), "must be an integer");
}

core::Result<std::optional<bool>> get_bool(const object& o, std::string_view prefix,
                                           std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return core::invalid_field(field_path(prefix, name), "must be true or false");
  return std::optional<bool>(v->get_bool());
}

core::Result<std::vector<std::int64_t>> get_ids(const object& o, std::string_view prefix,
                                                std::string_view name) {
  std::vector<std::int64_t> out;
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array())
    return core::invalid_field(field_path(prefix, name), "must be an array of ids");
  if (v->get_array().size() > kMaxJsonArray)
    return core::invalid_field(field_path(prefix, name),
                               fmt::format("at most {} ids", kMaxJsonArray));
  for (const auto& item : v->get_array()) {
    if (!item.is_int64()) return core::invalid_field(field_path(prefix, name), "ids are integers");
    out.push_back(item.get_int64());
  }
  return out;
}

core::Result<std::vector<std::string>> get_strings(const object& o, std::string_view prefix,
                                                   std::string_view name) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array())
    return core::invalid_field(field_path(prefix, name), "must be an array of strings");
  if (v->get_array().size() > kMaxJsonArray)
    return core::invalid_field(field_path(prefix, name),
                               fmt::format("at most {} items", kMaxJsonArray));
  for (const auto& item : v->get_array()) {
    if (!item.is_string())
      return core::invalid_field(field_path(prefix, name), "items are strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

core::Result<std::map<std::string, std::string>> get_string_map(const object& o,
                                                                std::string_view prefix,
                                                                std::string_view name) {
  std::map<std::string, std::string> out;
  auto m = get_object(o, prefix, name);
  if (!m) return std::move(m).error();
  if (*m == nullptr) return out;
  // The validation bounds maps at 32 entries; a body with far more is refused before copying.
  if ((*m)->size() > 64) return core::invalid_field(field_path(prefix, name), "too many entries");
  for (const auto& [k, v] : **m) {
    if (!v.is_string())
      return core::invalid_field(field_path(field_path(prefix, name), k), "must be a string");
    out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

}  // namespace netpulse::core
