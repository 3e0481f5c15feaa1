// The store's index: series by canonical key, per organization the series count against
// max_series_per_org and the postings (by metric, by label pair) that selectors are matched
// through; the discovery reads built on it (series, label names and values, organizations) and
// metric metadata.
#include <set>

#include "detail/store_impl.hpp"

namespace netpulse::tsdb::detail {

namespace {

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

}  // namespace

std::vector<SeriesId> StoreImpl::match(std::int64_t org,
                                       std::span<const Selector> selectors) const {
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
    static const std::vector<SeriesId> no_series;
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
        const auto* list = pl == oi.by_label.end() ? &no_series : &pl->second;
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

std::vector<SeriesInfo> StoreImpl::series(std::int64_t org_id, std::span<const Selector> selectors,
                                          std::size_t limit) const {
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
    for (const auto& c : s.chunks) first = first == kNone ? c.first_t : std::min(first, c.first_t);
    if (s.head.size() > 0)
      first = first == kNone ? s.head.first_t() : std::min(first, s.head.first_t());
    info.first_t = first == kNone ? 0 : first;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<std::string> StoreImpl::label_names(std::int64_t org_id,
                                                std::span<const Selector> selectors) const {
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

std::vector<std::string> StoreImpl::label_values(std::int64_t org_id, std::string_view name,
                                                 std::span<const Selector> selectors) const {
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

const SeriesKey* StoreImpl::key_of(SeriesId id) const {
  if (id == 0 || id >= series_.size() || !series_[id]) return nullptr;
  auto& cached = key_cache_[id];
  if (!cached)
    cached = std::make_unique<SeriesKey>(detail::decode_series_key(series_[id]->unprefixed()));
  return cached.get();
}

std::int64_t StoreImpl::org_of(SeriesId id) const {
  if (id == 0 || id >= series_.size() || !series_[id]) return 0;
  return series_[id]->org();
}

std::vector<std::int64_t> StoreImpl::org_ids() const {
  drain();
  std::vector<std::int64_t> out;
  for (const auto& [org, oi] : orgs_) {
    if (oi.count > 0 && !oi.by_metric.empty()) out.push_back(org);
  }
  std::sort(out.begin(), out.end());
  return out;
}

SeriesUsage StoreImpl::series_usage(std::int64_t org_id) const {
  drain();
  auto oit = orgs_.find(org_id);
  return {oit == orgs_.end() ? 0 : oit->second.count, o_.max_series_per_org};
}

void StoreImpl::set_metadata(std::int64_t org_id, MetricMetadata md,
                             std::function<void(core::Result<void>)> done) {
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

std::optional<MetricMetadata> StoreImpl::metadata(std::int64_t org_id,
                                                  std::string_view metric) const {
  auto it = metadata_.find({org_id, std::string(metric)});
  if (it == metadata_.end()) return std::nullopt;
  return it->second;
}

void StoreImpl::create_series(SeriesId id, std::string key, bool indexed) {
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

// 100 at or over max_series_per_org, 80 at or over 80 % of it, else 0.
int StoreImpl::limit_level(std::size_t count) const {
  const std::size_t limit = o_.max_series_per_org;
  if (count >= limit) return 100;
  if (count * 5 >= limit * 4) return 80;
  return 0;
}

// Publishes SeriesLimitReached when `oi` has just reached a higher level.
void StoreImpl::note_series_limit(std::int64_t org, OrgIndex& oi) {
  const int level = limit_level(oi.count);
  if (level > oi.limit_level && bus_) {
    log_.warn("tsdb", "organization {} has {} series, {}% of tsdb.max_series_per_org ({})", org,
              oi.count, level, o_.max_series_per_org);
    bus_->publish(SeriesLimitReached{org, level, oi.count, o_.max_series_per_org});
  }
  oi.limit_level = level;
}

}  // namespace netpulse::tsdb::detail
