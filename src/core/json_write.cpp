// to_json_text(): boost::json::value to text with numbers as people and parsers expect them.
// Boost.JSON 1.81 writes every double in exponent form (92.5 as 9.25E1, a timestamp held as a
// double as 1.7E9); std::to_chars' shortest form reads the same and round-trips bit for bit.
#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include <netpulse/core/json.hpp>

namespace netpulse::core {

namespace {

// What follows a backslash for each byte below 0x20 and for '"' and '\\'; 'u' for \u00XX; 0 for
// a byte written as it is (Boost.JSON's own table).
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

void append_string(std::string& out, std::string_view s) {
  constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet written
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto byte = static_cast<unsigned char>(s[i]);
    const char e = kEscape[byte];
    if (e == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    if (e != 'u') {
      out.push_back(e);
      continue;
    }
    out.append("u00", 3);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

template <typename Integer>
void append_integer(std::string& out, Integer n) {
  std::array<char, 24> buf{};
  const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), n).ptr;
  out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

// As JavaScript's Number.prototype.toString() chooses: plain notation from 1e-6 up to 1e21
// (1700000000, 0.000001), exponent notation outside it (1e-7, 1e+21); the shortest digits
// that read back as the same double either way (negative zero as -0.0).
void append_double(std::string& out, double d) {
  // "-0" would read back as the integer 0: negative zero keeps its sign only with a fraction.
  if (d == 0 && std::signbit(d)) {
    out.append("-0.0", 4);
    return;
  }
  std::array<char, 32> buf{};  // plain up to 1e21: at most 22 digits, a sign and a point
  const double magnitude = std::fabs(d);
  const auto format = (magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21))
                          ? std::chars_format::fixed
                          : std::chars_format::scientific;
  const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), d, format).ptr;
  out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

void append_array(std::string& out, const boost::json::array& a) {
  out.push_back('[');
  bool first = true;
  for (const auto& item : a) {
    if (!first) out.push_back(',');
    first = false;
    append_json_text(out, item);
  }
  out.push_back(']');
}

void append_object(std::string& out, const boost::json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& [key, item] : o) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, key);
    out.push_back(':');
    append_json_text(out, item);
  }
  out.push_back('}');
}

}  // namespace

void append_json_text(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out.append("null", 4);
      return;
    case boost::json::kind::bool_:
      v.get_bool() ? out.append("true", 4) : out.append("false", 5);
      return;
    case boost::json::kind::int64:
      append_integer(out, v.get_int64());
      return;
    case boost::json::kind::uint64:
      append_integer(out, v.get_uint64());
      return;
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) {
        out.append("null", 4);
        return;
      }
      append_double(out, v.get_double());
      return;
    case boost::json::kind::string:
      append_string(out, v.get_string());
      return;
    case boost::json::kind::array:
      append_array(out, v.get_array());
      return;
    case boost::json::kind::object:
      append_object(out, v.get_object());
      return;
  }
}

std::string to_json_text(const boost::json::value& v) {
  std::string out;
  append_json_text(out, v);
  return out;
}

std::string to_json_text(const boost::json::object& o) {
  std::string out;
  append_object(out, o);
  return out;
}

std::string to_json_text(const boost::json::array& a) {
  std::string out;
  append_array(out, a);
  return out;
}

}  // namespace netpulse::core
