// The HTTP(S) server on Boost.Beast: a listener accepting connections, and one session per
// connection reading requests with limits and timeouts, handing each to the Pipeline and writing
// its answer, keep-alive until the client, a timeout or shutdown ends it. Modelled on Beast's
// advanced_server_flex example: one session template for plain and TLS streams.
//
// Connection slots are a resource a client could hoard, so: a connection's first request head must
// arrive within header_timeout of the accept (TLS handshake included) and a later one within
// header_timeout of its first byte; one client address (an IPv6 /64) holds at most
// max_connections_per_ip; and when every slot is taken, the keep-alive connection idle the longest
// is closed to let a new client in.
#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <netpulse/api/server.hpp>

#include "detail/live_hub.hpp"
#include "detail/pipeline.hpp"

namespace netpulse::api {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

// What sessions share with the server; sessions hold it by shared_ptr so it outlives them all.
struct SharedState;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection now if no request is being handled; otherwise after its answer.
  virtual void close_if_idle() = 0;
  virtual void force_close() = 0;
  // When the connection is waiting for the next request of a keep-alive connection: the order in
  // which it became so (smaller = idle longer); 0 when it is not idle.
  virtual std::uint64_t idle_order() const = 0;
};

struct SharedState {
  ServerOptions options;
  core::Logger& log;
  std::shared_ptr<detail::Pipeline> pipeline;
  core::Gauge& open_gauge;
  core::Counter& rejected;
  core::Counter& rejected_per_ip;
  core::Counter& evicted_idle;
  core::Counter& header_timeouts;
  std::unordered_set<SessionBase*> sessions;
  // Open connections per client key (see client_key()); keys with none are erased.
  std::unordered_map<std::string, std::size_t> per_client;
  std::uint64_t idle_sequence = 0;
  bool stopping = false;
  std::function<void()> on_drained;
  // The live feed, when the server has one; null again once the server is gone, so a late
  // callback of a WebSocket session does not reach it.
  detail::LiveHub* live = nullptr;

  void release_client(const std::string& key) {
    if (key.empty()) return;
    auto it = per_client.find(key);
    if (it != per_client.end() && --it->second == 0) per_client.erase(it);
  }

  void remove(SessionBase* s) {
    sessions.erase(s);
    open_gauge.set(static_cast<double>(sessions.size()));
    if (stopping && sessions.empty() && on_drained) {
      auto done = std::move(on_drained);
      on_drained = nullptr;
      done();
    }
  }
};

template <class Stream>
class LiveSession;

