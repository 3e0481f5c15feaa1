// Raising an alert through the real server (alert_fixture.hpp).
#include "support/alert_fixture.hpp"

#include <chrono>

#include <catch2/catch.hpp>

namespace netpulse::test {

std::int64_t created_id(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

std::string ingest_key(HttpClient& c, const std::string& admin) {
  auto key = c.post_json("/api/v1/api-keys", R"({"name":"ingest","role":"api_user"})", admin);
  INFO(key.body);
  REQUIRE(key.status == 201);
  const auto doc = key.json();
  return std::string(doc.at("data").at("key").as_string());
}

void write_lines(HttpClient& c, const std::string& ingest, const std::string& lines) {
  HttpRequest write{"POST",
                    "/api/v2/write?precision=s",
                    {{"Authorization", "Token " + ingest}, {"Content-Type", "text/plain"}},
                    lines};
  auto r = c.send(write);
  INFO(r.body);
  REQUIRE(r.status == 204);
}

std::int64_t raise_threshold_alert(HttpClient& c, const std::string& admin,
                                   const std::string& ingest, const std::string& metric,
                                   const std::string& severity) {
  const auto rule = created_id(c.post_json(
      "/api/v1/alert-rules",
      R"({"name":")" + metric + R"( high","kind":"threshold","selector":")" + metric +
          R"(","condition":{"op":">","value":90},"for_s":0)" +
          (severity.empty() ? std::string() : R"(,"severity":")" + severity + "\"") + "}",
      admin));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  write_lines(c, ingest, metric + ",host=core-1 value=95 " + std::to_string(now_s - 1) + "\n");
  return rule;
}

}  // namespace netpulse::test
