// The store's persistence: flush (sealed chunks and new series to SQLite), checkpoint (the same
// plus the head snapshot, after which old log segments go) and the SQLite writes they share,
// with the bookkeeping of what is in flight and what a failed write puts back. The head
// snapshot's bytes (snapshot(), restore()) are docs/format/head_snapshot.md.
#include "detail/le_codec.hpp"
#include "detail/rollup_block.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

namespace {

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

}  // namespace

void StoreImpl::flush(std::function<void(core::Result<void>)> done) {
  drain();
  if (busy_) {
    // A flush or checkpoint is already writing; it takes what is pending.
    post_done(std::move(done), core::ok());
    return;
  }
  auto chunks = std::make_shared<std::vector<PendingChunk>>(std::move(pending_chunks_));
  pending_chunks_.clear();
  auto series = take_unindexed();
  if (chunks->empty() && series->empty()) {
    // append() leaves the gauges alone (open_bytes() walks every series); this tick keeps
    // them current when nothing was sealed or created.
    update_gauges();
    post_done(std::move(done), core::ok());
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

void StoreImpl::checkpoint(std::function<void(core::Result<void>)> done) {
  drain();
  if (busy_) {
    post_done(std::move(done),
              core::Error(core::Errc::kServiceUnavailable, "a flush or checkpoint is running"));
    return;
  }
  write_checkpoint(std::nullopt, {}, std::move(done));
}

// Rotates the log and writes the head snapshot with everything pending (and, with `drop_org`,
// the deletion of that organization's series) in one transaction; the old log segments go once
// it has committed. The caller has drained and checked busy_.
void StoreImpl::write_checkpoint(std::optional<std::int64_t> drop_org,
                                 std::vector<SeriesId> drop_series,
                                 std::function<void(core::Result<void>)> done) {
  auto seg = log_file_.rotate();
  if (!seg) {
    post_done(std::move(done), seg.error());
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

std::shared_ptr<CheckpointJob> StoreImpl::make_checkpoint_job(std::uint32_t segment) {
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

core::Result<void> StoreImpl::run_checkpoint(db::Connection& c, const CheckpointJob& job) {
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

core::Result<void> StoreImpl::write_state(db::Connection& c, std::string_view name,
                                          std::int64_t value) {
  auto ss = c.prepare(
      "INSERT INTO tsdb_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET "
      "value = excluded.value");
  if (!ss) return ss.error();
  ss->bind(1, name).bind(2, value);
  return ss->run();
}

void StoreImpl::finish_checkpoint(CheckpointJob& job, const core::Result<void>& r) {
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

core::Result<void> StoreImpl::write_series(db::Connection& c,
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

core::Result<void> StoreImpl::write_chunks(db::Connection& c, const std::vector<PendingChunk>& cs) {
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
core::Result<void> StoreImpl::write_buckets(db::Connection& c, std::vector<PendingBucket> bs) {
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

std::shared_ptr<std::vector<std::pair<SeriesId, std::string>>> StoreImpl::take_unindexed() {
  auto out = std::make_shared<std::vector<std::pair<SeriesId, std::string>>>();
  for (auto id : unindexed_) {
    if (id < series_.size() && series_[id] && !series_[id]->indexed)
      out->emplace_back(id, series_[id]->key);
  }
  unindexed_.clear();
  return out;
}

void StoreImpl::requeue(std::vector<PendingChunk> chunks,
                        const std::vector<std::pair<SeriesId, std::string>>& series) {
  for (auto& c : pending_chunks_) chunks.push_back(std::move(c));
  pending_chunks_ = std::move(chunks);
  for (const auto& [id, key] : series) unindexed_.push_back(id);
}

void StoreImpl::mark_persisted(const std::vector<PendingChunk>& chunks,
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
std::string StoreImpl::snapshot(const Series& s) const {
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

bool StoreImpl::restore(Series& s, std::string_view blob) {
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

}  // namespace netpulse::tsdb::detail
