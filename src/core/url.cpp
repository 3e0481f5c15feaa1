// The http(s) URL parser and redirect resolution (include/netpulse/core/url.hpp). Strict on
// purpose: a URL is typed by an operator, and a URL that a browser would "fix" silently is better
// refused with a message that says which part is wrong. A redirect's Location is the peer's, so
// its faults are kProtocolError.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include <netpulse/core/url.hpp>

namespace netpulse::core {

namespace {

Error bad_url(std::string_view why) {
  return invalid_field("url", why);
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// RFC 3986 pchar plus '/', '?' (query) and '%'; no spaces, controls, '#' or non-ASCII.
bool is_target_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  return c != '#' && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' &&
         c != '{' && c != '|' && c != '}';
}

}  // namespace

std::string HttpUrl::host_header() const {
  const bool v6 = host_address && host_address->is_v6();
  std::string out;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (explicit_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string HttpUrl::str() const {
  std::string out = https ? "https://" : "http://";
  out += host_header();
  out += target;
  return out;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  if (url.size() > 8192) return bad_url("is longer than 8192 characters");
  HttpUrl out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad_url("must start with http:// or https://");
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return bad_url(fmt::format("scheme '{}' is not http or https", scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad_url("must not hold user info");
  if (authority.empty()) return bad_url("has no host");

  std::string_view host;
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("has an unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("has text after the IPv6 host");
      port_text = after.substr(1);
      out.explicit_port = true;
    }
    boost::system::error_code ec;
    const auto v6 = boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return bad_url("has an invalid IPv6 address in brackets");
    out.host_address = boost::asio::ip::address(v6);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      out.explicit_port = true;
    }
    if (host.empty()) return bad_url("has no host");
    if (host.size() > 253 || !std::all_of(host.begin(), host.end(), is_host_char)) {
      return bad_url("has an invalid host name");
    }
    boost::system::error_code ec;
    const auto v4 = boost::asio::ip::make_address_v4(std::string(host), ec);
    if (!ec) out.host_address = boost::asio::ip::address(v4);
  }
  out.host = std::string(host);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  if (out.explicit_port) {
    unsigned value = 0;
    const auto* first = port_text.data();
    const auto* last = first + port_text.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (port_text.empty() || ec != std::errc() || end != last || value == 0 || value > 65535) {
      return bad_url("has a port that is not 1..65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  } else {
    out.port = out.https ? 443 : 80;
  }

  if (!target.empty() && target.front() == '#') return bad_url("must not hold a fragment");
  if (!std::all_of(target.begin(), target.end(), is_target_char)) {
    return bad_url(
        "has a character in the path or query that must be percent-encoded, or a "
        "fragment");
  }
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/";
    out.target += target;
  } else {
    out.target = std::string(target);
  }
  return out;
}

namespace {

Error bad_location(std::string_view location, std::string_view why) {
  return Error(Errc::kProtocolError, fmt::format("redirect Location '{}' is not a usable URL: {}",
                                                 location.substr(0, 200), why));
}

// RFC 3986 5.2.4 on a path that starts with '/': "." and ".." segments go, a ".." above the
// root stays at the root, and a path that ended in one keeps its trailing '/'.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  std::size_t begin = 1;
  for (;;) {
    const auto slash = path.find('/', begin);
    const bool last = slash == std::string_view::npos;
    const auto segment = path.substr(begin, last ? std::string_view::npos : slash - begin);
    if (segment == "." || segment == "..") {
      if (segment == ".." && !kept.empty()) kept.pop_back();
      trailing_slash = last;
    } else {
      kept.push_back(segment);
    }
    if (last) break;
    begin = slash + 1;
  }
  std::string out;
  for (const auto segment : kept) {
    out += '/';
    out += segment;
  }
  if (trailing_slash || out.empty()) out += '/';
  return out;
}

bool has_scheme(std::string_view reference) {
  const auto colon = reference.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(reference.front()))) return false;
  return std::all_of(
      reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      });
}

}  // namespace

bool HttpUrl::same_origin(const HttpUrl& other) const noexcept {
  return https == other.https && host == other.host && port == other.port;
}

Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location) {
  const auto reference = location.substr(0, location.find('#'));
  if (reference.empty()) return bad_location(location, "it is empty");
  if (has_scheme(reference) || reference.starts_with("//")) {
    auto next = parse_http_url(has_scheme(reference)
                                   ? std::string(reference)
                                   : (base.https ? "https:" : "http:") + std::string(reference));
    if (!next) return bad_location(location, next.error().message);
    return next;
  }
  if (reference.size() > 8192) return bad_location(location, "it is longer than 8192 characters");
  if (!std::all_of(reference.begin(), reference.end(), is_target_char)) {
    return bad_location(location, "it has a character that must be percent-encoded");
  }
  const auto query_at = reference.find('?');
  const auto path = reference.substr(0, query_at);
  const auto query =
      query_at == std::string_view::npos ? std::string_view{} : reference.substr(query_at);
  const std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  HttpUrl next = base;
  if (path.empty()) {
    next.target = std::string(base_path);  // "?q": the base's path, the new query
  } else if (path.front() == '/') {
    next.target = remove_dot_segments(path);
  } else {
    std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
    merged += path;
    next.target = remove_dot_segments(merged);
  }
  next.target += query;
  return next;
}

}  // namespace netpulse::core
