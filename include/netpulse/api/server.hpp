// The HTTP server (Boost.Beast): HTTP/1.1 with keep-alive, optional TLS (1.2+), limits on header
// and body size and on connections, timeouts on every read and write, and the middleware every
// request passes through — request id, per-IP and per-user rate limits, authentication,
// permission check, CORS, security headers, gzip, access log, metrics and the audit log.
// Runs on the event loop; graceful shutdown stops accepting and lets in-flight requests finish.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include <netpulse/api/live.hpp>
#include <netpulse/api/router.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_connections = 1024;
  // Per client address (IPv6 per /64); trusted proxies are exempt; 0 = no limit.
  std::size_t max_connections_per_ip = 128;
  std::size_t max_header_bytes = 16384;
  std::uint64_t max_body_bytes = std::uint64_t{10} * 1024 * 1024;
  // A request's head must arrive within this: from the start of the connection for its first
  // request (TLS handshake included), from the first byte of a later one.
  std::chrono::milliseconds header_timeout{10000};
  // A request's body must arrive within this once the head did.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{30000};
  std::size_t gzip_min_bytes = 1024;
  std::vector<std::string> cors_allowed_origins;
  std::vector<std::string> trusted_proxies;
  bool tls = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  double per_ip_rps = 100;
  double per_ip_burst = 200;
  double per_user_rps = 50;
  double per_user_burst = 100;
  bool access_log = true;
  // Serve the embedded web UI at "/" (every GET outside /api/ that no route takes).
  bool web_ui = true;
};

class Server {
 public:
  // Binds and listens (kConfigError naming the address when it cannot; TLS files are loaded
  // here). Does not accept until start().
  // `live`: the live feed that GET /api/v1/live upgrades into (none: the path is a plain route).
  static core::Result<std::unique_ptr<Server>> open(const ServerOptions& options,
                                                    const core::Env& env, const Router& router,
                                                    auth::AuthService& auth,
                                                    LiveFeed* live = nullptr);
  virtual ~Server() = default;

  virtual void start() = 0;
  // The bound address (useful with port 0).
  virtual boost::asio::ip::tcp::endpoint local_endpoint() const = 0;
  // Stops accepting, closes idle connections, lets in-flight requests finish; after `grace` closes
  // whatever is left. `done` runs on the loop when no connection remains.
  virtual void shutdown(std::chrono::milliseconds grace, std::function<void()> done) = 0;
  virtual std::size_t open_connections() const = 0;
};

}  // namespace netpulse::api
