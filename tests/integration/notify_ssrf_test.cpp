// Webhooks and the outbound address policy, against the real binary (docs/security.md, "Outbound
// addresses"): the server allows one loopback address only (the receiver's, 127.0.0.1), so
// 127.0.0.0/8's other addresses and ::1 are refused by the default fetch_deny. A channel whose URL
// names a refused address literally is refused when saved, with the rule named; a name is judged
// after it is resolved (a name that resolves to a refused address is refused when sent, the address
// and the rule named); a redirect is never followed, so a webhook cannot be bounced to an address
// the policy refuses.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

using namespace netpulse::test;
namespace json = boost::json;

namespace {

struct Setup {
  TempDir dir;
  std::unique_ptr<ServerProcess> server;
  std::string admin;

  explicit Setup(const std::string& allow = "127.0.0.1/32") {
    server = std::make_unique<ServerProcess>(
        dir.path(), std::map<std::string, std::string>{{"NETPULSE_NETWORK_OUTBOUND_ALLOW", allow},
                                                       {"NETPULSE_NOTIFY_HTTP_TIMEOUT_MS", "2000"},
                                                       {"NETPULSE_ALERTS_DEFAULT_RULES", "false"}});
    auto c = server->client();
    admin = login(c, kAdminEmail, kAdminPassword);
  }

  HttpResponse create(const std::string& name, const std::string& url) {
    auto c = server->client();
    return c.post_json("/api/v1/notification-channels",
                       R"({"name":")" + name + R"(","kind":"webhook","settings":{"url":")" + url +
                           R"(","format":"netpulse"}})",
                       admin);
  }

  // Creates the channel (it must be accepted) and sends its test message: the result object.
  json::object test(const std::string& name, const std::string& url) {
    auto r = create(name, url);
    INFO(r.body);
    REQUIRE(r.status == 201);
    const auto doc = r.json();
    const auto id = doc.at("data").at("id").as_int64();
    auto c = server->client();
    auto t =
        c.post_json("/api/v1/notification-channels/" + std::to_string(id) + "/test", "{}", admin);
    INFO(t.body);
    REQUIRE(t.status == 200);
    const auto result = t.json();
    return result.at("data").as_object();
  }
};

std::string text(const json::value& v) {
  return std::string(v.as_string());
}

}  // namespace

TEST_CASE("notify: a webhook naming a refused address is refused when saved, the rule named",
          "[notify][integration]") {
  Setup s;
  struct Case {
    std::string url, address, rule;
  };
  const Case cases[] = {
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254", "169.254.169.254/32"},
      {"http://127.0.0.2:8080/hook", "127.0.0.2", "127.0.0.0/8"},
      {"http://[::1]:8080/hook", "::1", "::1/128"},
      {"http://0.0.0.0:8080/hook", "0.0.0.0", "0.0.0.0/8"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    auto r = s.create("hook " + c.address, c.url);
    INFO(r.body);
    CHECK(r.status == 400);
    const auto doc = r.json();
    const auto& err = doc.at("error").as_object();
    CHECK(text(err.at("code")) == "OUTBOUND_DENIED");
    const auto message = text(err.at("message"));
    CHECK(message.find(c.address) != std::string::npos);
    CHECK(message.find(c.rule) != std::string::npos);
  }
  // Nothing was saved.
  auto c = s.server->client();
  auto list = c.get("/api/v1/notification-channels", s.admin);
  REQUIRE(list.status == 200);
  const auto doc = list.json();
  CHECK(doc.at("data").as_array().empty());
}

TEST_CASE("notify: a name that resolves to a refused address is refused when sent",
          "[notify][integration]") {
  // 127.0.0.2 allowed, so "localhost" (127.0.0.1 in /etc/hosts) is a name the policy refuses
  // once resolved; saving it is fine, a name is not judged before it is resolved.
  Setup s("127.0.0.2/32");
  auto r = s.test("by name", "http://localhost:9/hook");
  CHECK_FALSE(r.at("delivered").as_bool());
  CHECK(r.at("remote_status").is_null());
  const auto detail = text(r.at("detail"));
  INFO(detail);
  CHECK(detail.find("127.0.0.1") != std::string::npos);
  CHECK(detail.find("127.0.0.0/8") != std::string::npos);
}

TEST_CASE("notify: a webhook that redirects is not followed, so it cannot bounce to a refused one",
          "[notify][integration]") {
  Setup s;
  WebhookReceiver receiver(s.dir, "hook", {"redirect:http://169.254.169.254/latest/meta-data/iam"});
  auto r = s.test("moved", receiver.url("/hook"));
  CHECK_FALSE(r.at("delivered").as_bool());
  REQUIRE(r.at("remote_status").is_int64());
  CHECK(r.at("remote_status").as_int64() / 100 == 3);
  INFO(text(r.at("detail")));
  CHECK(receiver.requests().size() == 1);
}
