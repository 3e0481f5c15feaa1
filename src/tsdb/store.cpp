// The time-series store (see store.hpp for the model and docs/tsdb.md for the guarantees).
//
// Everything here runs on the event loop except the work handed to the db writer (persisting
// chunks, the head snapshot, rolling up expiring raw data, retention deletes) and to the worker
// pool (reading and decoding for queries that need SQLite). Every write to SQLite is idempotent —
// chunks are keyed by (series, first_t, kind), rollup buckets replace buckets with the same
// start, the head snapshot replaces the previous one — so replaying the append log after a crash,
// which re-seals chunks that may already have been persisted, converges to the same state.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <netpulse/core/tenancy.hpp>
#include <netpulse/tsdb/chunk.hpp>
#include <netpulse/tsdb/store.hpp>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "detail/append_log.hpp"
#include "detail/le_codec.hpp"
#include "detail/rollup_block.hpp"
#include "detail/series_key.hpp"

namespace netpulse::tsdb {

namespace {

constexpr Timestamp kNone = std::numeric_limits<Timestamp>::min();
// A chunk is sealed before it would span more than this (bounds the SQLite range scans).
constexpr Timestamp kMaxChunkSpanMs = 24 * 3'600'000;
// How long acknowledged samples may wait in the queue before the head takes them (see append()).
constexpr std::chrono::microseconds kApplyDelay{1000};
// Persisted rollup tiers and their block spans (one tsdb_rollups row per block).
constexpr int kFirstStoredTier = 1;  // 5m; the 1m tier is derived from raw chunks
// 72 buckets a block: rows stay under SQLite's in-page payload limit for WITHOUT ROWID tables
// (about 1 KB on 4 KiB pages; bigger rows spill to half-empty overflow pages).
constexpr Timestamp kBlockSpanMs[kTierCount] = {0, 6LL * 3'600'000, 3LL * 86'400'000};
// Raw samples expire (and their buckets are written) in whole hours, at most a day per run.
constexpr Timestamp kRollAlignMs = 3'600'000;
constexpr Timestamp kMaxRollStepMs = 86'400'000;

Timestamp floor_to(Timestamp t, Timestamp width) {
  Timestamp q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

// A chunk encoder rebuilt from its bytes (head snapshot, ooo insertion).
core::Result<ChunkEncoder> encoder_from(std::string_view bytes) {
  ChunkEncoder enc;
  if (bytes.size() <= 3) return enc;
  auto samples = decode_chunk(bytes);
  if (!samples) return samples.error();
  for (const auto& s : *samples) {
    auto r = enc.append(s);
    if (!r) return r.error();
  }
  return enc;
}

// One in-progress rollup bucket.
struct Roll {
  Timestamp start = kNone;
  double min = 0, max = 0, sum = 0, last = 0;
  std::int64_t count = 0;
  Timestamp last_t = kNone;

  void reset(Timestamp bucket, Sample s) {
    start = bucket;
    min = max = sum = last = s.v;
    count = 1;
    last_t = s.t;
  }
  void add(Sample s) {
    min = std::min(min, s.v);
    max = std::max(max, s.v);
    sum += s.v;
    ++count;
    if (s.t >= last_t) {
      last = s.v;
      last_t = s.t;
    }
  }
  RollupBucket bucket() const { return {start, min, max, sum, count, last, last_t}; }
};

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

struct Series {
  SeriesId id = 0;
  std::string key;  // org-prefixed canonical key (detail/series_key.hpp)
  ChunkEncoder head;
  std::unique_ptr<ChunkEncoder> ooo;
  std::string sealed;
  std::vector<MemChunk> chunks;  // in seal order
  Timestamp max_t = kNone;       // newest sample
  double last_v = 0;
  Timestamp mem_from = kNone;  // every chunk with last_t >= mem_from is in memory
  Timestamp interval = 0;      // usual interval (moving average), 0 until two samples
  Timestamp arrived = 0;       // clock time the newest sample was applied (staleness)
  bool stale = false;
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

struct PendingChunk {
  SeriesId series = 0;
  std::uint8_t kind = 0;
  Timestamp first_t = 0;
  Timestamp last_t = 0;
  std::string data;
};

struct PendingBucket {
  SeriesId series = 0;
  int tier = 0;
  RollupBucket bucket;
};

// The buckets of `width` of time-sorted samples.
std::vector<RollupBucket> bucketize(const std::vector<Sample>& samples, Timestamp width) {
  std::vector<RollupBucket> out;
  Roll r;
  for (const auto& smp : samples) {
    const Timestamp bucket = floor_to(smp.t, width);
    if (r.count > 0 && r.start == bucket) {
      r.add(smp);
      continue;
    }
    if (r.count > 0) out.push_back(r.bucket());
    r.reset(bucket, smp);
  }
  if (r.count > 0) out.push_back(r.bucket());
  return out;
}

std::size_t key_hash(std::string_view key) {
  return detail::series_key_hash(key);
}

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

struct OrgIndex {
  std::size_t count = 0;
  int limit_level = 0;  // the SeriesLimitReached level last reached (0, 80, 100)
  std::map<std::string, std::vector<SeriesId>, std::less<>> by_metric;
  // Postings per label pair, keyed "name\0value": equality matchers read the shortest list.
  std::unordered_map<std::string, std::vector<SeriesId>> by_label;
};

// A sample's fate while validating a batch.
enum class Verdict : std::uint8_t { kStore, kDuplicate, kRefused };

bool selector_matches(const Selector& sel, std::string_view unprefixed) {
  detail::KeyView kv(unprefixed);
  if (sel.metric() && *sel.metric() != kv.metric()) return false;
  for (const auto& m : sel.matchers()) {
    std::string_view v =
        m.name == kMetricNameLabel ? kv.metric() : detail::KeyView::label(unprefixed, m.name);
    if (!m.matches(v)) return false;
  }
  return true;
}

// Merges decoded chunks of one series into sorted samples with unique times within [start, end]:
// on equal times an out-of-order chunk's sample wins (it was written later).
std::vector<Sample> merge_samples(std::vector<std::pair<std::uint8_t, std::string>>& chunks,
                                  Timestamp start, Timestamp end, core::Logger* log) {
  std::vector<std::pair<Sample, std::uint8_t>> all;
  bool sorted = true;
  for (auto& [kind, bytes] : chunks) {
    ChunkDecoder dec(bytes);
    while (dec.next()) {
      const auto& s = dec.sample();
      if (s.t < start || s.t > end) continue;
      if (!all.empty() && all.back().first.t >= s.t) sorted = false;
      all.emplace_back(s, kind);
    }
    if (dec.error() && log) log->warn("tsdb", "skipping damaged chunk: {}", dec.error()->message);
  }
  if (!sorted) {
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first.t < b.first.t || (a.first.t == b.first.t && a.second < b.second);
    });
  }
  std::vector<Sample> out;
  out.reserve(all.size());
  for (const auto& [s, kind] : all) {
    if (!out.empty() && out.back().t == s.t) {
      out.back() = s;  // the later (ooo) one wins
    } else {
      out.push_back(s);
    }
  }
  return out;
}

class StoreImpl final : public Store {
 public:
  StoreImpl(const StoreOptions& o, db::Database& db, const core::Clock& clock, core::Logger& log,
            core::MetricsRegistry* metrics, core::EventBus* bus, boost::asio::any_io_executor loop,
            core::WorkerPool& workers)
      : o_(o),
        db_(db),
        clock_(clock),
        log_(log),
        bus_(bus),
        loop_(loop),
        workers_(workers),
        flush_timer_(loop),
        checkpoint_timer_(loop),
        retention_timer_(loop),
        stale_timer_(loop),
        apply_timer_(loop) {
    if (metrics) {
      m_appended_ = &metrics->counter("netpulse_tsdb_samples_appended_total",
                                      "Samples stored by the time-series store");
      m_duplicates_ = &metrics->counter("netpulse_tsdb_duplicate_samples_total",
                                        "Samples identical to a stored one (accepted, ignored)");
      for (int r = 0; r <= static_cast<int>(RefuseReason::kSeriesLimit); ++r) {
        auto reason = static_cast<RefuseReason>(r);
        m_refused_[r] = &metrics->counter("netpulse_tsdb_refused_samples_total",
                                          "Samples refused by the time-series store, by reason",
                                          {{"reason", std::string(refuse_reason_name(reason))}});
      }
      m_series_ = &metrics->gauge("netpulse_tsdb_series", "Series in the index");
      m_head_bytes_ =
          &metrics->gauge("netpulse_tsdb_head_chunk_bytes", "Compressed chunk bytes in memory");
      m_log_bytes_ = &metrics->gauge("netpulse_tsdb_log_bytes", "Bytes in the append log");
      m_pending_ = &metrics->gauge("netpulse_tsdb_pending_chunks",
                                   "Sealed chunks not yet persisted to SQLite");
      m_checkpoint_s_ =
          &metrics->histogram("netpulse_tsdb_checkpoint_seconds", "Time to write a head checkpoint",
                              core::default_latency_buckets());
      m_stale_ = &metrics->counter("netpulse_tsdb_series_stale_total",
                                   "Series marked stale (no data for N x their interval)");
      m_purging_ = &metrics->gauge(
          "netpulse_tsdb_purging_series",
          "Series of deleted organizations whose stored samples are still being deleted");
      m_purge_writes_ = &metrics->counter(
          "netpulse_tsdb_purge_writes_total",
          "Writes (bounded batches) deleting a deleted organization's stored samples");
      m_purged_rows_ = &metrics->counter("netpulse_tsdb_purged_rows_total",
                                         "Chunk and rollup rows of deleted organizations deleted");
    }
    if (bus_) {
      org_deleted_ = bus_->subscribe<core::OrgDeleted>([this](const core::OrgDeleted& e) {
        drop_org(e.org_id, [this, org = e.org_id](core::Result<void> r) {
          if (!r) log_.warn("tsdb", "dropping organization {}: {}", org, r.error().message);
        });
      });
    }
  }

  ~StoreImpl() override { log_file_.close(); }

  core::Result<void> start() {
    auto r = log_file_.open(o_.dir, o_.sync_full);
    if (!r) return r;
    auto loaded = load();
    if (!loaded) return loaded;
    auto seg = log_file_.rotate();
    if (!seg) return seg.error();
    arm_timers();
    update_gauges();
    schedule_purge();  // one cut short by a stop goes on
    // Levels reached before this start were announced then (the event log keeps them).
    for (auto& [org, oi] : orgs_) oi.limit_level = limit_level(oi.count);
    announce_limits_ = true;
    return core::ok();
  }

  // ------------------------------------------------------------------------------- append --

