// The helpers every fuzz target shares (both builds).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/fuzz_target.hpp"

namespace netpulse::fuzz {

void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz target: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace netpulse::fuzz
