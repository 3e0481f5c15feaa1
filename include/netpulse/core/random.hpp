// Cryptographically secure randomness and the encodings used for ids, tokens and keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netpulse::core {

// `n` bytes from the OS CSPRNG (OpenSSL RAND_bytes). Aborts if the CSPRNG fails.
std::string random_bytes(std::size_t n);
// Lower-case hex of `n` random bytes (2n characters).
std::string random_hex(std::size_t n);
// A new random UUID v4, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string uuid_v4();

std::string to_hex(std::string_view bytes);
// Standard base64 with padding (RFC 4648 §4), one line: MIME bodies, HTTP Basic credentials.
std::string base64_encode(std::string_view bytes);
// URL-safe base64 without padding (RFC 4648 §5), as in JWTs.
std::string base64url_encode(std::string_view bytes);
// false when `text` is not valid unpadded base64url.
bool base64url_decode(std::string_view text, std::string& out);

// SHA-256 of `data` (32 raw bytes).
std::string sha256(std::string_view data);
// HMAC-SHA-256 of `data` with `key` (32 raw bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);
// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace netpulse::core
