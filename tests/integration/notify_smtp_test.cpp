// The notifier's SMTP sender (notify::detail::SmtpClient) against a real SMTP server: Debian's
// aiosmtpd, started per case on a free loopback port (tests/support/smtp_peer.py) in the mode
// the case needs — plain, STARTTLS or implicit TLS with the test PKI's certificate, AUTH, refusals
// of recipients or of the message, a server that stalls. The peer parses each message it
// accepts with Python's `email` package and writes a JSON summary, which the cases read back:
// headers decoded, both bodies, attachment bytes, no defects. The client is driven directly (no
// netpulse binary): the notifier that will call it is not wired yet.
#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/core/clock.hpp>

#include "notify/detail/smtp_client.hpp"
#include "support/peers.hpp"
#include "support/run_until.hpp"
#include "support/smtp_peer.hpp"
#include "support/temp_dir.hpp"

using namespace netpulse;
using namespace netpulse::notify::detail;
using namespace std::chrono_literals;
using test::SmtpPeer;
using test::SmtpPeerOptions;
using test::TempDir;
using test::TestPki;

namespace {

constexpr std::int64_t kJan15 = 1768473000000;  // 2026-01-15T10:30:00Z

core::Result<SmtpResult> deliver(const SmtpSettings& settings, const Email& email) {
  boost::asio::io_context io;
  core::ManualClock clock{core::SystemTime(std::chrono::milliseconds(kJan15))};
  SmtpClient client(io.get_executor(), clock);
  std::optional<core::Result<SmtpResult>> outcome;
  client.send(settings, email, [&](core::Result<SmtpResult> r) { outcome.emplace(std::move(r)); });
  REQUIRE(test::run_until(
      io, [&] { return outcome.has_value(); }, 60s));
  io.restart();
  io.run_for(10s);  // the courtesy QUIT, bounded by the step timeout
  return std::move(*outcome);
}

SmtpSettings settings_for(const SmtpPeer& peer, SmtpTls tls) {
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = peer.port();
  s.tls = tls;
  s.helo_name = "netpulse.isp.example";
  s.step_timeout = 5s;
  return s;
}

SmtpPeerOptions peer_options(std::string tls, std::string auth, const TestPki* pki) {
  SmtpPeerOptions options;
  options.tls = std::move(tls);
  options.auth = std::move(auth);
  options.pki = pki;
  return options;
}

// `s` trusting the test CA and logging in as the peer's user.
SmtpSettings with_login(SmtpSettings s, const TestPki& pki) {
  s.ca_file = pki.ca;
  s.username = test::kSmtpUser;
  s.password = test::kSmtpPassword;
  return s;
}

Email alert_email() {
  Email e;
  e.from = "NetPulse <alerts@isp.example>";
  e.to = {"ops@isp.example"};
  e.subject = "[FIRING] core-1: interface down";
  e.text = "core-1 ge-0/0/1 is down.\n";
  return e;
}

std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

std::string message_of(const core::Result<SmtpResult>& r) {
  return r ? std::string("delivered: ") + r->reply : r.error().message;
}

}  // namespace

TEST_CASE("smtp: plain delivery of a full email, read back by Python's email package",
          "[notify][smtp]") {
  TempDir dir;
  SmtpPeer peer(dir, {});
  Email e;
  e.from = "NetPulse <alerts@isp.example>";
  e.to = {"ops@isp.example", "Zoë Ops <zoe@isp.example>"};
  e.cc = {"\"NOC, night\" <noc@isp.example>"};
  e.subject = "Störung: core-1 ist ausgefallen 🔥 — " + std::string(60, 'x');
  e.text = "Alert firing.\n.\n.hidden line\n" + std::string(3000, 'L') + "\nend\n";
  e.html = "<p>Alert <b>firing</b> — ünïcödé</p>\n.\n";
  std::string binary;
  for (int i = 0; i < 1000; ++i) binary += static_cast<char>((i * 7) % 256);
  e.attachments = {{"report.csv", "text/csv", "device,up\ncore-1,0\n"},
                   {"graphique été.png", "image/png", binary}};
  e.extra_headers = {{"X-NetPulse-Notification", "42"}, {"Auto-Submitted", "auto-generated"}};
  e.message_id_domain = "netpulse.isp.example";

  auto r = deliver(settings_for(peer, SmtpTls::kNone), e);
  INFO(message_of(r));
  REQUIRE(r);
  CHECK(r->reply == "250 2.0.0 Ok: queued as NP0001");
  CHECK(r->refused_recipients.empty());

  REQUIRE(peer.message_count() == 1);
  const auto m = peer.message(1);
  INFO(boost::json::serialize(m));
  CHECK(m.at("mail_from") == "alerts@isp.example");
  CHECK(m.at("rcpt_tos") ==
        boost::json::array{"ops@isp.example", "zoe@isp.example", "noc@isp.example"});
  CHECK(m.at("tls") == false);
  CHECK(m.at("helo") == "netpulse.isp.example");
  CHECK(m.at("defects").as_array().empty());
  CHECK(m.at("bare_lf") == false);
  CHECK(m.at("max_line").as_int64() <= 998);
  const auto& h = m.at("headers").as_object();
  CHECK(str(h.at("subject")) == e.subject);
  CHECK(h.at("from") == "NetPulse <alerts@isp.example>");
  CHECK(h.at("to") == "ops@isp.example, Zoë Ops <zoe@isp.example>");
  CHECK(h.at("cc") == "\"NOC, night\" <noc@isp.example>");
  CHECK(h.at("date") == "Thu, 15 Jan 2026 10:30:00 +0000");
  CHECK(str(h.at("message-id")).ends_with("@netpulse.isp.example>"));
  CHECK(h.at("mime-version") == "1.0");
  CHECK(h.at("x-netpulse-notification") == "42");
  CHECK(h.at("auto-submitted") == "auto-generated");
  CHECK(m.at("content_type") == "multipart/mixed");
  // The bodies come back with the lines they had (dot-stuffing undone by the server).
  std::string text = str(m.at("text")), html = str(m.at("html"));
  for (auto* body : {&text, &html}) {
    for (std::size_t at; (at = body->find("\r\n")) != std::string::npos;) body->erase(at, 1);
  }
  CHECK(text == e.text);
  CHECK(html == e.html);
  const auto& attachments = m.at("attachments").as_array();
  REQUIRE(attachments.size() == 2);
  CHECK(attachments[0].at("filename") == "report.csv");
  CHECK(attachments[0].at("content_type") == "text/csv");
  CHECK(str(attachments[0].at("base64")) == base64_encode("device,up\ncore-1,0\n"));
  CHECK(attachments[1].at("filename") == "graphique été.png");
  CHECK(attachments[1].at("content_type") == "image/png");
  CHECK(attachments[1].at("size").as_int64() == 1000);
  CHECK(str(attachments[1].at("base64")) == base64_encode(binary));
}

