// One fuzz target, written once and built two ways. With NETPULSE_LIBFUZZER (the `make fuzz`
// build, clang -fsanitize=fuzzer) NETPULSE_FUZZ_TARGET(name) defines LLVMFuzzerTestOneInput;
// without it (the ASan test build) it registers the body under `name` in the table that
// fuzz_replay runs over a corpus directory, so `make test` replays every committed input.
// A target returns 0; it aborts (or a sanitizer does) on a bug. Any state it keeps between
// inputs lives in a function-local static set up on first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace netpulse::fuzz {

using TargetFn = int (*)(const std::uint8_t* data, std::size_t size);

// Adds `fn` under `name` to the replay table; returns true (for a static initialiser).
bool register_target(std::string_view name, TargetFn fn);

// The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the process with `what` on stderr: a property the target checks does not hold.
[[noreturn]] void fail(std::string_view what);

}  // namespace netpulse::fuzz

#ifdef NETPULSE_LIBFUZZER
#define NETPULSE_FUZZ_TARGET(name)                                                    \
  static int netpulse_fuzz_one(const std::uint8_t* data, std::size_t size);           \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return netpulse_fuzz_one(data, size);                                             \
  }                                                                                   \
  static int netpulse_fuzz_one(const std::uint8_t* data, std::size_t size)
#else
#define NETPULSE_FUZZ_TARGET(name)                                          \
  static int netpulse_fuzz_one(const std::uint8_t* data, std::size_t size); \
  [[maybe_unused]] static const bool netpulse_fuzz_registered =             \
      ::netpulse::fuzz::register_target(#name, &netpulse_fuzz_one);         \
  static int netpulse_fuzz_one(const std::uint8_t* data, std::size_t size)
#endif
