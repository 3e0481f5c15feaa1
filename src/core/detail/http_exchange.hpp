// The HttpClient's rooms (include/netpulse/core/http_client.hpp): what all requests of one client
// share (HttpClientState, in http_client.cpp with the face) and one request in flight
// (HttpExchange, in http_exchange.cpp: resolve, judge, connect, TLS, write, read, redirect).
//
// Threads and lifetime: everything here runs on the client's executor, which runs one handler at
// a time (one thread, or a strand); nothing is locked. An exchange owns itself through the
// shared_ptrs its pending handlers hold, and holds the state, so the client may go while
// requests are in flight: the client's destructor closes the state, which abandons every
// exchange (I/O closed, `done` dropped uncalled) and stops any completion already queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <netpulse/core/http_client.hpp>
#include <netpulse/core/url.hpp>

namespace netpulse::core::detail {

class HttpExchange;

// One connection: its socket and, for https, the TLS stream over it. On the heap, so the stream's
// reference to the socket stays valid when the connection moves between an exchange and the pool.
struct HttpConnection {
  explicit HttpConnection(const boost::asio::any_io_executor& executor) : socket(executor) {}
  boost::asio::ip::tcp::socket socket;
  std::shared_ptr<boost::asio::ssl::context> tls_context;  // outlives tls
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls;
  boost::asio::ip::tcp::endpoint remote;
  SteadyTime idle_since{};
};

// Response headers (status line included) are refused past this many bytes.
inline constexpr std::size_t kHttpHeaderLimit = std::size_t{64} * 1024;
// Past max_response_bytes the body is read and dropped for at most this many more bytes (so a
// server that writes a little more than asked for is not cut off mid-write), then reading stops.
inline constexpr std::size_t kHttpDiscardLimit = std::size_t{1} << 20;
// Interim (1xx) responses skipped before the final one, at most.
inline constexpr int kHttpMaxInterimResponses = 8;
// The bounds of HttpOptions::max_redirects and max_response_bytes.
inline constexpr int kHttpMaxRedirects = 20;
inline constexpr std::size_t kHttpMaxResponseBytes = std::size_t{64} << 20;

// What every request of one HttpClient shares. Outlives the client while requests are in flight.
class HttpClientState {
 public:
  HttpClientState(boost::asio::any_io_executor executor, const Clock& clock, OutboundPolicy policy)
      : executor_(std::move(executor)), clock_(&clock), policy_(std::move(policy)) {}

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const Clock& clock() const noexcept { return *clock_; }
  const OutboundPolicy& policy() const noexcept { return policy_; }
  // Whether the client has been destroyed: nothing is started or delivered any more.
  bool closed() const noexcept { return closed_; }

  // The TLS client context for `ca_file` ("" = the system trust store only), with peer
  // verification on. Cached per file and built again when the file's size or modification time
  // changes, so loading a trust store (milliseconds of CPU) is not paid per request.
  // kInvalidInput naming "ca_file" when the file cannot be loaded.
  Result<std::shared_ptr<boost::asio::ssl::context>> tls_context(const std::string& ca_file);

  // Registers an exchange in flight under a fresh id (returned) so close() can abandon it.
  std::uint64_t attach(const std::shared_ptr<HttpExchange>& exchange);
  void detach(std::uint64_t id) { in_flight_.erase(id); }
  // The client is going: abandons every exchange in flight and closes the kept connections.
  void close();

  // The pool of kept connections, by origin key (scheme, host, port, ca_file). take() returns a
  // connection kept for less than kHttpIdleTimeout that the server has not closed, or nullptr;
  // give() keeps one within the bounds (closing the oldest past them).
  std::unique_ptr<HttpConnection> take(const std::string& origin);
  void give(const std::string& origin, std::unique_ptr<HttpConnection> connection);
  std::size_t idle_connections() const noexcept { return idle_count_; }

 private:
  struct CachedContext {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::timespec modified{};  // the file's when loaded
    std::int64_t size = -1;
  };

