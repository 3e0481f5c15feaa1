// The Store implementation, split by concern across src/tsdb/store*.cpp: store.cpp (opening,
// closing, timers, gauges and stats), store_append.cpp (validating a batch, the append log
// records, draining acknowledged batches into the head, sealing chunks), store_read.cpp (select:
// raw samples merged from memory and SQLite, rollup reads), store_index.cpp (the series index,
// postings, discovery, metadata), store_persistence.cpp (flush, checkpoint, the head snapshot and
// every SQLite write they make), store_retention.cpp (rollups of expiring raw data, retention
// deletes, staleness, head eviction, dropping an organization) and store_load.cpp (start-up: the
// index, the snapshot, recent chunks and the log replay). Private to the tsdb module.
//
// Threading: everything runs on the event loop except the closures handed to the db writer and
// the worker pool, which touch only their own copies (and, for the writer, `log_` and static
// helpers). Every caller's callback is posted to the loop, never called inline (post_done()).
// The object must outlive every handler it has queued, except those that check `alive_`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/tsdb/chunk.hpp>
#include <netpulse/tsdb/store.hpp>

#include "append_log.hpp"
#include "series_key.hpp"

namespace netpulse::tsdb::detail {

// "No time": a series without samples, a bound not set.
inline constexpr Timestamp kNone = std::numeric_limits<Timestamp>::min();
// A chunk is sealed before it would span more than this (bounds the SQLite range scans).
inline constexpr Timestamp kMaxChunkSpanMs = Timestamp{24} * 3'600'000;
// How long acknowledged samples may wait in the queue before the head takes them (see append()).
inline constexpr std::chrono::microseconds kApplyDelay{1000};
// Persisted rollup tiers and their block spans (one tsdb_rollups row per block).
inline constexpr int kFirstStoredTier = 1;  // 5m; the 1m tier is derived from raw chunks
// 72 buckets a block: rows stay under SQLite's in-page payload limit for WITHOUT ROWID tables
// (about 1 KB on 4 KiB pages; bigger rows spill to half-empty overflow pages).
inline constexpr Timestamp kBlockSpanMs[kTierCount] = {0, 6LL * 3'600'000, 3LL * 86'400'000};
// Raw samples expire (and their buckets are written) in whole hours, at most a day per run.
inline constexpr Timestamp kRollAlignMs = 3'600'000;
inline constexpr Timestamp kMaxRollStepMs = 86'400'000;
// Small in-memory reads are answered on the loop; reads copying more go to a worker.
inline constexpr std::size_t kInlineReadBytes = 256u << 10;

// `t` rounded down to a multiple of `width` (towards minus infinity).
inline Timestamp floor_to(Timestamp t, Timestamp width) {
  Timestamp q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

// The hash FlatIndex files a canonical key under.
inline std::size_t key_hash(std::string_view key) {
  return series_key_hash(key);
}

// A sealed chunk in memory. Its bytes follow those of the chunks before it in Series::sealed.
// 16 bytes: a day of 120-sample chunks is a dozen of these per series.
class MemChunk {
 public:
  MemChunk(Timestamp first_t, Timestamp last_t, std::size_t size, std::uint8_t kind, bool persisted)
      : first_t(first_t),
        // Chunks span at most kMaxChunkSpanMs; a longer span (a corrupt row) saturates.
        span_(static_cast<std::uint32_t>(
            std::clamp<Timestamp>(last_t - first_t, 0, std::numeric_limits<std::uint32_t>::max()))),
        bits_(static_cast<std::uint32_t>(std::min<std::size_t>(size, kSizeMask)) |
              (kind ? kKindBit : 0) | (persisted ? kPersistedBit : 0)) {}

  Timestamp first_t;
  Timestamp last_t() const noexcept { return first_t + span_; }
  std::size_t size() const noexcept { return bits_ & kSizeMask; }
  std::uint8_t kind() const noexcept { return (bits_ & kKindBit) ? 1 : 0; }  // 1: out of order
  bool persisted() const noexcept { return (bits_ & kPersistedBit) != 0; }
  void set_persisted() noexcept { bits_ |= kPersistedBit; }

 private:
  static constexpr std::uint32_t kSizeMask = (1u << 30) - 1;  // chunks are far smaller
  static constexpr std::uint32_t kKindBit = 1u << 30;
  static constexpr std::uint32_t kPersistedBit = 1u << 31;
  std::uint32_t span_;
  std::uint32_t bits_;
};
static_assert(sizeof(MemChunk) == 16);

// One series in memory: its key, its open chunks, the sealed chunks the head keeps, and what
// appends and staleness need to know about its newest samples.
struct Series {
  SeriesId id = 0;                    // index into StoreImpl::series_; never reused
  std::string key;                    // org-prefixed canonical key (detail/series_key.hpp)
  ChunkEncoder head;                  // the open in-order chunk
  std::unique_ptr<ChunkEncoder> ooo;  // the open out-of-order chunk, once there was one
  std::string sealed;                 // the sealed chunks' bytes, back to back, in seal order
  std::vector<MemChunk> chunks;       // in seal order
  Timestamp max_t = kNone;            // newest sample
  double last_v = 0;                  // its value
  Timestamp mem_from = kNone;         // every chunk with last_t >= mem_from is in memory
  Timestamp interval = 0;             // usual interval (moving average), 0 until two samples
  Timestamp arrived = 0;              // clock time the newest sample was applied (staleness)
  bool stale = false;       // SeriesStale was published; cleared by the next in-order sample
  bool indexed = false;     // its tsdb_series row is committed
  std::uint32_t epoch = 0;  // append() call that last set batch_max
  Timestamp batch_max = 0;  // newest time of this series in that call's batch

  std::int64_t org() const { return detail::org_of_key(key); }
  std::string_view unprefixed() const {
    return std::string_view(key).substr(detail::kOrgPrefixBytes);
  }
  std::size_t chunk_bytes() const {
    return sealed.size() + head.bytes().size() + (ooo ? ooo->bytes().size() : 0);
  }
};

// A sealed chunk waiting for a flush or checkpoint to write it to tsdb_chunks.
struct PendingChunk {
  SeriesId series = 0;
  std::uint8_t kind = 0;  // 0: in order, 1: out of order
  Timestamp first_t = 0;
  Timestamp last_t = 0;
  std::string data;  // compacted chunk bytes
};

// A rollup bucket of expiring raw data, to be merged into its tsdb_rollups block.
struct PendingBucket {
  SeriesId series = 0;
  int tier = 0;  // kFirstStoredTier or above
  RollupBucket bucket;
};

// The series index: canonical key hash → series id, open addressing with linear probing in one
// array (one cache line per probe instead of a node chase), at most half full. A slot's key is
// checked through `key_of(id)` when the hashes agree. Series are never removed from it.
class FlatIndex {
 public:
  template <class KeyOf>
  SeriesId find(std::string_view key, std::size_t hash, const KeyOf& key_of) const {
    if (slots_.empty()) return 0;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id == 0) return 0;
      if (s.hash == hash && key_of(s.id) == key) return s.id;
    }
  }
  void insert(std::size_t hash, SeriesId id) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(hash, id);
    ++size_;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::size_t hash = 0;
    SeriesId id = 0;  // 0: empty
  };
  void place(std::size_t hash, SeriesId id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].id != 0) i = (i + 1) & mask;
    slots_[i] = {hash, id};
  }
  void grow() {
    auto old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, old.size() * 2), Slot{});
    for (const auto& s : old) {
      if (s.id != 0) place(s.hash, s.id);
    }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// The key of a series by id, for FlatIndex lookups.
