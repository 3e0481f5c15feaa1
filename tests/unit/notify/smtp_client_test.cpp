// The SMTP client's pure parts: the reply parser (a table of complete, partial and malformed
// replies) and the refusals send() makes before any I/O. The dialogue itself is tested against
// a real server (aiosmtpd) in tests/integration/notify_smtp_test.cpp.
#include "notify/detail/smtp_client.hpp"

#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>

#include "support/run_until.hpp"

using namespace netpulse;
using namespace netpulse::notify::detail;

TEST_CASE("parse_reply: complete replies", "[notify][smtp]") {
  struct Case {
    std::string bytes;
    int code;
    std::vector<std::string> lines;
    std::size_t consumed;
  };
  const std::vector<Case> cases{
      {"220 smtp.test ESMTP ready\r\n", 220, {"smtp.test ESMTP ready"}, 27},
      {"250-smtp.test\r\n250-SIZE 33554432\r\n250-STARTTLS\r\n250 HELP\r\n",
       250,
       {"smtp.test", "SIZE 33554432", "STARTTLS", "HELP"},
       58},
      {"250\r\n", 250, {""}, 5},
      {"354 \r\n", 354, {""}, 6},
      {"250-\r\n250 last\r\n", 250, {"", "last"}, 16},
      {"550 5.1.1 <x@y>:\tUser unknown\r\n", 550, {"5.1.1 <x@y>:\tUser unknown"}, 31},
      // A second reply behind the first is left for the next call.
      {"250 OK\r\n221 Bye\r\n", 250, {"OK"}, 8},
      {"221 Bye\r\nHTTP/1.1", 221, {"Bye"}, 9},
  };
  for (const auto& c : cases) {
    INFO(c.bytes);
    auto r = parse_reply(c.bytes);
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->code == c.code);
    CHECK((*r)->lines == c.lines);
    CHECK((*r)->consumed == c.consumed);
  }
}

TEST_CASE("parse_reply: partial replies need more bytes", "[notify][smtp]") {
  for (const std::string bytes : {"", "2", "25", "250", "250-", "250 OK", "250 OK\r", "250-a\r\n",
                                  "250-a\r\n250", "250-a\r\n250 b"}) {
    INFO(bytes);
    auto r = parse_reply(bytes);
    REQUIRE(r);
    CHECK_FALSE(r->has_value());
  }
}

TEST_CASE("parse_reply: malformed replies are refused at once", "[notify][smtp]") {
  const std::vector<std::string> cases{
      "HTTP/1.1 400 Bad Request\r\n",  // not SMTP: refused at the first byte
      "H",
      "600 no such class\r\n",
      "160 too low\r\n",
      "260 second digit over 5\r\n",
      "2a0 letters\r\n",
      "25\r\n",
      "250x\r\n",
      "250 bare LF\n",
      "250 bare\rCR\r\n",
      "250 CR then more\rX",
      "250-a\r\n251 b\r\n",  // codes differ
      "250-a\r\n251",
      std::string("250 nul \0 in text\r\n", 19),
      "250 esc \x1b in text\r\n",
      "250 non-ASCII \xc3\xa9\r\n",
      "250 del \x7f\r\n",
      "\r\n",
  };
  for (const auto& bytes : cases) {
    INFO(bytes);
    auto r = parse_reply(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kProtocolError);
    CHECK(r.error().message.starts_with("malformed SMTP reply: "));
  }
}

TEST_CASE("parse_reply: line and line-count bounds", "[notify][smtp]") {
  const std::string fits = "250 " + std::string(kMaxReplyLineBytes - 6, 'a') + "\r\n";
  REQUIRE(fits.size() == kMaxReplyLineBytes);
  CHECK(parse_reply(fits));
  auto too_long = parse_reply("250 " + std::string(kMaxReplyLineBytes - 5, 'a') + "\r\n");
  CHECK_FALSE(too_long);
  // Without a line end, the bound stops the wait too.
  CHECK_FALSE(parse_reply("250 " + std::string(kMaxReplyLineBytes, 'a')));
  std::string many;
  for (std::size_t i = 0; i + 1 < kMaxReplyLines; ++i) many += "250-x\r\n";
  auto at_limit = parse_reply(many + "250 x\r\n");
  REQUIRE(at_limit);
  CHECK((*at_limit)->lines.size() == kMaxReplyLines);
  auto over = parse_reply(many + "250-x\r\n250 x\r\n");
  CHECK_FALSE(over);
}

TEST_CASE("reply_text: the reply as the server wrote it", "[notify][smtp]") {
  Reply r{550, {"5.1.1 first", "second"}, 0};
  CHECK(reply_text(r) == "550-5.1.1 first\n550 second");
}

TEST_CASE("SmtpClient: settings and email refused before any I/O", "[notify][smtp]") {
  boost::asio::io_context io;
  core::ManualClock clock;
  SmtpClient client(io.get_executor(), clock);
  Email email;
  email.from = "alerts@isp.example";
  email.to = {"ops@isp.example"};
  email.subject = "s";
  email.text = "t";

  struct Case {
    const char* what;
    void (*change)(SmtpSettings&, Email&);
    const char* field;
  };
  const Case cases[] = {
      {"no host", [](SmtpSettings& s, Email&) { s.host.clear(); }, "host"},
      {"a host with CRLF", [](SmtpSettings& s, Email&) { s.host = "a\r\nb"; }, "host"},
      {"port 0", [](SmtpSettings& s, Email&) { s.port = 0; }, "port"},
      {"no timeout", [](SmtpSettings& s, Email&) { s.step_timeout = {}; }, "step_timeout"},
      {"a bad HELO name", [](SmtpSettings& s, Email&) { s.helo_name = "a b"; }, "helo_name"},
      {"CRLF in the username", [](SmtpSettings& s, Email&) { s.username = "u\r\nRSET"; },
       "username"},
      {"a bad envelope sender", [](SmtpSettings& s, Email&) { s.from = "not an address"; }, "from"},
      {"no recipient", [](SmtpSettings&, Email& e) { e.to.clear(); }, "to"},
      {"subject injection",
       [](SmtpSettings&, Email& e) { e.subject = "x\r\n.\r\nMAIL FROM:<a@b.example>"; }, "subject"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    SmtpSettings settings;
    settings.host = "127.0.0.1";
    settings.port = 1;  // nothing is ever connected to
    Email e = email;
    c.change(settings, e);
    std::optional<core::Result<SmtpResult>> outcome;
    client.send(settings, e, [&](core::Result<SmtpResult> r) { outcome.emplace(std::move(r)); });
    CHECK_FALSE(outcome);  // never from inside send()
    REQUIRE(test::run_until(io, [&] { return outcome.has_value(); }));
    REQUIRE_FALSE(*outcome);
    CHECK(outcome->error().code == core::Errc::kInvalidInput);
    CHECK(outcome->error().details.at("field") == c.field);
    CHECK(outcome->error().details.at("transient") == false);
  }
}
