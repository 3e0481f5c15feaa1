// Reading the notifier's JSON bodies (on-call schedules, notification policies) one object at a
// time: an ObjectReader knows the object's path in the body ("rotation.handover",
// "escalation[2]") and checks each field's type, naming "<path>.<field>" in every refusal. A
// missing field and a JSON null both read as "not given".
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::notify::detail {

// A label name: [A-Za-z_][A-Za-z0-9_]*, 1..128 bytes (as alerts' matchers and templates take).
bool is_label_name(std::string_view name) noexcept;

// An integer JSON value: int64, a uint64 that fits, or a double without a fraction below 9e15.
std::optional<std::int64_t> json_integer(const boost::json::value& v) noexcept;

class ObjectReader {
 public:
  // `object` must outlive the reader; `path` is its place in the body ("" for the body itself).
  ObjectReader(const boost::json::object& object, std::string path)
      : object_(object), path_(std::move(path)) {}

  // "<path>.<name>", or "<name>" at the top.
  std::string path_of(std::string_view name) const;

  // Refuses the first member not in `allowed`: "<path.key>: not a field of <thing>".
  core::Result<void> refuse_unknown(std::initializer_list<std::string_view> allowed,
                                    std::string_view thing) const;

  // The member, or nullptr when missing or null.
  const boost::json::value* find(std::string_view name) const;

  core::Result<std::optional<std::string>> text(std::string_view name) const;
  core::Result<std::optional<std::int64_t>> integer(std::string_view name) const;
  core::Result<std::optional<bool>> flag(std::string_view name) const;
  // nullptr when missing or null.
  core::Result<const boost::json::object*> object(std::string_view name) const;
  // nullptr when missing or null; refused unread when longer than max_items.
  core::Result<const boost::json::array*> array(std::string_view name, std::size_t max_items) const;
  // Lists of integers and of strings: empty when missing or null.
  core::Result<std::vector<std::int64_t>> integers(std::string_view name,
                                                   std::size_t max_items) const;
  core::Result<std::vector<std::string>> texts(std::string_view name, std::size_t max_items) const;

 private:
  const boost::json::object& object_;
  std::string path_;
};

}  // namespace netpulse::notify::detail
