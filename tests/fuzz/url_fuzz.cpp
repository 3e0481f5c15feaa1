// Fuzz target: the http(s) URL parser and redirect resolution (core::parse_http_url,
// core::resolve_location) — a Location header is whatever a remote server sends. The input is
// parsed as a URL and resolved as a Location against three bases.
#include <netpulse/core/url.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

// A URL that parsed writes back as text that parses to the same URL.
void check_round_trip(const core::HttpUrl& url, std::string_view what) {
  const auto text = url.str();
  auto again = core::parse_http_url(text);
  if (!again) fuzz::fail(std::string(what) + ": str() does not parse back: " + text);
  if (again->str() != text) fuzz::fail(std::string(what) + ": str() is not stable: " + text);
  if (again->port != url.port || again->https != url.https || again->target != url.target) {
    fuzz::fail(std::string(what) + ": parse(str()) differs: " + text);
  }
  if (url.target.empty() || url.target.front() != '/') {
    fuzz::fail(std::string(what) + ": a target that does not start with '/': " + text);
  }
}

}  // namespace

NETPULSE_FUZZ_TARGET(url) {
  const auto text = fuzz::as_text(data, size);
  if (auto url = core::parse_http_url(text)) {
    check_round_trip(*url, "parse");
  } else if (url.error().code != core::Errc::kInvalidInput ||
             url.error().details.at("field").as_string() != "url") {
    fuzz::fail("a refused URL that is not kInvalidInput naming url");
  }
  static const char* const kBases[] = {"http://example.org/", "https://[2001:db8::1]:8443/a/b?q",
                                       "http://192.0.2.1/a/b/c/d;p?q=1"};
  for (const char* base_text : kBases) {
    auto base = core::parse_http_url(base_text);
    if (!base) fuzz::fail("a base URL does not parse");
    auto next = core::resolve_location(*base, text);
    if (next) {
      check_round_trip(*next, "resolve_location");
    } else if (next.error().code != core::Errc::kProtocolError) {
      fuzz::fail("a refused Location that is not kProtocolError");
    }
  }
  return 0;
}
