// The tsdb append log: what makes an acknowledged sample survive a crash before its chunk reaches
// SQLite. Segment files `log-NNNNNNNN` in one directory, each a sequence of records:
//
//   u32 length of payload (LE) | u32 CRC-32 of (type byte + payload) (LE) | u8 type | payload
//
// A record is written with one write(2) before the append is acknowledged; after that the bytes
// are in the kernel's page cache and survive the process (with sync_full they are also fdatasync'd,
// surviving power loss). Replay reads segments in order and stops a segment at the first record
// that is short or fails its CRC (normally a torn write at the tail of the last segment); the
// segment is truncated there. A checkpoint rotates to a new segment; once the checkpoint has
// committed, the segments before it are deleted. The format is docs/format/append_log.md.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::tsdb::detail {

enum class LogRecordType : std::uint8_t {
  kSeries = 1,   // u32 id | i64 org | u32 key length | key bytes
  kSamples = 2,  // u32 count | count × (u32 series id | i64 t | f64 bits)
};

inline constexpr std::size_t kLogHeaderBytes = 9;
inline constexpr std::uint32_t kMaxLogRecordBytes = 256u << 20;

// Appends one record (header included) to `out`.
void append_log_record(std::string& out, LogRecordType type, std::string_view payload);

class AppendLog {
 public:
  AppendLog() = default;
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  // Opens `dir` (creating it, 0750) and lists its segments. Does not yet open one for writing.
  core::Result<void> open(const std::string& dir, bool sync_full);

  // Calls `fn(type, payload)` for every record of the segments numbered >= `from_segment`, in
  // order. A damaged record ends its segment, and the file is truncated there (whichever segment it
  // is) so new records follow good ones. Returns the number of records replayed.
  using RecordFn = std::function<void(LogRecordType, std::string_view)>;
  core::Result<std::size_t> replay(std::uint32_t from_segment, const RecordFn& fn);

  // Starts a new segment for writing (numbered after every existing one) and returns its number.
  // With sync_full the previous segment is fdatasync'd first.
  core::Result<std::uint32_t> rotate();

  // Writes `bytes` (whole records) to the current segment. On failure the segment is truncated
  // back, so the log never holds a torn record followed by good ones.
  core::Result<void> write(std::string_view bytes);

  // With sync_full: `done` is called (on the syncer thread) once everything written so far is on
  // stable storage. Without sync_full: called at once, inline. The log has no event loop, so
  // unlike the faces of the module it does not post: its one caller, the Store, posts the result
  // to the loop itself (and only asks with sync_full).
  void sync(std::function<void(core::Result<void>)> done);

  // Deletes the segments numbered below `segment`.
  void remove_before(std::uint32_t segment);

  std::uint32_t current_segment() const noexcept { return current_; }
  std::uint64_t bytes() const noexcept { return total_bytes_; }
  std::uint64_t bytes_since_rotate() const noexcept { return current_bytes_; }
  const std::string& dir() const noexcept { return dir_; }

  // Stops the syncer thread (pending syncs are completed first) and closes the file.
  void close();

 private:
  std::string segment_path(std::uint32_t n) const;
  void syncer_main();

  std::string dir_;
  bool sync_full_ = false;
  std::vector<std::uint32_t> segments_;  // existing, ascending
  std::uint32_t current_ = 0;
  int fd_ = -1;
  std::uint64_t current_bytes_ = 0;
  std::uint64_t total_bytes_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(core::Result<void>)>> waiters_;
  bool stopping_ = false;
  std::thread syncer_;
};

}  // namespace netpulse::tsdb::detail
