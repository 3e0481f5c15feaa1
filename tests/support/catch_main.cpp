// Catch2's main() for both test binaries, which first asks the machine for what a sandbox may
// lack. A test case that needs one of these carries its tag:
//   [root]   runs as root: raw ICMP sockets (CAP_NET_RAW)
//   [netns]  creates network namespaces (unshare(CLONE_NEWNET); `ip netns` for integration)
//   [ipv6]   the IPv6 loopback ::1
// Each is probed once here. When one is missing, the cases with its tag are taken out of the run
// (`~[tag]` is ANDed into every alternative of the test spec) and the reason is printed:
//   excluded [netns]: 3 test case(s): cannot create a network namespace here (unshare(...): ...)
// When that leaves nothing of a selection that had cases, the binary exits 77, which ctest shows
// as skipped (tests/CMakeLists.txt runs each tag's cases as an entry of its own). Nothing that
// scripts/bootstrap installs is a tag: a missing peer fails the case that needs it.
// NETPULSE_TEST_WITHOUT=root,netns,ipv6 makes the named probes fail, to check this path.
#define CATCH_CONFIG_RUNNER
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct Probe {
  std::string tag;
  std::string missing;  // why the machine lacks it; empty when it has it
};

std::string errno_text(const std::string& call) {
  return call + ": " + std::strerror(errno);
}

bool forced_off(const std::string& tag) {
  const char* without = std::getenv("NETPULSE_TEST_WITHOUT");
  if (!without) return false;
  const std::string list = std::string(",") + without + ",";
  return list.find("," + tag + ",") != std::string::npos;
}

std::string probe_root() {
  if (::geteuid() != 0) {
    return "not root (euid " + std::to_string(::geteuid()) + "): raw ICMP sockets need CAP_NET_RAW";
  }
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return "root without CAP_NET_RAW (" + errno_text("socket(AF_INET, SOCK_RAW)") + ")";
  ::close(fd);
  return {};
}

std::string probe_netns() {
  // A namespace belongs to the thread that made it and goes with it.
  std::string missing;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      missing =
          "cannot create a network namespace here (" + errno_text("unshare(CLONE_NEWNET)") + ")";
    }
  }).join();
  return missing;
}

std::string probe_ipv6() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "no IPv6 (" + errno_text("socket(AF_INET6)") + ")";
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  std::string missing = bound ? "" : "no IPv6 loopback (" + errno_text("bind([::1]:0)") + ")";
  ::close(fd);
  return missing;
}

std::vector<Probe> probe_machine() {
  std::vector<Probe> probes{
      {"root", probe_root()}, {"netns", probe_netns()}, {"ipv6", probe_ipv6()}};
  for (auto& probe : probes) {
    if (probe.missing.empty() && forced_off(probe.tag)) {
      probe.missing = "NETPULSE_TEST_WITHOUT names it";
    }
  }
  return probes;
}

// ANDs `exclusion` into each comma-separated alternative of the test spec (separate arguments are
// ANDed, commas outside quotes and escapes separate alternatives).
void exclude_from_every_alternative(std::vector<std::string>& spec, const std::string& exclusion) {
  for (auto& argument : spec) {
    std::string rewritten;
    bool quoted = false;
    for (std::size_t i = 0; i < argument.size(); ++i) {
      const char c = argument[i];
      if (c == '\\' && i + 1 < argument.size()) {
        rewritten += c;
        rewritten += argument[++i];
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) rewritten += exclusion;
      rewritten += c;
    }
    argument = std::move(rewritten);
  }
  spec.push_back(exclusion);
}

// The cases the test spec selects, unsorted (sorting here would fix --order rand before Catch
// seeds its generator).
std::vector<Catch::TestCase> selected_cases(Catch::Session& session) {
  const Catch::Config& config = session.config();
  const auto& all = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  return Catch::filterTests(all, config.testSpec(), config);
}

}  // namespace

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  Catch::ConfigData data = session.configData();
  if (data.showHelp || data.libIdentify) return session.run();

  const auto before = selected_cases(session);
  const bool listing =
      data.listTests || data.listTestNamesOnly || data.listTags || data.listReporters;
  if (before.empty() && !listing) {
    // Catch says "No test cases matched" and would exit 0: a spec that runs nothing fails.
    session.run();
    return 2;
  }
  bool excluded_any = false;
  for (const auto& probe : probe_machine()) {
    if (probe.missing.empty()) continue;
    std::size_t tagged = 0;
    for (const auto& test_case : before) {
      for (const auto& tag : test_case.lcaseTags) tagged += tag == probe.tag ? 1 : 0;
    }
    if (tagged == 0) continue;
    std::cout << "excluded [" << probe.tag << "]: " << tagged << " test case(s): " << probe.missing
              << std::endl;
    exclude_from_every_alternative(data.testsOrTags, "~[" + probe.tag + "]");
    excluded_any = true;
  }
  if (!excluded_any) return session.run();

  session.useConfigData(data);
  if (selected_cases(session).empty()) {
    std::cout << "excluded: nothing is left to run (exit 77, skipped): nothing passed or failed"
              << std::endl;
    return 77;
  }
  return session.run();
}
