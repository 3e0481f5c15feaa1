// Launching and stopping the real binary for integration tests.
#include "support/server_process.hpp"

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

extern char** environ;

namespace netpulse::test {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// fork + exec with stdout/stderr to `log_path`; environment = ours minus NETPULSE_*, plus `env`.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& log_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "NETPULSE_", 9) == 0) continue;
    env_strings.emplace_back(*e);
  }
  for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = args;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // If the test process dies (an ASan abort, a crash), the server goes with it rather than
    // lingering on its port.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

}  // namespace

std::string netpulse_binary() {
  if (const char* b = std::getenv("NETPULSE_TEST_BINARY")) return b;
  return NETPULSE_BINARY;
}

std::map<std::string, std::string> default_server_env(const std::string& data_dir) {
  return {{"NETPULSE_STORAGE_DATA_DIR", data_dir},
          {"NETPULSE_HTTP_LISTEN", "127.0.0.1:0"},
          {"NETPULSE_POLLERS_TRAPS_LISTEN", "127.0.0.1:0"},
          {"NETPULSE_ADMIN_PASSWORD", kAdminPassword},
          {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS", "100000"},
          {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST", "100000"},
          {"NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS", "100000"},
          {"NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST", "100000"},
          {"NETPULSE_HTTP_SHUTDOWN_GRACE_MS", "5000"}};
}

ServerProcess::ServerProcess(const std::string& data_dir, std::map<std::string, std::string> env,
                             std::vector<std::string> args)
    : data_dir_(data_dir), log_path_(data_dir + "/server.log") {
  auto full_env = default_server_env(data_dir);
  for (auto& [k, v] : env) {
    if (v == kUnset) {
      full_env.erase(k);
    } else {
      full_env[k] = v;
    }
  }
  tls_ = full_env.count("NETPULSE_HTTP_TLS_ENABLED") &&
         full_env["NETPULSE_HTTP_TLS_ENABLED"] == "true";
  // Output of earlier runs in the same directory must not be mistaken for this one's.
  std::size_t offset = read_file(log_path_).size();
  std::vector<std::string> argv = {netpulse_binary(), "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, full_env, log_path_);
  static const std::regex kListening(R"(netpulse: listening on https?://[^\s]+:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto out = read_file(log_path_).substr(offset);
    std::smatch m;
    if (std::regex_search(out, m, kListening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      return;
    }
    if (!running()) {
      throw std::runtime_error("netpulse exited during start-up (status " +
                               std::to_string(status_) + "):\n" + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  throw std::runtime_error("netpulse did not start listening within 60 s:\n" + output());
}

ServerProcess::~ServerProcess() {
  if (!reaped_) kill9();
}

bool ServerProcess::running() {
  if (reaped_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return false;
  }
  return true;
}

int ServerProcess::terminate(std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  throw std::runtime_error("netpulse did not exit after SIGTERM:\n" + output());
}

void ServerProcess::kill9() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  reaped_ = true;
  status_ = -SIGKILL;
}

std::string ServerProcess::output() const {
  return read_file(log_path_);
}

CommandResult run_netpulse(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env,
                           std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/netpulse-cmd-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  std::vector<std::string> argv = {netpulse_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, env, tmpl);
  CommandResult out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      out.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      out.exit_code = -SIGKILL;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  out.output = read_file(tmpl);
  ::unlink(tmpl);
  return out;
}

std::string login(HttpClient& client, const std::string& email, const std::string& password) {
  auto res = client.post_json("/api/v1/auth/login",
                              R"({"email":")" + email + R"(","password":")" + password + R"("})");
  INFO(res.body);
  REQUIRE(res.status == 200);
  return std::string(res.json().at("data").at("access_token").as_string());
}

}  // namespace netpulse::test
