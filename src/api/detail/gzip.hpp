// gzip compression of response bodies (zlib, level 6) and inflation of request bodies.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace netpulse::api::detail {

// Compresses `in` into a gzip stream. false only when zlib fails.
bool gzip_compress(std::string_view in, std::string& out);

// Inflates a gzip (or zlib) stream `in` a buffer (64 KiB) at a time, handing each piece to
// `sink`, so the inflated body never exists whole. Stops when `sink` returns false (then returns
// false with `error` empty) and fails, with the reason in `error`, when the stream is damaged,
// truncated, or would inflate beyond `max_out` bytes in all.
bool gzip_inflate(std::string_view in, std::size_t max_out, std::string& error,
                  const std::function<bool(std::string_view)>& sink);

// Whether an Accept-Encoding header value accepts gzip (q > 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace netpulse::api::detail
