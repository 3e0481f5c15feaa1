// The fake HTTP server of tests/support/scripted_http_server.hpp: blocking accept, read, answer,
// close, on one thread; shutting the listening socket down wakes the accept to stop.
#include "support/scripted_http_server.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

namespace netpulse::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string http_reply(int status, std::string_view body, const std::vector<std::string>& extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  for (const auto& line : extra) out += line + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

ScriptedHttpServer::ScriptedHttpServer(Answer answer, std::string_view address)
    : answer_(std::move(answer)),
      acceptor_(io_, tcp::endpoint(asio::ip::make_address(std::string(address)), 0)) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocking accept()
  thread_.join();
}

std::string ScriptedHttpServer::url(std::string_view path) const {
  return "http://" + acceptor_.local_endpoint().address().to_string() + ":" +
         std::to_string(port_) + std::string(path);
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedHttpServer::serve() {
  std::vector<tcp::socket> held;
  for (;;) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return;
    ++connections_;
    boost::beast::flat_buffer buffer;
    Request request;
    http::read(socket, buffer, request, ec);
    if (ec) continue;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    auto answer = answer_(request);
    if (!answer) {
      held.push_back(std::move(socket));
      continue;
    }
    asio::write(socket, asio::buffer(*answer), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
}

}  // namespace netpulse::test
