// Sealing secrets at rest: AES-256-GCM with a 32-byte key from <data_dir>/credentials.key.
// A sealed value is  0x01 | nonce (12 random bytes) | ciphertext | tag (16 bytes); the associated
// data binds it to where it belongs (e.g. its organization), so a row copied elsewhere does not
// open. Immutable after construction: usable from any thread. Used by the devices module (SNMP
// credentials) and the notifier (channel secrets), with the one key of <data_dir>/credentials.key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::core {

inline constexpr std::size_t kSecretKeyBytes = 32;

class SecretBox {
 public:
  // `key` must be kSecretKeyBytes bytes.
  explicit SecretBox(std::string key);

  std::string seal(std::string_view plaintext, std::string_view associated_data) const;
  // kInternalError naming the problem when `sealed` is not a value this key sealed with this
  // associated data (wrong key, tampered bytes, truncated, unknown version).
  Result<std::string> open(std::string_view sealed, std::string_view associated_data) const;

 private:
  std::string key_;
};

}  // namespace netpulse::core
