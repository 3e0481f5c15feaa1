// Fuzz target: the TOML config loader (core::load_config) on a file's text. Lines of the form
// `#!NETPULSE_<SECTION>_<KEY>=value` (TOML comments, so the file's text is unchanged) become
// environment entries, so the environment overrides are fuzzed along with the file.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <netpulse/core/config.hpp>

#include "support/fuzz_target.hpp"

using namespace netpulse;

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string p = dir + "/netpulse-fuzz-config-" + std::to_string(::getpid()) + ".toml";
    std::atexit([] { std::remove(config_path().c_str()); });
    return p;
  }();
  return path;
}

}  // namespace

NETPULSE_FUZZ_TARGET(config) {
  const auto text = fuzz::as_text(data, size);
  core::Environment env;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (line.rfind("#!NETPULSE_", 0) == 0) {
      line.remove_prefix(2);
      auto eq = line.find('=');
      if (eq != std::string_view::npos) {
        env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      }
    }
    pos = end + 1;
  }
  {
    std::FILE* f = std::fopen(config_path().c_str(), "wb");
    if (!f) fuzz::fail("cannot write the config file");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  auto config = core::load_config(config_path(), env);
  if (!config) {
    if (config.error().code != core::Errc::kConfigError) fuzz::fail("not a kConfigError");
    if (config.error().message.empty()) fuzz::fail("an empty error message");
  }
  return 0;
}
