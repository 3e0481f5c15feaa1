// The alerts module reads its JSON bodies with core's field readers
// (netpulse/core/json_fields.hpp).
#pragma once

#include <netpulse/core/json_fields.hpp>

namespace netpulse::alerts::detail {

using core::field_path;
using core::get_bool;
using core::get_ids;
using core::get_int;
using core::get_number;
using core::get_object;
using core::get_string;
using core::get_string_map;
using core::get_strings;
using core::kMaxJsonArray;
using core::only_fields;

}  // namespace netpulse::alerts::detail
