// TempDir: mkdtemp() for a unique directory, std::filesystem::remove_all() to clean it up.
#include "support/temp_dir.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <stdlib.h>

namespace netpulse::test {

TempDir::TempDir() {
  std::string pattern = "/tmp/netpulse-test-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

}  // namespace netpulse::test
