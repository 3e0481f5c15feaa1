#include "support/netns.hpp"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace netpulse::test {

int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void remove_stale_namespaces(std::string_view ns_prefix, std::string_view link_prefix) {
  FILE* list = ::popen("ip netns list 2>/dev/null", "r");
  if (!list) return;
  char line[256];
  while (std::fgets(line, sizeof line, list)) {
    std::string name(line);
    name = name.substr(0, name.find_first_of(" \n"));
    if (!name.starts_with(ns_prefix)) continue;
    const auto pid = name.substr(ns_prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::access(("/proc/" + pid).c_str(), F_OK) == 0) continue;
    sh("ip link del " + std::string(link_prefix) + pid);
    sh("ip netns del " + name);
  }
  ::pclose(list);
}

}  // namespace netpulse::test
