// What leaves the store, and when: raw samples at raw retention (their 5m and 1h buckets written
// to tsdb_rollups first), rollup blocks at their tier's retention, sealed chunks leaving memory
// (head_keep_ms, head_max_bytes), series marked stale when they stop arriving, and a deleted
// organization's series (at once from memory, then from SQLite in bounded batches).
#include "detail/store_impl.hpp"

// After store_impl.hpp: __GLIBC__ comes with the first standard header.
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace netpulse::tsdb::detail {

// Raw samples expire at raw retention, rounded down to the hour (rolled_to_). Before they go,
// their 5m and 1h buckets are written to tsdb_rollups, where they stay for their tier's
// retention; while raw samples exist, buckets are computed from them (select_rollups()), so
// they are not stored twice. At most kMaxRollStepMs is rolled per call (catching up after a
// long stop takes a few runs).
void StoreImpl::enforce_retention(std::function<void(core::Result<void>)> done) {
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
void StoreImpl::delete_expired(Timestamp now, std::function<void(core::Result<void>)> done) {
  const Timestamp raw_cutoff = rolled_to_;
  // Memory first: chunks past raw retention leave the head (persisted ones only).
  for (auto& sp : series_) {
    if (!sp) continue;
    drop_memory_chunks(*sp,
                       [&](const MemChunk& c) { return c.persisted() && c.last_t() < raw_cutoff; });
  }
  std::vector<SeriesId> ids;
  for (auto& sp : series_)
    if (sp && sp->indexed) ids.push_back(sp->id);
  struct Batch {
    std::vector<SeriesId> ids;
    Timestamp raw_cutoff = 0;
    Timestamp tier_cutoff[kTierCount] = {};
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
    post_done(std::move(done), core::ok());
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

void StoreImpl::check_staleness() {
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

void StoreImpl::drop_org(std::int64_t org_id, std::function<void(core::Result<void>)> done) {
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

void StoreImpl::run_deferred_drop() {
  if (busy_ || deferred_drops_.empty()) return;
  auto [org, done] = std::move(deferred_drops_.front());
  deferred_drops_.pop_front();
  drop_org(org, std::move(done));
}

// Deletes one batch of the dropped series' rows — at most retention_batch_rows chunks and as
// many rollup blocks — and, when a batch finds fewer, forgets the series (tsdb_purge). The next
// batch follows its commit, so the writer interleaves other work. It waits while rollups are
// being written (they may hold buckets of dropped series); a failed batch is retried by the
// retention timer.
void StoreImpl::schedule_purge() {
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

// Keeps the head within its budget: persisted sealed chunks leave memory, oldest first, once
// past head_keep_ms, or earlier while over head_max_bytes — but never those the out-of-order
// window (plus one 1h bucket) may still need.
void StoreImpl::evict() {
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
      drop_memory_chunks(*sp, [&](const MemChunk& c) { return c.persisted() && c.last_t() < cut; });
    }
  }
}

// After a big write the copies of chunks and buckets it held are freed; glibc keeps freed
// small blocks in its heaps unless asked, which would show as RSS that never comes back.
// Done on a worker (it walks every heap), one at a time, when the heaps hold more than 8 MiB
// of free memory.
void StoreImpl::release_free_memory() {
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

}  // namespace netpulse::tsdb::detail
