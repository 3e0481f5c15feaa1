// A scratch directory for one test: created fresh and unique under /tmp, removed with everything
// in it when the TempDir goes away.
#pragma once

#include <string>
#include <string_view>

namespace netpulse::test {

class TempDir {
 public:
  // Creates /tmp/netpulse-test-XXXXXX. Throws std::runtime_error when it cannot.
  TempDir();
  // Removes the directory recursively; errors are ignored.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  // `path() + "/" + name`.
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace netpulse::test
