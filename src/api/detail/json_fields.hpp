// Reading request bodies field by field, with errors that name the field: a missing required
// field, a value of the wrong type or one out of range becomes INVALID_INPUT with
// details {"field": ..., "reason": ...}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::api::detail {

class Fields {
 public:
  explicit Fields(const boost::json::object& body) : body_(body) {}
  // For a nested object: errors name "<prefix>.<field>".
  Fields(const boost::json::object& body, std::string prefix)
      : body_(body), prefix_(std::move(prefix)) {}

  // A string of 1..max_len bytes (after the field exists). Required.
  core::Result<std::string> required_string(std::string_view name, std::size_t max_len = 1024);
  core::Result<std::optional<std::string>> optional_string(std::string_view name,
                                                           std::size_t max_len = 1024,
                                                           bool allow_empty = true);
  core::Result<std::optional<bool>> optional_bool(std::string_view name);
  core::Result<std::optional<std::int64_t>> optional_int(std::string_view name, std::int64_t lo,
                                                         std::int64_t hi);
  // An array of at most `max_items` strings of at most `max_len` bytes each.
  core::Result<std::optional<std::vector<std::string>>> optional_string_array(std::string_view name,
                                                                              std::size_t max_items,
                                                                              std::size_t max_len);
  // An array of at most `max_items` positive integers.
  core::Result<std::optional<std::vector<std::int64_t>>> optional_id_array(std::string_view name,
                                                                           std::size_t max_items);
  // Refuses fields not in `allowed` (a typo must not pass silently).
  core::Result<void> only(std::initializer_list<std::string_view> allowed);

 private:
  std::string full(std::string_view name) const;

  const boost::json::object& body_;
  std::string prefix_;
};

}  // namespace netpulse::api::detail
