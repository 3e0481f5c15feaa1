// The middleware every request passes through, independent of the transport: request id,
// client address, CORS preflight, route match (404/405), per-IP rate limit, authentication,
// per-user rate limit, permission, JSON body checks, the handler; then on the way out security
// headers, CORS, gzip, metrics, access log and audit. Loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <netpulse/api/router.hpp>
#include <netpulse/api/server.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>

#include "rate_limiter.hpp"
#include "static_site.hpp"

namespace netpulse::api::detail {

// A finished answer as the bytes to write (status line, headers, body), and whether the
// connection stays open after it.
struct WireResponse {
  std::string bytes;
  bool keep_alive = false;
  int status = 0;
};

class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  using Send = std::function<void(WireResponse)>;

  Pipeline(const ServerOptions& options, const core::Clock& clock, core::Logger& log,
           core::MetricsRegistry& metrics, const Router& router, auth::AuthService& auth);

  // Handles one request; `send` gets the finished response exactly once (maybe later).
  void handle(Request request, const std::string& peer_ip, Send send);

  // A complete error response for failures before there is a request to route (oversized
  // headers, unparsable request line...). Always `Connection: close`.
  WireResponse transport_error(http::status status, core::Errc code, std::string message,
                               std::string_view extra_header = {});

  // From now on every answer says `Connection: close`.
  void stop_keep_alive() noexcept { stopping_ = true; }
  // After shutdown: late answers (from handlers destroyed with the loop) are dropped.
  void close() noexcept { closed_ = true; }

 private:
  struct Exchange;
  void finish(const Exchange& ex, const Context* ctx, Response response);
  // A GET or HEAD of the web UI's file (or of index.html for the app's own paths).
  void serve_static(const Exchange& ex, Context& ctx, const StaticFile& file);
  // The audit step of finish(): a row for an authenticated caller, a count otherwise.
  void audit(const Exchange& ex, const Context* ctx, const auth::Principal* who, int status);
  core::Counter& refused_counter(int status);
  bool origin_allowed(std::string_view origin) const;
  std::string next_request_id();
  std::string client_ip_for(const Request& req, const std::string& peer_ip) const;
  // "Date: <IMF-fixdate>\r\n", formatted at most once a second.
  const std::string& date_header();
  core::Counter& request_counter(const Route* route, http::verb method, int status);
  core::Histogram& duration_histogram(const Route* route);

  ServerOptions options_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::MetricsRegistry& metrics_;
  const Router& router_;
  const StaticSite* site_ = nullptr;  // null when options.web_ui is off
  auth::AuthService& auth_;
  RateLimiter per_ip_;
  RateLimiter per_user_;
  std::string request_id_prefix_;
  std::uint64_t request_sequence_ = 0;
  bool closed_ = false;
  bool stopping_ = false;
  std::int64_t date_second_ = -1;
  std::string date_header_;
  // Metric handles by (route index, method, status) and by route index; index routes().size()
  // stands for "no route matched".
  std::unordered_map<std::uint64_t, core::Counter*> request_counters_;
  std::unordered_map<std::size_t, core::Histogram*> duration_histograms_;
  // netpulse_audit_refused_total by reason: unauthenticated, rate_limited, other.
  std::array<core::Counter*, 3> refused_counters_{};
};

}  // namespace netpulse::api::detail
