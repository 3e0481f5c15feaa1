// The web UI's files, carried in the binary (web/build.mjs writes them gzipped as
// embedded_web::embedded_files()) and served at "/": hashed assets (assets/app-<hash>.js) with a
// year's immutable cache, index.html with `no-cache` for every path that names no file, so the
// app's own routes (/devices/12) load it. Every file has a strong ETag (a hash of its bytes) and
// is kept gzipped and, for the few clients that do not take gzip, inflated once at start.
// Read-only after construction: any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <netpulse/core/embedded.hpp>

namespace netpulse::api::detail {

struct StaticFile {
  std::string path;  // "index.html", "assets/app-3F2KX7QA.js"
  std::string content_type;
  std::string gzip;      // the embedded bytes
  std::string identity;  // inflated
  std::string etag;      // "\"<16 hex digits>\""
  bool immutable = false;
};

class StaticSite {
 public:
  // The embedded files. A file that does not inflate aborts: the build wrote it.
  explicit StaticSite(std::span<const core::EmbeddedFile> files);
  // The files of this binary's own web UI.
  static const StaticSite& builtin();

  // What a GET of `path` ("/", "/assets/app-X.js", "/devices/12") serves: the file of that
  // name, else index.html, except under /assets/ and for names with an extension (a missing
  // script or image is a 404, not a page). nullptr: nothing to serve.
  const StaticFile* lookup(std::string_view path) const;
  std::size_t size() const noexcept { return files_.size(); }

 private:
  std::unordered_map<std::string, StaticFile> files_;
  const StaticFile* index_ = nullptr;
};

// The Content-Type for a file name, by its extension (application/octet-stream when unknown).
std::string_view content_type_for(std::string_view path);

}  // namespace netpulse::api::detail
