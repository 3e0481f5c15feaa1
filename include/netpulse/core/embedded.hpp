// A file carried inside the binary (default config, migrations, web assets), produced at build time
// by cmake/embed.cmake. `data` stays valid for the life of the process.
#pragma once

#include <span>
#include <string_view>

namespace netpulse::core {

struct EmbeddedFile {
  std::string_view path;  // relative to the embedded folder, e.g. "0001_init.sql"
  std::string_view data;
};

}  // namespace netpulse::core
