// The http(s) URL parser and redirect resolution (netpulse/core/url.hpp), table-driven: what is
// taken and how it is written back, what is refused (naming the field "url"), and how each kind
// of Location reference resolves against a base URL.
#include <catch2/catch.hpp>

#include <netpulse/core/url.hpp>

using netpulse::core::Errc;
using netpulse::core::parse_http_url;
using netpulse::core::resolve_location;
namespace asio = boost::asio;

TEST_CASE("url: the parser takes http(s) URLs and refuses the rest naming url", "[core][url]") {
  auto u = parse_http_url("https://Check.Test:8443/a/b?x=1");
  REQUIRE(u);
  CHECK(u->https);
  CHECK(u->host == "check.test");
  CHECK(u->port == 8443);
  CHECK(u->target == "/a/b?x=1");
  CHECK(u->host_header() == "check.test:8443");
  CHECK(u->str() == "https://check.test:8443/a/b?x=1");
  auto v6 = parse_http_url("http://[::1]/");
  REQUIRE(v6);
  CHECK(v6->host_address == asio::ip::make_address("::1"));
  CHECK(v6->port == 80);
  CHECK(v6->host_header() == "[::1]");
  auto bare = parse_http_url("http://example.org");
  REQUIRE(bare);
  CHECK(bare->target == "/");
  CHECK_FALSE(bare->host_address);
  auto query_only = parse_http_url("HTTP://example.org?q=1");
  REQUIRE(query_only);
  CHECK(query_only->target == "/?q=1");
  CHECK_FALSE(query_only->https);

  const char* bad[] = {
      "ftp://x/",         "example.org/",       "http://",         "http://u:p@host/",
      "http://host:0/",   "http://host:65536/", "http://host:8x/", "http://ho st/",
      "http://host/a b",  "http://host/#frag",  "http://[::1/",    "http://[zz]/",
      "http://host/\x01", "http://:80/",        "http://[::1]x/",  "http://host:/"};
  for (const char* url : bad) {
    INFO(url);
    auto r = parse_http_url(url);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == "url");
  }
  CHECK_FALSE(parse_http_url("http://h/" + std::string(9000, 'a')));
}

TEST_CASE("url: a redirect Location resolves against the URL it came from", "[core][url]") {
  auto base = parse_http_url("https://example.org:8443/a/b/c?x=1");
  REQUIRE(base);
  struct Case {
    const char* location;
    const char* resolved;
  };
  const Case cases[] = {
      {"http://other.test/z", "http://other.test/z"},
      {"HTTPS://Other.Test", "https://other.test/"},
      {"//other.test/z?q", "https://other.test/z?q"},
      {"/z", "https://example.org:8443/z"},
      {"/z/../y/./w", "https://example.org:8443/y/w"},
      {"/z/..", "https://example.org:8443/"},
      {"/../../z", "https://example.org:8443/z"},
      {"d", "https://example.org:8443/a/b/d"},
      {"d/", "https://example.org:8443/a/b/d/"},
      {"./d?y=2", "https://example.org:8443/a/b/d?y=2"},
      {"../d", "https://example.org:8443/a/d"},
      {"../../../../d", "https://example.org:8443/d"},
      {".", "https://example.org:8443/a/b/"},
      {"..", "https://example.org:8443/a/"},
      {"?y=2", "https://example.org:8443/a/b/c?y=2"},
      {"/z#fragment", "https://example.org:8443/z"},
      {"/a//b", "https://example.org:8443/a//b"},
  };
  for (const auto& c : cases) {
    INFO(c.location);
    auto r = resolve_location(*base, c.location);
    REQUIRE(r);
    CHECK(r->str() == c.resolved);
  }

  const char* refused[] = {
      "",     "#only-a-fragment", "ftp://other.test/",  "mailto:x@y", "//", "//u@host/",
      "/a b", "d\r\nX: y",        "javascript:alert(1)"};
  for (const char* location : refused) {
    INFO(location);
    auto r = resolve_location(*base, location);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kProtocolError);
    CHECK_THAT(r.error().message, Catch::Contains("redirect Location"));
  }
}

TEST_CASE("url: same_origin compares scheme, host and port", "[core][url]") {
  auto a = parse_http_url("http://example.org/x");
  auto b = parse_http_url("http://EXAMPLE.org:80/y");
  auto c = parse_http_url("https://example.org/x");
  auto d = parse_http_url("http://example.org:8080/x");
  REQUIRE((a && b && c && d));
  CHECK(a->same_origin(*b));
  CHECK_FALSE(a->same_origin(*c));
  CHECK_FALSE(a->same_origin(*d));
}
