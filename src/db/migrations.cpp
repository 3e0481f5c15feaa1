// The schema steps carried in the binary. cmake/embed_run.cmake turns migrations/NNNN_name.sql into
// `embedded_sql::embedded_files()`; this file parses the names into numbered Migrations, in order.
// A malformed or duplicated name is a build mistake, not a runtime condition: it stops the
// process at once with a message naming the file.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <span>

#include <netpulse/core/embedded.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::db {

namespace embedded_sql {
// Generated at build time from migrations/*.sql (cmake/embed_run.cmake).
std::span<const core::EmbeddedFile> embedded_files();
}  // namespace embedded_sql

namespace {

[[noreturn]] void reject(std::string_view file, std::string_view why) {
  std::fprintf(stderr, "netpulse: embedded migration \"%.*s\": %.*s\n",
               static_cast<int>(file.size()), file.data(), static_cast<int>(why.size()),
               why.data());
  std::abort();
}

// "0001_foundation.sql" -> {1, "foundation"}. At least four digits, an underscore, a name of
// [a-z0-9_], and ".sql".
Migration parse_name(const core::EmbeddedFile& file) {
  std::string_view name = file.path;
  constexpr std::string_view kSuffix = ".sql";
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) {
    reject(name, "name must end in .sql");
  }
  name.remove_suffix(kSuffix.size());
  std::size_t digits = 0;
  while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
  if (digits < 4 || digits > 9) reject(file.path, "name must start with a 4-digit version");
  if (digits >= name.size() || name[digits] != '_' || digits + 1 == name.size()) {
    reject(file.path, "name must be NNNN_name.sql");
  }
  std::string_view label = name.substr(digits + 1);
  for (char c : label) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      reject(file.path, "name may hold only a-z, 0-9 and _");
    }
  }
  Migration m;
  for (std::size_t i = 0; i < digits; ++i) m.version = m.version * 10 + (name[i] - '0');
  if (m.version == 0) reject(file.path, "version 0000 is reserved");
  m.name = std::string(label);
  m.sql = std::string(file.data);
  return m;
}

std::vector<Migration> parse_embedded() {
  std::vector<Migration> out;
  for (const auto& file : embedded_sql::embedded_files()) out.push_back(parse_name(file));
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      reject(out[i].name, "two migrations share version " + std::to_string(out[i].version));
    }
  }
  return out;
}

}  // namespace

std::vector<Migration> embedded_migrations() {
  static const std::vector<Migration> parsed = parse_embedded();
  return parsed;
}

}  // namespace netpulse::db
