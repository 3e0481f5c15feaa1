// JSON text to boost::json::value with numbers read exactly, and back with numbers written as
// people expect them.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace netpulse::core {

// Parses `text` as one JSON document, as boost::json::parse(text, ec, {}, options) does, except
// that every number with a fraction or an exponent becomes the double nearest to its decimal text
// (std::from_chars). Boost.JSON 1.81's own conversion is off by one unit in the last place for
// about one double in four (1.2345678901234567e-300 comes out as 1.234567890123457e-300), so a
// sample value sent as JSON would not read back as sent. On error `ec` is set and null returned.
// Any thread.
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              const boost::json::parse_options& options = {});

// `v` as JSON text, as people and parsers expect it: a double in the shortest digits that read
// back as the same double, in plain notation from 1e-6 up to 1e21 and exponent notation outside
// it, as JavaScript prints numbers (92.5, 1700000000, 0.000001, 1e-07, 1e+300; never Boost.JSON
// 1.81's 9.25E1; negative zero as -0.0); an integer as an integer; NaN and infinities as null
// (JSON has neither).
// Strings escaped as boost::json::serialize() does. Any thread.
std::string to_json_text(const boost::json::value& v);
std::string to_json_text(const boost::json::object& o);
std::string to_json_text(const boost::json::array& a);
// The same, appended to `out`.
void append_json_text(std::string& out, const boost::json::value& v);

}  // namespace netpulse::core
