// A small blocking WebSocket client for the live feed's tests (Boost.Beast), plain TCP only,
// with a timeout on every call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace netpulse::test {

class WsClient {
 public:
  // Connects to 127.0.0.1:port and upgrades GET `target` with these extra headers. Throws
  // std::runtime_error when the upgrade is refused (the message has the HTTP status).
  // `receive_buffer` > 0 fixes the socket's receive buffer (SO_RCVBUF) instead of letting the
  // kernel grow it (to 32 MB on some machines): a client that stops reading fills it quickly.
  WsClient(std::uint16_t port, std::vector<std::pair<std::string, std::string>> headers = {},
           std::string target = "/api/v1/live", int receive_buffer = 0);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void send(const std::string& text);
  void send_json(const boost::json::value& v);
  // The next message, or nullopt when the connection closed or `timeout` passed.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<boost::json::value> read_json(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until a message whose "type" is `type` (others are kept in skipped()); nullopt if
  // none came in time or the connection closed.
  std::optional<boost::json::value> wait_for(
      const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::vector<boost::json::value>& skipped() const { return skipped_; }
  // Whether the server closed the connection, with its close code and reason.
  bool closed() const { return closed_; }
  std::uint16_t close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }
  // Closes the TCP connection without a close frame (a client that vanishes).
  void drop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<boost::json::value> skipped_;
  bool closed_ = false;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
};

}  // namespace netpulse::test
