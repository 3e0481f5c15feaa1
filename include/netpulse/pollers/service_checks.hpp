// Service checks on the event loop: TCP connect time; HTTP(S) status, timings, a body keyword and
// the TLS certificate's days to expiry; DNS resolution time and an expected answer, asked of an
// explicit server with NetPulse's own minimal DNS codec over UDP (the system resolver is never
// used for DNS checks). One ServiceChecker runs any number of checks at once up to a bound.
//
// Outcomes: a check whose peer could not be reached or spoke against its protocol completes with
// an error (see each method); a check whose peer answered completes with a result, and the result
// says whether the answer was the expected one (HttpCheckResult::passed(), DnsCheckResult).
// Bounds, the error mapping and the TLS behaviour are written down in docs/service_checks.md.
//
// Threads: a ServiceChecker lives on its event loop. tcp(), http(), dns(), stats() and the
// destructor must be called on that loop; every callback runs on it. The loop must outlive the
// checker (handlers of cancelled work still run on it after the checker has gone).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::pollers {

struct ServiceCheckOptions {
  // Checks outstanding at once over all kinds, 1..100,000; beyond it a check is refused at once
  // with kServiceUnavailable (details.reason "overloaded").
  std::size_t max_in_flight = 1'000;
  // Longest timeout a check may ask for; longer ones are refused with kInvalidInput.
  std::chrono::milliseconds max_timeout{120'000};
  // Which addresses checks may connect to (OutboundPurpose::kFetch): the TCP address, the DNS
  // server, and every address an HTTP check connects to — the given address, the URL's host
  // once resolved, each redirect hop's. Default: the built-in defaults, which refuse loopback.
  core::OutboundPolicy outbound;
};

// Connect to address:port and close at once.
struct TcpCheck {
  boost::asio::ip::address address;
  std::uint16_t port = 0;                    // 1..65535
  std::chrono::milliseconds timeout{5'000};  // 1 ms..max_timeout
};

struct TcpCheckResult {
  double connect_ms = 0;  // from the start of the connect to its completion
};

enum class HttpMethod { kGet, kHead };

// A closed range of acceptable status codes, e.g. {200, 200} or {200, 399}.
struct HttpStatusRange {
  int min = 200;
  int max = 399;
};

// One HTTP request and its response.
struct HttpCheck {
  // "http://host[:port]/path?query" or "https://...". host is a DNS name, an IPv4 literal or an
  // IPv6 literal in brackets; no user info, no fragment; path defaults to "/".
  std::string url;
  // Connect to this address instead of resolving the URL's host; Host, SNI and the certificate's
  // name check still use the URL's host.
  std::optional<boost::asio::ip::address> address;
  HttpMethod method = HttpMethod::kGet;
  HttpStatusRange expected_status;  // 100..599, min <= max
  // When set (non-empty), the body (as far as it is read: max_body_bytes) must contain it.
  std::optional<std::string> keyword;
  // Read at most this many body bytes (1..64 MiB), then stop reading: the response is then
  // complete for timing purposes and body_truncated is set.
  std::size_t max_body_bytes = 1 << 20;
  // HTTPS: verify the chain against the trust store (and ca_file) and the URL's host against
  // the certificate. A failed verification fails the check (kProtocolError) unless false; the
  // certificate is reported either way.
  bool verify_tls = true;
  // PEM file of extra trusted CAs (empty: the system's only).
  std::string ca_file;
  std::chrono::milliseconds timeout{10'000};  // for everything, redirects included
  // 3xx responses with a Location to follow (0..10). 0: the 3xx itself is the result.
  int max_redirects = 0;
};

// What the server's TLS certificate (the leaf) said.
struct TlsCertificateInfo {
  // Whole days from the clock's system time to notAfter, rounded down (negative once expired).
  std::int64_t days_to_expiry = 0;
  core::SystemTime not_after{};
  std::string subject;  // RFC 2253, e.g. "CN=check.test,O=NetPulse"
  std::string issuer;
  bool verified = false;     // chain and host name verified
  std::string verify_error;  // why not, when !verified (OpenSSL's text)
};

struct HttpCheckResult {
  int status = 0;
  double response_ms = 0;       // from the start (resolution included) to the last byte read
  double first_byte_ms = 0;     // from the start to the first byte of the response
  std::size_t body_bytes = 0;   // body bytes read (at most max_body_bytes)
  bool body_truncated = false;  // the body had more than max_body_bytes; the rest was not read
  bool status_matched = false;  // status within expected_status
  std::optional<bool> keyword_found;      // empty when no keyword was asked for
  std::optional<TlsCertificateInfo> tls;  // https only
  std::string final_url;                  // the URL of the response reported (after redirects)
  int redirects = 0;                      // redirects followed

