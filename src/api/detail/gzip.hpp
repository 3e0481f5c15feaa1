// gzip compression of response bodies (zlib, level 6).
#pragma once

#include <string>
#include <string_view>

namespace netpulse::api::detail {

// Compresses `in` into a gzip stream. false only when zlib fails.
bool gzip_compress(std::string_view in, std::string& out);

// Whether an Accept-Encoding header value accepts gzip (q > 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace netpulse::api::detail
