// A fake HTTP/1.1 server for unit tests of HTTP clients (the outbound HttpClient, the service
// checks' HTTP check): it listens on a loopback address, serves one connection at a time on its
// own thread, records each request and answers with the raw bytes the test gives — well-formed
// or hostile — then closes, unless both the request and the answer keep the connection (no
// "Connection: close"): then it reads the next request on it. An empty answer closes without
// answering. A fake is fine here: the client is what is under test.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace netpulse::test {

// A raw HTTP/1.1 response: the status line, Content-Length, "Connection: close", the `extra`
// header lines ("Location: /x"), then the body.
std::string http_reply(int status, std::string_view body,
                       const std::vector<std::string>& extra = {});
// The same without "Connection: close" when `keep`: the server then reads the next request on
// the same connection, if the client kept it too.
std::string http_reply_kept(int status, std::string_view body,
                            const std::vector<std::string>& extra = {}, bool keep = true);

class ScriptedHttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  // The raw bytes to answer `request` with; nullopt holds the connection open unanswered until
  // the server stops. Called on the server's thread.
  using Answer = std::function<std::optional<std::string>(const Request& request)>;

  explicit ScriptedHttpServer(Answer answer, std::string_view address = "127.0.0.1");
  ~ScriptedHttpServer();  // stops accepting and joins the thread
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;
  // Every request read so far, in order. Thread-safe.
  std::vector<Request> requests() const;
  // Connections accepted so far (a request need not have followed). Thread-safe.
  int connections() const { return connections_; }

 private:
  void serve();

  Answer answer_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::atomic<int> connections_{0};
  std::atomic<int> current_fd_{-1};  // the connection being served
  std::thread thread_;
};

}  // namespace netpulse::test
