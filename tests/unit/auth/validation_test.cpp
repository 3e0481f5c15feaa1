// Field checks for emails, names and organization slugs, as tables of accepted and refused input.
#include "auth/detail/validation.hpp"

#include <catch2/catch.hpp>

using namespace netpulse::auth::detail;

TEST_CASE("validation: emails", "[auth][validation]") {
  for (std::string_view ok :
       {"a@b", "admin@example.com", "first.last+tag@sub.example.org", "\xc3\xbcser@example.de"}) {
    INFO(ok);
    CHECK(check_email(ok));
  }
  const std::string too_long = std::string(250, 'a') + "@b.cd";
  for (std::string_view bad :
       {std::string_view(""), std::string_view("plain"), std::string_view("@example.com"),
        std::string_view("user@"), std::string_view("a@b@c"), std::string_view("a b@example.com"),
        std::string_view("a@example.com\n"), std::string_view("a\t@b"), std::string_view("a@\xff"),
        std::string_view(too_long)}) {
    INFO(std::string(bad));
    auto r = check_email(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().details.at("field").as_string() == "email");
  }
}

TEST_CASE("validation: names", "[auth][validation]") {
  CHECK(check_name("", "name", false));
  CHECK_FALSE(check_name("", "name", true));
  CHECK_FALSE(check_name("   ", "name", true));
  CHECK(check_name("Ops Team \xe2\x80\x94 North", "name", true));
  CHECK(check_name(std::string(200, 'x'), "name", true));
  CHECK_FALSE(check_name(std::string(201, 'x'), "name", true));
  CHECK_FALSE(check_name("line\nbreak", "name", true));
  CHECK_FALSE(check_name("bad\xff", "name", true));
}

TEST_CASE("validation: slugs", "[auth][validation]") {
  for (std::string_view ok : {"a", "0", "acme", "acme-isp-2", "a-", "9-9"}) {
    INFO(ok);
    CHECK(check_slug(ok));
  }
  CHECK(check_slug(std::string(63, 'a')));
  for (std::string_view bad : {"", "-acme", "Acme", "acme_isp", "acme isp", "acm\xc3\xa9"}) {
    INFO(std::string(bad));
    CHECK_FALSE(check_slug(bad));
  }
  CHECK_FALSE(check_slug(std::string(64, 'a')));
}

TEST_CASE("validation: ids parse only plain decimal", "[auth][validation]") {
  std::int64_t id = 0;
  CHECK(parse_id("42", id));
  CHECK(id == 42);
  CHECK_FALSE(parse_id("", id));
  CHECK_FALSE(parse_id("-1", id));
  CHECK_FALSE(parse_id("+1", id));
  CHECK_FALSE(parse_id("1x", id));
  CHECK_FALSE(parse_id(" 1", id));
  CHECK_FALSE(parse_id("99999999999999999999", id));
}
