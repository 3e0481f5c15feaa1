// The time-series store (see store.hpp for the model and docs/tsdb.md for the guarantees): opening
// it, closing it, the timers that run its background work, its gauges and stats. The rest of
// StoreImpl lives in the other store_*.cpp files, by concern (detail/store_impl.hpp lists them).
//
// Everything here runs on the event loop except the work handed to the db writer (persisting
// chunks, the head snapshot, rolling up expiring raw data, retention deletes) and to the worker
// pool (reading and decoding for queries that need SQLite). Every write to SQLite is idempotent —
// chunks are keyed by (series, first_t, kind), rollup buckets replace buckets with the same
// start, the head snapshot replaces the previous one — so replaying the append log after a crash,
// which re-seals chunks that may already have been persisted, converges to the same state.
#include <netpulse/core/tenancy.hpp>

#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

StoreImpl::StoreImpl(const StoreOptions& o, db::Database& db, const core::Clock& clock,
                     core::Logger& log, core::MetricsRegistry* metrics, core::EventBus* bus,
                     boost::asio::any_io_executor loop, core::WorkerPool& workers)
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

StoreImpl::~StoreImpl() {
  log_file_.close();
}

core::Result<void> StoreImpl::start() {
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

core::Result<void> StoreImpl::close() {
  drain();
  if (closed_) return core::ok();
  closed_ = true;
  // Posted like every answer: close() may run on another thread, and the callbacks belong to the
  // loop (if it has stopped for good, they are dropped with it).
  for (auto& [org, done] : deferred_drops_) {
    post_done(std::move(done),
              core::Error(core::Errc::kServiceUnavailable,
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

StoreStats StoreImpl::stats() const {
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

void StoreImpl::update_gauges() {
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

std::size_t StoreImpl::open_bytes() const {
  std::size_t n = 0;
  for (const auto& sp : series_) {
    if (sp) n += sp->head.bytes().size() + (sp->ooo ? sp->ooo->bytes().size() : 0);
  }
  return n;
}

void StoreImpl::arm_timers() {
  arm(flush_timer_, o_.flush_interval, [this] { flush([](core::Result<void>) {}); });
  arm(checkpoint_timer_, o_.checkpoint_interval, [this] {
    if (!busy_) checkpoint([](core::Result<void>) {});
  });
  arm(retention_timer_, o_.retention_interval,
      [this] { enforce_retention([](core::Result<void>) {}); });
  arm(stale_timer_, o_.stale_check_interval, [this] { check_staleness(); });
}

void StoreImpl::arm(boost::asio::steady_timer& timer, std::chrono::milliseconds every,
                    std::function<void()> fn) {
  timer.expires_after(every);
  timer.async_wait([this, &timer, every, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    fn();
    arm(timer, every, fn);
  });
}

}  // namespace netpulse::tsdb::detail

namespace netpulse::tsdb {

core::Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, const core::Env& env,
                                                 db::Database& db) {
  auto store = std::make_unique<detail::StoreImpl>(options, db, env.clock, env.log, &env.metrics,
                                                   &env.bus, env.loop, env.workers);
  auto r = store->start();
  if (!r) return r.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace netpulse::tsdb
