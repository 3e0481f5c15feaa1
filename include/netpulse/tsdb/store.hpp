// The time-series store. Every sample enters through Store::append(); everything downstream learns
// of it from the SamplesAppended event, and reads it back through select()/select_rollups().
//
// Where a sample lives:
//  1. the append log (data_dir/tsdb/log-NNNNNNNN): written before append() answers, so an
//     acknowledged sample survives a crash of the process (and, with sync_full, power loss);
//  2. the head: per series, the open Gorilla chunk (chunk.hpp) plus recently sealed chunks, in
//     memory, bounded by head_max_bytes;
//  3. SQLite: sealed chunks (tsdb_chunks), the 5m/1h buckets of raw data that has expired
//     (tsdb_rollups; newer buckets are computed from raw samples), the series index (tsdb_series)
//     and, at each checkpoint, a snapshot of the open chunks (tsdb_head), written through the
//     database writer's group commit. A checkpoint lets old log segments go.
// Restart = load the index and the snapshot, then replay the log segments after the checkpoint.
//
// Threads: the Store lives on the event loop (append, select, the index) and hands slow work —
// decoding for big queries, SQLite reads — to the worker pool and SQLite writes to the db writer.
// Callbacks: every `done` of an async method is posted to the loop, never called inline — not
// even a refusal known at once — so a caller may hold locks or iterators across the call and
// runs its continuation only after the call has returned.
// Out-of-order samples within ooo_window_ms of a series' newest sample go to a second open chunk
// per series; a duplicate timestamp with the same value is accepted and ignored, with another
// value refused. The design and its guarantees are written down in docs/tsdb.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/query.hpp>
#include <netpulse/tsdb/selector.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

using SeriesId = std::uint32_t;

// Rollup tiers, finest first.
enum class Tier : std::uint8_t { k1m = 0, k5m = 1, k1h = 2 };
inline constexpr int kTierCount = 3;
inline constexpr Timestamp kTierWidthMs[kTierCount] = {60'000, 300'000, 3'600'000};
std::string_view tier_name(Tier tier) noexcept;  // "1m", "5m", "1h"

struct StoreOptions {
  std::string dir;         // the append log's directory (created 0750 if missing)
  bool sync_full = false;  // fdatasync the log before acknowledging (power-loss durability)
  std::size_t chunk_samples = 120;
  std::size_t max_series_per_org = 500'000;  // docs/tsdb.md, "Series limit"
  std::size_t head_max_bytes = 256u << 20;   // chunk bytes kept in memory
  Timestamp head_keep_ms =
      Timestamp{24} * 3'600'000;        // sealed chunks kept in memory this long (budget allowing)
  Timestamp ooo_window_ms = 3'600'000;  // how far behind a series' newest sample one may land
  Timestamp future_limit_ms = 600'000;  // how far ahead of the clock a sample may be
  Timestamp raw_retention_ms = 30LL * 86'400'000;
  Timestamp retention_ms[kTierCount] = {30LL * 86'400'000, 180LL * 86'400'000, 730LL * 86'400'000};
  std::chrono::milliseconds flush_interval{5000};         // sealed chunks and rollups → SQLite
  std::chrono::milliseconds checkpoint_interval{300000};  // head snapshot; old log segments go
  std::size_t checkpoint_log_bytes = 256u << 20;          // ... or when the log grows this much
  std::chrono::milliseconds retention_interval{600000};   // retention sweep
  double stale_factor = 5.0;        // stale after stale_factor × the series' usual interval
  Timestamp stale_min_ms = 60'000;  // ... but never before this long without data
  std::chrono::milliseconds stale_check_interval{10000};
  std::size_t max_batch_samples = 200'000;  // one append() call
  std::size_t retention_batch_rows = 5000;  // rows deleted per retention write
};

// MetricType and MetricMetadata: types.hpp.

// One sample for append(): the series (by key) and the sample, for one org.
using AppendSample = ParsedSample;

enum class AppendMode {
  kAllOrNothing,  // any refused sample refuses the whole batch (nothing stored)
  kPartial,       // good samples are stored, refused ones listed
};

// Why a sample was refused; counted per reason in /metrics (netpulse_tsdb_refused_samples_total).
enum class RefuseReason : std::uint8_t {
  kTooOld,             // behind the series' newest sample by more than ooo_window_ms
  kBeyondRetention,    // older than raw retention
  kTooFarInFuture,     // more than future_limit_ms ahead of the clock
  kDuplicateConflict,  // same timestamp as a stored sample, another value
  kNotFinite,          // NaN or ±Inf
  kSeriesLimit,        // a new series beyond max_series_per_org
};
std::string_view refuse_reason_name(RefuseReason r) noexcept;  // "too_old", ...

