// The JSON envelope, error-code → status mapping, query and path parameter parsing.
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <netpulse/api/context.hpp>

using namespace netpulse;
using api::http::status;

namespace {
struct Captured {
  api::Response response;
  int calls = 0;
};

api::ContextPtr make_ctx(Captured& cap, std::string target = "/x") {
  api::Request req{api::http::verb::get, target, 11};
  return std::make_shared<api::Context>(std::move(req), "req_test_1", "127.0.0.1",
                                        core::SystemTime(std::chrono::seconds(1767225600)),
                                        [&cap](const api::Context&, api::Response r) {
                                          cap.response = std::move(r);
                                          ++cap.calls;
                                        });
}
}  // namespace

TEST_CASE("envelope: success carries data and meta") {
  Captured cap;
  auto ctx = make_ctx(cap);
  ctx->reply_data(boost::json::object{{"a", 1}});
  REQUIRE(cap.calls == 1);
  auto v = boost::json::parse(cap.response.body).as_object();
  CHECK(v.at("success").as_bool());
  CHECK(v.at("data").at("a").as_int64() == 1);
  CHECK(v.at("meta").at("request_id").as_string() == "req_test_1");
  CHECK(v.at("meta").at("version").as_string() == "v1");
  CHECK(v.at("meta").at("timestamp").as_string() == "2026-01-01T00:00:00.000Z");
}

TEST_CASE("envelope: errors carry code, message, details and the mapped status") {
  Captured cap;
  auto ctx = make_ctx(cap);
  ctx->reply_error(core::invalid_field("email", "is required"));
  CHECK(cap.response.status == status::bad_request);
  auto v = boost::json::parse(cap.response.body).as_object();
  CHECK_FALSE(v.at("success").as_bool());
  CHECK(v.at("error").at("code").as_string() == "INVALID_INPUT");
  CHECK(v.at("error").at("details").at("field").as_string() == "email");
}

TEST_CASE("envelope: rate-limit errors carry Retry-After; 401s carry WWW-Authenticate") {
  Captured cap;
  make_ctx(cap)->reply_error(
      core::Error(core::Errc::kRateLimitExceeded, "slow down", {{"retry_after_s", 7}}));
  CHECK(cap.response.status == status::too_many_requests);
  bool found = false;
  for (auto& [k, v] : cap.response.headers) found = found || (k == "Retry-After" && v == "7");
  CHECK(found);

  Captured cap2;
  make_ctx(cap2)->reply_error(core::Error(core::Errc::kTokenExpired, "expired"));
  CHECK(cap2.response.status == status::unauthorized);
  CHECK(cap2.response.headers.at(0).first == "WWW-Authenticate");
}

TEST_CASE("envelope: list answers carry pagination") {
  Captured cap;
  make_ctx(cap)->reply_list(boost::json::array{1, 2}, {2, 2, 5});
  auto v = boost::json::parse(cap.response.body).as_object();
  auto& p = v.at("pagination").as_object();
  CHECK(p.at("total").as_int64() == 5);
  CHECK(p.at("total_pages").as_int64() == 3);
  CHECK(p.at("has_next").as_bool());
  CHECK(p.at("has_prev").as_bool());
}

TEST_CASE("context: answers exactly once; an unanswered exchange becomes a 500") {
  Captured cap;
  {
    auto ctx = make_ctx(cap);
    ctx->reply_no_content();
    ctx->reply_data(boost::json::object{});
  }
  CHECK(cap.calls == 1);
  CHECK(cap.response.status == status::no_content);

  Captured dropped;
  { auto ctx = make_ctx(dropped); }
  CHECK(dropped.calls == 1);
  CHECK(dropped.response.status == status::internal_server_error);
}

TEST_CASE("context: page parameters are validated and name the parameter") {
  Captured cap;
  auto ok = make_ctx(cap, "/x?page=3&per_page=20")->page();
  REQUIRE(ok);
  CHECK(ok->page == 3);
  CHECK(ok->per_page == 20);
  for (auto target : {"/x?page=0", "/x?per_page=501", "/x?page=abc", "/x?page=", "/x?page=1e3"}) {
    INFO(target);
    Captured c;
    auto r = make_ctx(c, target)->page();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
  }
}

TEST_CASE("status mapping covers every error code") {
  CHECK(api::status_for(core::Errc::kUserNotFound) == status::not_found);
  CHECK(api::status_for(core::Errc::kUserAlreadyExists) == status::conflict);
  CHECK(api::status_for(core::Errc::kInsufficientPermissions) == status::forbidden);
  CHECK(api::status_for(core::Errc::kPayloadTooLarge) == status::payload_too_large);
  CHECK(api::status_for(core::Errc::kServiceUnavailable) == status::service_unavailable);
  for (int i = 0; i <= static_cast<int>(core::Errc::kRemoteRefused); ++i) {
    auto code = static_cast<core::Errc>(i);
    INFO(core::errc_name(code));
    auto s = static_cast<int>(api::status_for(code));
    CHECK(s >= 400);
    CHECK(s < 600);
    CHECK(core::errc_name(code) != "");
  }
}