struct SeriesKeyOf {
  const std::vector<std::unique_ptr<Series>>* series;
  std::string_view operator()(SeriesId id) const { return (*series)[id]->key; }
};

// One organization's part of the index.
struct OrgIndex {
  std::size_t count = 0;  // its series (against max_series_per_org)
  int limit_level = 0;    // the SeriesLimitReached level last reached (0, 80, 100)
  std::map<std::string, std::vector<SeriesId>, std::less<>> by_metric;  // metric → its series
  // Postings per label pair, keyed "name\0value": equality matchers read the shortest list.
  std::unordered_map<std::string, std::vector<SeriesId>> by_label;
};

// A sample's fate while validating a batch.
enum class Verdict : std::uint8_t { kStore, kDuplicate, kRefused };

// The chunks of a series that may hold samples in [start, end]: copies of those in memory, and
// whether SQLite must be read too (its chunks with last_t < db_before; memory has the rest).
struct ChunkSet {
  SeriesId id = 0;
  std::vector<std::pair<std::uint8_t, std::string>> chunks;  // kind, bytes
  Timestamp db_before = kNone;                               // kNone: memory has them all
  std::size_t bytes = 0;                                     // of the copies
};

// The write a checkpoint makes: pending series and chunks, and the head snapshot.
struct CheckpointJob {
  std::uint32_t segment = 0;             // the log segment the snapshot starts replay from
  std::optional<std::int64_t> drop_org;  // delete this organization's series and metadata
  std::vector<SeriesId> drop_series;     // its series: rows deleted, ids queued in tsdb_purge
  SeriesId next_series_id = 1;           // never given again, not even after a restart
  std::vector<std::pair<SeriesId, std::string>> series;  // not yet indexed: id, key
  std::vector<PendingChunk> chunks;                      // sealed, not yet persisted
  std::vector<std::pair<SeriesId, std::string>> head;    // id, state blob
};

