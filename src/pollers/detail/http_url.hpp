// The strict URL parser of the HTTP check: "http" or "https", a host (DNS name, IPv4 literal or
// bracketed IPv6 literal), an optional port and a path with an optional query. Everything else
// (user info, fragments, other schemes, spaces and control characters) is refused with
// kInvalidInput naming the field ("url").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::pollers::detail {

struct HttpUrl {
  bool https = false;
  std::string host;        // as written, lower-cased; IPv6 without the brackets
  std::uint16_t port = 0;  // the explicit port, else 80 / 443
  bool explicit_port = false;
  std::string target;                                    // path + query, at least "/"
  std::optional<boost::asio::ip::address> host_address;  // when host is an IP literal

  // The Host header value: host (bracketed when IPv6) plus ":port" when explicit.
  std::string host_header() const;
  // The URL written back in canonical form.
  std::string str() const;
};

core::Result<HttpUrl> parse_http_url(std::string_view url);

// Resolves a Location header against the URL it came from: absolute http(s) URLs, and
// absolute paths ("/x") on the same origin. Anything else is refused (kProtocolError).
core::Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location);

}  // namespace netpulse::pollers::detail
