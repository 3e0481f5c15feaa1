// Starts the real `netpulse` binary as a user would, for integration tests: its own data
// directory, a free loopback port (port 0, read back from its "listening on" line), environment
// overrides, output captured to <data_dir>/server.log. Stops only the process it started, by PID.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/http_client.hpp"

namespace netpulse::test {

// The binary under test (NETPULSE_BINARY from the build, overridable by NETPULSE_TEST_BINARY).
std::string netpulse_binary();

// Environment every test server gets unless overridden: known admin password, generous rate
// limits (tests that test limits lower them), access log on.
std::map<std::string, std::string> default_server_env(const std::string& data_dir);

// As a value in ServerProcess's `env`: remove that variable instead of setting it.
inline constexpr const char* kUnset = "\x01unset";

inline constexpr const char* kAdminEmail = "admin@netpulse.local";
inline constexpr const char* kAdminPassword = "integration-admin-pw";

class ServerProcess {
 public:
  // Starts `netpulse serve` (plus `args`) with default_server_env(data_dir) overlaid by `env`,
  // and waits up to 60 s for it to listen. Throws std::runtime_error (with the log) on failure.
  ServerProcess(const std::string& data_dir, std::map<std::string, std::string> env = {},
                std::vector<std::string> args = {});
  ~ServerProcess();  // SIGKILL + reap if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  bool tls() const noexcept { return tls_; }
  HttpClient client() const { return HttpClient("127.0.0.1", port_, tls_); }

  // SIGTERM, then waits up to `timeout` for exit. Returns the exit status (or -signal); throws
  // if it did not exit in time (after SIGKILLing it).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGKILL and reap.
  void kill9();
  bool running();
  // Everything the process printed so far.
  std::string output() const;

 private:
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool tls_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs the binary with `args` to completion (bounded by `timeout`), output captured.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_netpulse(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env,
                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Logs in and returns the access token (REQUIREs success).
std::string login(HttpClient& client, const std::string& email, const std::string& password);

}  // namespace netpulse::test