struct AppendIssue {
  std::size_t index = 0;  // position in the batch
  std::string field;      // "timestamp", "value", "series"
  RefuseReason reason = RefuseReason::kTooOld;
  std::string message;
};

struct AppendResult {
  std::size_t accepted = 0;    // stored (or identical duplicates, which count as accepted)
  std::size_t duplicates = 0;  // of accepted: identical to a stored sample, nothing new stored
  std::size_t new_series = 0;
  std::vector<AppendIssue> refused;  // empty unless something was refused
  bool stored = true;                // false when kAllOrNothing refused the batch
};

// `batch` with the canonical key of each sample's series for `org_id`: what append() takes.
// Any thread.
KeyedBatch make_keyed_batch(std::int64_t org_id, std::span<const AppendSample> batch);

// Published on the loop for every append() that stored something, when its samples enter the
// head (just after the append was answered).
// `samples` are only valid during the publish call; look a series up with Store::key_of().
struct AppendedSample {
  SeriesId series = 0;
  Sample sample;
};
struct SamplesAppended {
  std::int64_t org_id = 0;
  std::span<const AppendedSample> samples;
};

// Published once when a series that used to arrive regularly has had no sample for stale_factor
// × its usual interval, and SeriesFresh when such a series receives data again.
struct SeriesStale {
  std::int64_t org_id = 0;
  SeriesId series = 0;
  SeriesKey key;
  Timestamp last_sample = 0;
  Timestamp interval_ms = 0;  // the series' usual interval
};
struct SeriesFresh {
  std::int64_t org_id = 0;
  SeriesId series = 0;
  SeriesKey key;
};

// Published on the loop when an organization's series reach 80 % (level 80) or 100 % (level
// 100) of max_series_per_org: once per crossing, while new series are appended (not while the
// store loads at start-up). A level is re-armed when the count falls below it (a smaller count
// or a larger limit after a restart). At 100 % new series are refused (kSeriesLimit).
struct SeriesLimitReached {
  std::int64_t org_id = 0;
  int level = 0;  // 80 or 100
  std::size_t series = 0;
  std::size_t limit = 0;
};

// An organization's series against the limit, for the API.
struct SeriesUsage {
  std::size_t series = 0;
  std::size_t limit = 0;
};

// A series as the discovery API lists it.
struct SeriesInfo {
  SeriesId id = 0;
  SeriesKey key;
  Timestamp first_t = 0;  // oldest sample the head knows of (0: none in memory)
  Timestamp last_t = 0;   // newest sample
  double last_value = 0;
  bool stale = false;
};

// What to read for select().
struct SelectRequest {
  std::int64_t org_id = 0;
  std::vector<Selector> selectors;  // a series matching any of them
  Timestamp start = 0;              // inclusive
  Timestamp end = 0;                // inclusive
  // Read this rollup tier instead of raw samples.
  std::optional<Tier> tier;
  std::size_t max_series = 10'000;  // more matching series → kInvalidInput
};

// Head and persistence figures for /metrics, the API and the benchmarks.
struct StoreStats {
  std::size_t series = 0;
  std::size_t head_chunk_bytes = 0;  // compressed bytes in memory (open + sealed chunks)
  std::size_t head_chunks = 0;
  std::uint64_t samples_appended = 0;
  std::uint64_t log_bytes = 0;  // bytes in the current log segments
  std::size_t pending_chunks = 0;
  std::size_t purging_series = 0;  // of dropped organizations, whose rows are being deleted
};

class Store {
 public:
  // Opens the store: loads the series index, the head snapshot and recent chunks from `db`,
  // replays the append log, then starts the background timers (flush, checkpoint, retention,
  // staleness) on env.loop; compression and big reads run on env.workers; events (SeriesStale,
  // SeriesLimitReached) go to env.bus. Blocking: call before the loop runs (start-up).
  static core::Result<std::unique_ptr<Store>> open(const StoreOptions& options,
                                                   const core::Env& env, db::Database& db);

  virtual ~Store() = default;

