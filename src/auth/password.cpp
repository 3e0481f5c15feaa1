// Argon2id password hashes (libsodium crypto_pwhash_str_alg, ALG_ARGON2ID13) and the password
// policy. The policy counts Unicode code points rather than bytes, so "ü" is one character, and
// refuses text that is not valid UTF-8 or that holds NUL (which C APIs downstream would truncate).
// The cost parameters come from the configuration; tests use small ones for speed.
#include "detail/password.hpp"

#include <sodium.h>

#include <netpulse/core/random.hpp>

namespace netpulse::auth::detail {

bool init_sodium() noexcept {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

core::Result<void> check_password(std::string_view password, const PasswordPolicy& policy,
                                  std::string_view field) {
  const auto length = utf8_length(password);
  if (!length) return core::invalid_field(field, "must be valid UTF-8 without NUL characters");
  if (*length < policy.min_length) {
    return core::invalid_field(
        field, "must be at least " + std::to_string(policy.min_length) + " characters");
  }
  if (*length > policy.max_length) {
    return core::invalid_field(
        field, "must be at most " + std::to_string(policy.max_length) + " characters");
  }
  return core::ok();
}

PasswordHasher::PasswordHasher(std::size_t memory_kib, std::size_t passes)
    : memory_kib_(memory_kib), passes_(passes) {}

core::Result<void> PasswordHasher::validate() const {
  const auto memlimit = static_cast<unsigned long long>(memory_kib_) * 1024ULL;
  if (memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return core::invalid_field("auth.argon2_memory_kib", "outside libsodium's limits");
  }
  if (passes_ < crypto_pwhash_OPSLIMIT_MIN || passes_ > crypto_pwhash_OPSLIMIT_MAX) {
    return core::invalid_field("auth.argon2_passes", "outside libsodium's limits");
  }
  return core::ok();
}

core::Result<std::string> PasswordHasher::hash(std::string_view password) const {
  if (!init_sodium()) return core::Error(core::Errc::kInternalError, "libsodium unavailable");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(
          out, password.data(), password.size(), static_cast<unsigned long long>(passes_),
          static_cast<std::size_t>(memory_kib_) * 1024U, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return core::Error(core::Errc::kInternalError, "password hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view encoded, std::string_view password) const {
  if (!init_sodium()) return false;
  // crypto_pwhash_str_verify wants a NUL-terminated hash of bounded length.
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string hash(encoded);
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string generate_password(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  // Rejection sampling keeps every character equally likely.
  constexpr unsigned kLimit = 256 - (256 % kAlphabet.size());
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    for (unsigned char b : core::random_bytes(length)) {
      if (b >= kLimit) continue;
      out += kAlphabet[b % kAlphabet.size()];
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace netpulse::auth::detail
