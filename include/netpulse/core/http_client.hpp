// HttpClient: NetPulse's outbound HTTP/1.1 client for requests a user configured — the
// notifier's webhooks and chat/SMS/paging APIs (and whatever else later calls out). Asio +
// Beast + OpenSSL, asynchronous, one request per connection ("Connection: close").
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
//   an error.
//
// Threads: send() and the completion run on the executor given at construction (one strand's
// worth of state per request; the client itself keeps no per-request state between calls).
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
  std::string method = "POST";  // GET, POST, PUT, PATCH, DELETE
  std::string url;              // http:// or https://
  HttpHeaders headers;          // Host, Content-Length and Connection are the client's
  std::string body;
};

struct HttpOptions {
  std::chrono::milliseconds timeout{10'000};  // the whole request, redirects included
  int max_redirects = 0;                      // 0: a 3xx is the response
  std::string ca_file;                        // extra trusted CAs (PEM), beside the system's
  std::size_t max_response_bytes = std::size_t{64} * 1024;
  std::string user_agent = "NetPulse";
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
  // Sends `request`; `done` is called exactly once, on the executor. A malformed URL or method
  // is kInvalidInput (field "url" / "method") without any I/O.
  void send(HttpRequest request, HttpOptions options, Done done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace netpulse::core
