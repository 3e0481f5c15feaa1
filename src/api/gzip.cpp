// gzip: deflate with a gzip wrapper for responses, Accept-Encoding parsing, and inflation of
// request bodies a buffer at a time (never into one string: see gzip_inflate()).
#include "detail/gzip.hpp"

#include <cctype>

#include <zlib.h>

namespace netpulse::api::detail {

bool gzip_compress(std::string_view in, std::string& out) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

bool gzip_inflate(std::string_view in, std::size_t max_out, std::string& error,
                  const std::function<bool(std::string_view)>& sink) {
  z_stream zs{};
  error.clear();
  // 15 + 32: accept gzip or zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    error = "cannot initialise zlib";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[64 * 1024];
  std::size_t total = 0;
  int rc = Z_OK;
  auto fail = [&](std::string why) {
    error = std::move(why);
    inflateEnd(&zs);
    return false;
  };
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return fail(rc == Z_BUF_ERROR ? "the gzip stream is truncated"
                                    : std::string("the gzip stream is damaged: ") +
                                          (zs.msg ? zs.msg : "inflate failed"));
    }
    const std::size_t produced = sizeof buf - zs.avail_out;
    if (produced > max_out - total) {
      return fail("the body inflates to more than " + std::to_string(max_out) + " bytes");
    }
    total += produced;
    if (produced > 0 && !sink(std::string_view(buf, produced))) {
      inflateEnd(&zs);
      return false;
    }
    if (rc != Z_STREAM_END && zs.avail_in == 0 && produced == 0) {
      return fail("the gzip stream is truncated");
    }
  }
  inflateEnd(&zs);
  if (zs.avail_in != 0) {
    error = "trailing bytes after the gzip stream";
    return false;
  }
  return true;
}

bool accepts_gzip(std::string_view header) {
  // Tokens separated by commas, each "coding[;q=x]".
  std::size_t i = 0;
  while (i < header.size()) {
    auto comma = header.find(',', i);
    if (comma == std::string_view::npos) comma = header.size();
    auto token = header.substr(i, comma - i);
    i = comma + 1;
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) {
      token.remove_prefix(1);
    }
    auto semi = token.find(';');
    auto coding = token.substr(0, semi);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back()))) {
      coding.remove_suffix(1);
    }
    if (coding != "gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    auto params = token.substr(semi + 1);
    auto q = params.find("q=");
    if (q == std::string_view::npos) return true;
    auto val = params.substr(q + 2);
    // q=0, q=0.0, q=0.00 mean "not acceptable".
    bool zero = !val.empty() && val[0] == '0';
    for (std::size_t k = 1; zero && k < val.size() && val[k] != ' '; ++k) {
      if (val[k] != '.' && val[k] != '0') zero = false;
    }
    return !zero;
  }
  return false;
}

}  // namespace netpulse::api::detail
