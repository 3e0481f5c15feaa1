// The HTTP check's URL parser (src/pollers/detail/http_url.hpp). Strict on purpose: a check's URL
// is typed by an operator, and a URL that a browser would "fix" silently is better refused with
// a message that says which part is wrong.
#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include <netpulse/pollers/service_checks.hpp>

#include "detail/http_url.hpp"

namespace netpulse::pollers::detail {

namespace {

core::Error bad_url(std::string_view why) {
  return core::invalid_field("url", why);
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

core::Result<HttpUrl> parse_http_url(std::string_view url) {
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

core::Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location) {
  if (location.starts_with("/") && !location.starts_with("//")) {
    HttpUrl next = base;
    if (!std::all_of(location.begin(), location.end(), is_target_char)) {
      return core::Error(core::Errc::kProtocolError, "redirect Location has an invalid path");
    }
    next.target = std::string(location);
    return next;
  }
  auto next = parse_http_url(location);
  if (!next) {
    return core::Error(core::Errc::kProtocolError,
                       fmt::format("redirect Location '{}' is not a usable URL: {}",
                                   location.substr(0, 200), next.error().message));
  }
  return next;
}

}  // namespace netpulse::pollers::detail

namespace netpulse::pollers {

core::Result<std::string> normalize_http_url(std::string_view url) {
  auto parsed = detail::parse_http_url(url);
  if (!parsed) return std::move(parsed).error();
  return parsed->str();
}

}  // namespace netpulse::pollers
