// One HTTP exchange as a handler sees it: the request, its path parameters and query, the verified
// caller, the parsed JSON body, and the ways to answer. A handler answers exactly once, now or
// later (after a database write or a password hash); the Context keeps the exchange alive until
// then. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <netpulse/auth/types.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

// What a handler sends back. The server adds the envelope's transport headers (request id,
// security headers, CORS, compression).
struct Response {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // The body is gzip already (the web UI's files): sent with Content-Encoding: gzip, not
  // compressed again.
  bool precompressed = false;
};

// Pagination for list responses.
struct Pagination {
  int page = 1;
  int per_page = 50;
  std::int64_t total = 0;
};

// HTTP status for an error code (e.g. kUserNotFound → 404).
http::status status_for(core::Errc code) noexcept;

class Context {
 public:
  // Receives the answer (once); gets the Context to read the caller and audit target.
  using Sink = std::function<void(const Context&, Response)>;

  Context(Request request, std::string request_id, std::string client_ip,
          core::SystemTime received_at, Sink sink);
  ~Context();  // answers 500 if the handler never did
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Request& request() const noexcept { return request_; }
  const std::string& request_id() const noexcept { return request_id_; }
  const std::string& client_ip() const noexcept { return client_ip_; }
  core::SystemTime received_at() const noexcept { return received_at_; }

  // A path parameter ("{id}" in the route pattern); empty when absent.
  std::string_view param(std::string_view name) const;
  // A path parameter as a positive integer id, or an INVALID_INPUT error naming it.
  core::Result<std::int64_t> id_param(std::string_view name) const;
  // A decoded query-string parameter.
  std::optional<std::string> query(std::string_view name) const;
  // page/per_page from the query string (defaults 1 and 50, per_page capped at 500), or an error.
  core::Result<core::Page> page() const;

  bool authenticated() const noexcept { return principal_.has_value(); }
  // The verified caller; only on routes that require authentication.
  const auth::Principal& principal() const { return *principal_; }
  core::OrgScope org_scope() const { return auth::scope_of(*principal_); }

  // The JSON object body, on routes that take one (parsed and checked before the handler runs).
  const boost::json::object& body() const noexcept { return body_; }

  // What the audit log records as the target of this request ("users/12").
  void set_audit_target(std::string target) { audit_target_ = std::move(target); }
  const std::string& audit_target() const noexcept { return audit_target_; }

  // Answers: `{"success":true,"data":...,"meta":...}`.
  void reply_data(boost::json::value data, http::status status = http::status::ok);
  // Answers a list: `{"success":true,"data":[...],"pagination":{...},"meta":...}`.
  void reply_list(boost::json::array items, Pagination pagination);
  // Answers `{"success":false,"error":{"code","message","details"},"meta":...}` with the status of
  // the code.
  void reply_error(const core::Error& error);
  // 204 No Content.
  void reply_no_content();
  // Anything else (health checks, /metrics, static files).
  void reply(Response response);
  bool replied() const noexcept { return replied_; }
  // A header for whichever answer goes out (Set-Cookie beside an envelope).
  void add_header(std::string name, std::string value) {
    extra_headers_.emplace_back(std::move(name), std::move(value));
  }

  // --- set by the server before the handler runs ---
  void set_params(std::vector<std::pair<std::string, std::string>> params) {
    params_ = std::move(params);
  }
  void set_principal(auth::Principal p) { principal_ = std::move(p); }
  void set_body(boost::json::object body) { body_ = std::move(body); }

  // The `meta` object every envelope carries.
  boost::json::object meta() const;

 private:
  Request request_;
  std::string request_id_;
  std::string client_ip_;
  core::SystemTime received_at_;
  Sink sink_;
  bool replied_ = false;
  std::vector<std::pair<std::string, std::string>> params_;
  std::optional<auth::Principal> principal_;
  boost::json::object body_;
  std::string audit_target_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;

  static std::string fmt_range(int lo, int hi);
};

using ContextPtr = std::shared_ptr<Context>;

}  // namespace netpulse::api
