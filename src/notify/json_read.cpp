// The notifier's JSON field reader (detail/json_read.hpp): a type check per field, with the
// field's path in every refusal.
#include "detail/json_read.hpp"

#include <cmath>

#include <fmt/format.h>

namespace netpulse::notify::detail {

using boost::json::array;
using boost::json::object;
using boost::json::value;

bool is_label_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::optional<std::int64_t> json_integer(const value& v) noexcept {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::trunc(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string ObjectReader::path_of(std::string_view name) const {
  return path_.empty() ? std::string(name) : fmt::format("{}.{}", path_, name);
}

core::Result<void> ObjectReader::refuse_unknown(std::initializer_list<std::string_view> allowed,
                                                std::string_view thing) const {
  for (const auto& member : object_) {
    bool known = false;
    for (auto name : allowed) known = known || member.key() == name;
    if (!known)
      return core::invalid_field(path_of(member.key()), fmt::format("not a field of {}", thing));
  }
  return core::ok();
}

const value* ObjectReader::find(std::string_view name) const {
  const auto* v = object_.if_contains(name);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

core::Result<std::optional<std::string>> ObjectReader::text(std::string_view name) const {
  const auto* v = find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return core::invalid_field(path_of(name), "must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

core::Result<std::optional<std::int64_t>> ObjectReader::integer(std::string_view name) const {
  const auto* v = find(name);
  if (v == nullptr) return std::optional<std::int64_t>();
  auto n = json_integer(*v);
  if (!n) return core::invalid_field(path_of(name), "must be an integer");
  return n;
}

core::Result<std::optional<bool>> ObjectReader::flag(std::string_view name) const {
  const auto* v = find(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return core::invalid_field(path_of(name), "must be true or false");
  return std::optional<bool>(v->get_bool());
}

core::Result<const object*> ObjectReader::object(std::string_view name) const {
  const auto* v = find(name);
  if (v == nullptr) return static_cast<const boost::json::object*>(nullptr);
  if (!v->is_object()) return core::invalid_field(path_of(name), "must be an object");
  return &v->get_object();
}

core::Result<const array*> ObjectReader::array(std::string_view name, std::size_t max_items) const {
  const auto* v = find(name);
  if (v == nullptr) return static_cast<const boost::json::array*>(nullptr);
  if (!v->is_array()) return core::invalid_field(path_of(name), "must be an array");
  if (v->get_array().size() > max_items)
    return core::invalid_field(path_of(name), fmt::format("at most {} items", max_items));
  return &v->get_array();
}

core::Result<std::vector<std::int64_t>> ObjectReader::integers(std::string_view name,
                                                               std::size_t max_items) const {
  std::vector<std::int64_t> out;
  auto items = array(name, max_items);
  if (!items) return std::move(items).error();
  if (*items == nullptr) return out;
  for (const auto& item : **items) {
    auto n = json_integer(item);
    if (!n) return core::invalid_field(path_of(name), "items are integers");
    out.push_back(*n);
  }
  return out;
}

core::Result<std::vector<std::string>> ObjectReader::texts(std::string_view name,
                                                           std::size_t max_items) const {
  std::vector<std::string> out;
  auto items = array(name, max_items);
  if (!items) return std::move(items).error();
  if (*items == nullptr) return out;
  for (const auto& item : **items) {
    if (!item.is_string()) return core::invalid_field(path_of(name), "items are strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace netpulse::notify::detail