  // Applies acknowledged batches to the head, in order, and publishes SamplesAppended. Runs from
  // a handler posted by append(), and first thing in every call that reads or changes the head,
  // so no reader ever sees the store without a batch it was answered for.
  void drain() {
    while (!to_apply_.empty()) {
      auto job = std::move(to_apply_.front());
      to_apply_.pop_front();
      for (const auto& a : job.samples) apply(*series_[a.series], a.sample, job.accepted_at);
      samples_appended_ += job.samples.size();
      if (m_appended_) m_appended_->inc(static_cast<double>(job.samples.size()));
      if (bus_) {
        bus_->publish(SamplesAppended{job.org, std::span<const AppendedSample>(job.samples)});
      }
    }
  }
  // For the const readers: applying pending batches does not change what the store holds, only
  // where (log → head).
  void drain() const { const_cast<StoreImpl*>(this)->drain(); }

  void append(std::int64_t org_id, std::vector<AppendSample> batch, AppendMode mode,
              std::function<void(core::Result<AppendResult>)> done) override {
    append(org_id, make_keyed_batch(org_id, batch), mode, std::move(done));
  }

  void append(std::int64_t org_id, KeyedBatch batch, AppendMode mode,
              std::function<void(core::Result<AppendResult>)> done) override {
    drain();
    if (closed_) {
      done(core::Error(core::Errc::kServiceUnavailable, "the time-series store is closed"));
      return;
    }
    if (dropped_orgs_.contains(org_id)) {
      // An ingest that was under way when its organization was deleted: no ghost series.
      done(core::Error(core::Errc::kOrganizationNotFound,
                       fmt::format("organization {} was deleted", org_id)));
      return;
    }
    AppendResult result;
    if (batch.size() > o_.max_batch_samples) {
      done(core::Error(core::Errc::kPayloadTooLarge,
                       fmt::format("a batch may hold at most {} samples; this one has {}",
                                   o_.max_batch_samples, batch.size()),
                       {{"field", "samples"}}));
      return;
    }
    const Timestamp now = clock_.unix_millis();
    std::vector<Verdict> verdict(batch.size(), Verdict::kStore);
    std::vector<SeriesId> ids(batch.size(), 0);
    // New series of this batch: key → provisional index (ids are assigned once the batch stands).
    std::unordered_map<std::string_view, std::uint32_t> new_keys;  // views into `batch`
    std::vector<std::string_view> new_key_list;
    std::vector<std::uint32_t> new_of(batch.size(), 0);  // 1-based provisional index, 0 = existing
    auto& oi = orgs_[org_id];
    // Newest time per series as the batch goes (existing: by id; new: by provisional index).
    ++epoch_;
    std::vector<Timestamp> new_max(1, kNone);  // by provisional index
    // Accepted samples of the batch by (series, t), built only once an out-of-order or duplicate
    // sample shows up (the rare path).
    std::unordered_map<std::uint64_t, std::unordered_map<Timestamp, double>> accepted_at;
    bool track_accepted = false;

    auto refuse = [&](std::size_t i, RefuseReason reason, std::string field, std::string msg) {
      verdict[i] = Verdict::kRefused;
      result.refused.push_back({i, std::move(field), reason, std::move(msg)});
      if (m_refused_[static_cast<int>(reason)]) m_refused_[static_cast<int>(reason)]->inc();
    };

    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& s = batch.sample(i);
      if (!std::isfinite(s.v)) {
        refuse(i, RefuseReason::kNotFinite, "value", "NaN and infinite values are not stored");
        continue;
      }
      if (s.t > now + o_.future_limit_ms) {
        refuse(i, RefuseReason::kTooFarInFuture, "timestamp",
               fmt::format("timestamp {} ms is {} s ahead of the server clock (limit {} s)", s.t,
                           (s.t - now) / 1000, o_.future_limit_ms / 1000));
        continue;
      }
      if (s.t < now - o_.raw_retention_ms) {
        refuse(i, RefuseReason::kBeyondRetention, "timestamp",
               fmt::format("timestamp {} ms is older than the raw retention ({} days)", s.t,
                           o_.raw_retention_ms / 86'400'000));
        continue;
      }
      const std::string_view key = batch.key(i);
      Series* series = nullptr;
      std::uint64_t skey = 0;
      if (auto id = index_.find(key, batch.hash(i), key_of_series()); id != 0) {
        series = series_[id].get();
        ids[i] = id;
        skey = id;
      } else if (auto nt = new_keys.find(key); nt != new_keys.end()) {
        new_of[i] = nt->second;
        skey = (std::uint64_t{1} << 40) | nt->second;
      } else {
        if (oi.count + new_key_list.size() >= o_.max_series_per_org) {
          refuse(i, RefuseReason::kSeriesLimit, "series",
                 fmt::format("the organization already has {} series, the configured limit "
                             "(tsdb.max_series_per_org); this sample would start a new one",
                             oi.count + new_key_list.size()));
          continue;
        }
        new_key_list.push_back(key);
        new_max.push_back(kNone);
        auto idx = static_cast<std::uint32_t>(new_key_list.size());
        new_keys.emplace(key, idx);
        new_of[i] = idx;
        skey = (std::uint64_t{1} << 40) | idx;
      }
      Timestamp newest = kNone;
      if (series) {
        newest = series->max_t;
        if (series->epoch == epoch_) newest = std::max(newest, series->batch_max);
      } else {
        newest = new_max[new_of[i]];
      }
      if (newest == kNone || s.t > newest) {
        if (series) {
          series->epoch = epoch_;
          series->batch_max = s.t;
        } else {
          new_max[new_of[i]] = s.t;
        }
        if (track_accepted) accepted_at[skey][s.t] = s.v;
        continue;
      }
      // Out of order or a duplicate.
      if (s.t < newest - o_.ooo_window_ms) {
        refuse(i, RefuseReason::kTooOld, "timestamp",
               fmt::format("timestamp {} ms is {} s behind the series' newest sample; the "
                           "out-of-order window is {} s",
                           s.t, (newest - s.t) / 1000, o_.ooo_window_ms / 1000));
        continue;
      }
      if (!track_accepted) {
        track_accepted = true;
        for (std::size_t j = 0; j < i; ++j) {
          if (verdict[j] != Verdict::kStore) continue;
          std::uint64_t k = new_of[j] ? ((std::uint64_t{1} << 40) | new_of[j]) : ids[j];
          accepted_at[k][batch.sample(j).t] = batch.sample(j).v;
        }
      }
      std::optional<double> existing;
      if (auto a = accepted_at.find(skey); a != accepted_at.end()) {
        if (auto v = a->second.find(s.t); v != a->second.end()) existing = v->second;
      }
      if (!existing && series) existing = value_at(*series, s.t);
      if (existing) {
        if (std::memcmp(&*existing, &s.v, sizeof(double)) == 0 || *existing == s.v) {
          verdict[i] = Verdict::kDuplicate;
        } else {
          refuse(i, RefuseReason::kDuplicateConflict, "value",
                 fmt::format("a sample at {} ms is already stored with value {}; a different "
                             "value for the same time is refused",
                             s.t, *existing));
        }
        continue;
      }
      accepted_at[skey][s.t] = s.v;
    }

    if (!result.refused.empty() && mode == AppendMode::kAllOrNothing) {
      result.stored = false;
      done(std::move(result));
      return;
    }

