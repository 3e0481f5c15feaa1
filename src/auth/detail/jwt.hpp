// JWT access tokens, HS256 only (RFC 7519 / RFC 7515 compact form), and the signing key kept in
// <data_dir>/jwt.key. Private to the auth module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::auth::detail {

inline constexpr std::size_t kJwtKeyBytes = 32;
// Tokens longer than this are refused before any parsing.
inline constexpr std::size_t kMaxTokenBytes = 4096;
// How far in the future `iat` may lie (clock skew between issuers) before a token is refused.
inline constexpr std::int64_t kMaxIssuedAtSkewS = 60;

// The claims NetPulse issues and requires; all are mandatory.
struct JwtClaims {
  std::string sub;  // the user id, as a decimal string
  std::int64_t org = 0;
  std::string role;
  std::string jti;
  std::int64_t iat = 0;  // Unix seconds
  std::int64_t exp = 0;  // Unix seconds
  std::string iss;
  std::string aud;
};

// Signs and verifies tokens with one HS256 key, accepting only the configured issuer and audience.
// Immutable after construction, so any thread may use it.
class JwtCodec {
 public:
  // `key` is the raw HMAC key (kJwtKeyBytes bytes in production).
  JwtCodec(std::string key, std::string issuer, std::string audience);

  // A signed token carrying `claims` as given (the caller fills iss and aud).
  std::string sign(const JwtClaims& claims) const;

  // Signs arbitrary header and payload JSON texts. For tests that forge malformed tokens.
  std::string sign_raw(std::string_view header_json, std::string_view payload_json) const;

  // Verifies `token` at Unix time `now`: size, three segments, the exact HS256 header, the
  // signature (compared in constant time before any claim is read), every claim present with its
  // type, iss and aud as configured, iat not more than kMaxIssuedAtSkewS in the future.
  // kTokenExpired when exp <= now and all else is valid; kTokenInvalid for anything else wrong.
  core::Result<JwtClaims> verify(std::string_view token, std::int64_t now) const;

  const std::string& issuer() const noexcept { return issuer_; }
  const std::string& audience() const noexcept { return audience_; }

 private:
  std::string key_;
  std::string issuer_;
  std::string audience_;
};

// Loads <data_dir>/jwt.key, or creates it (kJwtKeyBytes random bytes, mode 0600, O_EXCL) when
// absent. Fails with kConfigError when the file cannot be read or written or has the wrong size.
core::Result<std::string> load_or_create_jwt_key(const std::string& data_dir);

}  // namespace netpulse::auth::detail
