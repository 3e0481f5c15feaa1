// Launchers for the real SNMP agents the pollers tests talk to (snmpd, snmpsimd). Readiness is
// checked with Debian's `snmpget` (a real manager, independent of the code under test); every
// wait is bounded; each agent is a ChildProcess, signalled by its PID only.
#include "support/snmpd.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "support/child_process.hpp"

namespace netpulse::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One v2c GET of sysUpTime.0 (or sysDescr for snmpsim) with Debian's snmpget.
bool answers(std::uint16_t port, const std::string& community, const std::string& oid) {
  std::string cmd = "MIBS= /usr/bin/snmpget -v2c -c " + community +
                    " -t 0.3 -r 0 -On 127.0.0.1:" + std::to_string(port) + " " + oid +
                    " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool ipv6_loopback_available() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

SnmpdProcess::SnmpdProcess(const std::string& dir, std::vector<std::string> extra_config,
                           std::uint16_t port)
    : dir_(dir) {
  require_installed("/usr/sbin/snmpd", "snmpd");
  require_installed("/usr/bin/snmpget", "snmp");
  port_ = port != 0 ? port : free_udp_port();
  const std::string conf = dir + "/snmpd.conf";
  {
    std::ofstream out(conf);
    out << "agentAddress udp:127.0.0.1:" << port_;
    if (ipv6_loopback_available()) out << ",udp6:[::1]:" << port_;
    out << "\n"
        << "rocommunity public 127.0.0.1\n"
        << "rocommunity6 public ::1\n"
        << "createUser shaaes SHA \"shaaes-auth-pw\" AES \"shaaes-priv-pw\"\n"
        << "createUser sha256aes SHA-256 \"sha256-auth-pw\" AES \"sha256-priv-pw\"\n"
        << "createUser sha512aes256 SHA-512 \"sha512-auth-pw\" AES-256 \"sha512-priv-pw\"\n"
        << "createUser md5auth MD5 \"md5-auth-password\"\n"
        << "createUser noauth\n"
        << "createUser wrongpw SHA \"wrongpw-auth-pw\" AES \"wrongpw-priv-pw\"\n"
        << "rouser shaaes priv\n"
        << "rouser sha256aes priv\n"
        << "rouser sha512aes256 priv\n"
        << "rouser md5auth auth\n"
        << "rouser noauth noauth\n"
        << "rouser wrongpw auth\n";
    for (const auto& line : extra_config) out << line << "\n";
  }
  const std::string log = dir + "/snmpd.log";
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/sbin/snmpd", "-f", "-C", "-c", conf, "-p", dir + "/snmpd.pid",
                               "-Lf", log, "-M", "/nonexistent", "-m", "", "-I", "-smux"},
      ChildProcess::Env{{"SNMP_PERSISTENT_DIR", dir + "/persist"}, {"MIBS", ""}}, log);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    if (process_->poll()) throw std::runtime_error("snmpd exited at start:\n" + read_file(log));
    if (answers(port_, "public", "1.3.6.1.2.1.1.3.0")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  process_->kill();
  throw std::runtime_error("snmpd did not answer within 15 s:\n" + read_file(log));
}

SnmpdProcess::~SnmpdProcess() {
  if (paused_) process_->signal(SIGCONT);
  // ChildProcess's destructor SIGKILLs and reaps it.
}

void SnmpdProcess::pause() {
  process_->signal(SIGSTOP);
  paused_ = true;
}

void SnmpdProcess::resume() {
  process_->signal(SIGCONT);
  paused_ = false;
}

SnmpsimProcess::SnmpsimProcess(const std::string& dir, const std::string& community) {
  require_installed("/usr/bin/snmpsimd", "snmpsim");
  require_installed("/usr/bin/snmpget", "snmp");
  port_ = free_udp_port();
  // snmpsimd drops to nobody when run as root: its data and cache must be reachable.
  ::chmod(dir.c_str(), 0755);
  ::chmod((dir + "/data").c_str(), 0755);
  ::mkdir((dir + "/cache").c_str(), 0777);
  ::chmod((dir + "/cache").c_str(), 0777);
  const std::string log = dir + "/snmpsim.log";
  std::vector<std::string> args = {
      "/usr/bin/snmpsimd", "--data-dir=" + dir + "/data", "--cache-dir=" + dir + "/cache",
      "--agent-udpv4-endpoint=127.0.0.1:" + std::to_string(port_), "--logging-method=null"};
  if (::geteuid() == 0) {
    args.push_back("--process-user=nobody");
    args.push_back("--process-group=nogroup");
  }
  process_ = std::make_unique<ChildProcess>(args, ChildProcess::Env{}, log);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    if (process_->poll()) {
      throw std::runtime_error("snmpsimd exited at start:\n" + read_file(log));
    }
    if (answers(port_, community, "1.3.6.1.2.1.1.1.0")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  process_->kill();
  throw std::runtime_error("snmpsimd did not answer within 60 s:\n" + read_file(log));
}

SnmpsimProcess::~SnmpsimProcess() = default;  // ChildProcess SIGKILLs and reaps it

}  // namespace netpulse::test
