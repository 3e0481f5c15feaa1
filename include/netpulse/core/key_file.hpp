// Secret keys in files of the data dir.
#pragma once

#include <cstddef>
#include <string>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

// Loads the key at `path`, or creates it (`bytes` random bytes, mode 0600, O_EXCL, fsynced) when
// absent; a concurrent first start reads the winner's key. Fails with kConfigError when the file
// cannot be read or written, has another size than `bytes`, or its group or others have any
// access to it (the message names the file, its mode and `chmod 600`).
Result<std::string> load_or_create_key_file(const std::string& path, std::size_t bytes);

}  // namespace netpulse::core