    // Assign ids to the new series and write the log: series first, then the samples.
    std::vector<SeriesId> new_ids(new_key_list.size() + 1, 0);
    std::string rec;
    std::string buf;
    for (std::size_t n = 0; n < new_key_list.size(); ++n) {
      new_ids[n + 1] = next_id_ + static_cast<SeriesId>(n);
      rec.clear();
      detail::put_u32(rec, new_ids[n + 1]);
      detail::put_i64(rec, org_id);
      detail::put_bytes(rec, new_key_list[n].substr(detail::kOrgPrefixBytes));
      detail::append_log_record(buf, detail::LogRecordType::kSeries, rec);
    }
    std::size_t to_store = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (new_of[i]) ids[i] = new_ids[new_of[i]];
      if (verdict[i] == Verdict::kStore) ++to_store;
    }
    if (to_store > 0) {
      rec.clear();
      detail::put_u32(rec, static_cast<std::uint32_t>(to_store));
      rec.resize(4 + to_store * 20);
      char* p = rec.data() + 4;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (verdict[i] != Verdict::kStore) continue;
        detail::store_le(p, ids[i]);
        detail::store_le(p + 4, static_cast<std::uint64_t>(batch.sample(i).t));
        detail::store_le(p + 12, std::bit_cast<std::uint64_t>(batch.sample(i).v));
        p += 20;
      }
      detail::append_log_record(buf, detail::LogRecordType::kSamples, rec);
    }
    if (!buf.empty()) {
      auto w = log_file_.write(buf);
      if (!w) {
        log_.error("tsdb", "append log write failed: {}", w.error().message);
        done(core::Error(core::Errc::kServiceUnavailable,
                         "the time-series store cannot write its log: " + w.error().message));
        return;
      }
    }
    // The batch stands: apply it.
    for (std::size_t n = 0; n < new_key_list.size(); ++n) {
      create_series(new_ids[n + 1], std::string(new_key_list[n]), false);
    }
    result.new_series = new_key_list.size();
    // The samples are in the log: the answer may go now. They enter the head right after it (or
    // before anything reads the store, whichever comes first: see drain()), so the head work
    // overlaps the client's next request.
    PendingApply job;
    job.org = org_id;
    job.accepted_at = now;
    job.samples.reserve(to_store);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (verdict[i] == Verdict::kDuplicate) {
        ++result.accepted;
        ++result.duplicates;
        continue;
      }
      if (verdict[i] != Verdict::kStore) continue;
      job.samples.push_back({ids[i], batch.sample(i)});
      ++result.accepted;
    }
    if (m_duplicates_ && result.duplicates)
      m_duplicates_->inc(static_cast<double>(result.duplicates));
    if (!job.samples.empty()) {
      to_apply_.push_back(std::move(job));
      if (!drain_posted_) {
        // Not at once: a client that got its answer sends the next batch within a moment, and
        // the loop should first read it and hand it to the parsers, then apply this one while
        // they parse. Whatever reads or appends first drains anyway.
        drain_posted_ = true;
        apply_timer_.expires_after(kApplyDelay);
        apply_timer_.async_wait(
            [this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
              if (alive.expired()) return;
              drain_posted_ = false;
              if (!ec) drain();
            });
      }
    }
    if (log_file_.bytes_since_rotate() >= o_.checkpoint_log_bytes && !busy_) {
      checkpoint([](core::Result<void>) {});
    }
    if (!o_.sync_full || to_store == 0) {
      done(std::move(result));
      return;
    }
    log_file_.sync([loop = loop_, result = std::move(result),
                    done = std::move(done)](core::Result<void> r) mutable {
      boost::asio::post(
          loop, [r = std::move(r), result = std::move(result), done = std::move(done)]() mutable {
            if (!r) return done(std::move(r).error());
            done(std::move(result));
          });
    });
  }

  // --------------------------------------------------------------------------------- select --

  void select(SelectRequest req,
              std::function<void(core::Result<std::vector<SeriesData>>)> done) override {
    drain();
    if (req.end < req.start) {
      done(core::invalid_field("end", "end must not be before start"));
      return;
    }
    auto matched = match(req.org_id, req.selectors);
    if (matched.size() > req.max_series) {
      done(core::Error(core::Errc::kInvalidInput,
                       fmt::format("the selector matches {} series; at most {} may be read at "
                                   "once: narrow it with label matchers",
                                   matched.size(), req.max_series),
                       {{"field", "query"}}));
      return;
    }
    if (req.tier && static_cast<int>(*req.tier) >= kFirstStoredTier) {
      select_rollups(std::move(req), std::move(matched), std::move(done));
      return;
    }
    select_raw(matched, req.start, req.end, std::move(done));
  }

  // The chunks of a series that may hold samples in [start, end]: copies of those in memory, and
  // whether SQLite must be read too (its chunks with last_t < db_before; memory has the rest).
  struct ChunkSet {
    SeriesId id = 0;
    std::vector<std::pair<std::uint8_t, std::string>> chunks;  // kind, bytes
    Timestamp db_before = kNone;                               // kNone: memory has them all
    std::size_t bytes = 0;                                     // of the copies
  };
  ChunkSet chunks_in(const Series& s, Timestamp start, Timestamp end) const {
    ChunkSet set;
    set.id = s.id;
    auto take = [&](std::uint8_t kind, std::string_view b) {
      set.chunks.emplace_back(kind, std::string(b));
      set.bytes += b.size();
    };
    std::size_t offset = 0;
    for (const auto& c : s.chunks) {
      if (c.last_t() >= start && c.first_t <= end)
        take(c.kind(), std::string_view(s.sealed).substr(offset, c.size()));
      offset += c.size();
    }
    if (s.head.size() > 0 && s.head.last_t() >= start && s.head.first_t() <= end)
      take(0, s.head.bytes());
    if (s.ooo && s.ooo->size() > 0 && s.ooo->last_t() >= start && s.ooo->first_t() <= end)
      take(1, s.ooo->bytes());
    if (start < s.mem_from && s.indexed) set.db_before = s.mem_from;
    return set;
  }

  // Adds to `set` its SQLite chunks that may hold samples in [start, end] (any thread).
  static core::Result<void> read_db_chunks(db::Connection& c, ChunkSet& set, Timestamp start,
                                           Timestamp end) {
    auto st = c.prepare(
        "SELECT kind, data FROM tsdb_chunks WHERE series_id = ?1 AND first_t >= ?2 AND first_t "
        "<= ?3 AND last_t >= ?4 AND last_t < ?5");
    if (!st) return st.error();
    st->bind(1, static_cast<std::int64_t>(set.id))
        .bind(2, start - kMaxChunkSpanMs)
        .bind(3, end)
        .bind(4, start)
        .bind(5, set.db_before);
    while (true) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) return core::ok();
      set.chunks.emplace_back(static_cast<std::uint8_t>(st->get_int64(0)), st->get_blob(1));
    }
  }

  // The raw samples in [start, end] of `matched`, in that order. Copies the in-memory chunks now
  // and reads older ones from SQLite on a worker if needed.
  void select_raw(const std::vector<SeriesId>& matched, Timestamp start, Timestamp end,
                  std::function<void(core::Result<std::vector<SeriesData>>)> done) {
    struct Job {
      SeriesKey key;
      ChunkSet set;
    };
    auto jobs = std::make_shared<std::vector<Job>>();
    jobs->reserve(matched.size());
    std::size_t bytes = 0;
    bool need_db = false;
    for (auto id : matched) {
      const auto& s = *series_[id];
      Job job{detail::decode_series_key(s.unprefixed()), chunks_in(s, start, end)};
      bytes += job.set.bytes;
      need_db = need_db || job.set.db_before != kNone;
      jobs->push_back(std::move(job));
    }
    auto work = [this, jobs, start, end]() -> core::Result<std::vector<SeriesData>> {
      std::vector<SeriesData> out;
      out.reserve(jobs->size());
      for (auto& job : *jobs) {
        if (job.set.db_before != kNone) {
          auto r =
              db_.read([&](db::Connection& c) { return read_db_chunks(c, job.set, start, end); });
          if (!r) return r.error();
        }
        SeriesData d;
        d.key = std::move(job.key);
        d.samples = merge_samples(job.set.chunks, start, end, nullptr);
        out.push_back(std::move(d));
      }
      return out;
    };
    // Small in-memory reads are answered here; anything bigger goes to a worker.
    if (!need_db && bytes < (256u << 10)) {
      done(work());
      return;
    }
    run_on_worker(std::move(work), std::move(done));
  }

  // Runs `work` on the worker pool and `done` with its result on the loop; when the pool refuses
  // (its queue is full), `done` gets the refusal.
  void run_on_worker(std::function<core::Result<std::vector<SeriesData>>()> work,
                     std::function<void(core::Result<std::vector<SeriesData>>)> done) {
    auto shared = std::make_shared<decltype(done)>(std::move(done));
    auto r = workers_.run<core::Result<std::vector<SeriesData>>>(
        std::move(work), loop_,
        [shared](core::Result<std::vector<SeriesData>> out) { (*shared)(std::move(out)); });
    if (!r) (*shared)(r.error());
  }

  // A tier's buckets: from tsdb_rollups before rolled_to_ (where raw samples have expired) and
  // computed from the raw samples after it, so that they always include every accepted sample,
  // late ones too, the moment it is accepted.
  void select_rollups(SelectRequest req, std::vector<SeriesId> matched,
                      std::function<void(core::Result<std::vector<SeriesData>>)> done) {
    const int tier = static_cast<int>(*req.tier);
    const Timestamp width = kTierWidthMs[tier];
    const Timestamp first = floor_to(req.start, width);
    const Timestamp rolled = rolled_to_ == kNone ? first : rolled_to_;
    const Timestamp raw_from = std::max(first, rolled);
    std::vector<SeriesId> ids = matched;
    auto stored_part = [this, ids, tier, width, start = req.start,
                        end = std::min(req.end, rolled - 1)](
                           std::vector<SeriesData> out) -> core::Result<std::vector<SeriesData>> {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].bucket_ms = width;
        if (start > end) continue;
        std::vector<RollupBucket> stored;
        auto r = db_.read([&](db::Connection& c) -> core::Result<void> {
          auto st = c.prepare(
              "SELECT data FROM tsdb_rollups WHERE tier = ?1 AND series_id = ?2 AND "
              "block_t >= ?3 AND block_t <= ?4 ORDER BY block_t");
          if (!st) return st.error();
          st->bind(1, tier)
              .bind(2, static_cast<std::int64_t>(ids[i]))
              .bind(3, floor_to(start, kBlockSpanMs[tier]))
              .bind(4, end);
          while (true) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            auto block = detail::decode_rollup_block(st->get_blob(0));
            if (!block) {
              log_.warn("tsdb", "skipping damaged rollup block: {}", block.error().message);
              continue;
            }
            for (auto& b : *block) {
              if (b.t + width > start && b.t <= end) stored.push_back(b);
            }
          }
          return core::ok();
        });
        if (!r) return r.error();
        out[i].buckets = detail::merge_rollup_buckets(stored, out[i].buckets);
      }
      return out;
    };
    auto finish = [this, width, stored_part, need_db = req.start < rolled,
                   done = std::move(done)](core::Result<std::vector<SeriesData>> raw) mutable {
      if (!raw) return done(std::move(raw));
      for (auto& d : *raw) {
        d.buckets = bucketize(d.samples, width);
        d.samples.clear();
        d.samples.shrink_to_fit();
        d.bucket_ms = width;
      }
      if (!need_db) return done(std::move(raw));
      run_on_worker([stored_part, out = std::move(*raw)]() mutable { return stored_part(out); },
                    std::move(done));
    };
    if (raw_from > req.end) {
      // All of it has expired from raw: only the stored buckets.
      std::vector<SeriesData> empty;
      for (auto id : matched) {
        SeriesData d;
        d.key = detail::decode_series_key(series_[id]->unprefixed());
        empty.push_back(std::move(d));
      }
      finish(std::move(empty));
      return;
    }
    select_raw(matched, raw_from, floor_to(req.end, width) + width - 1, std::move(finish));
  }

  // ------------------------------------------------------------------------------ discovery --

  std::vector<SeriesId> match(std::int64_t org, std::span<const Selector> selectors) const {
    std::vector<SeriesId> out;
    auto oit = orgs_.find(org);
    if (oit == orgs_.end()) return out;
    const auto& oi = oit->second;
    auto consider = [&](SeriesId id) {
      const auto& s = *series_[id];
      if (selectors.empty()) {
        out.push_back(id);
        return;
      }
      for (const auto& sel : selectors) {
        if (selector_matches(sel, s.unprefixed())) {
          out.push_back(id);
          return;
        }
      }
    };
    bool all_pinned = !selectors.empty();
    for (const auto& sel : selectors) all_pinned = all_pinned && sel.metric().has_value();
    if (all_pinned) {
      std::set<SeriesId> seen;
      static const std::vector<SeriesId> kNone;
      for (const auto& sel : selectors) {
        auto it = oi.by_metric.find(*sel.metric());
        if (it == oi.by_metric.end()) continue;
        const std::vector<SeriesId>* candidates = &it->second;
        for (const auto& m : sel.matchers()) {
          if (m.op != MatchOp::kEqual || m.value.empty() || m.name == kMetricNameLabel) continue;
          std::string pair = m.name;
          pair.push_back('\0');
          pair += m.value;
          auto pl = oi.by_label.find(pair);
          const auto* list = pl == oi.by_label.end() ? &kNone : &pl->second;
          if (list->size() < candidates->size()) candidates = list;
        }
        for (auto id : *candidates) {
          if (!selector_matches(sel, series_[id]->unprefixed())) continue;
          if (selectors.size() > 1 && !seen.insert(id).second) continue;
          out.push_back(id);
        }
      }
    } else {
      for (const auto& [metric, ids] : oi.by_metric) {
        for (auto id : ids) consider(id);
      }
    }
    std::sort(out.begin(), out.end(),
              [&](SeriesId a, SeriesId b) { return series_[a]->key < series_[b]->key; });
    return out;
  }

  std::vector<SeriesInfo> series(std::int64_t org_id, std::span<const Selector> selectors,
                                 std::size_t limit) const override {
    drain();
    std::vector<SeriesInfo> out;
    for (auto id : match(org_id, selectors)) {
      if (out.size() >= limit) break;
      const auto& s = *series_[id];
      SeriesInfo info;
      info.id = id;
      info.key = detail::decode_series_key(s.unprefixed());
      info.last_t = s.max_t == kNone ? 0 : s.max_t;
      info.last_value = s.last_v;
      info.stale = s.stale;
      Timestamp first = kNone;
      for (const auto& c : s.chunks)
        first = first == kNone ? c.first_t : std::min(first, c.first_t);
      if (s.head.size() > 0)
        first = first == kNone ? s.head.first_t() : std::min(first, s.head.first_t());
      info.first_t = first == kNone ? 0 : first;
      out.push_back(std::move(info));
    }
    return out;
  }

  std::vector<std::string> label_names(std::int64_t org_id,
                                       std::span<const Selector> selectors) const override {
    drain();
    std::set<std::string, std::less<>> names;
    for (auto id : match(org_id, selectors)) {
      names.insert(std::string(kMetricNameLabel));
      detail::KeyView kv(series_[id]->unprefixed());
      std::string_view n, v;
      while (kv.next(n, v)) {
        if (names.find(n) == names.end()) names.emplace(n);
      }
    }
    return {names.begin(), names.end()};
  }

  std::vector<std::string> label_values(std::int64_t org_id, std::string_view name,
                                        std::span<const Selector> selectors) const override {
    drain();
    std::set<std::string, std::less<>> values;
    if (name == kMetricNameLabel && selectors.empty()) {
      auto oit = orgs_.find(org_id);
      if (oit != orgs_.end()) {
        for (const auto& [metric, ids] : oit->second.by_metric)
          if (!ids.empty()) values.insert(metric);
      }
      return {values.begin(), values.end()};
    }
    for (auto id : match(org_id, selectors)) {
      auto u = series_[id]->unprefixed();
      auto v =
          name == kMetricNameLabel ? detail::KeyView(u).metric() : detail::KeyView::label(u, name);
      if (!v.empty() && values.find(v) == values.end()) values.emplace(v);
    }
    return {values.begin(), values.end()};
  }

  const SeriesKey* key_of(SeriesId id) const override {
    if (id == 0 || id >= series_.size() || !series_[id]) return nullptr;
    auto& cached = key_cache_[id];
    if (!cached)
      cached = std::make_unique<SeriesKey>(detail::decode_series_key(series_[id]->unprefixed()));
    return cached.get();
  }

  std::int64_t org_of(SeriesId id) const override {
    if (id == 0 || id >= series_.size() || !series_[id]) return 0;
    return series_[id]->org();
  }

  // ------------------------------------------------------------------------------ metadata --

  void set_metadata(std::int64_t org_id, MetricMetadata md,
                    std::function<void(core::Result<void>)> done) override {
    auto copy = md;
    db_.write(
        [org_id, md = std::move(copy)](db::Connection& c) -> core::Result<void> {
          auto st = c.prepare(
              "INSERT INTO tsdb_metadata (org_id, metric, type, unit, help) VALUES (?1, ?2, ?3, "
              "?4, ?5) ON CONFLICT (org_id, metric) DO UPDATE SET type = excluded.type, unit = "
              "excluded.unit, help = excluded.help");
          if (!st) return st.error();
          st->bind(1, org_id)
              .bind(2, md.metric)
              .bind(3, metric_type_name(md.type))
              .bind(4, md.unit)
              .bind(5, md.help);
          return st->run();
        },
        loop_,
        [this, org_id, md = std::move(md), done = std::move(done)](core::Result<void> r) mutable {
          if (r) metadata_[{org_id, md.metric}] = md;
          done(std::move(r));
        });
  }

  std::optional<MetricMetadata> metadata(std::int64_t org_id,
                                         std::string_view metric) const override {
    auto it = metadata_.find({org_id, std::string(metric)});
    if (it == metadata_.end()) return std::nullopt;
    return it->second;
  }

  // ------------------------------------------------------------------------- background --

  void flush(std::function<void(core::Result<void>)> done) override {
    drain();
    if (busy_) {
      done(core::ok());  // a flush or checkpoint is already writing; it takes what is pending
      return;
    }
    auto chunks = std::make_shared<std::vector<PendingChunk>>(std::move(pending_chunks_));
    pending_chunks_.clear();
    auto series = take_unindexed();
    if (chunks->empty() && series->empty()) {
      // append() leaves the gauges alone (open_bytes() walks every series); this tick keeps
      // them current when nothing was sealed or created.
      update_gauges();
      done(core::ok());
      return;
    }
    busy_ = true;
    inflight_chunks_ = chunks;
    inflight_series_ = series;
    db_.write(
        [chunks, series](db::Connection& c) -> core::Result<void> {
          auto r = write_series(c, *series);
          if (!r) return r;
          return write_chunks(c, *chunks);
        },
        loop_,
        [this, chunks, series, done = std::move(done)](core::Result<void> r) {
          busy_ = false;
          inflight_chunks_.reset();
          inflight_series_.reset();
          if (!r) {
            log_.warn("tsdb", "flush failed, will retry: {}", r.error().message);
            requeue(std::move(*chunks), *series);
          } else {
            mark_persisted(*chunks, *series);
            evict();
            if (!chunks->empty()) release_free_memory();
          }
          update_gauges();
          done(std::move(r));
          run_deferred_drop();
        });
  }

  void checkpoint(std::function<void(core::Result<void>)> done) override {
    drain();
    if (busy_) {
      done(core::Error(core::Errc::kServiceUnavailable, "a flush or checkpoint is running"));
      return;
    }
    write_checkpoint(std::nullopt, {}, std::move(done));
  }

  // Rotates the log and writes the head snapshot with everything pending (and, with `drop_org`,
  // the deletion of that organization's series) in one transaction; the old log segments go once
  // it has committed. The caller has drained and checked busy_.
  void write_checkpoint(std::optional<std::int64_t> drop_org, std::vector<SeriesId> drop_series,
                        std::function<void(core::Result<void>)> done) {
    auto seg = log_file_.rotate();
    if (!seg) {
      done(seg.error());
      return;
    }
    busy_ = true;
    auto job = make_checkpoint_job(*seg);
    job->drop_org = drop_org;
    job->drop_series = std::move(drop_series);
    inflight_job_ = job;
    auto started = clock_.steady_now();
    db_.write([job](db::Connection& c) -> core::Result<void> { return run_checkpoint(c, *job); },
              loop_,
              [this, job, started, done = std::move(done)](core::Result<void> r) {
                busy_ = false;
                inflight_job_.reset();
                finish_checkpoint(*job, r);
                if (m_checkpoint_s_) {
                  m_checkpoint_s_->observe(
                      std::chrono::duration<double>(clock_.steady_now() - started).count());
                }
                done(std::move(r));
                run_deferred_drop();
              });
  }

  // Raw samples expire at raw retention, rounded down to the hour (rolled_to_). Before they go,
  // their 5m and 1h buckets are written to tsdb_rollups, where they stay for their tier's
  // retention; while raw samples exist, buckets are computed from them (select_rollups()), so
  // they are not stored twice. At most kMaxRollStepMs is rolled per call (catching up after a
  // long stop takes a few runs).
  void enforce_retention(std::function<void(core::Result<void>)> done) override {
    drain();
    const Timestamp now = clock_.unix_millis();
    const Timestamp target = floor_to(now - o_.raw_retention_ms, kRollAlignMs);
    if (rolling_ || target <= rolled_to_) {
      delete_expired(now, std::move(done));
      return;
    }
    const Timestamp from = rolled_to_;
    const Timestamp to = std::min(target, from + kMaxRollStepMs);
    auto job = std::make_shared<std::vector<ChunkSet>>();
    for (auto& sp : series_) {
      if (!sp || sp->max_t == kNone || sp->max_t < from) continue;
      auto set = chunks_in(*sp, from, to - 1);
      if (!set.chunks.empty() || set.db_before != kNone) job->push_back(std::move(set));
    }
    rolling_ = true;
    db_.write(
        [this, job, from, to](db::Connection& c) -> core::Result<void> {
          std::vector<PendingBucket> buckets;
          for (auto& set : *job) {
            if (set.db_before != kNone) {
              if (auto r = read_db_chunks(c, set, from, to - 1); !r) return r;
            }
            const auto samples = merge_samples(set.chunks, from, to - 1, &log_);
            for (int t = kFirstStoredTier; t < kTierCount; ++t) {
              for (auto& b : bucketize(samples, kTierWidthMs[t])) buckets.push_back({set.id, t, b});
            }
            set.chunks.clear();
          }
          if (auto r = write_buckets(c, std::move(buckets)); !r) return r;
          return write_state(c, "rollups_to", to);
        },
        loop_,
        [this, to, now, done = std::move(done)](core::Result<void> r) mutable {
          rolling_ = false;
          schedule_purge();  // it waits while buckets (of dropped series too) are written
          if (!r) {
            log_.warn("tsdb", "writing rollups failed, raw samples kept, will retry: {}",
                      r.error().message);
            done(std::move(r));
            return;
          }
          rolled_to_ = std::max(rolled_to_, to);
          delete_expired(now, std::move(done));
        });
  }

  // Deletes raw chunks before rolled_to_ (memory and SQLite) and rollup blocks past their
  // tier's retention, in batches, so the writer interleaves other work between them.
  void delete_expired(Timestamp now, std::function<void(core::Result<void>)> done) {
    const Timestamp raw_cutoff = rolled_to_;
    // Memory first: chunks past raw retention leave the head (persisted ones only).
    for (auto& sp : series_) {
      if (!sp) continue;
      drop_memory_chunks(
          *sp, [&](const MemChunk& c) { return c.persisted() && c.last_t() < raw_cutoff; });
    }
    std::vector<SeriesId> ids;
    for (auto& sp : series_)
      if (sp && sp->indexed) ids.push_back(sp->id);
    struct Batch {
      std::vector<SeriesId> ids;
      Timestamp raw_cutoff;
      Timestamp tier_cutoff[kTierCount];
    };
    auto batches = std::make_shared<std::vector<Batch>>();
    for (std::size_t i = 0; i < ids.size(); i += o_.retention_batch_rows) {
      Batch b;
      b.ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(i),
                   ids.begin() + static_cast<std::ptrdiff_t>(
                                     std::min(ids.size(), i + o_.retention_batch_rows)));
      b.raw_cutoff = raw_cutoff;
      for (int t = 0; t < kTierCount; ++t) b.tier_cutoff[t] = now - o_.retention_ms[t];
      batches->push_back(std::move(b));
    }
    if (batches->empty()) {
      done(core::ok());
      return;
    }
    // One write per batch, so the writer interleaves other work between them.
    auto remaining = std::make_shared<std::size_t>(batches->size());
    auto failed = std::make_shared<std::optional<core::Error>>();
    auto shared_done = std::make_shared<std::function<void(core::Result<void>)>>(std::move(done));
    for (std::size_t bi = 0; bi < batches->size(); ++bi) {
      db_.write(
          [batches, bi](db::Connection& c) -> core::Result<void> {
            const auto& b = (*batches)[bi];
            auto st = c.prepare(
                "DELETE FROM tsdb_chunks WHERE series_id = ?1 AND first_t < ?2 AND last_t < ?2");
            if (!st) return st.error();
            auto rt = c.prepare(
                "DELETE FROM tsdb_rollups WHERE tier = ?1 AND series_id = ?2 AND last_t < ?3");
            if (!rt) return rt.error();
            for (auto id : b.ids) {
              st->reset();
              st->bind(1, static_cast<std::int64_t>(id)).bind(2, b.raw_cutoff);
              if (auto r = st->run(); !r) return r;
              for (int t = kFirstStoredTier; t < kTierCount; ++t) {
                rt->reset();
                rt->bind(1, t).bind(2, static_cast<std::int64_t>(id)).bind(3, b.tier_cutoff[t]);
                if (auto r = rt->run(); !r) return r;
              }
            }
            return core::ok();
          },
          loop_,
          [remaining, failed, shared_done](core::Result<void> r) {
            if (!r && !*failed) *failed = r.error();
            if (--*remaining == 0) {
              if (*failed)
                (*shared_done)(**failed);
              else
                (*shared_done)(core::ok());
            }
          });
    }
  }

  void check_staleness() override {
    drain();
    const Timestamp now = clock_.unix_millis();
    for (auto& sp : series_) {
      if (!sp || sp->stale || sp->interval <= 0 || sp->max_t == kNone) continue;
      auto limit = std::max<Timestamp>(
          static_cast<Timestamp>(o_.stale_factor * static_cast<double>(sp->interval)),
          o_.stale_min_ms);
      // "Stopped arriving" is about arrival, not sample time: a backfill of old data keeps
      // arriving and is not stale; after a restart every series gets a full period of grace.
      if (now - sp->arrived <= limit) continue;
      sp->stale = true;
      if (m_stale_) m_stale_->inc();
      if (bus_) {
        bus_->publish(SeriesStale{sp->org(), sp->id, detail::decode_series_key(sp->unprefixed()),
                                  sp->max_t, sp->interval});
      }
    }
  }

  void drop_org(std::int64_t org_id, std::function<void(core::Result<void>)> done) override {
    dropped_orgs_.insert(org_id);  // from now on its appends are refused
    drain();
    if (busy_) {
      // After the running flush or checkpoint (run_deferred_drop()).
      deferred_drops_.emplace_back(org_id, std::move(done));
      return;
    }
    auto oit = orgs_.find(org_id);
    std::unordered_set<SeriesId> gone;
    if (oit != orgs_.end()) {
      for (const auto& [metric, ids] : oit->second.by_metric) gone.insert(ids.begin(), ids.end());
      orgs_.erase(oit);
    }
    for (auto id : gone) {
      if (id >= series_.size() || !series_[id]) continue;
      head_bytes_ -= std::min(head_bytes_, series_[id]->sealed.size());
      head_chunks_ -= std::min(head_chunks_, series_[id]->chunks.size());
      series_[id].reset();
      key_cache_.erase(id);
    }
    std::erase_if(pending_chunks_, [&](const PendingChunk& c) { return gone.count(c.series); });
    std::erase_if(unindexed_, [&](SeriesId id) { return gone.count(id) > 0; });
    for (auto it = metadata_.begin(); it != metadata_.end();) {
      it = it->first.first == org_id ? metadata_.erase(it) : std::next(it);
    }
    index_ = FlatIndex();
    for (const auto& sp : series_) {
      if (sp) index_.insert(key_hash(sp->key), sp->id);
    }
    // A checkpoint carries the deletion of the series rows: the log written so far (which still
    // holds the series) is dropped in the same step, so a restart cannot bring them back. Their
    // chunks and rollup blocks are deleted afterwards, in bounded batches (schedule_purge()).
    log_.info("tsdb", "dropping organization {}: {} series", org_id, gone.size());
    std::vector<SeriesId> ids(gone.begin(), gone.end());
    std::sort(ids.begin(), ids.end());
    write_checkpoint(org_id, std::move(ids), std::move(done));
  }

  void run_deferred_drop() {
    if (busy_ || deferred_drops_.empty()) return;
    auto [org, done] = std::move(deferred_drops_.front());
    deferred_drops_.pop_front();
    drop_org(org, std::move(done));
  }

  std::vector<std::int64_t> org_ids() const override {
    drain();
    std::vector<std::int64_t> out;
    for (const auto& [org, oi] : orgs_) {
      if (oi.count > 0 && !oi.by_metric.empty()) out.push_back(org);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Deletes one batch of the dropped series' rows — at most retention_batch_rows chunks and as
  // many rollup blocks — and, when a batch finds fewer, forgets the series (tsdb_purge). The next
  // batch follows its commit, so the writer interleaves other work. It waits while rollups are
  // being written (they may hold buckets of dropped series); a failed batch is retried by the
  // retention timer.
  void schedule_purge() {
    if (purging_ || rolling_ || closed_ || purging_series_ == 0) return;
    purging_ = true;
    struct Outcome {
      std::int64_t deleted = 0;
      std::int64_t remaining = 0;
    };
    auto out = std::make_shared<Outcome>();
    const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(1, o_.retention_batch_rows));
    db_.write(
        [out, limit](db::Connection& c) -> core::Result<void> {
          auto chunks = c.prepare(
              "DELETE FROM tsdb_chunks WHERE (series_id, first_t, kind) IN (SELECT c.series_id, "
              "c.first_t, c.kind FROM tsdb_purge p JOIN tsdb_chunks c ON c.series_id = "
              "p.series_id LIMIT ?1)");
          if (!chunks) return chunks.error();
          chunks->bind(1, limit);
          if (auto r = chunks->run(); !r) return r;
          const auto chunk_rows = c.changes();
          auto rollups = c.prepare(
              "DELETE FROM tsdb_rollups WHERE id IN (SELECT r.id FROM tsdb_purge p JOIN "
              "tsdb_rollups r ON r.tier IN (1, 2) AND r.series_id = p.series_id LIMIT ?1)");
          if (!rollups) return rollups.error();
          rollups->bind(1, limit);
          if (auto r = rollups->run(); !r) return r;
          const auto rollup_rows = c.changes();
          out->deleted = chunk_rows + rollup_rows;
          if (chunk_rows < limit && rollup_rows < limit) {
            // Nothing of any series in the list is left (no new rows come for them: their
            // memory is gone, and buckets are not being written).
            if (auto r = c.exec("DELETE FROM tsdb_purge"); !r) return r;
          }
          auto left = c.prepare("SELECT count(*) FROM tsdb_purge");
          if (!left) return left.error();
          auto row = left->step();
          if (!row) return row.error();
          out->remaining = left->get_int64(0);
          return core::ok();
        },
        loop_,
        [this, out, alive = std::weak_ptr<int>(alive_)](core::Result<void> r) {
          if (alive.expired()) return;
          purging_ = false;
          if (!r) {
            log_.warn("tsdb", "purging a deleted organization's samples failed, will retry: {}",
                      r.error().message);
            return;
          }
          if (m_purge_writes_) m_purge_writes_->inc();
          if (m_purged_rows_) m_purged_rows_->inc(static_cast<double>(out->deleted));
          purging_series_ = static_cast<std::size_t>(out->remaining);
          if (m_purging_) m_purging_->set(static_cast<double>(purging_series_));
          if (purging_series_ == 0) {
            log_.info("tsdb", "purged the stored samples of deleted organizations");
            return;
          }
          schedule_purge();
        });
  }

  core::Result<void> close() override {
    drain();
    if (closed_) return core::ok();
    closed_ = true;
    for (auto& [org, done] : deferred_drops_) {
      done(core::Error(core::Errc::kServiceUnavailable,
                       "the server stopped before organization's metrics were removed"));
    }
    deferred_drops_.clear();
    flush_timer_.cancel();
    checkpoint_timer_.cancel();
    retention_timer_.cancel();
    stale_timer_.cancel();
    apply_timer_.cancel();
    // Runs after the loop has stopped (or from another thread while it is idle in shutdown):
    // write everything synchronously. In-flight async writes may or may not have landed; every
    // write is idempotent, so writing their content again is safe.
    if (inflight_chunks_) {
      for (auto& c : *inflight_chunks_) pending_chunks_.push_back(std::move(c));
      for (auto& [id, key] : *inflight_series_) unindexed_.push_back(id);
    }
    if (inflight_job_) {
      for (auto& c : inflight_job_->chunks) pending_chunks_.push_back(std::move(c));
      for (auto& [id, key] : inflight_job_->series) unindexed_.push_back(id);
    }
    auto seg = log_file_.rotate();
    if (!seg) return seg.error();
    auto job = make_checkpoint_job(*seg);
    auto r = db_.write_sync([job](db::Connection& c) { return run_checkpoint(c, *job); });
    if (!r) {
      log_.error("tsdb", "final checkpoint failed (the log will be replayed at start): {}",
                 r.error().message);
      return r;
    }
    log_file_.remove_before(*seg);
    log_file_.close();
    log_.info("tsdb", "closed: {} series, checkpoint written", index_.size());
    return core::ok();
  }

  SeriesUsage series_usage(std::int64_t org_id) const override {
    drain();
    auto oit = orgs_.find(org_id);
    return {oit == orgs_.end() ? 0 : oit->second.count, o_.max_series_per_org};
  }

  StoreStats stats() const override {
    drain();
    StoreStats st;
    st.series = index_.size();
    st.head_chunk_bytes = head_bytes_ + open_bytes();
    st.head_chunks = head_chunks_;
    st.samples_appended = samples_appended_;
    st.log_bytes = log_file_.bytes();
    st.pending_chunks = pending_chunks_.size();
    st.purging_series = purging_series_;
    return st;
  }

 private:
  // The write a checkpoint makes: pending series and chunks, and the head snapshot.
  struct CheckpointJob {
    std::uint32_t segment = 0;
    std::optional<std::int64_t> drop_org;  // delete this organization's series and metadata
    std::vector<SeriesId> drop_series;     // its series: rows deleted, ids queued in tsdb_purge
    SeriesId next_series_id = 1;           // never given again, not even after a restart
    std::vector<std::pair<SeriesId, std::string>> series;  // not yet indexed: id, key
    std::vector<PendingChunk> chunks;
    std::vector<std::pair<SeriesId, std::string>> head;  // id, state blob
  };

  std::shared_ptr<CheckpointJob> make_checkpoint_job(std::uint32_t segment) {
    auto job = std::make_shared<CheckpointJob>();
    job->segment = segment;
    job->next_series_id = next_id_;
    job->series = std::move(*take_unindexed());
    job->chunks = std::move(pending_chunks_);
    pending_chunks_.clear();
    job->head.reserve(index_.size());
    for (auto& sp : series_) {
      if (!sp) continue;
      job->head.emplace_back(sp->id, snapshot(*sp));
    }
    return job;
  }

  static core::Result<void> run_checkpoint(db::Connection& c, const CheckpointJob& job) {
    if (job.drop_org) {
      auto queue = c.prepare("INSERT OR IGNORE INTO tsdb_purge (series_id) VALUES (?1)");
      if (!queue) return queue.error();
      auto row = c.prepare("DELETE FROM tsdb_series WHERE id = ?1");
      if (!row) return row.error();
      for (auto id : job.drop_series) {
        queue->reset();
        queue->bind(1, static_cast<std::int64_t>(id));
        if (auto r = queue->run(); !r) return r;
        row->reset();
        row->bind(1, static_cast<std::int64_t>(id));
        if (auto r = row->run(); !r) return r;
      }
      auto md = c.prepare("DELETE FROM tsdb_metadata WHERE org_id = ?1");
      if (!md) return md.error();
      md->bind(1, *job.drop_org);
      if (auto r = md->run(); !r) return r;
    }
    if (auto r = write_state(c, "next_series_id", static_cast<std::int64_t>(job.next_series_id));
        !r) {
      return r;
    }
    if (auto r = write_series(c, job.series); !r) return r;
    if (auto r = write_chunks(c, job.chunks); !r) return r;
    if (auto r = c.exec("DELETE FROM tsdb_head"); !r) return r;
    auto st = c.prepare("INSERT INTO tsdb_head (series_id, state) VALUES (?1, ?2)");
    if (!st) return st.error();
    for (const auto& [id, state] : job.head) {
      st->reset();
      st->bind(1, static_cast<std::int64_t>(id)).bind_blob(2, state);
      if (auto r = st->run(); !r) return r;
    }
    return write_state(c, "checkpoint_segment", static_cast<std::int64_t>(job.segment));
  }

  static core::Result<void> write_state(db::Connection& c, std::string_view name,
                                        std::int64_t value) {
    auto ss = c.prepare(
        "INSERT INTO tsdb_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET "
        "value = excluded.value");
    if (!ss) return ss.error();
    ss->bind(1, name).bind(2, value);
    return ss->run();
  }

  void finish_checkpoint(CheckpointJob& job, const core::Result<void>& r) {
    if (!r) {
      log_.warn("tsdb", "checkpoint failed, will retry: {}", r.error().message);
      requeue(std::move(job.chunks), job.series);
      update_gauges();
      return;
    }
    mark_persisted(job.chunks, job.series);
    if (!job.drop_series.empty()) {
      purging_series_ += job.drop_series.size();
      if (m_purging_) m_purging_->set(static_cast<double>(purging_series_));
      schedule_purge();
    }
    log_file_.remove_before(job.segment);
    evict();
    release_free_memory();
    update_gauges();
  }

  static core::Result<void> write_series(db::Connection& c,
                                         const std::vector<std::pair<SeriesId, std::string>>& s) {
    if (s.empty()) return core::ok();
    auto st = c.prepare(
        "INSERT OR IGNORE INTO tsdb_series (id, org_id, key, created_at) VALUES (?1, ?2, ?3, "
        "strftime('%s','now'))");
    if (!st) return st.error();
    for (const auto& [id, key] : s) {
      auto u = std::string_view(key).substr(detail::kOrgPrefixBytes);
      st->reset();
      st->bind(1, static_cast<std::int64_t>(id)).bind(2, detail::org_of_key(key)).bind_blob(3, u);
      if (auto r = st->run(); !r) return r;
    }
    return core::ok();
  }

  static core::Result<void> write_chunks(db::Connection& c, const std::vector<PendingChunk>& cs) {
    if (cs.empty()) return core::ok();
    auto st = c.prepare(
        "INSERT OR REPLACE INTO tsdb_chunks (series_id, first_t, kind, last_t, data) VALUES (?1, "
        "?2, ?3, ?4, ?5)");
    if (!st) return st.error();
    for (const auto& ch : cs) {
      st->reset();
      st->bind(1, static_cast<std::int64_t>(ch.series))
          .bind(2, ch.first_t)
          .bind(3, static_cast<int>(ch.kind))
          .bind(4, ch.last_t)
          .bind_blob(5, ch.data);
      if (auto r = st->run(); !r) return r;
    }
    return core::ok();
  }

  // Read-modify-write of the rollup blocks the pending buckets fall in.
  static core::Result<void> write_buckets(db::Connection& c, std::vector<PendingBucket> bs) {
    if (bs.empty()) return core::ok();
    std::stable_sort(bs.begin(), bs.end(), [](const PendingBucket& a, const PendingBucket& b) {
      if (a.tier != b.tier) return a.tier < b.tier;
      if (a.series != b.series) return a.series < b.series;
      return a.bucket.t < b.bucket.t;
    });
    auto get = c.prepare(
        "SELECT data FROM tsdb_rollups WHERE tier = ?1 AND series_id = ?2 AND block_t = ?3");
    if (!get) return get.error();
    auto put = c.prepare(
        "INSERT OR REPLACE INTO tsdb_rollups (tier, series_id, block_t, last_t, data) VALUES (?1, "
        "?2, ?3, ?4, ?5)");
    if (!put) return put.error();
    std::size_t i = 0;
    while (i < bs.size()) {
      auto tier = bs[i].tier;
      auto sid = bs[i].series;
      auto block_t = floor_to(bs[i].bucket.t, kBlockSpanMs[tier]);
      std::vector<RollupBucket> updates;
      while (i < bs.size() && bs[i].tier == tier && bs[i].series == sid &&
             floor_to(bs[i].bucket.t, kBlockSpanMs[tier]) == block_t) {
        if (!updates.empty() && updates.back().t == bs[i].bucket.t)
          updates.back() = bs[i].bucket;
        else
          updates.push_back(bs[i].bucket);
        ++i;
      }
      get->reset();
      get->bind(1, tier).bind(2, static_cast<std::int64_t>(sid)).bind(3, block_t);
      std::vector<RollupBucket> base;
      auto row = get->step();
      if (!row) return row.error();
      if (*row) {
        auto decoded = detail::decode_rollup_block(get->get_blob(0));
        if (decoded) base = std::move(*decoded);  // a damaged block is rebuilt from the updates
      }
      get->reset();
      auto merged = detail::merge_rollup_buckets(base, updates);
      auto blob = detail::encode_rollup_block(merged);
      if (!blob) return blob.error();
      put->reset();
      put->bind(1, tier)
          .bind(2, static_cast<std::int64_t>(sid))
          .bind(3, block_t)
          .bind(4, merged.back().last_t)
          .bind_blob(5, *blob);
      if (auto r = put->run(); !r) return r;
    }
    return core::ok();
  }

  std::shared_ptr<std::vector<std::pair<SeriesId, std::string>>> take_unindexed() {
    auto out = std::make_shared<std::vector<std::pair<SeriesId, std::string>>>();
    for (auto id : unindexed_) {
      if (id < series_.size() && series_[id] && !series_[id]->indexed)
        out->emplace_back(id, series_[id]->key);
    }
    unindexed_.clear();
    return out;
  }

  void requeue(std::vector<PendingChunk> chunks,
               const std::vector<std::pair<SeriesId, std::string>>& series) {
    for (auto& c : pending_chunks_) chunks.push_back(std::move(c));
    pending_chunks_ = std::move(chunks);
    for (const auto& [id, key] : series) unindexed_.push_back(id);
  }

  void mark_persisted(const std::vector<PendingChunk>& chunks,
                      const std::vector<std::pair<SeriesId, std::string>>& series) {
    for (const auto& [id, key] : series) {
      if (id < series_.size() && series_[id]) series_[id]->indexed = true;
    }
    for (const auto& pc : chunks) {
      if (pc.series >= series_.size() || !series_[pc.series]) continue;
      auto& s = *series_[pc.series];
      for (auto it = s.chunks.rbegin(); it != s.chunks.rend(); ++it) {
        if (it->first_t == pc.first_t && it->kind() == pc.kind) {
          it->set_persisted();
          break;
        }
      }
    }
  }

  // Head snapshot of one series: max_t, last_v, interval, stale, open chunks.
  std::string snapshot(const Series& s) const {
    std::string o;
    detail::put_u8(o, 2);  // version (1 also held the rollup buckets in progress)
    detail::put_i64(o, s.max_t);
    detail::put_f64(o, s.last_v);
    detail::put_i64(o, s.interval);
    detail::put_u8(o, s.stale ? 1 : 0);
    detail::put_bytes(o, compact_chunk(s.head.bytes()));
    detail::put_bytes(o, s.ooo ? compact_chunk(s.ooo->bytes()) : std::string());
    return o;
  }

  bool restore(Series& s, std::string_view blob) {
    detail::LeReader rd{blob};
    const auto version = rd.u8();
    if (version != 1 && version != 2) return false;
    s.max_t = rd.i64();
    s.last_v = rd.f64();
    s.interval = rd.i64();
    s.stale = rd.u8() != 0;
    auto head = rd.bytes();
    auto ooo = rd.bytes();
    if (version == 1) {
      for (int t = 0; t < 2 * 7; ++t) (void)rd.i64();  // two rollup buckets, now derived
    }
    if (!rd.ok) return false;
    auto h = encoder_from(head);
    if (!h) return false;
    s.head = std::move(*h);
    if (ooo.size() > 3) {
      auto e = encoder_from(ooo);
      if (!e) return false;
      s.ooo = std::make_unique<ChunkEncoder>(std::move(*e));
    }
    return true;
  }

  // ----------------------------------------------------------------------------- loading --

  core::Result<void> load() {
    const Timestamp now = clock_.unix_millis();
    std::uint32_t checkpoint_segment = 0;
    std::unordered_map<SeriesId, std::string> head_states;
    auto r = db_.read([&](db::Connection& c) -> core::Result<void> {
      {
        auto st = c.prepare("SELECT value FROM tsdb_state WHERE name = 'checkpoint_segment'");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row) checkpoint_segment = static_cast<std::uint32_t>(st->get_int64(0));
      }
      {
        auto st = c.prepare("SELECT value FROM tsdb_state WHERE name = 'rollups_to'");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row) rolled_to_ = st->get_int64(0);
      }
      {
        auto st = c.prepare("SELECT value FROM tsdb_state WHERE name = 'next_series_id'");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row) next_id_ = std::max<SeriesId>(next_id_, static_cast<SeriesId>(st->get_int64(0)));
      }
      {
        auto st = c.prepare("SELECT count(*), coalesce(max(series_id), 0) FROM tsdb_purge");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        purging_series_ = static_cast<std::size_t>(st->get_int64(0));
        next_id_ = std::max<SeriesId>(next_id_, static_cast<SeriesId>(st->get_int64(1)) + 1);
      }
      {
        auto st = c.prepare("SELECT id, org_id, key FROM tsdb_series ORDER BY id");
        if (!st) return st.error();
        while (true) {
          auto row = st->step();
          if (!row) return row.error();
          if (!*row) break;
          std::string key;
          detail::append_org_prefix(key, st->get_int64(1));
          key += st->get_blob(2);
          create_series(static_cast<SeriesId>(st->get_int64(0)), std::move(key), true);
        }
      }
      {
        auto st = c.prepare("SELECT series_id, state FROM tsdb_head");
        if (!st) return st.error();
        while (true) {
          auto row = st->step();
          if (!row) return row.error();
          if (!*row) break;
          head_states.emplace(static_cast<SeriesId>(st->get_int64(0)), st->get_blob(1));
        }
      }
      {
        auto st = c.prepare("SELECT org_id, metric, type, unit, help FROM tsdb_metadata");
        if (!st) return st.error();
        while (true) {
          auto row = st->step();
          if (!row) return row.error();
          if (!*row) break;
          MetricMetadata md;
          md.metric = st->get_text(1);
          md.type = parse_metric_type(st->get_text(2)).value_or(MetricType::kUnknown);
          md.unit = st->get_text(3);
          md.help = st->get_text(4);
          metadata_[{st->get_int64(0), md.metric}] = std::move(md);
        }
      }
      // Recent chunks into the head, per series (primary-key range reads).
      const Timestamp cutoff = now - o_.head_keep_ms;
      auto st = c.prepare(
          "SELECT first_t, kind, last_t, data FROM tsdb_chunks WHERE series_id = ?1 AND first_t "
          ">= ?2 ORDER BY first_t, kind");
      if (!st) return st.error();
      for (auto& sp : series_) {
        if (!sp) continue;
        st->reset();
        st->bind(1, static_cast<std::int64_t>(sp->id)).bind(2, cutoff - kMaxChunkSpanMs);
        while (true) {
          auto row = st->step();
          if (!row) return row.error();
          if (!*row) break;
          add_loaded_chunk(*sp, st->get_int64(0), static_cast<std::uint8_t>(st->get_int64(1)),
                           st->get_int64(2), st->get_blob(3));
        }
        sp->mem_from = cutoff;
      }
      return core::ok();
    });
    if (!r) return r;
    for (auto& [id, blob] : head_states) {
      if (id >= series_.size() || !series_[id]) continue;
      if (!restore(*series_[id], blob)) {
        log_.warn("tsdb", "series {}: damaged head snapshot; its open chunk is lost", id);
      }
    }
    // Replay the log written since the checkpoint.
    std::size_t samples = 0;
    auto replayed = log_file_.replay(
        checkpoint_segment, [&](detail::LogRecordType type, std::string_view payload) {
          detail::LeReader rd{payload};
          if (type == detail::LogRecordType::kSeries) {
            auto id = rd.u32();
            auto org = rd.i64();
            auto key = rd.bytes();
            if (!rd.ok || id == 0) return;
            if (id < series_.size() && series_[id]) return;
            std::string full;
            detail::append_org_prefix(full, org);
            full += key;
            if (index_.find(full, key_hash(full), key_of_series()) != 0) return;
            create_series(id, std::move(full), false);
            return;
          }
          auto n = rd.u32();
          for (std::uint32_t k = 0; k < n && rd.ok; ++k) {
            auto id = rd.u32();
            Sample s{rd.i64(), rd.f64()};
            if (!rd.ok) break;
            if (id >= series_.size() || !series_[id]) continue;
            apply(*series_[id], s, now, /*replay=*/true);
            ++samples;
          }
        });
    if (!replayed) return replayed.error();
    if (auto r = load_ooo_span(now - o_.head_keep_ms - kMaxChunkSpanMs); !r) return r;
    if (rolled_to_ == kNone) {
      // A new store rolls from the current expiry time on (nothing older can be accepted). It is
      // written down at once: starting later after a restart would skip buckets.
      rolled_to_ = floor_to(now - o_.raw_retention_ms, kRollAlignMs);
      auto w = db_.write_sync(
          [this](db::Connection& c) { return write_state(c, "rollups_to", rolled_to_); });
      if (!w) return w;
    }
    for (auto& sp : series_) {
      if (!sp) continue;
      sp->sealed.shrink_to_fit();
      sp->chunks.shrink_to_fit();
      sp->arrived = now;  // staleness counts from start-up, not from before the restart
    }
    log_.info("tsdb",
              "loaded {} series; replayed {} log records ({} samples) since checkpoint "
              "segment {}",
              index_.size(), *replayed, samples, checkpoint_segment);
    return core::ok();
  }

  // A persisted chunk read at start-up joins the series' sealed chunks in memory.
  void add_loaded_chunk(Series& s, Timestamp first_t, std::uint8_t kind, Timestamp last_t,
                        const std::string& data) {
    s.sealed += data;
    s.chunks.emplace_back(first_t, last_t, data.size(), kind, true);
    head_bytes_ += data.size();
    ++head_chunks_;
  }

  // Out-of-order samples may land up to ooo_window_ms behind a series' newest sample, and are
  // checked against the samples stored at their time (duplicates) in memory. As evict() keeps
  // that span in memory while running, load it at start-up where it lies below mem_from (a series
  // being backfilled with data older than head_keep_ms), or such a duplicate would go unseen.
  // Chunks starting at or after `loaded_from` were loaded already, and replay may have
  // sealed some of the others again. Start-up only: reads SQLite on the calling thread.
  core::Result<void> load_ooo_span(Timestamp loaded_from) {
    return db_.read([&](db::Connection& c) -> core::Result<void> {
      auto st = c.prepare(
          "SELECT first_t, kind, last_t, data FROM tsdb_chunks WHERE series_id = ?1 AND first_t "
          ">= ?2 AND first_t < ?3 AND last_t >= ?4 ORDER BY first_t, kind");
      if (!st) return st.error();
      for (auto& sp : series_) {
        if (!sp || sp->max_t == kNone) continue;
        const Timestamp guard = sp->max_t - o_.ooo_window_ms - kTierWidthMs[kTierCount - 1];
        if (guard >= sp->mem_from) continue;
        st->reset();
        st->bind(1, static_cast<std::int64_t>(sp->id))
            .bind(2, guard - kMaxChunkSpanMs)
            .bind(3, loaded_from)
            .bind(4, guard);
        while (true) {
          auto row = st->step();
          if (!row) return row.error();
          if (!*row) break;
          const Timestamp first_t = st->get_int64(0);
          const auto kind = static_cast<std::uint8_t>(st->get_int64(1));
          const bool in_memory = std::any_of(
              sp->chunks.begin(), sp->chunks.end(),
              [&](const MemChunk& m) { return m.first_t == first_t && m.kind() == kind; });
          if (!in_memory) add_loaded_chunk(*sp, first_t, kind, st->get_int64(2), st->get_blob(3));
        }
        sp->mem_from = guard;
      }
      return core::ok();
    });
  }

  // 100 at or over max_series_per_org, 80 at or over 80 % of it, else 0.
  int limit_level(std::size_t count) const {
    const std::size_t limit = o_.max_series_per_org;
    if (count >= limit) return 100;
    if (count * 5 >= limit * 4) return 80;
    return 0;
  }

  // Publishes SeriesLimitReached when `oi` has just reached a higher level.
  void note_series_limit(std::int64_t org, OrgIndex& oi) {
    const int level = limit_level(oi.count);
    if (level > oi.limit_level && bus_) {
      log_.warn("tsdb", "organization {} has {} series, {}% of tsdb.max_series_per_org ({})", org,
                oi.count, level, o_.max_series_per_org);
      bus_->publish(SeriesLimitReached{org, level, oi.count, o_.max_series_per_org});
    }
    oi.limit_level = level;
  }

  void create_series(SeriesId id, std::string key, bool indexed) {
    if (series_.size() <= id) series_.resize(static_cast<std::size_t>(id) + 1);
    auto s = std::make_unique<Series>();
    s->id = id;
    s->key = std::move(key);
    s->indexed = indexed;
    auto org = s->org();
    auto& oi = orgs_[org];
    ++oi.count;
    if (announce_limits_) note_series_limit(org, oi);
    oi.by_metric[std::string(detail::KeyView(s->unprefixed()).metric())].push_back(id);
    {
      detail::KeyView kv(s->unprefixed());
      std::string_view n, v;
      std::string pair;
      while (kv.next(n, v)) {
        pair.assign(n);
        pair.push_back('\0');
        pair.append(v);
        oi.by_label[pair].push_back(id);
      }
    }
    index_.insert(key_hash(s->key), id);
    if (!indexed) unindexed_.push_back(id);
    next_id_ = std::max(next_id_, id + 1);
    series_[id] = std::move(s);
  }

  // ---------------------------------------------------------------------------- applying --

  void apply(Series& s, Sample smp, Timestamp now, bool replay = false) {
    if (s.max_t == kNone || smp.t > s.max_t) {
      if (s.head.size() >= o_.chunk_samples ||
          (s.head.size() > 0 && smp.t - s.head.first_t() > kMaxChunkSpanMs)) {
        seal(s, 0);
      }
      (void)s.head.append(smp);  // cannot fail: finite, after last_t, room left
      if (s.max_t != kNone) {
        Timestamp d = smp.t - s.max_t;
        s.interval = s.interval == 0 ? d : (s.interval * 7 + d) / 8;
      }
      s.max_t = smp.t;
      s.last_v = smp.v;
      s.arrived = now;
      if (s.stale && !replay) {
        s.stale = false;
        if (bus_)
          bus_->publish(SeriesFresh{s.org(), s.id, detail::decode_series_key(s.unprefixed())});
      }
      return;
    }
    // Out of order (validated by append(); replayed as it was accepted).
    if (!s.ooo) s.ooo = std::make_unique<ChunkEncoder>();
    auto& ooo = *s.ooo;
    if (ooo.size() >= o_.chunk_samples ||
        (ooo.size() > 0 &&
         (std::max(ooo.last_t(), smp.t) - std::min(ooo.first_t(), smp.t) > kMaxChunkSpanMs))) {
      seal(s, 1);
    }
    if (ooo.size() == 0 || smp.t > ooo.last_t()) {
      (void)ooo.append(smp);
    } else {
      auto samples = decode_chunk(ooo.bytes());
      std::vector<Sample> v = samples ? std::move(*samples) : std::vector<Sample>{};
      auto it = std::lower_bound(v.begin(), v.end(), smp.t,
                                 [](const Sample& a, Timestamp t) { return a.t < t; });
      if (it != v.end() && it->t == smp.t) {
        *it = smp;
      } else {
        v.insert(it, smp);
      }
      ChunkEncoder rebuilt;
      for (const auto& x : v) (void)rebuilt.append(x);
      ooo = std::move(rebuilt);
    }
  }

  void seal(Series& s, std::uint8_t kind) {
    auto& enc = kind == 0 ? s.head : *s.ooo;
    if (enc.size() == 0) return;
    // Sealed chunks are stored (in memory and SQLite) in their most compact encoding.
    const std::string bytes = compact_chunk(enc.bytes());
    // A chunk sealed again after a crash replay replaces the copy loaded from SQLite. Its samples
    // stay in memory, so reads must not be sent to SQLite for them.
    const Timestamp mem_from = s.mem_from;
    drop_memory_chunks(
        s, [&](const MemChunk& c) { return c.kind() == kind && c.first_t == enc.first_t(); });
    s.mem_from = mem_from;
    const MemChunk mc(enc.first_t(), enc.last_t(), bytes.size(), kind, false);
    // Exact capacity: a doubling buffer would hold up to as much slack as data, per series.
    std::string grown;
    grown.reserve(s.sealed.size() + bytes.size());
    grown.append(s.sealed).append(bytes);
    s.sealed = std::move(grown);
    s.chunks.push_back(mc);
    s.chunks.shrink_to_fit();
    head_bytes_ += bytes.size();
    pending_chunks_.push_back({s.id, kind, mc.first_t, mc.last_t(), bytes});
    ++head_chunks_;
    enc = ChunkEncoder();
  }

  template <class Pred>
  void drop_memory_chunks(Series& s, Pred pred) {
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

  // The stored value at time `t` in the head, if any.
  std::optional<double> value_at(const Series& s, Timestamp t) const {
    auto find_in = [t](std::string_view bytes) -> std::optional<double> {
      ChunkDecoder dec(bytes);
      while (dec.next()) {
        if (dec.sample().t == t) return dec.sample().v;
        if (dec.sample().t > t) break;
      }
      return std::nullopt;
    };
    if (s.ooo && s.ooo->size() > 0 && t >= s.ooo->first_t() && t <= s.ooo->last_t()) {
      if (auto v = find_in(s.ooo->bytes())) return v;
    }
    if (s.head.size() > 0 && t >= s.head.first_t() && t <= s.head.last_t()) {
      if (auto v = find_in(s.head.bytes())) return v;
    }
    std::size_t end = s.sealed.size();  // of the chunk's bytes (newest chunk first)
    for (auto it = s.chunks.rbegin(); it != s.chunks.rend(); ++it) {
      const std::size_t begin = end - it->size();
      end = begin;
      if (t < it->first_t || t > it->last_t()) continue;
      if (auto v = find_in(std::string_view(s.sealed).substr(begin, it->size()))) return v;
    }
    return std::nullopt;
  }

  // Keeps the head within its budget: persisted sealed chunks leave memory, oldest first, once
  // past head_keep_ms, or earlier while over head_max_bytes — but never those the out-of-order
  // window (plus one 1h bucket) may still need.
  void evict() {
    const Timestamp now = clock_.unix_millis();
    Timestamp keep_from = now - o_.head_keep_ms;
    for (auto& sp : series_) {
      if (!sp || sp->chunks.empty()) continue;
      Timestamp guard = sp->max_t - o_.ooo_window_ms - kTierWidthMs[kTierCount - 1];
      Timestamp cut = std::min(keep_from, guard);
      drop_memory_chunks(*sp, [&](const MemChunk& c) { return c.persisted() && c.last_t() < cut; });
    }
    // Over budget: walk the cut-off forward until under it.
    Timestamp span = o_.head_keep_ms;
    while (head_bytes_ > o_.head_max_bytes && span > 3'600'000) {
      span /= 2;
      Timestamp cut_from = now - span;
      for (auto& sp : series_) {
        if (!sp || sp->chunks.empty()) continue;
        Timestamp guard = sp->max_t - o_.ooo_window_ms - kTierWidthMs[kTierCount - 1];
        Timestamp cut = std::min(cut_from, guard);
        drop_memory_chunks(*sp,
                           [&](const MemChunk& c) { return c.persisted() && c.last_t() < cut; });
      }
    }
  }

  // After a big write the copies of chunks and buckets it held are freed; glibc keeps freed
  // small blocks in its heaps unless asked, which would show as RSS that never comes back.
  // Done on a worker (it walks every heap), one at a time, when the heaps hold more than 8 MiB
  // of free memory.
  void release_free_memory() {
#ifdef __GLIBC__
    if (trimming_ || mallinfo2().fordblks < (8u << 20)) return;
    trimming_ = true;
    auto r = workers_.run<int>([] { return malloc_trim(0); }, loop_,
                               [this, alive = std::weak_ptr<int>(alive_)](int) {
                                 if (!alive.expired()) trimming_ = false;
                               });
    if (!r) trimming_ = false;
#endif
  }

  void update_gauges() {
    if (m_series_) m_series_->set(static_cast<double>(index_.size()));
    if (m_head_bytes_) m_head_bytes_->set(static_cast<double>(head_bytes_ + open_bytes()));
    if (m_log_bytes_) m_log_bytes_->set(static_cast<double>(log_file_.bytes()));
    if (m_pending_) {
      // Chunks being written count until their write has committed.
      std::size_t n = pending_chunks_.size();
      if (inflight_chunks_) n += inflight_chunks_->size();
      if (inflight_job_) n += inflight_job_->chunks.size();
      m_pending_->set(static_cast<double>(n));
    }
  }

  std::size_t open_bytes() const {
    std::size_t n = 0;
    for (const auto& sp : series_) {
      if (sp) n += sp->head.bytes().size() + (sp->ooo ? sp->ooo->bytes().size() : 0);
    }
    return n;
  }

  void arm_timers() {
    arm(flush_timer_, o_.flush_interval, [this] { flush([](core::Result<void>) {}); });
    arm(checkpoint_timer_, o_.checkpoint_interval, [this] {
      if (!busy_) checkpoint([](core::Result<void>) {});
    });
    arm(retention_timer_, o_.retention_interval,
        [this] { enforce_retention([](core::Result<void>) {}); });
    arm(stale_timer_, o_.stale_check_interval, [this] { check_staleness(); });
  }

  void arm(boost::asio::steady_timer& timer, std::chrono::milliseconds every,
           std::function<void()> fn) {
    timer.expires_after(every);
    timer.async_wait(
        [this, &timer, every, fn = std::move(fn)](const boost::system::error_code& ec) {
          if (ec || closed_) return;
          fn();
          arm(timer, every, fn);
        });
  }

  StoreOptions o_;
  db::Database& db_;
  const core::Clock& clock_;
  core::Logger& log_;
  core::EventBus* bus_;
  boost::asio::any_io_executor loop_;
  core::WorkerPool& workers_;
  detail::AppendLog log_file_;

  std::vector<std::unique_ptr<Series>> series_;  // by id; [0] unused
  FlatIndex index_;
  SeriesKeyOf key_of_series() const {
    return SeriesKeyOf{&series_};
  }
  std::unordered_map<std::int64_t, OrgIndex> orgs_;
  mutable std::unordered_map<SeriesId, std::unique_ptr<SeriesKey>> key_cache_;
  std::map<std::pair<std::int64_t, std::string>, MetricMetadata, std::less<>> metadata_;
  SeriesId next_id_ = 1;
  std::vector<SeriesId> unindexed_;
  std::vector<PendingChunk> pending_chunks_;
  // What the running flush or checkpoint writes (close() writes it again: writes are idempotent).
  std::shared_ptr<std::vector<PendingChunk>> inflight_chunks_;
  std::shared_ptr<std::vector<std::pair<SeriesId, std::string>>> inflight_series_;
  std::shared_ptr<CheckpointJob> inflight_job_;
  std::deque<std::pair<std::int64_t, std::function<void(core::Result<void>)>>> deferred_drops_;
  bool trimming_ = false;
  // Rollup buckets before this time are in tsdb_rollups; from it on they are computed from raw
  // samples (see enforce_retention()). A multiple of 1 h.
  Timestamp rolled_to_ = kNone;
  bool rolling_ = false;  // enforce_retention() is writing buckets
  struct PendingApply {
    std::int64_t org = 0;
    Timestamp accepted_at = 0;  // when append() took the batch (the series' arrival time)
    std::vector<AppendedSample> samples;
  };
  std::deque<PendingApply> to_apply_;
  bool drain_posted_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers check it
  std::uint32_t epoch_ = 0;
  std::size_t head_bytes_ = 0;  // sealed chunk bytes in memory
  std::size_t head_chunks_ = 0;
  std::uint64_t samples_appended_ = 0;
  bool busy_ = false;
  bool announce_limits_ = false;  // after start-up: series limit levels go on the bus
  bool closed_ = false;
  // Organizations dropped since start: appends for them are refused (ids are never reused).
  std::unordered_set<std::int64_t> dropped_orgs_;
  std::size_t purging_series_ = 0;  // rows of tsdb_purge, as the last purge write left them
  bool purging_ = false;            // a purge batch is being written
  core::EventBus::Subscription org_deleted_;

  boost::asio::steady_timer flush_timer_;
  boost::asio::steady_timer checkpoint_timer_;
  boost::asio::steady_timer retention_timer_;
  boost::asio::steady_timer stale_timer_;
  boost::asio::steady_timer apply_timer_;

  core::Counter* m_appended_ = nullptr;
  core::Counter* m_duplicates_ = nullptr;
  core::Counter* m_refused_[static_cast<int>(RefuseReason::kSeriesLimit) + 1] = {};
  core::Counter* m_stale_ = nullptr;
  core::Gauge* m_series_ = nullptr;
  core::Gauge* m_head_bytes_ = nullptr;
  core::Gauge* m_log_bytes_ = nullptr;
  core::Gauge* m_pending_ = nullptr;
  core::Histogram* m_checkpoint_s_ = nullptr;
  core::Gauge* m_purging_ = nullptr;
  core::Counter* m_purge_writes_ = nullptr;
  core::Counter* m_purged_rows_ = nullptr;
};

}  // namespace

