// Secret key files: created 0600 and read back unchanged; refused, with the file, its mode and the
// fix named, when their group or others have any access; refused when their size is wrong.
#include <fstream>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <netpulse/core/key_file.hpp>

#include "support/temp_dir.hpp"

using netpulse::core::Errc;
using netpulse::core::load_or_create_key_file;

TEST_CASE("key file: created with mode 0600 and read back unchanged", "[core][key_file]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("test.key");
  auto first = load_or_create_key_file(path, 32);
  REQUIRE(first);
  CHECK(first->size() == 32);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto second = load_or_create_key_file(path, 32);
  REQUIRE(second);
  CHECK(*second == *first);
}

TEST_CASE("key file: refused when its group or others may read or write it", "[core][key_file]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("test.key");
  auto created = load_or_create_key_file(path, 32);
  REQUIRE(created);
  struct Case {
    mode_t mode;
    const char* shown;
  };
  for (auto c : {Case{0644, "0644"}, Case{0640, "0640"}, Case{0604, "0604"}, Case{0620, "0620"},
                 Case{0602, "0602"}}) {
    INFO(c.shown);
    REQUIRE(::chmod(path.c_str(), c.mode) == 0);
    auto r = load_or_create_key_file(path, 32);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kConfigError);
    CHECK_THAT(r.error().message, Catch::Contains(path));
    CHECK_THAT(r.error().message, Catch::Contains(c.shown));
    CHECK_THAT(r.error().message, Catch::Contains("chmod 600 " + path));
  }
  // Owner-only modes are fine, read-only too.
  for (mode_t ok : {0600, 0400}) {
    REQUIRE(::chmod(path.c_str(), ok) == 0);
    auto r = load_or_create_key_file(path, 32);
    REQUIRE(r);
    CHECK(*r == *created);
  }
}

TEST_CASE("key file: a file of the wrong size is refused", "[core][key_file]") {
  netpulse::test::TempDir dir;
  const auto path = dir.file("test.key");
  std::ofstream(path) << "too short";
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  auto r = load_or_create_key_file(path, 32);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kConfigError);
  CHECK_THAT(r.error().message, Catch::Contains("32-byte key"));
}
