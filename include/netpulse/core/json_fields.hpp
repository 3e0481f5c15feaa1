// Reading a JSON body field by field: each getter checks its field's type and names the field
// ("scope.device_ids") in the kInvalidInput it returns. A missing field and a JSON null both read
// as "not given" (an empty optional, or an empty list or map). Shared by the modules that take
// JSON documents (alert rules, silences, maintenance windows, dashboards) so every body is read
// the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

// At most this many items in an id or string list, checked before copying.
inline constexpr std::size_t kMaxJsonArray = 1'000;

// "prefix.name", or "name" when prefix is empty: the field named in errors.
std::string field_path(std::string_view prefix, std::string_view name);

// Refuses the first member of `o` not in `allowed`: "<prefix.key>: not a field of <thing>"
// (thing: "an alert rule", "a silence", ...). A typo must not pass silently.
core::Result<void> only_fields(const boost::json::object& o, std::string_view prefix,
                               std::initializer_list<std::string_view> allowed,
                               std::string_view thing);

// The object under `name`, or nullptr when it is missing or null. Points into `o`.
core::Result<const boost::json::object*> get_object(const boost::json::object& o,
                                                    std::string_view prefix, std::string_view name);
core::Result<std::optional<std::string>> get_string(const boost::json::object& o,
                                                    std::string_view prefix, std::string_view name);
core::Result<std::optional<double>> get_number(const boost::json::object& o,
                                               std::string_view prefix, std::string_view name);
// An integer: int64, a uint64 that fits, or a double with no fraction below 9e15.
core::Result<std::optional<std::int64_t>> get_int(const boost::json::object& o,
                                                  std::string_view prefix, std::string_view name);
core::Result<std::optional<bool>> get_bool(const boost::json::object& o, std::string_view prefix,
                                           std::string_view name);
// An array of int64 ids (at most kMaxJsonArray); empty when missing or null.
core::Result<std::vector<std::int64_t>> get_ids(const boost::json::object& o,
                                                std::string_view prefix, std::string_view name);
// An array of strings (at most kMaxJsonArray); empty when missing or null.
core::Result<std::vector<std::string>> get_strings(const boost::json::object& o,
                                                   std::string_view prefix, std::string_view name);
// An object of strings (at most 64 entries); empty when missing or null.
core::Result<std::map<std::string, std::string>> get_string_map(const boost::json::object& o,
                                                                std::string_view prefix,
                                                                std::string_view name);

}  // namespace netpulse::core
