// The one strict http(s) URL parser: the HTTP check's URL (pollers), the outbound HttpClient's
// URLs and every redirect Location either follows. "http" or "https", a host (DNS name, IPv4
// literal or bracketed IPv6 literal), an optional port and a path with an optional query.
// Everything else (user info, fragments, other schemes, spaces, control characters and
// non-ASCII) is refused with kInvalidInput naming the field ("url"): a URL that a browser would
// "fix" silently is better refused with a message saying which part is wrong.
//
// Threads: plain functions on values; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

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
  // Whether `other` has the same scheme, host and port (the same origin).
  bool same_origin(const HttpUrl& other) const noexcept;
};

// Parses `url` (at most 8192 characters); kInvalidInput with details.field "url" saying what is
// wrong.
Result<HttpUrl> parse_http_url(std::string_view url);

// Resolves a redirect's Location header against the URL it came from (RFC 3986 section 5.2):
// an absolute http(s) URL, a scheme-relative "//host/x" (the base's scheme), an absolute path
// "/x", a query "?q" or a relative path "x/y" (merged with the base's directory); dot segments
// are removed and a fragment is dropped (it is never sent). Anything else, and a result that
// parse_http_url would refuse, is kProtocolError: the peer sent it, not the user.
Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location);

}  // namespace netpulse::core
