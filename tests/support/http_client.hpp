// A small blocking HTTP/1.1 client for integration tests (Boost.Beast), over plain TCP or TLS,
// with keep-alive, a timeout on every call, and raw-bytes mode for hostile-input tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace netpulse::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The body parsed as JSON (null when it is not JSON).
  boost::json::value json() const;
  std::string header(const std::string& lower_name) const;
  // `error.code` of an error envelope, or "".
  std::string error_code() const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class HttpClient {
 public:
  // Connects lazily to host:port; `tls` wraps the connection in TLS (certificates not verified:
  // tests use self-signed ones).
  HttpClient(std::string host, std::uint16_t port, bool tls = false,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~HttpClient();

  // Sends one request on the kept-alive connection (reconnecting if the server closed it).
  // Throws std::runtime_error on transport failure or timeout.
  HttpResponse send(const HttpRequest& req);

  HttpResponse get(const std::string& target, const std::string& bearer = "");
  HttpResponse del(const std::string& target, const std::string& bearer = "");
  // JSON body with Content-Type: application/json.
  HttpResponse post_json(const std::string& target, const std::string& body,
                         const std::string& bearer = "");
  HttpResponse put_json(const std::string& target, const std::string& body,
                        const std::string& bearer = "");
  HttpResponse patch_json(const std::string& target, const std::string& body,
                          const std::string& bearer = "");

  // Opens a fresh connection, writes `bytes` as they are, and reads until the server closes
  // or the timeout; returns everything read (for malformed-request tests).
  std::string raw_exchange(const std::string& bytes);

  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netpulse::test