TEST_CASE("smtp: STARTTLS and AUTH with the CA file deliver over TLS", "[notify][smtp]") {
  TempDir dir;
  const auto pki = TestPki::make(dir);
  for (const std::string auth : {"on", "login-only"}) {
    INFO("auth " << auth);
    TempDir peer_dir;
    SmtpPeer peer(peer_dir, peer_options("starttls", auth, &pki));
    auto s = with_login(settings_for(peer, SmtpTls::kStartTls), pki);
    s.from = "bounces@isp.example";
    auto r = deliver(s, alert_email());
    INFO(message_of(r));
    REQUIRE(r);
    const auto m = peer.message(1);
    CHECK(m.at("tls") == true);
    CHECK(m.at("auth_user") == "netpulse");
    CHECK(m.at("mail_from") == "bounces@isp.example");  // the envelope sender of the settings
    CHECK(m.at("headers").at("from") == "NetPulse <alerts@isp.example>");
  }
}

TEST_CASE("smtp: STARTTLS without the CA file fails certificate verification", "[notify][smtp]") {
  TempDir dir;
  const auto pki = TestPki::make(dir);
  SmtpPeer peer(dir, peer_options("starttls", "off", &pki));
  auto r = deliver(settings_for(peer, SmtpTls::kStartTls), alert_email());
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == core::Errc::kProtocolError);
  CHECK(r.error().details.at("reason") == "certificate_verify_failed");
  CHECK(r.error().details.at("transient") == false);
  CHECK(r.error().message.find("failed verification: unable to get local issuer certificate") !=
        std::string::npos);
  CHECK(peer.message_count() == 0);

  // With the CA but a name the certificate does not carry.
  auto s = settings_for(peer, SmtpTls::kStartTls);
  s.ca_file = pki.ca;
  s.host = "localhost";
  auto mismatch = deliver(s, alert_email());
  REQUIRE_FALSE(mismatch);
  INFO(mismatch.error().message);
  CHECK(mismatch.error().code == core::Errc::kProtocolError);
  CHECK(mismatch.error().message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("smtp: STARTTLS is required when chosen: a server without it is refused",
          "[notify][smtp]") {
  TempDir dir;
  SmtpPeer peer(dir, {});
  auto r = deliver(with_login(settings_for(peer, SmtpTls::kStartTls), TestPki{}), alert_email());
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == core::Errc::kProtocolError);
  CHECK(r.error().message.find("does not offer STARTTLS") != std::string::npos);
  CHECK(peer.message_count() == 0);
}

TEST_CASE("smtp: implicit TLS with AUTH delivers", "[notify][smtp]") {
  TempDir dir;
  const auto pki = TestPki::make(dir);
  SmtpPeer peer(dir, peer_options("implicit", "on", &pki));
  auto s = with_login(settings_for(peer, SmtpTls::kImplicit), pki);
  auto r = deliver(s, alert_email());
  INFO(message_of(r));
  REQUIRE(r);
  CHECK(peer.message(1).at("auth_user") == "netpulse");

  // The same server spoken to in plain text does not answer SMTP: a bounded failure.
  s.tls = SmtpTls::kNone;
  s.step_timeout = 1s;
  auto plain = deliver(s, alert_email());
  REQUIRE_FALSE(plain);
  CHECK(plain.error().details.at("step") == "greeting");
}