  boost::asio::any_io_executor executor_;
  const Clock* clock_;
  OutboundPolicy policy_;
  bool closed_ = false;
  std::map<std::string, CachedContext> tls_contexts_;  // by ca_file; bounded (see tls_context)
  std::unordered_map<std::uint64_t, std::weak_ptr<HttpExchange>> in_flight_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, std::vector<std::unique_ptr<HttpConnection>>> idle_;  // oldest first
  std::size_t idle_count_ = 0;
};

// One request: a hop per URL (the first, then each redirect followed), each on a fresh
// connection, all under one deadline. Built by HttpClient::send from a validated request.
class HttpExchange : public std::enable_shared_from_this<HttpExchange> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // `request` holds the method, the headers to send (the client's own included, but for Host,
  // set per hop) and the body; `url` is the first hop's.
  HttpExchange(std::shared_ptr<HttpClientState> state, HttpUrl url, Request request,
               HttpOptions options, HttpClient::Done done);

  // Starts the first hop (on the executor); does nothing once the client is closed.
  void start();
  // The client is going: closes the connection, cancels the timer and drops `done` uncalled.
  void abandon();

 private:
  // --- one hop (http_exchange.cpp, in this order) ---
  void start_hop();
  Result<void> admit(const boost::asio::ip::address& address, bool resolved) const;
  void on_resolve(const boost::system::error_code& ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void connect_next();
  void on_connect(const boost::system::error_code& ec);
  void start_tls();
  void on_handshake(const boost::system::error_code& ec);
  void do_write();
  void do_read_header();
  void on_header(const boost::system::error_code& ec);
  void do_read_body();
  void on_body(boost::system::error_code ec);
  void follow_redirect(std::string_view location);
  void deliver();

  // --- endings ---
  // Whether a handler must stop here: the exchange finished or was abandoned, or the deadline
  // passed (then it finishes with kTimeout naming the phase).
  bool over();
  // This hop's peer for messages: "127.0.0.1:8080", or "example.org (192.0.2.7:443)".
  std::string peer() const;
  // A socket failure while `what` ("write to", "read from"): kServiceUnavailable.
  Error io_error(const boost::system::error_code& ec, std::string_view what) const;
  // A failed response read: kProtocolError for what the peer got wrong (malformed, cut short,
  // nothing at all), else io_error.
  Error read_error(const boost::system::error_code& ec) const;
  // Ends the exchange once: stops its I/O and posts `done` (unless the client is closed then).
  void finish(Result<HttpResponse> result);
  // Cancels the resolver and closes the socket; the streams stay until the next hop.
  void close_connection();
  // A request on a kept connection that got nothing back: sent again on a fresh connection.
  bool retry_fresh();
  // The pool's key of this hop's origin.
  std::string origin() const;

  template <class F>
  void with_stream(F&& f) {
    if (conn_->tls) {
      f(*conn_->tls);
    } else {
      f(conn_->socket);
    }
  }

  std::shared_ptr<HttpClientState> state_;
  HttpUrl url_;      // this hop's
  Request request_;  // what is sent; method, body and credentials change on redirects
  HttpOptions options_;
  HttpClient::Done done_;  // empty once called or abandoned
  std::uint64_t id_ = 0;   // in the state's registry, once started
  SteadyTime started_;

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer deadline_;
  std::unique_ptr<HttpConnection> conn_;  // this hop's; never null once started
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  bool reused_ = false;      // conn_ came from the pool
  bool fresh_only_ = false;  // a kept connection failed: do not take another

  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;  // this hop's, judged
  std::size_t next_endpoint_ = 0;
  std::string connect_failures_;  // "connect to a:p: reason" of each endpoint tried

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  std::vector<char> chunk_;  // what one body read fills
  int interim_responses_ = 0;
  HttpResponse response_;      // status and headers of this hop; body as read
  std::size_t body_seen_ = 0;  // body bytes read, kept or dropped

  std::string_view phase_ = "resolve";  // resolve, connect, tls, write, read
  int redirects_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace netpulse::core::detail
