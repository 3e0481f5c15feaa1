// HttpClient: NetPulse's outbound HTTP/1.1 client for requests a user configured — the
// notifier's webhooks and chat/SMS/paging APIs (and whatever else later calls out). Asio +
// Beast + OpenSSL, asynchronous, one request per connection ("Connection: close") unless
// HttpOptions::keep_alive asks for a pool of kept connections.
//
// - Every address a hop connects to is judged by the OutboundPolicy (kFetch) after name
//   resolution, and again on every redirect hop; the connection goes to the very endpoints
//   judged. A refusal is kOutboundDenied naming the hop, the address and the rule.
// - TLS: the chain is verified against the system trust store plus `ca_file`, and the URL's
//   host against the certificate (SNI sent). A verification failure is kProtocolError naming
//   OpenSSL's reason.
// - One deadline bounds the whole request, redirects included: kTimeout naming the phase
//   (resolve, connect, tls, write, read).
// - The response body is kept up to `max_response_bytes` (the rest is read and dropped, up to a
//   bound) so the remote's answer can be reported; headers are limited to 64 KiB.
// - Errors cross as core::Error with stable codes; an HTTP status (even 500) is a response, not
//   an error. kInvalidInput (details.field): a bad method, url, headers, timeout, max_redirects,
//   max_response_bytes, user_agent or ca_file. kOutboundDenied: refused by the policy.
//   kServiceUnavailable: a name that does not resolve, no endpoint that accepts the connection
//   ("connect to 127.0.0.1:9: Connection refused"), a connection reset. kProtocolError: a TLS or
//   certificate failure, a malformed or cut-short response (naming Beast's error), too many
//   redirects, a redirect from https to http, an unusable Location. kTimeout.
//   details.reason says which, for the failures after validation.
//
// Threads: send() and the completion run on the executor given at construction, which must run
// one handler at a time (one thread, or a strand); the client keeps no per-request state between
// calls. Destroy the client on that executor: requests still in flight are abandoned — their
// connections closed and their `done` never called (not even one already queued) — so a
// callback never outlives whatever owned the client.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::core {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";  // GET, POST, PUT, PATCH, DELETE (exactly so)
  std::string url;              // http:// or https:// (core::parse_http_url's rules)
  // Sent as given (names are tokens; no CR, LF or NUL anywhere), but for Host, Content-Length,
  // Connection and Transfer-Encoding, which are the client's. A User-Agent here replaces
  // options.user_agent. Authorization, Proxy-Authorization and Cookie are not sent on past a
  // redirect to another origin (scheme, host or port).
  HttpHeaders headers;
  std::string body;  // Content-Length is sent for a body, and always for POST, PUT and PATCH
};

// The pool of kept connections (HttpOptions::keep_alive).
inline constexpr std::size_t kHttpMaxIdlePerOrigin = 8;
inline constexpr std::size_t kHttpMaxIdleConnections = 64;
inline constexpr std::chrono::seconds kHttpIdleTimeout{30};

struct HttpOptions {
  std::chrono::milliseconds timeout{10'000};  // the whole request, redirects included; >= 1 ms
  // 0: a 3xx is the response. Else 301/302/303/307/308 with a Location are followed, at most
  // this many (0..20); one more is kProtocolError "too many redirects". 303, and 301/302 after
  // a POST, go on as GET without the body; the others keep method and body.
  int max_redirects = 0;
  // Extra trusted CAs (PEM), beside the system's. Loaded once per client and file, and again
  // when the file's size or modification time changes.
  std::string ca_file;
  std::size_t max_response_bytes = std::size_t{64} * 1024;  // at most 64 MiB
  std::string user_agent = "NetPulse";                      // "": none sent
  // Keep the connection for the next request to the same origin (scheme, host, port, ca_file)
  // instead of "Connection: close": a response read to its end on a connection the server keeps
  // goes back to the client's pool (at most kHttpMaxIdlePerOrigin per origin and
  // kHttpMaxIdleConnections in all, closed after kHttpIdleTimeout unused), and a request takes
  // one from it before connecting. A kept connection the server has closed is replaced by a
  // fresh one: when nothing of a response came back on it, the request is sent once more on a
  // new connection (so a server that closed it while the request was under way may see the
  // request twice). Only the first hop uses the pool; redirects connect afresh.
  bool keep_alive = false;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;  // at most max_response_bytes
  bool body_truncated = false;
  std::string remote_address;  // the address of the last hop, "203.0.113.7:443"
  std::chrono::milliseconds elapsed{0};
  int redirects = 0;

  // The first header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const noexcept;
};

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, const Clock& clock, OutboundPolicy policy);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  using Done = std::function<void(Result<HttpResponse>)>;
  // Sends `request`; `done` is called exactly once, on the executor, never inline — or never,
  // when the client is destroyed before it runs (see Threads above). A malformed URL, method,
  // header or option is kInvalidInput naming the field, and an IP literal the policy refuses is
  // kOutboundDenied, both without any network I/O.
  void send(HttpRequest request, HttpOptions options, Done done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace netpulse::core
