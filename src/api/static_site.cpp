// The embedded web UI: lookup by path with the single-page app's fallback to index.html.
#include "detail/static_site.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "detail/gzip.hpp"

namespace netpulse::api::embedded_web {
std::span<const netpulse::core::EmbeddedFile> embedded_files();
}  // namespace netpulse::api::embedded_web

namespace netpulse::api::detail {

namespace {

// FNV-1a, 64 bits: an ETag only has to change when the bytes do.
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

constexpr std::size_t kMaxInflated = 64u << 20;

}  // namespace

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

StaticSite::StaticSite(std::span<const core::EmbeddedFile> files) {
  for (const auto& f : files) {
    StaticFile out;
    out.path = std::string(f.path);
    out.content_type = std::string(content_type_for(f.path));
    out.gzip = std::string(f.data);
    std::string error;
    const bool ok = gzip_inflate(f.data, kMaxInflated, error, [&out](std::string_view piece) {
      out.identity.append(piece);
      return true;
    });
    if (!ok) {
      std::fprintf(stderr, "netpulse: the embedded web file %s does not inflate: %s\n",
                   out.path.c_str(), error.c_str());
      std::abort();
    }
    out.etag = fmt::format("\"{:016x}\"", fnv1a(out.identity));
    out.immutable = out.path.starts_with("assets/");
    auto path = out.path;
    files_.emplace(std::move(path), std::move(out));
  }
  if (auto it = files_.find("index.html"); it != files_.end()) index_ = &it->second;
}

const StaticSite& StaticSite::builtin() {
  static const StaticSite site(embedded_web::embedded_files());
  return site;
}

const StaticFile* StaticSite::lookup(std::string_view path) const {
  if (path.empty() || path.front() != '/') return nullptr;
  path.remove_prefix(1);
  if (path.empty()) return index_;
  if (auto it = files_.find(std::string(path)); it != files_.end()) return &it->second;
  if (path.starts_with("assets/")) return nullptr;
  // A name with an extension in its last segment is a file that is not here.
  auto last = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  if (last.find('.') != std::string_view::npos) return nullptr;
  return index_;
}

}  // namespace netpulse::api::detail