// An acknowledged batch waiting for the head (see StoreImpl::drain()).
struct PendingApply {
  std::int64_t org = 0;
  Timestamp accepted_at = 0;  // when append() took the batch (the series' arrival time)
  std::vector<AppendedSample> samples;
};

// The buckets of `width` of time-sorted samples (store_read.cpp).
std::vector<RollupBucket> bucketize(const std::vector<Sample>& samples, Timestamp width);

// Merges decoded chunks of one series into sorted samples with unique times within [start, end]:
// on equal times an out-of-order chunk's sample wins (it was written later). Damaged chunks are
// skipped, with a warning when `log` is given (store_read.cpp).
std::vector<Sample> merge_samples(std::vector<std::pair<std::uint8_t, std::string>>& chunks,
                                  Timestamp start, Timestamp end, core::Logger* log);

class StoreImpl final : public Store {
 public:
  StoreImpl(const StoreOptions& o, db::Database& db, const core::Clock& clock, core::Logger& log,
            core::MetricsRegistry* metrics, core::EventBus* bus, boost::asio::any_io_executor loop,
            core::WorkerPool& workers);
  ~StoreImpl() override;

  // Second half of open(): opens the log, loads (store_load.cpp), starts the timers. Blocking.
  core::Result<void> start();

  // store_append.cpp
  void append(std::int64_t org_id, std::vector<AppendSample> batch, AppendMode mode,
              std::function<void(core::Result<AppendResult>)> done) override;
  void append(std::int64_t org_id, KeyedBatch batch, AppendMode mode,
              std::function<void(core::Result<AppendResult>)> done) override;

  // store_read.cpp
  void select(SelectRequest req,
              std::function<void(core::Result<std::vector<SeriesData>>)> done) override;

  // store_index.cpp
  std::vector<SeriesInfo> series(std::int64_t org_id, std::span<const Selector> selectors,
                                 std::size_t limit) const override;
  std::vector<std::string> label_names(std::int64_t org_id,
                                       std::span<const Selector> selectors) const override;
  std::vector<std::string> label_values(std::int64_t org_id, std::string_view name,
                                        std::span<const Selector> selectors) const override;
  const SeriesKey* key_of(SeriesId id) const override;
  std::int64_t org_of(SeriesId id) const override;
  void set_metadata(std::int64_t org_id, MetricMetadata md,
                    std::function<void(core::Result<void>)> done) override;
  std::optional<MetricMetadata> metadata(std::int64_t org_id,
                                         std::string_view metric) const override;
  std::vector<std::int64_t> org_ids() const override;
  SeriesUsage series_usage(std::int64_t org_id) const override;

  // store_persistence.cpp
  void flush(std::function<void(core::Result<void>)> done) override;
  void checkpoint(std::function<void(core::Result<void>)> done) override;

  // store_retention.cpp
  void enforce_retention(std::function<void(core::Result<void>)> done) override;
  void check_staleness() override;
  void drop_org(std::int64_t org_id, std::function<void(core::Result<void>)> done) override;

  // store.cpp
  core::Result<void> close() override;
  StoreStats stats() const override;

