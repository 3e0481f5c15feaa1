// The store's start-up: the series index, metadata and recent chunks from SQLite, the head
// snapshot of the last checkpoint, then the append log written since (docs/format/append_log.md),
// replayed through the same apply() as live appends. Blocking; runs before the loop does.
#include "detail/le_codec.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

core::Result<void> StoreImpl::load() {
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
  auto replayed = log_file_.replay(checkpoint_segment,
                                   [&](detail::LogRecordType type, std::string_view payload) {
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
                                       if (index_.find(full, key_hash(full), key_of_series()) != 0)
                                         return;
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
void StoreImpl::add_loaded_chunk(Series& s, Timestamp first_t, std::uint8_t kind, Timestamp last_t,
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
core::Result<void> StoreImpl::load_ooo_span(Timestamp loaded_from) {
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

}  // namespace netpulse::tsdb::detail
