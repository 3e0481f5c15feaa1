// Result<T> and Result<void>: holding a value or an Error, moving out of them, and error names.
#include <memory>

#include <catch2/catch.hpp>

#include <netpulse/core/result.hpp>

using netpulse::core::Errc;
using netpulse::core::Error;
using netpulse::core::Result;

namespace {
Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return netpulse::core::invalid_field("digit", "not a digit");
  return c - '0';
}
}  // namespace

TEST_CASE("result: holds a value or an error", "[core][result]") {
  auto good = parse_digit('7');
  REQUIRE(good);
  CHECK(good.has_value());
  CHECK(*good == 7);
  CHECK(good.value() == 7);

  auto bad = parse_digit('x');
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::kInvalidInput);
  CHECK(bad.error().message == "digit: not a digit");
  CHECK(bad.error().details.at("field").as_string() == "digit");
  CHECK(bad.error().details.at("reason").as_string() == "not a digit");
}

TEST_CASE("result: move-only values and errors can be moved out", "[core][result]") {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  REQUIRE(r);
  CHECK(**r == 5);
  auto owned = std::move(r).value();
  CHECK(*owned == 5);

  Result<std::string> e(Error(Errc::kNotFound, "gone"));
  Error taken = std::move(e).error();
  CHECK(taken.code == Errc::kNotFound);
  CHECK(taken.message == "gone");

  Result<std::string> s(std::string("abc"));
  CHECK(s->size() == 3);
}

TEST_CASE("result<void>: ok or an error", "[core][result]") {
  Result<void> ok = netpulse::core::ok();
  CHECK(ok);
  CHECK(ok.has_value());
  Result<void> failed = Error(Errc::kTimeout, "too slow");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == Errc::kTimeout);
  CHECK(std::move(failed).error().message == "too slow");
}

TEST_CASE("error codes have stable upper-snake names", "[core][result]") {
  CHECK(netpulse::core::errc_name(Errc::kInvalidInput) == "INVALID_INPUT");
  CHECK(netpulse::core::errc_name(Errc::kServiceUnavailable) == "SERVICE_UNAVAILABLE");
  CHECK(netpulse::core::errc_name(Errc::kSchemaTooNew) == "SCHEMA_TOO_NEW");
  CHECK(netpulse::core::errc_name(Errc::kDeviceAlreadyExists) == "DEVICE_ALREADY_EXISTS");
}
