#include "support/ws_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace netpulse::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;

  // Runs the io_context until `done` or the timeout; false on timeout (the operation cancelled).
  bool run_until(const bool& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_one_for(std::chrono::milliseconds(20));
    }
    if (done) return true;
    beast::get_lowest_layer(ws).cancel();
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(500));
    return false;
  }
};

WsClient::WsClient(std::uint16_t port, std::vector<std::pair<std::string, std::string>> headers,
                   std::string target, int receive_buffer)
    : impl_(std::make_unique<Impl>()) {
  auto& s = beast::get_lowest_layer(impl_->ws);
  if (receive_buffer > 0) {
    s.socket().open(tcp::v4());
    s.socket().set_option(net::socket_base::receive_buffer_size(receive_buffer));
  }
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  s.expires_never();
  impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (auto& [k, v] : headers) req.set(k, v);
  }));
  websocket::response_type res;
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target,
                            [&](beast::error_code e) {
                              ec = e;
                              done = true;
                            });
  if (!impl_->run_until(done, std::chrono::seconds(10))) {
    throw std::runtime_error("websocket handshake timed out");
  }
  if (ec) {
    throw std::runtime_error("websocket upgrade refused: HTTP " + std::to_string(res.result_int()) +
                             " " + res.body() + " (" + ec.message() + ")");
  }
}

WsClient::~WsClient() {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

void WsClient::send(const std::string& text) {
  impl_->ws.text(true);
  bool done = false;
  beast::error_code ec;
  impl_->ws.async_write(net::buffer(text), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!impl_->run_until(done, std::chrono::seconds(10)) || ec) {
    throw std::runtime_error("websocket write failed: " + ec.message());
  }
}

void WsClient::send_json(const boost::json::value& v) {
  send(boost::json::serialize(v));
}

std::optional<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  bool done = false;
  beast::error_code ec;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!impl_->run_until(done, timeout)) return std::nullopt;
  if (ec) {
    closed_ = true;
    close_code_ = impl_->ws.reason().code;
    close_reason_ = std::string(impl_->ws.reason().reason.data(), impl_->ws.reason().reason.size());
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.clear();
  return text;
}

std::optional<boost::json::value> WsClient::read_json(std::chrono::milliseconds timeout) {
  auto text = read(timeout);
  if (!text) return std::nullopt;
  return boost::json::parse(*text);
}

std::optional<boost::json::value> WsClient::wait_for(const std::string& type,
                                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto msg = read_json(std::max(left, std::chrono::milliseconds(1)));
    if (!msg) return std::nullopt;
    if (msg->is_object() && msg->as_object().contains("type") &&
        msg->at("type").as_string() == type) {
      return msg;
    }
    skipped_.push_back(std::move(*msg));
  }
  return std::nullopt;
}

void WsClient::drop() {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
  closed_ = true;
}

}  // namespace netpulse::test
