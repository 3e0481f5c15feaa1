// Router matching, URL decoding, gzip negotiation and the rate limiter.
#include <catch2/catch.hpp>

#include <netpulse/api/router.hpp>
#include <netpulse/core/clock.hpp>

#include "api/detail/gzip.hpp"
#include "api/detail/rate_limiter.hpp"
#include "api/detail/url.hpp"

using namespace netpulse;
using api::http::verb;

namespace {
api::Route route(verb m, std::string pattern) {
  api::Route r;
  r.method = m;
  r.pattern = std::move(pattern);
  r.handler = [](api::ContextPtr) {};
  return r;
}
}  // namespace

TEST_CASE("router: matches literal and parameter segments and binds parameters") {
  api::Router r;
  r.add(route(verb::get, "/api/v1/users"));
  r.add(route(verb::get, "/api/v1/users/{id}"));
  r.add(route(verb::put, "/api/v1/users/{id}/password"));
  r.add(route(verb::get, "/api/v1/users/me"));

  auto m = r.match(verb::get, "/api/v1/users/42");
  REQUIRE(m.route);
  CHECK(m.route->pattern == "/api/v1/users/{id}");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0] == std::pair<std::string, std::string>("id", "42"));

  // A literal segment wins over a parameter.
  auto me = r.match(verb::get, "/api/v1/users/me");
  REQUIRE(me.route);
  CHECK(me.route->pattern == "/api/v1/users/me");

  auto pw = r.match(verb::put, "/api/v1/users/7/password");
  REQUIRE(pw.route);
  CHECK(pw.params[0].second == "7");

  // Percent-encoded parameters are decoded.
  auto enc = r.match(verb::get, "/api/v1/users/a%20b");
  REQUIRE(enc.route);
  CHECK(enc.params[0].second == "a b");
}

TEST_CASE("router: reports the methods a path has when the method does not match") {
  api::Router r;
  r.add(route(verb::get, "/api/v1/users/{id}"));
  r.add(route(verb::delete_, "/api/v1/users/{id}"));
  auto m = r.match(verb::post, "/api/v1/users/3");
  CHECK(m.route == nullptr);
  CHECK(m.allowed == std::vector<verb>{verb::get, verb::delete_});
  auto none = r.match(verb::get, "/api/v1/nothing");
  CHECK(none.route == nullptr);
  CHECK(none.allowed.empty());
}

TEST_CASE("router: empty segments, trailing slashes and bad escapes do not match") {
  api::Router r;
  r.add(route(verb::get, "/api/v1/users/{id}"));
  CHECK(r.match(verb::get, "/api/v1/users/").route == nullptr);
  CHECK(r.match(verb::get, "/api/v1/users//").route == nullptr);
  CHECK(r.match(verb::get, "/api/v1/users/1/").route == nullptr);
  CHECK(r.match(verb::get, "/api/v1/users/%zz").route == nullptr);
  CHECK(r.match(verb::get, "/api/v1/users/%4").route == nullptr);
}

TEST_CASE("url: percent decoding and query parameters") {
  std::string out;
  CHECK(api::detail::percent_decode("a%20b+c", out, true));
  CHECK(out == "a b c");
  CHECK(api::detail::percent_decode("a+b", out, false));
  CHECK(out == "a+b");
  CHECK_FALSE(api::detail::percent_decode("%", out, true));
  CHECK_FALSE(api::detail::percent_decode("%a", out, true));
  CHECK_FALSE(api::detail::percent_decode("%gg", out, true));

  using api::detail::query_param;
  CHECK(query_param("page=2&per_page=10", "per_page") == "10");
  CHECK(query_param("a=1&b", "b") == "");
  CHECK_FALSE(query_param("a=1", "b").has_value());
  CHECK(query_param("action=POST%20%2Fapi", "action") == "POST /api");
  CHECK_FALSE(query_param("x=%zz", "x").has_value());
}

TEST_CASE("gzip: Accept-Encoding negotiation") {
  using api::detail::accepts_gzip;
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("deflate, gzip;q=0.8"));
  CHECK(accepts_gzip("*"));
  CHECK(accepts_gzip("br, GZIP") == false);  // codings are case-sensitive tokens here
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.000"));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip(""));
}

TEST_CASE("gzip: compresses into a gzip stream") {
  std::string in(10000, 'a');
  std::string out;
  REQUIRE(api::detail::gzip_compress(in, out));
  REQUIRE(out.size() > 18);
  CHECK(static_cast<unsigned char>(out[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(out[1]) == 0x8b);
  CHECK(out.size() < in.size() / 10);
}

TEST_CASE("rate limiter: allows a burst, then refills at the rate") {
  core::ManualClock clock;
  api::detail::RateLimiter limiter(clock, 2.0, 3.0);
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") == 0);
  auto wait = limiter.acquire("1.2.3.4");
  CHECK(wait == 1);
  // Another key has its own bucket.
  CHECK(limiter.acquire("5.6.7.8") == 0);
  clock.advance(std::chrono::milliseconds(500));  // one token back at 2/s
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") > 0);
  clock.advance(std::chrono::seconds(10));  // refills only up to the burst
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") == 0);
  CHECK(limiter.acquire("1.2.3.4") > 0);
}

TEST_CASE("rate limiter: memory stays bounded under a flood of distinct keys") {
  core::ManualClock clock;
  api::detail::RateLimiter limiter(clock, 1.0, 5.0, 1000);
  for (int i = 0; i < 50000; ++i) {
    (void)limiter.acquire("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    clock.advance(std::chrono::microseconds(10));
  }
  CHECK(limiter.size() <= 1000);
}
