// HttpClient's face (include/netpulse/core/http_client.hpp): validation of a request before any
// I/O (method, URL, headers, options), the request as it goes on the wire (the client's Host,
// Content-Length, Connection and User-Agent; the user's headers otherwise passed through), and
// the state the client's requests share: the cached TLS contexts and the registry of exchanges
// in flight that the destructor abandons. One request's I/O is http_exchange.cpp.
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <fmt/format.h>

#include <netpulse/core/http_client.hpp>

#include "detail/http_exchange.hpp"

namespace netpulse::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;

std::string_view HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& [field, value] : headers) {
    if (beast::iequals(field, name)) return value;
  }
  return {};
}

namespace detail {

namespace {

// TLS contexts kept at most (distinct ca_files in use); past it the cache starts again.
constexpr std::size_t kMaxCachedContexts = 16;

}  // namespace

Result<std::shared_ptr<ssl::context>> HttpClientState::tls_context(const std::string& ca_file) {
  CachedContext fresh;
  if (!ca_file.empty()) {
    struct stat info {};
    if (::stat(ca_file.c_str(), &info) != 0) {
      return invalid_field("ca_file", fmt::format("{} cannot be read", ca_file));
    }
    fresh.modified = info.st_mtim;
    fresh.size = info.st_size;
  }
  if (const auto it = tls_contexts_.find(ca_file); it != tls_contexts_.end()) {
    const auto& cached = it->second;
    if (cached.size == fresh.size && cached.modified.tv_sec == fresh.modified.tv_sec &&
        cached.modified.tv_nsec == fresh.modified.tv_nsec) {
      return cached.context;
    }
  }
  try {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
    context->set_default_verify_paths();
    if (!ca_file.empty()) context->load_verify_file(ca_file);
    context->set_verify_mode(ssl::verify_peer);
    fresh.context = std::move(context);
  } catch (const boost::system::system_error& e) {
    return invalid_field("ca_file", fmt::format("{} could not be loaded: {}", ca_file, e.what()));
  }
  if (tls_contexts_.size() >= kMaxCachedContexts) tls_contexts_.clear();
  auto context = fresh.context;
  tls_contexts_.insert_or_assign(ca_file, std::move(fresh));
  return context;
}

std::uint64_t HttpClientState::attach(const std::shared_ptr<HttpExchange>& exchange) {
  const auto id = next_id_++;
  in_flight_.emplace(id, exchange);
  return id;
}

void HttpClientState::close() {
  closed_ = true;
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, weak] : in_flight) {
    if (auto exchange = weak.lock()) exchange->abandon();
  }
  idle_.clear();  // closes the kept sockets
  idle_count_ = 0;
}

