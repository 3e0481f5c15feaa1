// Field-by-field request body validation.
#include "detail/json_fields.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace netpulse::api::detail {

using core::invalid_field;

namespace {
std::string_view kind(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}
}  // namespace

core::Result<std::string> Fields::required_string(std::string_view name, std::size_t max_len) {
  auto it = body_.find(name);
  if (it == body_.end()) return invalid_field(full(name), "is required");
  if (!it->value().is_string()) {
    return invalid_field(full(name), fmt::format("must be a string, not {}", kind(it->value())));
  }
  auto& s = it->value().as_string();
  if (s.empty()) return invalid_field(full(name), "must not be empty");
  if (s.size() > max_len)
    return invalid_field(full(name), fmt::format("must be at most {} bytes", max_len));
  return std::string(s);
}

core::Result<std::optional<std::string>> Fields::optional_string(std::string_view name,
                                                                 std::size_t max_len,
                                                                 bool allow_empty) {
  auto it = body_.find(name);
  if (it == body_.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return invalid_field(full(name), fmt::format("must be a string, not {}", kind(it->value())));
  }
  auto& s = it->value().as_string();
  if (!allow_empty && s.empty()) return invalid_field(full(name), "must not be empty");
  if (s.size() > max_len)
    return invalid_field(full(name), fmt::format("must be at most {} bytes", max_len));
  return std::optional<std::string>(std::string(s));
}

core::Result<std::optional<bool>> Fields::optional_bool(std::string_view name) {
  auto it = body_.find(name);
  if (it == body_.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) {
    return invalid_field(full(name),
                         fmt::format("must be true or false, not {}", kind(it->value())));
  }
  return std::optional<bool>(it->value().as_bool());
}

core::Result<std::optional<std::int64_t>> Fields::optional_int(std::string_view name,
                                                               std::int64_t lo, std::int64_t hi) {
  auto it = body_.find(name);
  if (it == body_.end() || it->value().is_null()) return std::optional<std::int64_t>();
  auto& v = it->value();
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(hi)) {
    n = static_cast<std::int64_t>(v.as_uint64());
  } else {
    return invalid_field(full(name), fmt::format("must be an integer, not {}", kind(v)));
  }
  if (n < lo || n > hi)
    return invalid_field(full(name), fmt::format("must be from {} to {}", lo, hi));
  return std::optional<std::int64_t>(n);
}

core::Result<void> Fields::only(std::initializer_list<std::string_view> allowed) {
  for (auto& [k, v] : body_) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
      return invalid_field(full(k), "is not a known field");
    }
  }
  return core::ok();
}

core::Result<std::optional<std::vector<std::string>>> Fields::optional_string_array(
    std::string_view name, std::size_t max_items, std::size_t max_len) {
  using Out = std::optional<std::vector<std::string>>;
  auto it = body_.find(name);
  if (it == body_.end() || it->value().is_null()) return Out();
  if (!it->value().is_array()) {
    return invalid_field(full(name),
                         fmt::format("must be an array of strings, not {}", kind(it->value())));
  }
  auto& a = it->value().as_array();
  if (a.size() > max_items) {
    return invalid_field(full(name), fmt::format("may hold at most {} items", max_items));
  }
  std::vector<std::string> out;
  out.reserve(a.size());
  for (auto& v : a) {
    if (!v.is_string()) {
      return invalid_field(full(name), fmt::format("must hold strings, not {}", kind(v)));
    }
    if (v.as_string().size() > max_len) {
      return invalid_field(full(name), fmt::format("items must be at most {} bytes", max_len));
    }
    out.emplace_back(v.as_string());
  }
  return Out(std::move(out));
}

core::Result<std::optional<std::vector<std::int64_t>>> Fields::optional_id_array(
    std::string_view name, std::size_t max_items) {
  using Out = std::optional<std::vector<std::int64_t>>;
  auto it = body_.find(name);
  if (it == body_.end() || it->value().is_null()) return Out();
  if (!it->value().is_array()) {
    return invalid_field(full(name),
                         fmt::format("must be an array of ids, not {}", kind(it->value())));
  }
  auto& a = it->value().as_array();
  if (a.size() > max_items) {
    return invalid_field(full(name), fmt::format("may hold at most {} ids", max_items));
  }
  std::vector<std::int64_t> out;
  for (auto& v : a) {
    if (v.is_int64() && v.as_int64() > 0) {
      out.push_back(v.as_int64());
    } else if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
      out.push_back(static_cast<std::int64_t>(v.as_uint64()));
    } else {
      return invalid_field(full(name), "must hold positive integer ids");
    }
  }
  return Out(std::move(out));
}

std::string Fields::full(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

}  // namespace netpulse::api::detail
