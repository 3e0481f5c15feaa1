// Percent-decoding and query-string lookup for request targets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netpulse::api::detail {

// Decodes %XX and '+' (as space in query strings). false when an escape is malformed.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

// The decoded value of `name` in `query` ("a=1&b=x%20y"); nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// The path of a request target, without the query string.
inline std::string_view target_path(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace netpulse::api::detail