namespace {

// Whether a kept connection is still open with nothing unread: a server that closed it (its
// idle timeout) shows end-of-file, one that sent something unasked (a TLS alert) shows data.
bool still_open(HttpConnection& c) {
  if (!c.socket.is_open()) return false;
  char byte = 0;
  const auto n = ::recv(c.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::unique_ptr<HttpConnection> HttpClientState::take(const std::string& origin) {
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = clock_->steady_now();
  std::unique_ptr<HttpConnection> found;
  // The newest first: the likeliest to be open still.
  while (!list.empty() && !found) {
    auto c = std::move(list.back());
    list.pop_back();
    --idle_count_;
    if (now - c->idle_since < kHttpIdleTimeout && still_open(*c)) found = std::move(c);
  }
  if (list.empty()) idle_.erase(it);
  return found;
}

void HttpClientState::give(const std::string& origin, std::unique_ptr<HttpConnection> connection) {
  if (closed_) return;
  auto& list = idle_[origin];
  if (list.size() >= kHttpMaxIdlePerOrigin) {
    list.erase(list.begin());
    --idle_count_;
  }
  if (idle_count_ >= kHttpMaxIdleConnections) {
    // The oldest of the origin with the most kept goes.
    auto most = std::max_element(idle_.begin(), idle_.end(), [](const auto& a, const auto& b) {
      return a.second.size() < b.second.size();
    });
    if (most != idle_.end() && !most->second.empty()) {
      most->second.erase(most->second.begin());
      --idle_count_;
      if (most->second.empty() && most->first != origin) idle_.erase(most);
    }
  }
  list.push_back(std::move(connection));
  ++idle_count_;
}

namespace {

// RFC 9110 token characters: what a header name may hold.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool has_line_break_or_nul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// The headers the client writes itself; the user's are dropped.
bool is_clients_header(std::string_view name) {
  constexpr std::array<std::string_view, 4> kOwn = {"host", "content-length", "connection",
                                                    "transfer-encoding"};
  return std::any_of(kOwn.begin(), kOwn.end(),
                     [&](std::string_view own) { return beast::iequals(own, name); });
}

Result<http::verb> parse_method(std::string_view method) {
  constexpr std::array<std::pair<std::string_view, http::verb>, 5> kMethods = {{
      {"GET", http::verb::get},
      {"POST", http::verb::post},
      {"PUT", http::verb::put},
      {"PATCH", http::verb::patch},
      {"DELETE", http::verb::delete_},
  }};
  for (const auto& [name, verb] : kMethods) {
    if (method == name) return verb;
  }
  return invalid_field("method", "must be one of GET, POST, PUT, PATCH, DELETE");
}

Result<void> validate_headers(const HttpHeaders& headers) {
  std::size_t total = 0;
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      return invalid_field("headers",
                           fmt::format("'{}' is not a header name", name.substr(0, 100)));
    }
    if (has_line_break_or_nul(value)) {
      return invalid_field("headers", fmt::format("the value of {} holds CR, LF or NUL", name));
    }
    total += name.size() + value.size() + 4;
  }
  if (total > kHttpHeaderLimit) {
    return invalid_field("headers", fmt::format("are over {} bytes", kHttpHeaderLimit));
  }
  return ok();
}

Result<void> validate_options(const HttpOptions& options) {
  if (options.timeout.count() < 1) return invalid_field("timeout", "must be at least 1 ms");
  if (options.max_redirects < 0 || options.max_redirects > kHttpMaxRedirects) {
    return invalid_field("max_redirects", fmt::format("must be 0..{}", kHttpMaxRedirects));
  }
  if (options.max_response_bytes > kHttpMaxResponseBytes) {
    return invalid_field("max_response_bytes",
                         fmt::format("must be at most {}", kHttpMaxResponseBytes));
  }
  if (has_line_break_or_nul(options.user_agent)) {
    return invalid_field("user_agent", "must not hold CR, LF or NUL");
  }
  return ok();
}

// The request as sent on the first hop, but for Host (set per hop).
Result<HttpExchange::Request> build_request(const HttpRequest& request,
                                            const HttpOptions& options) {
  auto verb = parse_method(request.method);
  if (!verb) return std::move(verb).error();
  if (auto valid = validate_headers(request.headers); !valid) return std::move(valid).error();
  if (auto valid = validate_options(options); !valid) return std::move(valid).error();
  HttpExchange::Request out{*verb, "/", 11};
  if (!options.user_agent.empty()) out.set(http::field::user_agent, options.user_agent);
  for (const auto& [name, value] : request.headers) {
    if (is_clients_header(name)) continue;
    if (beast::iequals(name, "user-agent")) {
      out.set(http::field::user_agent, value);
    } else {
      out.insert(name, value);
    }
  }
  // HTTP/1.1 keeps a connection unless told: a kept one says nothing.
  if (!options.keep_alive) out.set(http::field::connection, "close");
  out.body() = request.body;
  const bool sends_body = *verb == http::verb::post || *verb == http::verb::put ||
                          *verb == http::verb::patch || !out.body().empty();
  if (sends_body) out.content_length(out.body().size());
  return out;
}

}  // namespace

}  // namespace detail

struct HttpClient::Impl : detail::HttpClientState {
  using HttpClientState::HttpClientState;
};

HttpClient::HttpClient(asio::any_io_executor executor, const Clock& clock, OutboundPolicy policy)
    : impl_(std::make_shared<Impl>(std::move(executor), clock, std::move(policy))) {}

HttpClient::~HttpClient() {
  impl_->close();
}

void HttpClient::send(HttpRequest request, HttpOptions options, Done done) {
  auto url = parse_http_url(request.url);
  auto wire = url ? detail::build_request(request, options)
                  : Result<detail::HttpExchange::Request>(url.error());
  if (!wire) {
    asio::post(impl_->executor(),
               [state = impl_, done = std::move(done), error = std::move(wire).error()]() mutable {
                 if (!state->closed()) done(std::move(error));
               });
    return;
  }
  auto exchange = std::make_shared<detail::HttpExchange>(impl_, std::move(*url), std::move(*wire),
                                                         std::move(options), std::move(done));
  asio::post(impl_->executor(), [exchange] { exchange->start(); });
}

}  // namespace netpulse::core
