// The middleware every request passes through, independent of the transport: request id,
// client address, CORS preflight, route match (404/405), per-IP rate limit, authentication,
// per-user rate limit, permission, JSON body checks, the handler; then on the way out security
// headers, CORS, gzip, metrics, access log and audit. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <netpulse/api/router.hpp>
#include <netpulse/api/server.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>

#include "rate_limiter.hpp"

namespace netpulse::api::detail {

using HttpResponse = http::response<http::string_body>;

class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  using Send = std::function<void(HttpResponse)>;

  Pipeline(const ServerOptions& options, const core::Clock& clock, core::Logger& log,
           core::MetricsRegistry& metrics, const Router& router, auth::AuthService& auth);

  // Handles one request; `send` gets the finished response exactly once (maybe later).
  void handle(Request request, const std::string& peer_ip, Send send);

  // A complete error response for failures before there is a request to route (oversized
  // headers, unparsable request line...). Always `Connection: close`.
  HttpResponse transport_error(http::status status, core::Errc code, std::string message);

  // After shutdown: late answers (from handlers destroyed with the loop) are dropped.
  void close() noexcept { closed_ = true; }

 private:
  struct Exchange;
  void finish(const Exchange& ex, const Context* ctx, Response response);
  bool origin_allowed(std::string_view origin) const;
  std::string next_request_id();
  std::string client_ip_for(const Request& req, const std::string& peer_ip) const;

  ServerOptions options_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::MetricsRegistry& metrics_;
  const Router& router_;
  auth::AuthService& auth_;
  RateLimiter per_ip_;
  RateLimiter per_user_;
  std::string request_id_prefix_;
  std::uint64_t request_counter_ = 0;
  bool closed_ = false;
};

}  // namespace netpulse::api::detail
