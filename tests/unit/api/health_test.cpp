// /health reports the database check: 200 while it passes, 503 with the reason once it fails
// (here: a database whose writer has been closed).
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "api_harness.hpp"

using namespace netpulse;

namespace {

api::Response call(const api::Router& router, api::http::verb method, const std::string& target) {
  api::Response out;
  auto m = router.match(method, target);
  REQUIRE(m.route);
  auto ctx = std::make_shared<api::Context>(
      api::Request{method, target, 11}, "req_test", "127.0.0.1",
      core::SystemTime(std::chrono::seconds(1767225600)),
      [&out](const api::Context&, api::Response r) { out = std::move(r); });
  m.route->handler(ctx);
  return out;
}

}  // namespace

TEST_CASE("health: 200 while the database answers, 503 naming the failure once it does not") {
  test::ApiHarness h;
  auto& router = h.router;

  auto ok = call(router, api::http::verb::get, "/health");
  CHECK(ok.status == api::http::status::ok);
  auto body = boost::json::parse(ok.body).as_object();
  CHECK(body.at("status").as_string() == "healthy");
  CHECK(body.at("checks").at("database").at("status").as_string() == "ok");
  CHECK(call(router, api::http::verb::get, "/ready").status == api::http::status::ok);

  h.database->close();
  h.ready = false;
  auto bad = call(router, api::http::verb::get, "/health");
  CHECK(bad.status == api::http::status::service_unavailable);
  auto failing = boost::json::parse(bad.body).as_object();
  CHECK(failing.at("status").as_string() == "unhealthy");
  auto& db_check = failing.at("checks").at("database").as_object();
  CHECK(db_check.at("status").as_string() == "failing");
  CHECK_FALSE(db_check.at("error").as_string().empty());
  CHECK(call(router, api::http::verb::get, "/ready").status ==
        api::http::status::service_unavailable);
}
