// An in-memory NetPulse API for the HTTP fuzz targets: the real route table (auth, users, orgs,
// API keys, audit, metrics ingest and queries, devices, checks) over a real database, auth
// service, time-series store and inventory on a temp dir, behind the real Pipeline (middleware,
// router, auth, handlers), as tests/unit/api/api_harness.hpp builds it, but without Catch2 and
// with the pollers left out (no sockets). Made once per process; requests are handed to the
// pipeline directly, and the loop is turned until the answer is sent. State accumulates between
// inputs (users, devices, samples), as it would on a live server. The live feed's hub is there too
// (live_exchange), without sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace netpulse::fuzz {

struct ApiAnswer {
  int status = 0;
  std::string bytes;  // the whole response as written to the wire
};

class ApiFixture {
 public:
  // The process's fixture, built on first use (aborts when it cannot be).
  static ApiFixture& instance();

  // Bearer credentials that stay valid: a system administrator's access token and an api_user
  // key of the same organization. Fuzz inputs name them as @ADMIN@ and @KEY@.
  virtual const std::string& admin_token() = 0;
  virtual const std::string& api_key() = 0;

  // `raw` with @ADMIN@ and @KEY@ replaced by the credentials above.
  virtual std::string substitute(std::string_view raw) = 0;

  // One parsed request through the pipeline, from peer 203.0.113.7; returns its answer. Aborts
  // if no answer comes within 30 s (a handler that never answers).
  virtual ApiAnswer handle(
      boost::beast::http::request<boost::beast::http::string_body> request) = 0;

  // The bytes of one or more HTTP/1.1 requests (pipelined) through Beast's request parser with
  // the server's header and body limits, each parsed request through handle() and each parse
  // error through the server's transport error; stops at the first error or after
  // `max_requests`. Returns the answers' statuses in order.
  virtual std::vector<int> exchange(std::string_view raw, std::size_t max_requests) = 0;

  // The live feed's hub over the same services: one new client sends `messages` (after the
  // substitution above) in order, then a device status change of the fixture's organization is
  // published. Returns what the hub queued for the client, and how it closed it (code 0: open).
  struct LiveAnswer {
    std::vector<std::string> sent;
    std::uint16_t close_code = 0;
  };
  virtual LiveAnswer live_exchange(const std::vector<std::string>& messages) = 0;

 protected:
  ~ApiFixture() = default;
};

}  // namespace netpulse::fuzz
