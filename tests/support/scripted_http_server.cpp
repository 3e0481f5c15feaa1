// The fake HTTP server of tests/support/scripted_http_server.hpp: blocking accept, read, answer,
// close, on one thread; shutting the listening socket down wakes the accept to stop.
#include "support/scripted_http_server.hpp"

#include <cctype>
#include <string>
#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

namespace netpulse::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string http_reply(int status, std::string_view body, const std::vector<std::string>& extra) {
  return http_reply_kept(status, body, extra, false);
}

std::string http_reply_kept(int status, std::string_view body,
                            const std::vector<std::string>& extra, bool keep) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep) out += "Connection: close\r\n";
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
  // ... or the read of a kept connection's next request.
  if (const int fd = current_fd_; fd >= 0) ::shutdown(fd, SHUT_RDWR);
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

namespace {

// Whether the header part of a raw answer says "Connection: close".
bool closes(std::string_view answer) {
  auto head = std::string(answer.substr(0, answer.find("\r\n\r\n")));
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return head.find("\r\nconnection: close") != std::string::npos;
}

}  // namespace

void ScriptedHttpServer::serve() {
  std::vector<tcp::socket> held;
  for (;;) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return;
    ++connections_;
    current_fd_ = socket.native_handle();
    boost::beast::flat_buffer buffer;
    // The requests of one connection: one, unless the client and the answer both keep it.
    for (;;) {
      Request request;
      http::read(socket, buffer, request, ec);
      if (ec) break;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      auto answer = answer_(request);
      if (!answer) {
        held.push_back(std::move(socket));
        break;
      }
      asio::write(socket, asio::buffer(*answer), ec);
      if (answer->empty() || closes(*answer) || !request.keep_alive() || ec) {
        socket.shutdown(tcp::socket::shutdown_send, ec);
        break;
      }
    }
    current_fd_ = -1;
  }
}

}  // namespace netpulse::test