// Whether a browser page of `origin` may open the live feed: its own origin, or one of
// http.cors_allowed_origins. No Origin (not a browser) is allowed: the token decides.
bool live_origin_allowed(const ServerOptions& o, std::string_view origin, std::string_view host) {
  if (origin.empty()) return true;
  if (origin == fmt::format("{}://{}", o.tls ? "https" : "http", host)) return true;
  return std::find(o.cors_allowed_origins.begin(), o.cors_allowed_origins.end(), origin) !=
         o.cors_allowed_origins.end();
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `client_key` is what the per-client limit counts (empty: not counted); the caller has
  // counted this connection under it already.
  Session(std::shared_ptr<SharedState> state, Stream stream, std::string peer_ip,
          std::string client_key)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        peer_ip_(std::move(peer_ip)),
        client_key_(std::move(client_key)) {
    state_->sessions.insert(this);
    state_->open_gauge.set(static_cast<double>(state_->sessions.size()));
  }
  ~Session() override {
    state_->release_client(client_key_);
    state_->remove(this);
  }

  void run() {
    // One deadline from here to the first request's complete head, handshake included.
    lowest().expires_after(state_->options.header_timeout);
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec == beast::error::timeout) {
                                  self->state_->header_timeouts.inc();
                                }
                                if (ec) return self->fail(ec, "tls handshake");
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

  void close_if_idle() override {
    if (!busy_) force_close();
  }
  void force_close() override {
    idle_order_ = 0;
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }
  std::uint64_t idle_order() const override { return idle_order_; }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr std::uint64_t kSmallBody = 4096;
  static constexpr std::size_t kBodyReadBytes = std::size_t{64} * 1024;
  static constexpr std::size_t kFirstReadBytes = 4096;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void do_read() {
    if (state_->stopping) return do_close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(state_->options.max_body_bytes);
    // The first request's deadline has run since the accept (run()).
    if (first_) return read_header();
    // A pipelined request is already (partly) here: its head has header_timeout from now.
    if (buffer_.size() > 0) {
      lowest().expires_after(state_->options.header_timeout);
      return read_header();
    }
    // Idle keep-alive: wait up to idle_timeout for the next request's first bytes.
    idle_order_ = ++state_->idle_sequence;
    lowest().expires_after(state_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_order_ = 0;
                              if (ec) return self->on_read_error(ec);
                              self->buffer_.commit(n);
                              self->lowest().expires_after(self->state_->options.header_timeout);
                              self->read_header();
                            });
  }

  void read_header() {
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_read_header(ec);
                            });
  }

  void on_read_header(beast::error_code ec) {
    if (ec == beast::error::timeout) state_->header_timeouts.inc();
    if (ec) return on_read_error(ec);
    // From here the request is in flight: shutdown lets it finish instead of closing it.
    busy_ = true;
    // Beast reads at most the buffer's free capacity per call (512 bytes when it is small): a
    // big body would take thousands of reads. Room for 64 KiB reads, kept for the connection.
    if (auto len = parser_->content_length();
        len && *len > kSmallBody && buffer_.capacity() < kBodyReadBytes) {
      buffer_.reserve(kBodyReadBytes);
    }
    lowest().expires_after(state_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    lowest().expires_never();
    if (state_->live && websocket::is_upgrade(parser_->get())) {
      auto target = parser_->get().target();
      if (target.substr(0, target.find('?')) == "/api/v1/live") return upgrade();
    }
    // The answer may come later (a database write, a password hash): the callback keeps the
    // session alive until then.
    state_->pipeline->handle(parser_->release(), peer_ip_,
                             [self = this->shared_from_this()](detail::WireResponse res) {
                               self->send(std::move(res));
                             });
  }

  // GET /api/v1/live with Upgrade: websocket: the connection becomes a live feed session (it
  // keeps this one's slot and client count).
  void upgrade() {
    const auto& req = parser_->get();
    if (!live_origin_allowed(state_->options, req[http::field::origin], req[http::field::host])) {
      return send_error(http::status::forbidden, core::Errc::kInsufficientPermissions,
                        fmt::format("the origin {} may not open the live feed",
                                    std::string(req[http::field::origin])));
    }
    auto live = std::make_shared<LiveSession<Stream>>(state_, std::move(stream_), peer_ip_,
                                                      std::exchange(client_key_, std::string()));
    live->run(parser_->release());
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return do_close();
    }
    if (ec == http::error::body_limit) {
      return send_error(http::status::payload_too_large, core::Errc::kPayloadTooLarge,
                        fmt::format("the request body is larger than the limit of {} bytes",
                                    state_->options.max_body_bytes));
    }
    if (ec == http::error::header_limit) {
      return send_error(http::status::request_header_fields_too_large, core::Errc::kHeadersTooLarge,
                        fmt::format("the request headers are larger than the limit of {} bytes",
                                    state_->options.max_header_bytes));
    }
    if (ec.category() == beast::error_code(http::error::bad_target).category()) {
      return send_error(http::status::bad_request, core::Errc::kInvalidInput,
                        "malformed HTTP request: " + ec.message());
    }
    fail(ec, "read");
  }

  void send_error(http::status status, core::Errc code, std::string message) {
    busy_ = true;
    send(state_->pipeline->transport_error(status, code, std::move(message)));
  }

  void send(detail::WireResponse res) {
    keep_alive_ = res.keep_alive && !state_->stopping;
    response_ = std::move(res.bytes);
    lowest().expires_after(state_->options.write_timeout);
    net::async_write(stream_, net::buffer(response_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_write(ec);
                     });
  }

  void on_write(beast::error_code ec) {
    busy_ = false;
    response_.clear();
    if (ec) return fail(ec, "write");
    if (!keep_alive_) return do_close();
    first_ = false;
    do_read();
  }

  void do_close() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->lowest().close(); });
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      // Read and drop what the client still sends (e.g. the rest of an oversized body) for a
      // moment, so closing does not reset the connection before it reads our answer.
      drain();
    }
  }

  void drain() {
    lowest().expires_after(std::chrono::seconds(1));
    if (!drain_buf_) drain_buf_ = std::make_unique<std::array<char, 4096>>();
    lowest().async_read_some(net::buffer(*drain_buf_), [self = this->shared_from_this()](
                                                           beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > (1u << 20)) return self->lowest().close();
      self->drain();
    });
  }

  void fail(beast::error_code ec, std::string_view what) {
    if (ec != net::error::operation_aborted && ec != beast::error::timeout &&
        ec != ssl::error::stream_truncated) {
      state_->log.debug("http", "{} {}: {}", peer_ip_, what, ec.message());
    }
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  std::shared_ptr<SharedState> state_;
  Stream stream_;
  std::string peer_ip_;
  std::string client_key_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string response_;  // the answer being written
  std::unique_ptr<std::array<char, 4096>> drain_buf_;
  std::size_t drained_ = 0;
  bool first_ = true;
  bool busy_ = false;
  bool keep_alive_ = true;
  std::uint64_t idle_order_ = 0;
};