  // Appends `batch` for `org_id`. `done` runs on the loop once the accepted samples are in the
  // append log (and fsynced with sync_full) — that is, when it is safe to acknowledge. The head
  // takes the samples in a handler posted at that moment (so that work overlaps the client's next
  // request) and publishes SamplesAppended then; every read of the store (select, series, labels,
  // stats, ...) first applies whatever is pending, so a read issued after `done` sees the batch.
  // Errors: kServiceUnavailable (log write failed: nothing from this batch is stored). The
  // callback is always posted to the loop, never called inline.
  virtual void append(std::int64_t org_id, std::vector<AppendSample> batch, AppendMode mode,
                      std::function<void(core::Result<AppendResult>)> done) = 0;
  // The same with the keys already made (by make_keyed_batch() or a parser, for `org_id`): the
  // fast path, as the key work is done off the loop. AppendIssue::index is the position in
  // `batch`. The callback is always posted to the loop, never called inline.
  virtual void append(std::int64_t org_id, KeyedBatch batch, AppendMode mode,
                      std::function<void(core::Result<AppendResult>)> done) = 0;

  // Reads the samples (or a tier's buckets) of every series matching the request: raw samples
  // merged from the head and SQLite, sorted, unique times. `done` runs on the loop: the callback
  // is always posted to the loop, never called inline.
  virtual void select(SelectRequest request,
                      std::function<void(core::Result<std::vector<SeriesData>>)> done) = 0;

  // The series of `org_id` matching any of `selectors` (all of the org's series when empty), at
  // most `limit`, in key order. Loop thread; index only.
  virtual std::vector<SeriesInfo> series(std::int64_t org_id, std::span<const Selector> selectors,
                                         std::size_t limit) const = 0;
  // Label names (with "__name__") / values of one label of the org's series matching
  // `selectors` (all when empty), sorted.
  virtual std::vector<std::string> label_names(std::int64_t org_id,
                                               std::span<const Selector> selectors) const = 0;
  virtual std::vector<std::string> label_values(std::int64_t org_id, std::string_view name,
                                                std::span<const Selector> selectors) const = 0;

  // The key of a series (for SamplesAppended consumers), or null if unknown.
  virtual const SeriesKey* key_of(SeriesId id) const = 0;
  virtual std::int64_t org_of(SeriesId id) const = 0;

  // Metric metadata; set_metadata() is persisted (`done` once committed: the callback is always
  // posted to the loop, never called inline).
  virtual void set_metadata(std::int64_t org_id, MetricMetadata metadata,
                            std::function<void(core::Result<void>)> done) = 0;
  virtual std::optional<MetricMetadata> metadata(std::int64_t org_id,
                                                 std::string_view metric) const = 0;

  // Background work, normally run by the store's timers; public so that tests (ManualClock) and
  // shutdown can run it now. `done` runs on the loop when the work has committed (or at once
  // when there is nothing to do, or a flush or checkpoint is running: flush() then answers ok,
  // checkpoint() kServiceUnavailable). The callback is always posted to the loop, never called
  // inline.
  virtual void flush(std::function<void(core::Result<void>)> done) = 0;
  virtual void checkpoint(std::function<void(core::Result<void>)> done) = 0;
  virtual void enforce_retention(std::function<void(core::Result<void>)> done) = 0;
  virtual void check_staleness() = 0;

  // Removes every series of `org_id` (samples, rollups, metadata), for a deleted organization:
  // at once from memory (reads no longer see them; from now on the org's appends are refused
  // with kOrganizationNotFound), then from SQLite: the series rows and metadata with a
  // checkpoint, so a restart does not bring the series back from the log (`done` runs when that
  // has committed), and their chunks and rollup blocks afterwards in the background, in writes
  // of at most retention_batch_rows rows each (stats().purging_series counts down; a purge cut
  // short by a stop goes on at the next start). Series ids are never given again. While a flush
  // or checkpoint is writing, the drop waits for it. The store does this by itself on
  // core::OrgDeleted when it has an EventBus. The callback is always posted to the loop, never
  // called inline; a drop still waiting when close() runs is answered kServiceUnavailable,
  // posted too (so it is dropped if the loop never runs again).
  virtual void drop_org(std::int64_t org_id, std::function<void(core::Result<void>)> done) = 0;
  // The organizations that have series, ascending (start-up: drop those that no longer exist).
  virtual std::vector<std::int64_t> org_ids() const = 0;

  // Stops the timers and writes a checkpoint, waiting for it (so a restart replays nothing).
  // Call from a thread other than the loop while the loop still runs, or after the loop stopped
  // (then the checkpoint runs inline). Idempotent.
  virtual core::Result<void> close() = 0;

  virtual StoreStats stats() const = 0;

  // The series `org_id` has and max_series_per_org. Loop thread.
  virtual SeriesUsage series_usage(std::int64_t org_id) const = 0;
};

}  // namespace netpulse::tsdb
