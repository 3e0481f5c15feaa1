// The route table: method + path pattern ("/api/v1/users/{id}") → handler, with what the route
// needs (a permission, a JSON body) and its documentation for the OpenAPI document. The server
// runs the middleware (request id, rate limits, auth, permission, body checks) from these facts,
// so a route cannot forget them, and the tests generate their permission matrix from this table.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

#include <netpulse/api/context.hpp>
#include <netpulse/auth/roles.hpp>

namespace netpulse::api {

using Handler = std::function<void(ContextPtr)>;

struct QueryParamDoc {
  std::string name;
  std::string description;
  std::string type = "string";  // JSON schema type
};

// Documentation for the OpenAPI document.
struct RouteDoc {
  std::string summary;
  std::string tag;
  boost::json::object request_schema;   // JSON schema of the body; empty: no body
  boost::json::object response_schema;  // JSON schema of `data`; empty: generic
  std::vector<QueryParamDoc> query;
  int success_status = 200;
};

struct Route {
  http::verb method = http::verb::get;
  std::string pattern;                         // "/api/v1/users/{id}"
  std::optional<auth::Permission> permission;  // nullopt: public
  Handler handler;
  RouteDoc doc;
  bool json_body = false;    // requires a JSON object body (Content-Type: application/json)
  bool rate_limited = true;  // per-IP limit (off for /alive, /ready, /health, /metrics)
  bool audited = true;       // mutating requests are written to the audit log
};

class Router {
 public:
  struct Match {
    const Route* route = nullptr;  // null: no route for this method
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<http::verb> allowed;  // methods the path has (for 405 and CORS preflight)
  };

  // Adds a route. Aborts on a duplicate (method, pattern): a programming error. Add every route
  // before serving: match() returns pointers into the table.
  void add(Route route);
  // Matches a request target's path (no query string).
  Match match(http::verb method, std::string_view path) const;
  const std::vector<Route>& routes() const noexcept { return routes_; }
  // The position of `route` in routes() (for per-route tables such as metrics).
  std::size_t index_of(const Route* route) const noexcept {
    return static_cast<std::size_t>(route - routes_.data());
  }

 private:
  // A pattern split once into segments; `is_param` marks "{name}" segments.
  struct Segment {
    std::string text;
    bool is_param = false;
  };
  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> segments_;  // parallel to routes_
};

// The OpenAPI 3.1 document describing every route of `router`.
boost::json::object openapi_document(const Router& router, std::string_view version);

}  // namespace netpulse::api
