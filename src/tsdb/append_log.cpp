// The append log's file handling: segment naming, record framing with CRC-32 (zlib), replay with
// torn-tail truncation, rotation, and the fdatasync group commit of sync_full mode (one syncer
// thread; every waiter that arrived before a sync started is satisfied by it).
#include "detail/append_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <zlib.h>

#include "detail/le_codec.hpp"

namespace netpulse::tsdb::detail {

namespace {

namespace fs = std::filesystem;

std::uint32_t record_crc(std::uint8_t type, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto t = static_cast<Bytef>(type);
  crc = crc32(crc, &t, 1);
  // zlib's crc32 takes a uInt length: feed big payloads in pieces.
  const char* p = payload.data();
  std::size_t left = payload.size();
  while (left > 0) {
    auto n = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p), n);
    p += n;
    left -= n;
  }
  return static_cast<std::uint32_t>(crc);
}

core::Error io_error(std::string_view what, const std::string& path, int err) {
  return core::Error(core::Errc::kServiceUnavailable,
                     fmt::format("tsdb log: {} {}: {}", what, path, std::strerror(err)));
}

bool parse_segment_name(const std::string& name, std::uint32_t& n) {
  if (name.size() != 12 || name.compare(0, 4, "log-") != 0) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 4; i < 12; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  if (v > 0xffffffffu) return false;
  n = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace

void append_log_record(std::string& out, LogRecordType type, std::string_view payload) {
  auto t = static_cast<std::uint8_t>(type);
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, record_crc(t, payload));
  out.push_back(static_cast<char>(t));
  out.append(payload);
}

AppendLog::~AppendLog() {
  close();
}

std::string AppendLog::segment_path(std::uint32_t n) const {
  return fmt::format("{}/log-{:08}", dir_, n);
}

core::Result<void> AppendLog::open(const std::string& dir, bool sync_full) {
  dir_ = dir;
  sync_full_ = sync_full;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("cannot create directory", dir, ec.value());
  ::chmod(dir.c_str(), 0750);
  segments_.clear();
  total_bytes_ = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::uint32_t n = 0;
    if (!entry.is_regular_file() || !parse_segment_name(entry.path().filename().string(), n))
      continue;
    segments_.push_back(n);
    total_bytes_ += entry.file_size();
  }
  if (ec) return io_error("cannot list", dir, ec.value());
  std::sort(segments_.begin(), segments_.end());
  if (sync_full_ && !syncer_.joinable()) {
    syncer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "np-tsdb-sync");  // as `top -H` shows it
      syncer_main();
    });
  }
  return core::ok();
}

core::Result<std::size_t> AppendLog::replay(std::uint32_t from_segment, const RecordFn& fn) {
  std::size_t records = 0;
  for (std::size_t si = 0; si < segments_.size(); ++si) {
    auto n = segments_[si];
    if (n < from_segment) continue;
    auto path = segment_path(n);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open", path, errno);
    struct stat st {};
    ::fstat(fd, &st);
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      auto r = ::read(fd, data.data() + got, data.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    ::close(fd);
    data.resize(got);
    std::size_t pos = 0;
    while (pos + kLogHeaderBytes <= data.size()) {
      auto len = load_le<std::uint32_t>(data.data() + pos);
      auto crc = load_le<std::uint32_t>(data.data() + pos + 4);
      auto type = static_cast<std::uint8_t>(data[pos + 8]);
      if (len > kMaxLogRecordBytes || pos + kLogHeaderBytes + len > data.size()) break;
      std::string_view payload(data.data() + pos + kLogHeaderBytes, len);
      if (record_crc(type, payload) != crc) break;
      if (type == static_cast<std::uint8_t>(LogRecordType::kSeries) ||
          type == static_cast<std::uint8_t>(LogRecordType::kSamples)) {
        fn(static_cast<LogRecordType>(type), payload);
        ++records;
      }
      pos += kLogHeaderBytes + len;
    }
    if (pos < data.size()) {
      // A torn or damaged tail: cut it off so later records are not written behind garbage.
      if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0)
        return io_error("cannot truncate damaged tail of", path, errno);
      total_bytes_ -= data.size() - pos;
    }
  }
  return records;
}

core::Result<std::uint32_t> AppendLog::rotate() {
  std::uint32_t next = segments_.empty() ? 1 : segments_.back() + 1;
  auto path = segment_path(next);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return io_error("cannot create", path, errno);
  int old = -1;
  {
    std::lock_guard lock(mu_);
    old = fd_;
    fd_ = fd;
  }
  if (old >= 0) {
    if (sync_full_) ::fdatasync(old);
    ::close(old);
  }
  segments_.push_back(next);
  current_ = next;
  current_bytes_ = 0;
  if (sync_full_) {
    // The new file's directory entry must be durable too.
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return next;
}

core::Result<void> AppendLog::write(std::string_view bytes) {
  if (fd_ < 0) {
    return core::Error(core::Errc::kServiceUnavailable, "tsdb log: no segment open for writing");
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto r = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int err = errno;
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(current_bytes_)) != 0) {
        // The segment now ends in a torn record; nothing more may be written behind it.
        ::close(fd_);
        fd_ = -1;
      }
      return io_error("cannot write", segment_path(current_), err);
    }
    done += static_cast<std::size_t>(r);
  }
  current_bytes_ += bytes.size();
  total_bytes_ += bytes.size();
  return core::ok();
}

void AppendLog::sync(std::function<void(core::Result<void>)> done) {
  if (!sync_full_) {
    done(core::ok());
    return;
  }
  {
    std::lock_guard lock(mu_);
    waiters_.push_back(std::move(done));
  }
  cv_.notify_one();
}

void AppendLog::syncer_main() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !waiters_.empty(); });
    if (waiters_.empty() && stopping_) return;
    auto batch = std::move(waiters_);
    waiters_.clear();
    int fd = fd_;
    lock.unlock();
    core::Result<void> r = core::ok();
    if (fd >= 0 && ::fdatasync(fd) != 0) r = io_error("cannot fdatasync", dir_, errno);
    for (auto& w : batch) w(r);
    lock.lock();
  }
}

void AppendLog::remove_before(std::uint32_t segment) {
  std::vector<std::uint32_t> keep;
  for (auto n : segments_) {
    if (n < segment) {
      auto path = segment_path(n);
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) total_bytes_ -= static_cast<std::uint64_t>(st.st_size);
      ::unlink(path.c_str());
    } else {
      keep.push_back(n);
    }
  }
  segments_ = std::move(keep);
}

void AppendLog::close() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (fd_ >= 0) {
    if (sync_full_) ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace netpulse::tsdb::detail
