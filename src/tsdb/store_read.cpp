// The store's read path: select() of raw samples, merged from the head's chunks and the chunks in
// SQLite (read on a worker when needed), and of rollup tiers, read from tsdb_rollups where raw data
// has expired and computed from raw samples where it has not, so a bucket always counts every
// accepted sample, late ones too.
#include <fmt/format.h>

#include "detail/rollup_block.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

namespace {

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

}  // namespace

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

void StoreImpl::select(SelectRequest req,
                       std::function<void(core::Result<std::vector<SeriesData>>)> done) {
  drain();
  if (req.end < req.start) {
    post_done(std::move(done), core::invalid_field("end", "end must not be before start"));
    return;
  }
  auto matched = match(req.org_id, req.selectors);
  if (matched.size() > req.max_series) {
    post_done(std::move(done),
              core::Error(core::Errc::kInvalidInput,
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

ChunkSet StoreImpl::chunks_in(const Series& s, Timestamp start, Timestamp end) const {
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
core::Result<void> StoreImpl::read_db_chunks(db::Connection& c, ChunkSet& set, Timestamp start,
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
void StoreImpl::select_raw(const std::vector<SeriesId>& matched, Timestamp start, Timestamp end,
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
  if (!need_db && bytes < kInlineReadBytes) {
    post_done(std::move(done), work());
    return;
  }
  run_on_worker(std::move(work), std::move(done));
}

// Runs `work` on the worker pool and `done` with its result on the loop; when the pool refuses
// (its queue is full), `done` gets the refusal.
void StoreImpl::run_on_worker(std::function<core::Result<std::vector<SeriesData>>()> work,
                              std::function<void(core::Result<std::vector<SeriesData>>)> done) {
  auto shared = std::make_shared<decltype(done)>(std::move(done));
  auto r = workers_.run<core::Result<std::vector<SeriesData>>>(
      std::move(work), loop_,
      [shared](core::Result<std::vector<SeriesData>> out) { (*shared)(std::move(out)); });
  if (!r) post_done(std::move(*shared), r.error());
}

// A tier's buckets: from tsdb_rollups before rolled_to_ (where raw samples have expired) and
// computed from the raw samples after it, so that they always include every accepted sample,
// late ones too, the moment it is accepted.
void StoreImpl::select_rollups(SelectRequest req, std::vector<SeriesId> matched,
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
    // No raw part: `finish` goes straight to run_on_worker for the stored buckets (need_db holds,
    // as rolled > req.end >= req.start), which answers `done` posted.
    finish(std::move(empty));
    return;
  }
  select_raw(matched, raw_from, floor_to(req.end, width) + width - 1, std::move(finish));
}

}  // namespace netpulse::tsdb::detail
