// The OpenAPI document must describe every registered route (with its method and permission):
// built from the real route table with a real database and auth service on a temp dir.
#include <catch2/catch.hpp>

#include "api_harness.hpp"

using namespace netpulse;

TEST_CASE("openapi: every registered route is in the document with its method and permission") {
  test::ApiHarness h;
  auto& router = h.router;
  REQUIRE(router.routes().size() > 20);

  auto doc = api::openapi_document(router, "test");
  CHECK(doc.at("openapi").as_string() == "3.1.0");
  auto& paths = doc.at("paths").as_object();
  std::size_t operations = 0;
  for (auto& route : router.routes()) {
    std::string method(api::http::to_string(route.method));
    for (auto& ch : method) ch = static_cast<char>(std::tolower(ch));
    INFO(method << " " << route.pattern);
    REQUIRE(paths.contains(route.pattern));
    auto& item = paths.at(route.pattern).as_object();
    REQUIRE(item.contains(method));
    auto& op = item.at(method).as_object();
    CHECK_FALSE(op.at("summary").as_string().empty());
    if (route.permission) {
      CHECK(op.at("x-permission").as_string() == auth::permission_name(*route.permission));
      CHECK(op.at("responses").as_object().contains("403"));
    } else {
      CHECK_FALSE(op.contains("x-permission"));
    }
    if (route.json_body) CHECK(op.contains("requestBody"));
    ++operations;
  }
  // And nothing in the document that is not a route.
  std::size_t documented = 0;
  for (auto& [path, item] : paths) documented += item.as_object().size();
  CHECK(documented == operations);
}
