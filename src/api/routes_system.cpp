// Operational endpoints outside /api/v1: liveness, readiness, health (with a database check),
// Prometheus metrics (with process figures), and the OpenAPI document.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <netpulse/core/json.hpp>

#include "detail/routes.hpp"

namespace netpulse::api::detail {

namespace {

// Resident set size in bytes, from /proc/self/statm.
double process_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// User + system CPU seconds, from /proc/self/stat (fields 14 and 15).
double process_cpu_seconds() {
  std::ifstream f("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Open file descriptors: the entries of /proc/self/fd (less the one the listing itself uses).
double process_open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n > 0 ? n - 1 : 0;
}

// Whether the request carries `Authorization: Bearer <token>`, compared in constant time.
bool bearer_matches(const Request& req, const std::string& token) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return false;
  std::string_view value = it->value();
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() != kScheme.size() + token.size() || !value.starts_with(kScheme)) return false;
  value.remove_prefix(kScheme.size());
  return CRYPTO_memcmp(value.data(), token.data(), token.size()) == 0;
}

Response json_response(http::status status, const boost::json::object& body) {
  return {status, core::to_json_text(body)};
}

}  // namespace

void register_system_routes(Router& router, const RouteDeps& deps) {
  auto started = deps.clock.steady_now();
  auto start_wall = static_cast<double>(deps.clock.unix_seconds());
  auto& clock = deps.clock;
  deps.metrics.gauge_fn("process_resident_memory_bytes", "Resident memory size in bytes.",
                        process_rss_bytes);
  deps.metrics.counter_fn("process_cpu_seconds_total", "User and system CPU time in seconds.",
                          process_cpu_seconds);
  deps.metrics.gauge_fn("process_start_time_seconds", "Start time since the Unix epoch.",
                        [start_wall] { return start_wall; });
  deps.metrics.gauge_fn("process_open_fds", "Open file descriptors.", process_open_fds);
#ifdef __GLIBC__
  // What the allocator has handed out (RSS also holds freed memory it keeps, and the binary).
  deps.metrics.gauge_fn("netpulse_heap_in_use_bytes",
                        "Heap bytes in use by the process (glibc mallinfo2: uordblks + hblkhd).",
                        [] {
                          auto mi = mallinfo2();
                          return static_cast<double>(mi.uordblks + mi.hblkhd);
                        });
#endif
  deps.metrics.gauge_fn(
      "netpulse_uptime_seconds", "Seconds since the server started.", [&clock, started] {
        return std::chrono::duration<double>(clock.steady_now() - started).count();
      });
  deps.metrics.gauge_fn("netpulse_build_info", "Always 1; labels carry the build.",
                        [] { return 1.0; }, {{"version", deps.version}});

  using http::verb;
  // Probes and scrapers call these often and from few addresses: no per-IP rate limit.
  auto alive = make_route(verb::get, "/alive", std::nullopt,
                          "Liveness: the process is up and its event loop answers.", "health",
                          [](ContextPtr ctx) {
                            ctx->reply({http::status::ok, R"({"status":"alive"})"});
                          });
  alive.rate_limited = false;
  router.add(std::move(alive));

  // The live feed is a WebSocket: the server upgrades GET /api/v1/live before routing. Without
  // the upgrade headers (or on a server built without a feed) this route answers.
  router.add(make_route(
      verb::get, "/api/v1/live", std::nullopt,
      "The live feed: a WebSocket (Upgrade: websocket) carrying alerts, incidents, device and "
      "interface status, service checks and chosen series as they change. Authenticate with the "
      "first message, {\"type\":\"auth\",\"token\":\"<access token>\"}; docs/live.md has the "
      "protocol. A plain GET answers 400 naming the Upgrade header.",
      "live", [](ContextPtr ctx) {
        ctx->add_header("Upgrade", "websocket");
        ctx->reply_error(core::Error(core::Errc::kInvalidInput,
                                     "the live feed is a WebSocket: send Upgrade: websocket",
                                     {{"field", "Upgrade"}}));
      }));

  auto ready = make_route(
      verb::get, "/ready", std::nullopt,
      "Readiness: start-up finished and not shutting down (503 otherwise).", "health",
      [is_ready = deps.ready](ContextPtr ctx) {
        bool ok = is_ready();
        ctx->reply(json_response(ok ? http::status::ok : http::status::service_unavailable,
                                 {{"status", ok ? "ready" : "not_ready"}}));
      });
  ready.rate_limited = false;
  router.add(std::move(ready));

  auto health = make_route(
      verb::get, "/health", std::nullopt, "Health: checks the database; 503 when a check fails.",
      "health", [&db = deps.db, &clock, version = deps.version, started](ContextPtr ctx) {
        auto t0 = clock.steady_now();
        auto r = db.check_health();
        auto ms = std::chrono::duration<double, std::milli>(clock.steady_now() - t0).count();
        boost::json::object database{{"status", r ? "ok" : "failing"},
                                     {"latency_ms", ms},
                                     {"write_queue_depth", db.write_queue_depth()},
                                     {"schema_version", db.schema_version()}};
        if (!r) database["error"] = r.error().message;
        boost::json::object body{{"status", r ? "healthy" : "unhealthy"},
                                 {"version", version},
                                 {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(
                                                  clock.steady_now() - started)
                                                  .count()},
                                 {"checks", {{"database", std::move(database)}}}};
        ctx->reply(json_response(r ? http::status::ok : http::status::service_unavailable, body));
      });
  health.rate_limited = false;
  router.add(std::move(health));

  auto metrics =
      make_route(verb::get, "/metrics", std::nullopt,
                 "The server's own figures in the Prometheus text format (with "
                 "http.metrics_token set, only for `Authorization: Bearer <token>`).",
                 "health", [&registry = deps.metrics, token = deps.metrics_token](ContextPtr ctx) {
                   if (!token.empty() && !bearer_matches(ctx->request(), token)) {
                     return ctx->reply_error(core::Error(
                         core::Errc::kAuthenticationRequired,
                         "/metrics needs \"Authorization: Bearer <token>\" with the token of "
                         "http.metrics_token"));
                   }
                   ctx->reply({http::status::ok, registry.render(),
                               "text/plain; version=0.0.4; charset=utf-8"});
                 });
  metrics.rate_limited = false;
  router.add(std::move(metrics));

  router.add(make_route(
      verb::get, "/api/v1/openapi.json", std::nullopt,
      "This document: OpenAPI 3.1 description of every route.", "meta",
      [&router, version = deps.version](ContextPtr ctx) {
        ctx->reply({http::status::ok, core::to_json_text(openapi_document(router, version))});
      }));
}

}  // namespace netpulse::api::detail
