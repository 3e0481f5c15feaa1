// The store's append path: validating a batch against the series' newest samples, the
// retention and the clock (refusing per sample or per batch), writing the accepted samples (and
// the new series) to the append log before answering, and then draining acknowledged batches into
// the head — each series' open chunk, the out-of-order chunk, sealing full chunks for the next
// flush. The log record payloads written here are docs/format/append_log.md.
#include <bit>
#include <cmath>
#include <cstring>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/le_codec.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

// Applies acknowledged batches to the head, in order, and publishes SamplesAppended. Runs from
// a handler posted by append(), and first thing in every call that reads or changes the head,
// so no reader ever sees the store without a batch it was answered for.
void StoreImpl::drain() {
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

void StoreImpl::append(std::int64_t org_id, std::vector<AppendSample> batch, AppendMode mode,
                       std::function<void(core::Result<AppendResult>)> done) {
  append(org_id, make_keyed_batch(org_id, batch), mode, std::move(done));
}

void StoreImpl::append(std::int64_t org_id, KeyedBatch batch, AppendMode mode,
                       std::function<void(core::Result<AppendResult>)> done) {
  drain();
  if (closed_) {
    post_done(std::move(done),
              core::Error(core::Errc::kServiceUnavailable, "the time-series store is closed"));
    return;
  }
  if (dropped_orgs_.contains(org_id)) {
    // An ingest that was under way when its organization was deleted: no ghost series.
    post_done(std::move(done), core::Error(core::Errc::kOrganizationNotFound,
                                           fmt::format("organization {} was deleted", org_id)));
    return;
  }
  AppendResult result;
  if (batch.size() > o_.max_batch_samples) {
    post_done(std::move(done),
              core::Error(core::Errc::kPayloadTooLarge,
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
      // The same bits (a NaN payload too) or an equal value (0.0 and -0.0) is a duplicate.
      // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
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
    post_done(std::move(done), std::move(result));
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
      post_done(std::move(done),
                core::Error(core::Errc::kServiceUnavailable,
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
    post_done(std::move(done), std::move(result));
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

void StoreImpl::apply(Series& s, Sample smp, Timestamp now, bool replay) {
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

void StoreImpl::seal(Series& s, std::uint8_t kind) {
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

// The stored value at time `t` in the head, if any.
std::optional<double> StoreImpl::value_at(const Series& s, Timestamp t) const {
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

}  // namespace netpulse::tsdb::detail

namespace netpulse::tsdb {

KeyedBatch make_keyed_batch(std::int64_t org_id, std::span<const AppendSample> batch) {
  KeyedBatch out;
  out.reserve(batch.size(), 0);
  for (const auto& s : batch) out.push(detail::encode_series_key(org_id, s.key), s.sample);
  return out;
}

}  // namespace netpulse::tsdb
