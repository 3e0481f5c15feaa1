// Fuzz target: raw HTTP/1.1 bytes through the whole request path: Beast's request parser with
// the server's limits, then the Pipeline (request id, CORS, routing, rate limits, auth,
// permissions, JSON body checks, the handlers, gzip, security headers) of an in-memory server
// with every route of the API and real auth, tsdb and inventory behind it. Up to four pipelined
// requests per input. `@ADMIN@` and `@KEY@` in the input become a system administrator's access
// token and an api_user key, so inputs reach past authentication.
#include "support/api_fixture.hpp"
#include "support/fuzz_target.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(http) {
  auto statuses = fuzz::ApiFixture::instance().exchange(fuzz::as_text(data, size), 4);
  for (int status : statuses) {
    if (status < 100 || status > 599) fuzz::fail("a response without a valid status");
    if (status >= 500 && status != 503) fuzz::fail("a server error: " + std::to_string(status));
  }
  return 0;
}
