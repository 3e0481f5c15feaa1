// gzip compression of response bodies (zlib, level 6).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netpulse::api::detail {

// Compresses `in` into a gzip stream. false only when zlib fails.
bool gzip_compress(std::string_view in, std::string& out);

// Decompresses a gzip (or zlib) stream `in` into `out`. Fails, with the reason in `error`, when the
// stream is damaged, truncated, or would inflate beyond `max_out` bytes (a gzip bomb: inflation
// stops at the limit, nothing larger is ever allocated).
bool gzip_decompress(std::string_view in, std::string& out, std::size_t max_out,
                     std::string& error);

// Whether an Accept-Encoding header value accepts gzip (q > 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace netpulse::api::detail