 private:
  // --- store.cpp: shared plumbing ---
  // Posts `done(result)` to the loop: every caller's callback that has its answer before the call
  // returns gets it this way, so that no callback ever runs inside the call it was given to (the
  // discipline of store.hpp). Callbacks answered from a db writer or worker completion are
  // already posted by them.
  template <class T>
  void post_done(std::function<void(T)> done, std::type_identity_t<T> result) {
    boost::asio::post(loop_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
  void update_gauges();            // sets the /metrics gauges from the current figures
  std::size_t open_bytes() const;  // bytes of the open (head and ooo) chunks
  void arm_timers();               // starts the flush, checkpoint, retention and staleness timers
  // Runs `fn` every `every` on `timer` until close().
  void arm(boost::asio::steady_timer& timer, std::chrono::milliseconds every,
           std::function<void()> fn);
  // The key lookup FlatIndex::find() checks candidates with.
  SeriesKeyOf key_of_series() const { return SeriesKeyOf{&series_}; }

  // --- store_append.cpp ---
  // Applies acknowledged batches to the head, in order, and publishes SamplesAppended.
  void drain();
  // For the const readers: applying pending batches does not change what the store holds, only
  // where (log → head).
  void drain() const { const_cast<StoreImpl*>(this)->drain(); }
  // Puts one accepted sample into its series' open chunks, sealing a full one (`replay`: from
  // the log at start-up, no SeriesFresh).
  void apply(Series& s, Sample smp, Timestamp now, bool replay = false);
  void seal(Series& s, std::uint8_t kind);  // closes the open chunk of `kind` (0 or 1)
  // The stored value at time `t` in the head, if any.
  std::optional<double> value_at(const Series& s, Timestamp t) const;
  // Removes the sealed chunks matching `pred` from memory (defined below).
  template <class Pred>
  void drop_memory_chunks(Series& s, Pred pred);

  // --- store_read.cpp ---
  // Copies of the in-memory chunks of `s` that may hold [start, end], and what SQLite must add.
  ChunkSet chunks_in(const Series& s, Timestamp start, Timestamp end) const;
  // Adds to `set` its SQLite chunks that may hold samples in [start, end] (any thread).
  static core::Result<void> read_db_chunks(db::Connection& c, ChunkSet& set, Timestamp start,
                                           Timestamp end);
  // The raw samples in [start, end] of `matched`, on a worker when SQLite or much data is read.
  void select_raw(const std::vector<SeriesId>& matched, Timestamp start, Timestamp end,
                  std::function<void(core::Result<std::vector<SeriesData>>)> done);
  // Runs `work` on the worker pool, `done` with its result on the loop (or the pool's refusal).
  void run_on_worker(std::function<core::Result<std::vector<SeriesData>>()> work,
                     std::function<void(core::Result<std::vector<SeriesData>>)> done);
  // A tier's buckets: stored ones before rolled_to_, computed from raw samples after it.
  void select_rollups(SelectRequest req, std::vector<SeriesId> matched,
                      std::function<void(core::Result<std::vector<SeriesData>>)> done);

  // --- store_index.cpp ---
  // The org's series matching any of `selectors` (all when empty), in key order.
  std::vector<SeriesId> match(std::int64_t org, std::span<const Selector> selectors) const;
  // Adds a series to memory and the index (`indexed`: its tsdb_series row exists).
  void create_series(SeriesId id, std::string key, bool indexed);
  int limit_level(std::size_t count) const;  // 100, 80 or 0 (% of max_series_per_org reached)
  void note_series_limit(std::int64_t org, OrgIndex& oi);  // publishes SeriesLimitReached

  // --- store_persistence.cpp ---
  // Rotates the log and writes the head snapshot with everything pending (and a drop).
  void write_checkpoint(std::optional<std::int64_t> drop_org, std::vector<SeriesId> drop_series,
                        std::function<void(core::Result<void>)> done);
  // Takes what is pending and snapshots every series for a checkpoint starting at `segment`.
  std::shared_ptr<CheckpointJob> make_checkpoint_job(std::uint32_t segment);
  // The checkpoint's transaction (db writer thread).
  static core::Result<void> run_checkpoint(db::Connection& c, const CheckpointJob& job);
  // After the checkpoint's commit (or failure): old segments go, or the work is put back.
  void finish_checkpoint(CheckpointJob& job, const core::Result<void>& r);
  // Upserts one tsdb_state row (checkpoint_segment, rollups_to, next_series_id).
  static core::Result<void> write_state(db::Connection& c, std::string_view name,
                                        std::int64_t value);
  // Inserts tsdb_series rows (idempotent).
  static core::Result<void> write_series(db::Connection& c,
                                         const std::vector<std::pair<SeriesId, std::string>>& s);
  // Inserts or replaces tsdb_chunks rows (idempotent).
  static core::Result<void> write_chunks(db::Connection& c, const std::vector<PendingChunk>& cs);
  // Read-modify-write of the rollup blocks the pending buckets fall in.
  static core::Result<void> write_buckets(db::Connection& c, std::vector<PendingBucket> bs);
  // Takes the series whose rows are not yet written: id and key.
  std::shared_ptr<std::vector<std::pair<SeriesId, std::string>>> take_unindexed();
  // Puts back the chunks and series of a failed write, ahead of newer ones.
  void requeue(std::vector<PendingChunk> chunks,
               const std::vector<std::pair<SeriesId, std::string>>& series);
  // After a committed write: the series are indexed, the chunks may leave memory.
  void mark_persisted(const std::vector<PendingChunk>& chunks,
                      const std::vector<std::pair<SeriesId, std::string>>& series);
  std::string snapshot(const Series& s) const;     // head snapshot blob (head_snapshot.md)
  bool restore(Series& s, std::string_view blob);  // false: damaged, the open chunks are lost

  // --- store_retention.cpp ---
  // Deletes raw chunks before rolled_to_ and rollup blocks past their tier's retention.
  void delete_expired(Timestamp now, std::function<void(core::Result<void>)> done);
  void run_deferred_drop();  // the next drop_org() that waited for a flush or checkpoint
  void schedule_purge();     // deletes the next batch of dropped series' rows
  void evict();              // persisted sealed chunks leave memory (head_keep_ms, head_max_bytes)
  void release_free_memory();  // malloc_trim on a worker when the heaps hold much free memory

  // --- store_load.cpp ---
  core::Result<void> load();  // index, metadata, recent chunks, snapshot, log replay
  // A persisted chunk read at start-up joins the series' sealed chunks in memory.
  void add_loaded_chunk(Series& s, Timestamp first_t, std::uint8_t kind, Timestamp last_t,
                        const std::string& data);
  // Loads the chunks the out-of-order window needs below mem_from (start-up).
  core::Result<void> load_ooo_span(Timestamp loaded_from);

  StoreOptions o_;                     // as given to open()
  db::Database& db_;                   // SQLite: chunks, rollups, index, snapshot
  const core::Clock& clock_;           // sample-time limits, arrival, staleness
  core::Logger& log_;                  // "tsdb" messages
  core::EventBus* bus_;                // SamplesAppended and friends; null in some tests
  boost::asio::any_io_executor loop_;  // where every method and callback runs
  core::WorkerPool& workers_;          // big reads, malloc_trim
  AppendLog log_file_;                 // the append log (append_log.hpp)

  std::vector<std::unique_ptr<Series>> series_;      // by id; [0] unused; null once dropped
  FlatIndex index_;                                  // canonical key → series id
  std::unordered_map<std::int64_t, OrgIndex> orgs_;  // per organization: count and postings
  mutable std::unordered_map<SeriesId, std::unique_ptr<SeriesKey>> key_cache_;  // for key_of()
  std::map<std::pair<std::int64_t, std::string>, MetricMetadata, std::less<>>
      metadata_;                              // (org, metric) → metadata, as committed
  SeriesId next_id_ = 1;                      // the id the next new series gets
  std::vector<SeriesId> unindexed_;           // series whose tsdb_series row is not yet written
  std::vector<PendingChunk> pending_chunks_;  // sealed chunks not yet given to a write
  // What the running flush or checkpoint writes (close() writes it again: writes are idempotent).
  std::shared_ptr<std::vector<PendingChunk>> inflight_chunks_;
  std::shared_ptr<std::vector<std::pair<SeriesId, std::string>>> inflight_series_;  // its series
  std::shared_ptr<CheckpointJob> inflight_job_;  // the running checkpoint's write
  // drop_org() calls waiting for the running flush or checkpoint (run_deferred_drop()).
  std::deque<std::pair<std::int64_t, std::function<void(core::Result<void>)>>> deferred_drops_;
  bool trimming_ = false;  // release_free_memory() has a malloc_trim running
  // Rollup buckets before this time are in tsdb_rollups; from it on they are computed from raw
  // samples (see enforce_retention()). A multiple of 1 h.
  Timestamp rolled_to_ = kNone;
  bool rolling_ = false;               // enforce_retention() is writing buckets
  std::deque<PendingApply> to_apply_;  // acknowledged batches the head has not taken yet
  bool drain_posted_ = false;          // apply_timer_ is armed to drain them
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers check it
  std::uint32_t epoch_ = 0;             // counts append() calls (Series::epoch, batch_max)
  std::size_t head_bytes_ = 0;          // sealed chunk bytes in memory
  std::size_t head_chunks_ = 0;         // sealed chunks in memory
  std::uint64_t samples_appended_ = 0;  // applied to the head since start
  bool busy_ = false;                   // a flush or checkpoint is writing
  bool announce_limits_ = false;        // after start-up: series limit levels go on the bus
  bool closed_ = false;                 // close() has run: appends are refused
  // Organizations dropped since start: appends for them are refused (ids are never reused).
  std::unordered_set<std::int64_t> dropped_orgs_;
  std::size_t purging_series_ = 0;  // rows of tsdb_purge, as the last purge write left them
  bool purging_ = false;            // a purge batch is being written
  core::EventBus::Subscription org_deleted_;  // core::OrgDeleted → drop_org()

  boost::asio::steady_timer flush_timer_;       // flush_interval
  boost::asio::steady_timer checkpoint_timer_;  // checkpoint_interval
  boost::asio::steady_timer retention_timer_;   // retention_interval
  boost::asio::steady_timer stale_timer_;       // stale_check_interval
  boost::asio::steady_timer apply_timer_;       // kApplyDelay after an append (drain())

  // Metrics; all null without a registry.
  core::Counter* m_appended_ = nullptr;    // netpulse_tsdb_samples_appended_total
  core::Counter* m_duplicates_ = nullptr;  // netpulse_tsdb_duplicate_samples_total
  core::Counter* m_refused_[static_cast<int>(RefuseReason::kSeriesLimit) + 1] =
      {};                                      // netpulse_tsdb_refused_samples_total by reason
  core::Counter* m_stale_ = nullptr;           // netpulse_tsdb_series_stale_total
  core::Gauge* m_series_ = nullptr;            // netpulse_tsdb_series
  core::Gauge* m_head_bytes_ = nullptr;        // netpulse_tsdb_head_chunk_bytes
  core::Gauge* m_log_bytes_ = nullptr;         // netpulse_tsdb_log_bytes
  core::Gauge* m_pending_ = nullptr;           // netpulse_tsdb_pending_chunks
  core::Histogram* m_checkpoint_s_ = nullptr;  // netpulse_tsdb_checkpoint_seconds
  core::Gauge* m_purging_ = nullptr;           // netpulse_tsdb_purging_series
  core::Counter* m_purge_writes_ = nullptr;    // netpulse_tsdb_purge_writes_total
  core::Counter* m_purged_rows_ = nullptr;     // netpulse_tsdb_purged_rows_total
};

// Removes the sealed chunks matching `pred` from memory, keeping the others in order; reads of
// their time range go to SQLite from now on (mem_from moves past them).
template <class Pred>
void StoreImpl::drop_memory_chunks(Series& s, Pred pred) {
  bool any = false;
  for (const auto& c : s.chunks) any = any || pred(c);
  if (!any) return;
  std::string sealed;
  std::vector<MemChunk> kept;
  sealed.reserve(s.sealed.size());
  std::size_t next = 0;  // where the chunk's bytes start in s.sealed
  for (const auto& c : s.chunks) {
    const std::size_t offset = next;
    next += c.size();
    if (pred(c)) {
      s.mem_from = std::max(s.mem_from, c.last_t() + 1);
      head_bytes_ -= std::min<std::size_t>(head_bytes_, c.size());
      --head_chunks_;
      continue;
    }
    sealed.append(s.sealed, offset, c.size());
    kept.push_back(c);
  }
  s.sealed = std::move(sealed);
  s.chunks = std::move(kept);
}

}  // namespace netpulse::tsdb::detail
