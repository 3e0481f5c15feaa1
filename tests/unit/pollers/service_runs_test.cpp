// From a device's service check to the engine's request, and from the engine's answer to the
// check's state, verdict and samples (src/pollers/detail/service_runs.hpp).
#include "pollers/detail/service_runs.hpp"

#include <catch2/catch.hpp>

using namespace netpulse;
using pollers::ServiceCheckStatus;
namespace detail = pollers::detail;
namespace asio = boost::asio;

namespace {

devices::ServiceCheck http_check() {
  devices::ServiceCheck c;
  c.kind = devices::ServiceKind::kHttp;
  c.url = "https://portal.example.net/";
  c.keyword = "Welcome";
  c.status_min = 200;
  c.status_max = 299;
  c.method = "HEAD";
  c.timeout_ms = 1500;
  c.max_redirects = 2;
  return c;
}

bool has_metric(const std::vector<std::pair<std::string, double>>& samples, const std::string& m,
                double v) {
  for (auto& [name, value] : samples) {
    if (name == m && value == v) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("service runs: requests are built from the check and the device's address",
          "[pollers][checks]") {
  const auto ip = asio::ip::make_address("192.0.2.7");
  devices::ServiceCheck tcp;
  tcp.port = 2222;
  tcp.timeout_ms = 700;
  auto t = detail::tcp_request(tcp, ip);
  CHECK(t.address == ip);
  CHECK(t.port == 2222);
  CHECK(t.timeout == std::chrono::milliseconds(700));
  CHECK(detail::uses_device_address(tcp));

  auto c = http_check();
  CHECK(detail::uses_device_address(c));
  auto h = detail::http_request(c, ip, "/etc/ca.pem");
  CHECK(h.address == ip);
  CHECK(h.method == pollers::HttpMethod::kHead);
  CHECK(h.expected_status.min == 200);
  CHECK(h.expected_status.max == 299);
  CHECK(h.keyword == "Welcome");
  CHECK(h.ca_file == "/etc/ca.pem");
  CHECK(h.max_redirects == 2);
  c.use_device_address = false;
  c.keyword.clear();
  CHECK_FALSE(detail::uses_device_address(c));
  CHECK_FALSE(detail::http_request(c, std::nullopt, "").keyword.has_value());

  devices::ServiceCheck dns;
  dns.kind = devices::ServiceKind::kDns;
  dns.query = "www.example.net";
  dns.record_type = "AAAA";
  dns.port = 5353;
  auto d = detail::dns_request(dns, ip);
  REQUIRE(d);
  CHECK(d->server == ip);  // the device is the DNS server
  CHECK(d->type == pollers::DnsRecordType::kAAAA);
  CHECK(d->port == 5353);
  CHECK_FALSE(d->expected.has_value());
  dns.server = "198.51.100.53";
  dns.expected = "2001:db8::1";
  CHECK_FALSE(detail::uses_device_address(dns));
  d = detail::dns_request(dns, std::nullopt);
  REQUIRE(d);
  CHECK(d->server == asio::ip::make_address("198.51.100.53"));
  CHECK(d->expected == asio::ip::make_address("2001:db8::1"));
  dns.server = "not-an-ip";
  CHECK(detail::dns_request(dns, std::nullopt).error().code == core::Errc::kInvalidInput);
}

TEST_CASE("service runs: answers become verdicts, figures and samples", "[pollers][checks]") {
  ServiceCheckStatus st;
  const auto check = http_check();

  SECTION("an HTTP answer outside the status range fails as an unexpected answer") {
    pollers::HttpCheckResult r;
    r.status = 503;
    r.response_ms = 12.5;
    r.first_byte_ms = 10;
    r.status_matched = false;
    r.keyword_found = false;
    r.tls = pollers::TlsCertificateInfo{};
    r.tls->days_to_expiry = 41;
    auto o = detail::record_attempt(st, r, check);
    CHECK_FALSE(o.ok);
    CHECK(st.error_code == "UNEXPECTED_ANSWER");
    CHECK(st.error == "HTTP status 503 is not in 200-299");
    CHECK(st.http_status == 503);
    CHECK(st.tls_days_to_expiry == 41);
    st.state = pollers::ServiceCheckState::kFailing;
    auto samples = detail::service_samples(check, st);
    CHECK(has_metric(samples, "check_up", 0));
    CHECK(has_metric(samples, "http_status_code", 503));
    CHECK(has_metric(samples, "http_response_ms", 12.5));
    CHECK(has_metric(samples, "tls_cert_expiry_days", 41));
  }
  SECTION("a missing keyword fails, naming how much of the body was read") {
    pollers::HttpCheckResult r;
    r.status = 200;
    r.status_matched = true;
    r.keyword_found = false;
    r.body_truncated = true;
    r.body_bytes = 1024;
    auto o = detail::record_attempt(st, r, check);
    CHECK_FALSE(o.ok);
    CHECK(st.error == "\"Welcome\" is not in the first 1024 bytes of the body");
  }
  SECTION("a passing answer clears the previous attempt's error and figures") {
    st.error = "old";
    st.error_code = "TIMEOUT";
    st.resolution_ms = 3;
    pollers::HttpCheckResult r;
    r.status = 204;
    r.status_matched = true;
    r.keyword_found = true;
    auto o = detail::record_attempt(st, r, check);
    CHECK(o.ok);
    CHECK(st.error.empty());
    CHECK(st.error_code.empty());
    CHECK_FALSE(st.resolution_ms);
    st.state = pollers::ServiceCheckState::kPassing;
    CHECK(has_metric(detail::service_samples(check, st), "check_up", 1));
  }
  SECTION("an engine error keeps its code; a certificate that failed still gives its expiry") {
    core::Error e(core::Errc::kProtocolError, "certificate verify failed",
                  {{"days_to_expiry", -3}});
    auto o = detail::record_attempt(st, core::Result<pollers::HttpCheckResult>(e), check);
    CHECK_FALSE(o.ok);
    CHECK_FALSE(o.timed_out);
    CHECK(st.error_code == "PROTOCOL_ERROR");
    CHECK(st.tls_days_to_expiry == -3);
    auto t = detail::record_attempt(
        st, core::Result<pollers::TcpCheckResult>(core::Error(core::Errc::kTimeout, "timed out")));
    CHECK(t.timed_out);
    CHECK(st.error_code == "TIMEOUT");
    CHECK_FALSE(st.tls_days_to_expiry);
  }
  SECTION("DNS: no records fails; an expected address must be among the answers") {
    devices::ServiceCheck dns;
    dns.kind = devices::ServiceKind::kDns;
    dns.query = "www.example.net";
    dns.expected = "192.0.2.1";
    pollers::DnsCheckResult r;
    r.resolution_ms = 2;
    auto o = detail::record_attempt(st, r, dns);
    CHECK_FALSE(o.ok);
    CHECK(st.error == "no A record for www.example.net");
    r.answers = {asio::ip::make_address("192.0.2.9"), asio::ip::make_address("192.0.2.8")};
    r.expected_found = false;
    o = detail::record_attempt(st, r, dns);
    CHECK_FALSE(o.ok);
    CHECK(st.error == "192.0.2.1 is not among the answers (192.0.2.9, 192.0.2.8)");
    CHECK(st.answers.size() == 2);
    r.expected_found = true;
    CHECK(detail::record_attempt(st, r, dns).ok);
    st.state = pollers::ServiceCheckState::kPassing;
    CHECK(has_metric(detail::service_samples(dns, st), "dns_resolution_ms", 2));
  }
}