KeyedBatch make_keyed_batch(std::int64_t org_id, std::span<const AppendSample> batch) {
  KeyedBatch out;
  out.reserve(batch.size(), 0);
  for (const auto& s : batch) out.push(detail::encode_series_key(org_id, s.key), s.sample);
  return out;
}

std::string_view tier_name(Tier tier) noexcept {
  switch (tier) {
    case Tier::k1m:
      return "1m";
    case Tier::k5m:
      return "5m";
    case Tier::k1h:
      return "1h";
  }
  return "?";
}

std::string_view metric_type_name(MetricType t) noexcept {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<MetricType> parse_metric_type(std::string_view name) {
  if (name == "gauge") return MetricType::kGauge;
  if (name == "counter") return MetricType::kCounter;
  if (name == "unknown") return MetricType::kUnknown;
  return std::nullopt;
}

std::string_view refuse_reason_name(RefuseReason r) noexcept {
  switch (r) {
    case RefuseReason::kTooOld:
      return "too_old";
    case RefuseReason::kBeyondRetention:
      return "beyond_retention";
    case RefuseReason::kTooFarInFuture:
      return "too_far_in_future";
    case RefuseReason::kDuplicateConflict:
      return "duplicate_conflict";
    case RefuseReason::kNotFinite:
      return "not_finite";
    case RefuseReason::kSeriesLimit:
      return "series_limit";
  }
  return "unknown";
}

core::Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, db::Database& db,
                                                 const core::Clock& clock, core::Logger& log,
                                                 core::MetricsRegistry* metrics,
                                                 core::EventBus* bus,
                                                 boost::asio::any_io_executor loop,
                                                 core::WorkerPool& workers) {
  auto store = std::make_unique<StoreImpl>(options, db, clock, log, metrics, bus, loop, workers);
  auto r = store->start();
  if (!r) return r.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace netpulse::tsdb
