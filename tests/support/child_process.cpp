// ChildProcess: fork + execv of a test tool, polled with waitpid(WNOHANG) and killed by its own
// PID only.
#include "support/child_process.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <signal.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace netpulse::test {

void require_installed(const std::string& program, const std::string& debian_package) {
  if (::access(program.c_str(), X_OK) == 0) return;
  const auto name = program.substr(program.find_last_of('/') + 1);
  throw std::runtime_error(name + " is not installed (" + program + ", Debian package " +
                           debian_package + "): run scripts/bootstrap");
}

ChildProcess::ChildProcess(const std::vector<std::string>& args, const Env& env,
                           const std::string& output_path) {
  if (args.empty()) throw std::runtime_error("ChildProcess: no program");
  if (::access(args[0].c_str(), X_OK) != 0) {
    throw std::runtime_error(args[0] + " is not installed: run scripts/bootstrap");
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("ChildProcess: fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char* out = output_path.empty() ? "/dev/null" : output_path.c_str();
    int fd = ::open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  kill();
}

std::optional<int> ChildProcess::poll() {
  if (exit_code_ || pid_ <= 0) return exit_code_;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

void ChildProcess::signal(int signal_number) {
  if (exit_code_ || pid_ <= 0) return;
  ::kill(pid_, signal_number);
}

void ChildProcess::kill() {
  if (exit_code_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

}  // namespace netpulse::test
