// Secret keys kept as files in the data dir (the JWT signing key, the credential key): created
// once with O_CREAT|O_EXCL and mode 0600 so that a restart finds the same key. A key file that
// its group or others may read or write is refused at load, with the fix in the message: a key
// others can read is a key others may have copied, and one they can write they can replace.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netpulse/core/key_file.hpp>
#include <netpulse/core/random.hpp>

namespace netpulse::core {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

Result<std::string> load_or_create_key_file(const std::string& path, std::size_t bytes) {
  // Two rounds: a concurrent first start may create the file between our open and our create.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st {};
      if (::fstat(fd, &st) != 0) {
        auto text = errno_text();
        ::close(fd);
        return Error(Errc::kConfigError, path + ": " + text);
      }
      if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        ::close(fd);
        char mode[8];
        std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return Error(Errc::kConfigError,
                     path + " has mode " + mode +
                         ": a secret key must be readable and writable by its owner only (0600). "
                         "Fix it with: chmod 600 " +
                         path);
      }
      if (st.st_size != static_cast<off_t>(bytes)) {
        ::close(fd);
        return Error(Errc::kConfigError, path + ": expected a " + std::to_string(bytes) +
                                             "-byte key, found " + std::to_string(st.st_size) +
                                             " bytes");
      }
      std::string key(bytes, '\0');
      std::size_t got = 0;
      while (got < key.size()) {
        const auto n = ::read(fd, key.data() + got, key.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      ::close(fd);
      if (got != key.size()) {
        return Error(Errc::kConfigError, path + ": short read of the key");
      }
      return key;
    }
    if (errno != ENOENT) {
      return Error(Errc::kConfigError, path + ": " + errno_text());
    }

    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return Error(Errc::kConfigError, "cannot create " + path + ": " + errno_text());
    }
    const auto key = random_bytes(bytes);
    std::size_t written = 0;
    while (written < key.size()) {
      const auto n = ::write(fd, key.data() + written, key.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    const bool synced = written == key.size() && ::fsync(fd) == 0;
    const auto text = errno_text();
    ::close(fd);
    if (!synced) {
      ::unlink(path.c_str());
      return Error(Errc::kConfigError, "cannot write " + path + ": " + text);
    }
    return key;
  }
  return Error(Errc::kConfigError, path + ": cannot be opened");
}

}  // namespace netpulse::core
