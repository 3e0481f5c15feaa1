// Real SNMP agents for tests: Debian's `snmpd` (v1/v2c community and v3 users) and `snmpsimd`
// (recorded .snmprec data), each started as a child on a free 127.0.0.1 UDP port with its
// config, state and log in a test's temporary directory, and stopped by PID when the helper goes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace netpulse::test {

// A free UDP port on 127.0.0.1 (bound and released; another process could take it meanwhile).
std::uint16_t free_udp_port();

// True when a UDP socket can bind ::1 (IPv6 loopback present).
bool ipv6_loopback_available();

// The v3 users every SnmpdProcess has (user, auth protocol, auth password, priv protocol,
// priv password; security level follows): see snmpd.cpp.
inline constexpr const char* kSnmpdCommunity = "public";

class SnmpdProcess {
 public:
  // Writes dir/snmpd.conf (agentAddress udp:127.0.0.1:<port>, and udp6:[::1]:<port> when IPv6
  // loopback is there; rocommunity public; the v3 users; `extra_config` lines) and starts
  // `snmpd -f -C -c conf -p pidfile -Lf log` with SNMP_PERSISTENT_DIR=dir. Waits up to 15 s
  // until it answers a v2c GET. Throws std::runtime_error (with the log) on failure, and naming
  // scripts/bootstrap when snmpd or snmpget is not installed.
  // `port` 0 = a free one.
  explicit SnmpdProcess(const std::string& dir, std::vector<std::string> extra_config = {},
                        std::uint16_t port = 0);
  ~SnmpdProcess();  // SIGKILL + reap (SIGCONT first if paused)
  SnmpdProcess(const SnmpdProcess&) = delete;
  SnmpdProcess& operator=(const SnmpdProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  void pause();   // SIGSTOP: the agent stops answering
  void resume();  // SIGCONT

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  bool paused_ = false;
};

class SnmpsimProcess {
 public:
  // Serves every dir/data/<community>.snmprec on 127.0.0.1:<free port> (as nobody/nogroup when
  // root). Waits up to 60 s until `community` answers. Throws std::runtime_error on failure, and
  // naming scripts/bootstrap when snmpsimd or snmpget is not installed.
  SnmpsimProcess(const std::string& dir, const std::string& community);
  ~SnmpsimProcess();
  SnmpsimProcess(const SnmpsimProcess&) = delete;
  SnmpsimProcess& operator=(const SnmpsimProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace netpulse::test
