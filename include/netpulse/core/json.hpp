// JSON text to boost::json::value with numbers read exactly.
#pragma once

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

}  // namespace netpulse::core
