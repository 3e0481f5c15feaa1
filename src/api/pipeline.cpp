// The request pipeline (middleware) of the HTTP server. See detail/pipeline.hpp for the order.
#include "detail/pipeline.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include <netpulse/core/json.hpp>
#include <netpulse/core/random.hpp>

#include "detail/gzip.hpp"
#include "detail/url.hpp"

namespace netpulse::api::detail {

namespace {

// Headers every answer carries, written as one block.
constexpr std::string_view kStaticHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'\r\n";

// Writes an HTTP/1.x response head and body into one buffer.
class Wire {
 public:
  Wire(unsigned version, int status, std::size_t body_size) {
    out_.reserve(640 + body_size);
    out_ += version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
    out_ += std::to_string(status);
    out_ += ' ';
    std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    out_ += reason.empty() ? std::string_view("Unknown") : reason;
    out_ += "\r\n";
  }
  // One header; CR, LF and NUL in either part are dropped so nothing can inject headers.
  void header(std::string_view name, std::string_view value) {
    append_clean(name);
    out_ += ": ";
    append_clean(value);
    out_ += "\r\n";
  }
  // Pre-formatted header lines (constants of this file).
  void raw(std::string_view lines) { out_ += lines; }
  std::string finish(std::string_view body) {
    out_ += "\r\n";
    out_ += body;
    return std::move(out_);
  }

 private:
  void append_clean(std::string_view s) {
    for (char c : s) {
      if (c != '\r' && c != '\n' && c != '\0') out_ += c;
    }
  }
  std::string out_;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

bool is_mutating(http::verb v) {
  return v == http::verb::post || v == http::verb::put || v == http::verb::patch ||
         v == http::verb::delete_;
}

bool compressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("text/") ||
         content_type.starts_with("application/javascript") ||
         content_type.starts_with("image/svg+xml");
}

std::string allow_list(const std::vector<http::verb>& methods, bool with_options) {
  std::string out;
  for (auto m : methods) {
    if (!out.empty()) out += ", ";
    out += std::string(http::to_string(m));
  }
  if (with_options) out += out.empty() ? "OPTIONS" : ", OPTIONS";
  return out;
}

// If-None-Match: "*" or a list of entity tags, weak ones (W/"...") compared weakly as RFC 9110
// says a GET's condition is.
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto item = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

}  // namespace

struct Pipeline::Exchange {
  http::verb method = http::verb::unknown;
  std::string target;
  unsigned version = 11;
  bool keep_alive = false;
  bool gzip = false;
  std::string origin;
  std::string request_id;
  std::string client_ip;
  const Route* route = nullptr;
  core::SteadyTime start;
  Send send;
};

Pipeline::Pipeline(const ServerOptions& options, const core::Clock& clock, core::Logger& log,
                   core::MetricsRegistry& metrics, const Router& router, auth::AuthService& auth)
    : options_(options),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      router_(router),
      auth_(auth),
      per_ip_(clock, options.per_ip_rps, options.per_ip_burst),
      per_user_(clock, options.per_user_rps, options.per_user_burst),
      request_id_prefix_("req_" + core::random_hex(4) + "_") {
  if (options.web_ui) site_ = &StaticSite::builtin();
  // Shown as 0 from the start rather than appearing with the first refusal.
  for (int status : {401, 429, 0}) refused_counter(status);
}

std::string Pipeline::next_request_id() {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), ++request_sequence_, 16);
  (void)ec;
  std::string id = request_id_prefix_;
  id.append(buf, static_cast<std::size_t>(end - buf));
  return id;
}

bool Pipeline::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  return std::any_of(options_.cors_allowed_origins.begin(), options_.cors_allowed_origins.end(),
                     [&](const std::string& o) { return o == origin; });
}

std::string Pipeline::client_ip_for(const Request& req, const std::string& peer_ip) const {
  auto trusted = [&](std::string_view ip) {
    return std::find(options_.trusted_proxies.begin(), options_.trusted_proxies.end(), ip) !=
           options_.trusted_proxies.end();
  };
  if (!trusted(peer_ip)) return peer_ip;
  auto xff = req["X-Forwarded-For"];
  // Walk right to left: the first address that is not one of our proxies is the client.
  std::string_view rest = xff;
  while (!rest.empty()) {
    auto comma = rest.rfind(',');
    auto item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    if (!trusted(item)) return std::string(item);
  }
  return peer_ip;
}

