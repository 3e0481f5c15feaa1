// A short-lived command-line tool run as a child process (e.g. Debian's snmptrap), so a test
// can keep its own event loop turning while the tool talks to the code under test.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace netpulse::test {

// The peers and tools of the tests are hard requirements of the suite (scripts/bootstrap installs
// them): throws std::runtime_error("<name> is not installed (<program>, Debian package <package>):
// run scripts/bootstrap") when `program` (an absolute path) is not an executable file.
void require_installed(const std::string& program, const std::string& debian_package);

class ChildProcess {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;

  // Starts args[0] (an absolute path) with `args` and `env` added to the test's environment;
  // its stdout and stderr go to `output_path` (appended), or to /dev/null when empty. The child
  // dies with the test process. Throws std::runtime_error when fork fails or args[0] is not an
  // executable file (then naming scripts/bootstrap).
  explicit ChildProcess(const std::vector<std::string>& args, const Env& env = {},
                        const std::string& output_path = {});
  ~ChildProcess();  // SIGKILL and reap when still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Without waiting: the exit code once the child has exited (128 + signal when a signal ended
  // it), nothing while it runs.
  std::optional<int> poll();
  // SIGKILL and reap (no-op once it has exited).
  void kill();
  // Sends `signal_number` (SIGSTOP, SIGCONT, ...) while the child runs; no-op once it has exited.
  void signal(int signal_number);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace netpulse::test
