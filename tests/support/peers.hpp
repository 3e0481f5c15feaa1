// Real peers for the service-check tests, started on free loopback ports and stopped by PID:
// a test PKI made with openssl(1), nginx (HTTP and HTTPS) and dnsmasq. They are hard
// requirements (scripts/bootstrap installs them): a missing one fails the test that needs it,
// naming scripts/bootstrap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace netpulse::test {

// A CA, and a leaf for check.test and 127.0.0.1 valid 30 days from now, in `dir`. FAILs the test
// when openssl is not installed or fails.
struct TestPki {
  std::string ca, leaf, key;
  static TestPki make(const TempDir& dir);
};

// nginx (no daemon, no master) in `dir`:
//   http://127.0.0.1:http_port()/      200 "plain nginx keyword"
//   http://127.0.0.1:http_port()/down  503
//   http://127.0.0.1:http_port()/to-metadata  302 to http://169.254.169.254/latest/meta-data/
//   http://127.0.0.1:http_port()/to-other-loopback  302 to http://127.0.0.2:http_port()/
//   https://check.test:https_port()/   200 "secure nginx keyword" (the PKI's leaf)
//   https://.../to-plain               302 to the plain server
class Nginx {
 public:
  Nginx(const TempDir& dir, const TestPki& pki);  // FAILs when nginx does not come up
  std::uint16_t http_port() const { return http_port_; }
  std::uint16_t https_port() const { return https_port_; }

 private:
  std::uint16_t http_port_, https_port_;
  std::unique_ptr<ChildProcess> process_;
};

// dnsmasq on 127.0.0.1:port() (UDP) answering check.test (A 192.0.2.10, AAAA 2001:db8::10) and
// NXDOMAIN for nx.test.
class Dnsmasq {
 public:
  explicit Dnsmasq(const TempDir& dir);  // FAILs when dnsmasq does not come up
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (free_udp_port: support/snmpd.hpp).
std::uint16_t free_tcp_port();

// Waits (at most 15 s) until something accepts TCP connections on 127.0.0.1:port; false when
// that did not happen or `child` exited first.
bool wait_tcp(std::uint16_t port, ChildProcess& child);

}  // namespace netpulse::test