  // The check's verdict: status matched and, if asked for, the keyword found.
  bool passed() const noexcept { return status_matched && keyword_found.value_or(true); }
};

enum class DnsRecordType { kA, kAAAA };

// One DNS query over UDP to an explicit server (recursion desired).
struct DnsCheck {
  std::string name;  // e.g. "www.example.org" (trailing dot allowed); 1..253 characters
  DnsRecordType type = DnsRecordType::kA;
  boost::asio::ip::address server;
  std::uint16_t port = 53;
  // When set, must be among the answers (its family must fit `type`).
  std::optional<boost::asio::ip::address> expected;
  std::chrono::milliseconds timeout{5'000};
};

struct DnsCheckResult {
  double resolution_ms = 0;                       // query sent to reply read
  std::vector<boost::asio::ip::address> answers;  // A or AAAA records of the asked type
  std::optional<bool> expected_found;             // empty when nothing was expected
  bool passed() const noexcept { return expected_found.value_or(true); }
};

// Counters since open().
struct ServiceCheckStats {
  std::uint64_t started = 0;
  std::uint64_t succeeded = 0;  // completed with a result (passed or not)
  std::uint64_t failed = 0;     // completed with an error (timeouts included)
  std::uint64_t refused = 0;    // refused because max_in_flight was reached
  std::uint64_t in_flight = 0;
};

// The URL as an HTTP check would request it (canonical form), or kInvalidInput (details.field
// "url") saying what breaks HttpCheck::url's rules. For checking configuration before it runs.
core::Result<std::string> normalize_http_url(std::string_view url);

class ServiceChecker {
 public:
  using TcpDone = std::function<void(core::Result<TcpCheckResult>)>;
  using HttpDone = std::function<void(core::Result<HttpCheckResult>)>;
  using DnsDone = std::function<void(core::Result<DnsCheckResult>)>;

  // A checker on `loop`; fails with kConfigError when options are out of range. `clock` times
  // the checks and gives TLS expiry its "now"; it must outlive the checker.
  static core::Result<std::unique_ptr<ServiceChecker>> open(const ServiceCheckOptions& options,
                                                            boost::asio::any_io_executor loop,
                                                            const core::Clock& clock);

  // Cancels every outstanding check (sockets closed, timers cancelled) and DROPS their callbacks:
  // none is called after the destructor has begun, not even ones already posted.
  virtual ~ServiceChecker() = default;

  // Each of the three calls `done` exactly once (unless the checker is destroyed first), on the
  // loop and never inside the call itself. Common errors: kInvalidInput (a field out of range;
  // details.field names it), kServiceUnavailable with details.reason "overloaded" (max_in_flight
  // reached), kTimeout (the check's timeout passed).

  // TCP connect. Errors: kServiceUnavailable with details.reason "connection_refused" (RST),
  // "unreachable" (no route, host unreachable) or "connect_failed" (anything else).
  virtual void tcp(const TcpCheck& check, TcpDone done) = 0;

  // HTTP(S) request. Errors besides the common ones: kServiceUnavailable as for tcp(), with
  // reason "resolve_failed" (the host has no address) or "connection_failed" (the connection
  // broke mid-exchange); kProtocolError for a malformed or incomplete response, a TLS handshake
  // failure, a failed certificate verification (when verify_tls; details carry days_to_expiry),
  // or a 3xx to follow without a usable Location. After max_redirects hops the last 3xx is the
  // result, not an error.
  virtual void http(const HttpCheck& check, HttpDone done) = 0;

  // DNS query. Errors besides the common ones: kNotFound for NXDOMAIN (details.rcode "NXDOMAIN");
  // kProtocolError for another non-zero rcode (SERVFAIL, REFUSED, ...: details.rcode), a
  // truncated (TC) reply or a malformed reply whose id and source match the query. Replies with
  // another id or from another address are ignored (the query goes on waiting).
  virtual void dns(const DnsCheck& check, DnsDone done) = 0;

  // Counters since open(); on the loop.
  virtual ServiceCheckStats stats() const noexcept = 0;
};

}  // namespace netpulse::pollers
