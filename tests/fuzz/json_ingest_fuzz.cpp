// Fuzz target: the JSON metric ingest body (POST /api/v1/metrics). The body is handed to the
// route through the in-memory API's pipeline with an api_user key, so this is the route's own
// parse (today a function private to src/api/routes_metrics.cpp) and the store append behind it.
// When the parser moves into tsdb (include/netpulse/tsdb/ingest_parse.hpp), point this target at
// that function instead: it is one call.
#include <string>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "support/api_fixture.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;
namespace http = boost::beast::http;

NETPULSE_FUZZ_TARGET(json_ingest) {
  auto& api = fuzz::ApiFixture::instance();
  http::request<http::string_body> req{http::verb::post, "/api/v1/metrics?partial=true", 11};
  req.set(http::field::host, "netpulse.fuzz");
  req.set(http::field::authorization, "Bearer " + api.api_key());
  req.set(http::field::content_type, "application/json");
  req.body() = std::string(fuzz::as_text(data, size));
  req.prepare_payload();
  auto answer = api.handle(std::move(req));
  if (answer.status >= 500 && answer.status != 503) {
    fuzz::fail("a server error: " + std::to_string(answer.status));
  }
  return 0;
}