WireResponse Pipeline::transport_error(http::status status, core::Errc code, std::string message,
                                       std::string_view extra_header) {
  boost::json::object env;
  env["success"] = false;
  env["error"] = {
      {"code", core::errc_name(code)}, {"message", message}, {"details", boost::json::object()}};
  auto rid = next_request_id();
  env["meta"] = {{"timestamp", core::format_rfc3339(clock_.system_now())},
                 {"request_id", rid},
                 {"version", "v1"}};
  auto body = core::to_json_text(env);
  Wire w(11, static_cast<int>(status), body.size());
  w.header("Content-Type", "application/json");
  w.header("X-Request-ID", rid);
  w.header("X-Content-Type-Options", "nosniff");
  w.header("Cache-Control", "no-store");
  w.raw(date_header());
  if (!extra_header.empty()) w.raw(extra_header);
  w.header("Connection", "close");
  w.header("Content-Length", std::to_string(body.size()));
  request_counter(nullptr, http::verb::unknown, static_cast<int>(status)).inc();
  return {w.finish(body), false, static_cast<int>(status)};
}

const std::string& Pipeline::date_header() {
  auto now = clock_.system_now();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (secs != date_second_) {
    date_second_ = secs;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    auto n = std::strftime(buf, sizeof(buf), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_header_.assign(buf, n);
  }
  return date_header_;
}

core::Counter& Pipeline::request_counter(const Route* route, http::verb method, int status) {
  std::size_t index = route ? router_.index_of(route) : router_.routes().size();
  std::uint64_t key = (static_cast<std::uint64_t>(index) << 32) |
                      (static_cast<std::uint64_t>(method) << 16) |
                      static_cast<std::uint64_t>(status & 0xffff);
  auto it = request_counters_.find(key);
  if (it != request_counters_.end()) return *it->second;
  std::string route_label = route ? route->pattern : "unmatched";
  std::string method_label =
      method == http::verb::unknown ? std::string("-") : std::string(http::to_string(method));
  auto& c = metrics_.counter(
      "netpulse_http_requests_total", "HTTP requests by route, method and status.",
      {{"route", route_label}, {"method", method_label}, {"status", std::to_string(status)}});
  request_counters_.emplace(key, &c);
  return c;
}

core::Histogram& Pipeline::duration_histogram(const Route* route) {
  std::size_t index = route ? router_.index_of(route) : router_.routes().size();
  auto it = duration_histograms_.find(index);
  if (it != duration_histograms_.end()) return *it->second;
  auto& h = metrics_.histogram("netpulse_http_request_duration_seconds",
                               "Time from a request's arrival to its answer, by route.",
                               core::default_latency_buckets(),
                               {{"route", route ? route->pattern : "unmatched"}});
  duration_histograms_.emplace(index, &h);
  return h;
}

void Pipeline::handle(Request req, const std::string& peer_ip, Send send) {
  auto ex = std::make_shared<Exchange>();
  ex->method = req.method();
  ex->target = std::string(req.target());
  ex->version = req.version();
  ex->keep_alive = req.keep_alive();
  ex->gzip = accepts_gzip(req[http::field::accept_encoding]);
  ex->origin = std::string(req[http::field::origin]);
  auto incoming_id = req["X-Request-ID"];
  ex->request_id = valid_request_id(incoming_id) ? std::string(incoming_id) : next_request_id();
  ex->client_ip = client_ip_for(req, peer_ip);
  ex->start = clock_.steady_now();
  ex->send = std::move(send);

  auto path = target_path(ex->target);
  auto match = router_.match(ex->method == http::verb::head ? http::verb::get : ex->method, path);
  ex->route = match.route;

  auto sink = [self = shared_from_this(), ex](const Context& ctx, Response r) {
    self->finish(*ex, &ctx, std::move(r));
  };
  auto ctx = std::make_shared<Context>(std::move(req), ex->request_id, ex->client_ip,
                                       clock_.system_now(), std::move(sink));
  using core::Errc;
  using core::Error;

  if (match.allowed.empty() && site_ && !path.starts_with("/api/") &&
      (ex->method == http::verb::get || ex->method == http::verb::head)) {
    if (const auto* file = site_->lookup(path)) return serve_static(*ex, *ctx, *file);
  }
  if (match.allowed.empty()) {
    return ctx->reply_error(Error(Errc::kNotFound, "no such endpoint: " + std::string(path)));
  }
  if (ex->method == http::verb::options) {
    Response r{http::status::no_content, {}, {}};
    r.headers.emplace_back("Allow", allow_list(match.allowed, true));
    if (origin_allowed(ex->origin)) {
      r.headers.emplace_back("Access-Control-Allow-Methods", allow_list(match.allowed, true));
      r.headers.emplace_back("Access-Control-Allow-Headers",
                             "Authorization, Content-Type, X-Request-ID");
      r.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    return ctx->reply(std::move(r));
  }
  if (!match.route) {
    auto err = Error(Errc::kMethodNotAllowed,
                     fmt::format("{} is not allowed on {}",
                                 std::string(http::to_string(ex->method)), std::string(path)));
    err.details["allowed"] = allow_list(match.allowed, false);
    ctx->set_params({});
    // Context::reply_error builds the envelope; add the Allow header through a custom reply.
    boost::json::object env;
    env["success"] = false;
    env["error"] = {
        {"code", core::errc_name(err.code)}, {"message", err.message}, {"details", err.details}};
    env["meta"] = ctx->meta();
    Response r{http::status::method_not_allowed, core::to_json_text(env)};
    r.headers.emplace_back("Allow", allow_list(match.allowed, false));
    return ctx->reply(std::move(r));
  }
  const Route& route = *match.route;
  ctx->set_params(std::move(match.params));

  if (route.rate_limited) {
    if (auto wait = per_ip_.acquire(ex->client_ip); wait > 0) {
      return ctx->reply_error(Error(Errc::kRateLimitExceeded,
                                    "too many requests from this address; retry later",
                                    {{"retry_after_s", wait}, {"scope", "ip"}}));
    }
  }

  if (route.permission) {
    auto authz = ctx->request()[http::field::authorization];
    std::string_view token;
    // "Token <api key>" is InfluxDB's scheme (Telegraf's influxdb_v2 output); same credentials.
    if (authz.size() > 7 && iequals(authz.substr(0, 7), "Bearer ")) token = authz.substr(7);
    if (authz.size() > 6 && iequals(authz.substr(0, 6), "Token ")) token = authz.substr(6);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    if (token.empty()) {
      return ctx->reply_error(
          Error(Errc::kAuthenticationRequired,
                authz.empty() ? "authentication required: send Authorization: Bearer <token>"
                              : "the Authorization header must be \"Bearer <token>\" (or "
                                "\"Token <api key>\")"));
    }
    auto principal = auth_.authenticate(token);
    if (!principal) return ctx->reply_error(principal.error());
    if (auto wait = per_user_.acquire(principal->rate_key()); wait > 0) {
      return ctx->reply_error(Error(Errc::kRateLimitExceeded,
                                    "too many requests for this user; retry later",
                                    {{"retry_after_s", wait}, {"scope", "user"}}));
    }
    bool allowed = principal->can(*route.permission);
    ctx->set_principal(std::move(principal).value());
    if (!allowed) {
      return ctx->reply_error(Error(Errc::kInsufficientPermissions,
                                    fmt::format("your role ({}) lacks the permission {}",
                                                auth::role_name(ctx->principal().role),
                                                auth::permission_name(*route.permission)),
                                    {{"required", auth::permission_name(*route.permission)},
                                     {"role", auth::role_name(ctx->principal().role)}}));
    }
  }

  if (route.json_body) {
    auto& rq = ctx->request();
    auto ctype = rq[http::field::content_type];
    auto media = ctype.substr(0, ctype.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!iequals(media, "application/json")) {
      return ctx->reply_error(
          Error(Errc::kUnsupportedMediaType,
                fmt::format("the body must be JSON with Content-Type: application/json, not \"{}\"",
                            std::string(ctype)),
                {{"field", "Content-Type"}}));
    }
    auto cenc = rq[http::field::content_encoding];
    if (!cenc.empty() && !iequals(cenc, "identity")) {
      return ctx->reply_error(Error(Errc::kUnsupportedMediaType,
                                    "Content-Encoding is not supported on this endpoint",
                                    {{"field", "Content-Encoding"}}));
    }
    boost::system::error_code ec;
    boost::json::parse_options opts;
    opts.max_depth = 32;
    auto value = core::parse_json(rq.body(), ec, opts);
    if (ec) {
      return ctx->reply_error(Error(Errc::kMalformedJson,
                                    "the body is not valid JSON: " + ec.message(),
                                    {{"reason", ec.message()}}));
    }
    if (!value.is_object()) {
      return ctx->reply_error(
          Error(Errc::kInvalidInput, "the body must be a JSON object", {{"field", "body"}}));
    }
    ctx->set_body(std::move(value.as_object()));
  }

  try {
    route.handler(ctx);
  } catch (const std::exception& e) {
    log_.error("api", "handler for {} {} threw: {}", std::string(http::to_string(route.method)),
               route.pattern, e.what());
    ctx->reply_error(Error(Errc::kInternalError, "internal error"));
  }
}

// Audits only what an authenticated caller did (its denials included: they are accountable and
// rate-limited per user). A request refused before anyone was authenticated (no or a bad token,
// an address over its rate) is not a row, or anyone could fill the log: it is counted in
// netpulse_audit_refused_total by reason.
void Pipeline::audit(const Exchange& ex, const Context* ctx, const auth::Principal* who,
                     int status) {
  if (!who) {
    refused_counter(status).inc();
    return;
  }
  auth::AuditEntry a;
  a.at = clock_.unix_seconds();
  a.org_id = who->org_id;
  if (who->user_id) a.user_id = who->user_id;
  if (who->api_key_id) a.api_key_id = who->api_key_id;
  a.actor = who->actor;
  a.action = std::string(http::to_string(ex.method)) + " " + ex.route->pattern;
  a.target = ctx && !ctx->audit_target().empty() ? ctx->audit_target()
                                                 : std::string(target_path(ex.target));
  a.source_ip = ex.client_ip;
  a.request_id = ex.request_id;
  a.status = status;
  a.success = status < 400;
  auth_.record_audit(std::move(a));
}

core::Counter& Pipeline::refused_counter(int status) {
  static constexpr std::array<const char*, 3> kReasons = {"unauthenticated", "rate_limited",
                                                          "other"};
  const std::size_t index = status == 401 ? 0 : status == 429 ? 1 : 2;
  auto*& counter = refused_counters_[index];
  if (!counter) {
    counter = &metrics_.counter(
        "netpulse_audit_refused_total",
        "Writes to audited routes refused before authentication (not audited), by reason.",
        {{"reason", kReasons[index]}});
  }
  return *counter;
}

void Pipeline::serve_static(const Exchange& ex, Context& ctx, const StaticFile& file) {
  Response r;
  r.content_type = file.content_type;
  r.headers.emplace_back("ETag", file.etag);
  r.headers.emplace_back("Cache-Control",
                         file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (etag_matches(ctx.request()[http::field::if_none_match], file.etag)) {
    r.status = http::status::not_modified;
  } else if (ex.gzip) {
    r.body = file.gzip;
    r.precompressed = true;
  } else {
    r.body = file.identity;
    r.headers.emplace_back("Vary", "Accept-Encoding");
  }
  ctx.reply(std::move(r));
}

void Pipeline::finish(const Exchange& ex, const Context* ctx, Response r) {
  if (closed_) return;
  int status = static_cast<int>(r.status);
  std::size_t body_size = r.body.size();
  bool gzipped = r.precompressed && !r.body.empty();
  if (!r.precompressed && ex.gzip && body_size >= options_.gzip_min_bytes &&
      compressible(r.content_type)) {
    std::string gz;
    if (gzip_compress(r.body, gz)) {
      r.body = std::move(gz);
      gzipped = true;
    }
  }
  bool keep_alive = ex.keep_alive && !stopping_;
  bool no_body = r.status == http::status::no_content || r.status == http::status::not_modified ||
                 status < 200;
  Wire w(ex.version, status, r.body.size());
  if (!r.content_type.empty() && !no_body) w.header("Content-Type", r.content_type);
  bool has_cache_control = false;
  for (auto& [k, v] : r.headers) {
    has_cache_control = has_cache_control || iequals(k, "Cache-Control");
    w.header(k, v);
  }
  w.header("X-Request-ID", ex.request_id);
  w.raw(kStaticHeaders);
  if (options_.tls) w.raw("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n");
  if (!has_cache_control) w.raw("Cache-Control: no-store\r\n");
  bool cors = origin_allowed(ex.origin);
  if (cors) {
    w.header("Access-Control-Allow-Origin", ex.origin);
    w.raw("Access-Control-Expose-Headers: X-Request-ID, Retry-After\r\n");
  }
  if (gzipped) w.raw("Content-Encoding: gzip\r\n");
  if (cors || gzipped) {
    w.header("Vary", cors && gzipped ? "Origin, Accept-Encoding"
                     : cors          ? "Origin"
                                     : "Accept-Encoding");
  }
  w.raw(date_header());
  if (keep_alive != (ex.version >= 11)) w.header("Connection", keep_alive ? "keep-alive" : "close");
  if (!no_body) w.header("Content-Length", std::to_string(r.body.size()));
  auto bytes = w.finish(ex.method == http::verb::head || no_body ? std::string_view() : r.body);

  auto elapsed = std::chrono::duration<double>(clock_.steady_now() - ex.start).count();
  request_counter(ex.route, ex.method, status).inc();
  duration_histogram(ex.route).observe(elapsed);

  const auth::Principal* who = ctx && ctx->authenticated() ? &ctx->principal() : nullptr;
  if (options_.access_log) {
    log_.info("http", "{} \"{} {}\" {} {}B {:.1f}ms rid={} actor={}", ex.client_ip,
              std::string(http::to_string(ex.method)), ex.target, status, body_size, elapsed * 1000,
              ex.request_id, who ? who->actor : "-");
  }
  if (ex.route && ex.route->audited && is_mutating(ex.method)) audit(ex, ctx, who, status);
  ex.send({std::move(bytes), keep_alive, status});
}

}  // namespace netpulse::api::detail
