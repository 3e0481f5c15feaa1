// fuzz_replay: runs one fuzz target over every file of its corpus directories, in name order, as
// a plain program (the ASan test build; no libFuzzer). `make test` runs it once per target, so
// every committed input, crashes found earlier included, stays a regression test.
//
//   fuzz_replay <target> <dir or file>...
//   fuzz_replay --list
//
// Fails (exit 1) on an unknown target, a missing or empty corpus, or an unreadable file; a
// crashing input aborts under the sanitizers with the file's name printed first.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "support/fuzz_target.hpp"

namespace netpulse::fuzz {

namespace {

std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> table;
  return table;
}

}  // namespace

bool register_target(std::string_view name, TargetFn fn) {
  targets().emplace(std::string(name), fn);
  return true;
}

}  // namespace netpulse::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const auto& table = netpulse::fuzz::targets();
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, fn] : table) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay <target> <corpus dir or file>... | --list\n");
    return 2;
  }
  auto target = table.find(argv[1]);
  if (target == table.end()) {
    std::fprintf(stderr, "fuzz_replay: no target named %s (see --list)\n", argv[1]);
    return 1;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& entry : fs::directory_iterator(p)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "fuzz_replay: %s is neither a file nor a directory\n", argv[i]);
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "fuzz_replay: no inputs for %s\n", argv[1]);
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fuzz_replay: cannot read %s\n", f.c_str());
      return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "fuzz_replay: %s\n", f.c_str());
    target->second(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("fuzz_replay: %s: %zu inputs, no failure\n", argv[1], files.size());
  return 0;
}
