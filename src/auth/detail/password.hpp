// Password hashing (Argon2id through libsodium) and the password policy. Private to the auth
// module. Hashing is slow on purpose: call hash()/verify() on the worker pool, never on the loop.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>
#include <netpulse/core/text.hpp>

namespace netpulse::auth::detail {

using core::utf8_length;

// Initialises libsodium once per process; false when it cannot be initialised. Thread-safe.
bool init_sodium() noexcept;

// Accepted password lengths, in Unicode code points.
struct PasswordPolicy {
  std::size_t min_length = 8;
  std::size_t max_length = 256;
};

// kInvalidInput naming `field` when `password` is not valid UTF-8, holds NUL, or its length is
// outside the policy.
core::Result<void> check_password(std::string_view password, const PasswordPolicy& policy,
                                  std::string_view field = "password");

// Argon2id with fixed cost parameters. Immutable; any thread may use it.
class PasswordHasher {
 public:
  // `memory_kib` and `passes` become crypto_pwhash's memlimit (bytes = KiB * 1024) and opslimit.
  PasswordHasher(std::size_t memory_kib, std::size_t passes);

  // kInvalidInput when the parameters are outside libsodium's limits.
  core::Result<void> validate() const;

  // The encoded hash ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"). kInternalError when libsodium
  // fails (out of memory).
  core::Result<std::string> hash(std::string_view password) const;

  // Whether `password` matches `encoded`. False for a malformed hash. Costs as much as hash().
  bool verify(std::string_view encoded, std::string_view password) const;

 private:
  std::size_t memory_kib_;
  std::size_t passes_;
};

// A random password of `length` characters from an alphabet without look-alikes (no 0/O, 1/l/I).
std::string generate_password(std::size_t length);

}  // namespace netpulse::auth::detail