TEST_CASE("smtp: AUTH over plain text only when tls = none was chosen", "[notify][smtp]") {
  TempDir dir;
  SmtpPeer peer(dir, peer_options("none", "on", nullptr));
  auto s = with_login(settings_for(peer, SmtpTls::kNone), TestPki{});
  s.helo_name.clear();  // then the local address, as a literal
  auto r = deliver(s, alert_email());
  INFO(message_of(r));
  REQUIRE(r);
  CHECK(peer.message(1).at("auth_user") == "netpulse");
  CHECK(peer.message(1).at("helo") == "[127.0.0.1]");
}

TEST_CASE("smtp: a wrong password keeps the server's 535 reply", "[notify][smtp]") {
  TempDir dir;
  const auto pki = TestPki::make(dir);
  SmtpPeer peer(dir, peer_options("starttls", "on", &pki));
  auto s = with_login(settings_for(peer, SmtpTls::kStartTls), pki);
  s.password = "wrong password";
  auto r = deliver(s, alert_email());
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == core::Errc::kRemoteRefused);
  CHECK(r.error().details.at("smtp_code") == 535);
  CHECK(r.error().details.at("transient") == false);
  CHECK(r.error().details.at("step") == "AUTH");
  CHECK(str(r.error().details.at("reply")).starts_with("535 5.7.8 Authentication credentials"));
  CHECK(r.error().message.find("535 5.7.8") != std::string::npos);
  CHECK(r.error().message.find("wrong password") == std::string::npos);
  CHECK(peer.message_count() == 0);
}

TEST_CASE("smtp: recipients refused with 550", "[notify][smtp]") {
  TempDir dir;
  SmtpPeerOptions options;
  options.refuse = "rcpt";
  SmtpPeer peer(dir, options);
  const auto s = settings_for(peer, SmtpTls::kNone);

  auto e = alert_email();
  e.to = {"nobody@isp.example"};
  auto all = deliver(s, e);
  REQUIRE_FALSE(all);
  INFO(all.error().message);
  CHECK(all.error().code == core::Errc::kRemoteRefused);
  CHECK(all.error().details.at("smtp_code") == 550);
  CHECK(all.error().details.at("transient") == false);
  CHECK(all.error().details.at("step") == "RCPT TO");
  CHECK(all.error().details.at("refused_recipients") == boost::json::array{"nobody@isp.example"});
  CHECK(str(all.error().details.at("reply")) ==
        "550 5.1.1 <nobody@isp.example>: Recipient address rejected: User unknown");
  CHECK(peer.message_count() == 0);

  // Some refused: the others get it, and the result names the refused ones.
  e.to = {"nobody1@isp.example", "ops@isp.example"};
  e.cc = {"nobody2@isp.example"};
  auto some = deliver(s, e);
  INFO(message_of(some));
  REQUIRE(some);
  CHECK(some->refused_recipients ==
        std::vector<std::string>{"nobody1@isp.example", "nobody2@isp.example"});
  CHECK(peer.message(1).at("rcpt_tos") == boost::json::array{"ops@isp.example"});
}

TEST_CASE("smtp: the message refused after DATA, permanently or for now", "[notify][smtp]") {
  for (const auto& [mode, code, transient] :
       {std::tuple{"data", 554, false}, std::tuple{"data-transient", 451, true}}) {
    INFO(mode);
    TempDir dir;
    SmtpPeerOptions options;
    options.refuse = mode;
    SmtpPeer peer(dir, options);
    auto r = deliver(settings_for(peer, SmtpTls::kNone), alert_email());
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().code == core::Errc::kRemoteRefused);
    CHECK(r.error().details.at("smtp_code") == code);
    CHECK(r.error().details.at("transient") == transient);
    CHECK(r.error().details.at("step") == "message");
    CHECK(str(r.error().details.at("reply")).starts_with(std::to_string(code) + " "));
  }
}

TEST_CASE("smtp: a server that stalls is a timeout naming the step", "[notify][smtp]") {
  for (const auto& [mode, step] :
       {std::pair{"greeting", "greeting"}, std::pair{"data", "message"}}) {
    INFO(mode);
    TempDir dir;
    SmtpPeerOptions options;
    options.stall = mode;
    SmtpPeer peer(dir, options);
    auto s = settings_for(peer, SmtpTls::kNone);
    s.step_timeout = 700ms;
    const auto started = std::chrono::steady_clock::now();
    auto r = deliver(s, alert_email());
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().code == core::Errc::kTimeout);
    CHECK(r.error().details.at("step") == step);
    CHECK(r.error().details.at("transient") == true);
    CHECK(r.error().message.find("within 700 ms during " + std::string(step)) != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
  }
}

TEST_CASE("smtp: nothing listening is a transient connection failure", "[notify][smtp]") {
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = test::free_tcp_port();
  s.tls = SmtpTls::kNone;
  auto r = deliver(s, alert_email());
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == core::Errc::kServiceUnavailable);
  CHECK(r.error().details.at("step") == "connect");
  CHECK(r.error().details.at("transient") == true);
}