// A live feed connection: a WebSocket over the session's stream. Writes one queued message at a
// time (the queue is what the hub bounds); reads the client's messages and hands them to the hub.
template <class Stream>
class LiveSession : public SessionBase,
                    public detail::LiveTransport,
                    public std::enable_shared_from_this<LiveSession<Stream>> {
 public:
  LiveSession(std::shared_ptr<SharedState> state, Stream stream, std::string peer_ip,
              std::string client_key)
      : state_(std::move(state)),
        ws_(std::move(stream)),
        peer_ip_(std::move(peer_ip)),
        client_key_(std::move(client_key)) {
    state_->sessions.insert(this);
    state_->open_gauge.set(static_cast<double>(state_->sessions.size()));
  }
  ~LiveSession() override {
    if (id_ && state_->live) state_->live->detach(id_);
    state_->release_client(client_key_);
    state_->remove(this);
  }

  void run(http::request<http::string_body> req) {
    // The WebSocket's own timeouts replace the TCP stream's: 10 s for the handshake, and a
    // connection silent for 60 s (no answer to the pings sent every 30 s) is dropped.
    beast::get_lowest_layer(ws_).expires_never();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(
        net::socket_base::send_buffer_size(state_->live->options().socket_send_buffer), ignored);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = std::chrono::seconds(60);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(state_->live->options().max_message_bytes);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail(ec, "websocket accept");
      if (!self->state_->live) return self->close(detail::kCloseGoingAway, "shutting down");
      auto id = self->state_->live->attach(self);
      if (!id) return self->close(detail::kCloseTooMany, "the live feed is full");
      self->id_ = *id;
      self->do_read();
    });
  }

  // --- LiveTransport ---
  void send(detail::LiveText text) override {
    if (closing_) return;
    queue_.push_back(std::move(text));
    if (!writing_) do_write();
  }
  std::size_t queued() const override { return queue_.size(); }
  void close(std::uint16_t code, std::string reason) override {
    if (closing_) return;
    closing_ = true;
    // What was not written yet is dropped: the client resumes from its last sequence number.
    if (queue_.size() > (writing_ ? 1 : 0)) queue_.resize(writing_ ? 1 : 0);
    close_reason_.code = code;
    close_reason_.reason = reason.substr(0, close_reason_.reason.max_size());
    if (!writing_) do_close();
  }

  // --- SessionBase ---
  void close_if_idle() override { close(detail::kCloseGoingAway, "the server is shutting down"); }
  void force_close() override {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  std::uint64_t idle_order() const override { return 0; }

 private:
  void do_read() {
    ws_.async_read(in_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec, "websocket read");
      if (!self->ws_.got_text()) {
        self->in_.clear();
        return self->close(detail::kCloseBadMessage, "text messages only");
      }
      auto text = beast::buffers_to_string(self->in_.data());
      self->in_.clear();
      if (self->id_ && self->state_->live) self->state_->live->on_message(self->id_, text);
      if (!self->closing_) self->do_read();
    });
  }

  void do_write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return self->fail(ec, "websocket write");
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) return self->do_write();
                      if (self->closing_) return self->do_close();
                      if (self->id_ && self->state_->live)
                        self->state_->live->on_drained(self->id_);
                    });
  }

  void do_close() {
    if (close_sent_) return;
    close_sent_ = true;
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {
      // The peer's close frame (or the timeout) ends the read loop and with it the session.
    });
  }

  void fail(beast::error_code ec, std::string_view what) {
    if (ec != websocket::error::closed && ec != net::error::operation_aborted &&
        ec != beast::error::timeout && ec != net::error::eof) {
      state_->log.debug("http", "{} {}: {}", peer_ip_, what, ec.message());
    }
    if (id_ && state_->live) state_->live->detach(id_);
    id_ = 0;
    closing_ = true;
    queue_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  std::shared_ptr<SharedState> state_;
  websocket::stream<Stream> ws_;
  std::string peer_ip_;
  std::string client_key_;
  beast::flat_buffer in_;
  std::deque<detail::LiveText> queue_;
  websocket::close_reason close_reason_;
  std::uint64_t id_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, net::any_io_executor loop, const core::Clock& clock,
             core::Logger& log, core::MetricsRegistry& metrics, const Router& router,
             auth::AuthService& auth, LiveFeed* live)
      : loop_(loop),
        acceptor_(loop),
        state_(std::make_shared<SharedState>(SharedState{
            options,
            log,
            std::make_shared<detail::Pipeline>(options, clock, log, metrics, router, auth),
            metrics.gauge("netpulse_http_open_connections", "HTTP connections open now."),
            metrics.counter("netpulse_http_rejected_connections_total",
                            "Connections refused, by reason: max_connections were open, or "
                            "max_connections_per_ip from the client's address.",
                            {{"reason", "max_connections"}}),
            metrics.counter("netpulse_http_rejected_connections_total",
                            "Connections refused, by reason: max_connections were open, or "
                            "max_connections_per_ip from the client's address.",
                            {{"reason", "per_ip"}}),
            metrics.counter("netpulse_http_idle_connections_closed_total",
                            "Idle keep-alive connections closed to make room for a new client."),
            metrics.counter("netpulse_http_header_timeouts_total",
                            "Connections closed because a request head (or the TLS handshake) "
                            "did not arrive within http.header_timeout_ms."),
            {},
            {},
            0,
            false,
            nullptr,
            static_cast<detail::LiveHub*>(live)})),
        grace_timer_(loop) {}

  ~ServerImpl() override {
    state_->pipeline->close();
    state_->live = nullptr;
  }

  core::Result<void> listen() {
    auto& o = state_->options;
    if (o.tls) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
      beast::error_code ec;
      tls_->use_certificate_chain_file(o.tls_cert_file, ec);
      if (ec) {
        return core::Error(core::Errc::kConfigError, fmt::format("http.tls.cert_file \"{}\": {}",
                                                                 o.tls_cert_file, ec.message()));
      }
      tls_->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
      if (ec) {
        return core::Error(core::Errc::kConfigError, fmt::format("http.tls.key_file \"{}\": {}",
                                                                 o.tls_key_file, ec.message()));
      }
    }
    beast::error_code ec;
    auto addr = net::ip::make_address(o.host, ec);
    if (ec) {
      return core::Error(core::Errc::kConfigError,
                         fmt::format("http.listen: \"{}\" is not an IP address", o.host));
    }
    tcp::endpoint ep(addr, o.port);
    auto bind_error = [&](std::string_view step) {
      return core::Error(core::Errc::kConfigError,
                         fmt::format("http.listen: cannot {} {}: {}", step,
                                     fmt::format("{}:{}", o.host, o.port), ec.message()));
    };
    acceptor_.open(ep.protocol(), ec);
    if (ec) return bind_error("open");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (addr.is_v6()) acceptor_.set_option(net::ip::v6_only(true), ec);
    acceptor_.bind(ep, ec);
    if (ec) return bind_error("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return bind_error("listen on");
    return core::ok();
  }

  void start() override { do_accept(); }

  tcp::endpoint local_endpoint() const override {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  std::size_t open_connections() const override { return state_->sessions.size(); }

  void shutdown(std::chrono::milliseconds grace, std::function<void()> done) override {
    beast::error_code ec;
    acceptor_.close(ec);
    state_->stopping = true;
    state_->pipeline->stop_keep_alive();
    auto finish = [this, done = std::move(done)]() {
      grace_timer_.cancel();
      state_->pipeline->close();
      done();
    };
    if (state_->sessions.empty()) return finish();
    state_->on_drained = finish;
    // Copy: closing may destroy sessions and change the set.
    std::vector<SessionBase*> sessions(state_->sessions.begin(), state_->sessions.end());
    for (auto* s : sessions) {
      if (state_->sessions.count(s)) s->close_if_idle();
    }
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([state = state_](beast::error_code ec) {
      if (ec) return;
      std::vector<SessionBase*> left(state->sessions.begin(), state->sessions.end());
      if (!left.empty()) {
        state->log.warn("http", "closing {} connection(s) still busy after the grace period",
                        left.size());
      }
      for (auto* s : left) {
        if (state->sessions.count(s)) s->force_close();
      }
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(loop_, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) on_accept(std::move(socket));
      do_accept();
    });
  }

  void on_accept(tcp::socket socket) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    auto ip =
        remote.address().is_v6() && remote.address().to_v6().is_v4_mapped()
            ? net::ip::make_address_v4(net::ip::v4_mapped, remote.address().to_v6()).to_string()
            : remote.address().to_string();
    const auto key = client_key(remote.address(), ip);
    const auto limit = state_->options.max_connections_per_ip;
    if (!key.empty() && limit > 0) {
      auto it = state_->per_client.find(key);
      if (it != state_->per_client.end() && it->second >= limit) {
        state_->rejected_per_ip.inc();
        return refuse(std::move(socket),
                      fmt::format("too many connections from your address (limit {}); close "
                                  "some or retry shortly",
                                  limit));
      }
    }
    if (state_->sessions.size() >= state_->options.max_connections && !evict_idle()) {
      state_->rejected.inc();
      return refuse(std::move(socket), fmt::format("too many connections (limit {}); retry shortly",
                                                   state_->options.max_connections));
    }
    if (!key.empty()) ++state_->per_client[key];
    if (tls_) {
      std::make_shared<Session<ssl::stream<beast::tcp_stream>>>(
          state_, ssl::stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_), ip,
          key)
          ->run();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(state_, beast::tcp_stream(std::move(socket)), ip,
                                                   key)
          ->run();
    }
  }

  // What the per-client limit counts a connection under: the IPv4 address, or the /64 of an IPv6
  // one (one subscriber's whole prefix). Empty for a trusted proxy, which carries many clients.
  std::string client_key(const net::ip::address& address, const std::string& ip) const {
    const auto& proxies = state_->options.trusted_proxies;
    if (std::find(proxies.begin(), proxies.end(), ip) != proxies.end()) return {};
    if (!address.is_v6() || address.to_v6().is_v4_mapped()) return ip;
    auto bytes = address.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return net::ip::address_v6(bytes).to_string() + "/64";
  }

  // Closes the keep-alive connection idle the longest, if any; true when one was closed. The
  // closed session leaves the set a moment later, so the count may pass the limit by the few
  // connections being closed.
  bool evict_idle() {
    SessionBase* oldest = nullptr;
    for (auto* s : state_->sessions) {
      const auto order = s->idle_order();
      if (order != 0 && (!oldest || order < oldest->idle_order())) oldest = s;
    }
    if (!oldest) return false;
    state_->evicted_idle.inc();
    oldest->force_close();
    return true;
  }

  // Answers 503 with `message` and closes, without making a session.
  void refuse(tcp::socket socket, std::string message) {
    auto sock = std::make_shared<tcp::socket>(std::move(socket));
    auto res = std::make_shared<std::string>(
        state_->pipeline
            ->transport_error(http::status::service_unavailable, core::Errc::kServiceUnavailable,
                              std::move(message), "Retry-After: 1\r\n")
            .bytes);
    net::async_write(*sock, net::buffer(*res), [sock, res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      sock->shutdown(tcp::socket::shutdown_both, ignored);
      sock->close(ignored);
    });
  }

  net::any_io_executor loop_;
  tcp::acceptor acceptor_;
  std::unique_ptr<ssl::context> tls_;
  std::shared_ptr<SharedState> state_;
  net::steady_timer grace_timer_;
};

}  // namespace

core::Result<std::unique_ptr<Server>> Server::open(const ServerOptions& options,
                                                   const core::Env& env, const Router& router,
                                                   auth::AuthService& auth, LiveFeed* live) {
  auto server = std::make_unique<ServerImpl>(options, env.loop, env.clock, env.log, env.metrics,
                                             router, auth, live);
  if (auto r = server->listen(); !r) return std::move(r).error();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace netpulse::api
