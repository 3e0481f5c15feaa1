// One rule's state for one series (detail/series_eval.hpp).
#include "detail/series_eval.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "detail/engine_impl.hpp"

namespace netpulse::alerts::detail {

namespace {

// A forecast that will never reach its target, as seconds: beyond any horizon (90 days).
constexpr double kNever = 1e12;

// Blobs of the trivially copyable baselines: a tag byte, then the object's bytes. A blob whose
// size differs (another layout) is refused, and the baseline learns again.
constexpr char kBaselineTag = 'B';
constexpr char kTrendTag = 'T';
static_assert(std::endian::native == std::endian::little, "the blobs are little-endian");
static_assert(std::is_trivially_copyable_v<SeasonalBaseline>);
static_assert(std::is_trivially_copyable_v<Trend>);
// The per-sample path's footprint (series_eval.hpp, docs/alerts.md): grow it knowingly.
static_assert(sizeof(SeriesEval) <= 56);
static_assert(sizeof(SeriesBinding) <= 72);

template <class T>
std::string blob_of(char tag, const T& object) {
  std::string out(1 + sizeof(T), '\0');
  out[0] = tag;
  std::memcpy(out.data() + 1, &object, sizeof(T));
  return out;
}

template <class T>
bool restore_into(std::unique_ptr<T>& target, char tag, std::string_view blob) {
  if (!target || blob.size() != 1 + sizeof(T) || blob[0] != tag) return false;
  std::memcpy(target.get(), blob.data() + 1, sizeof(T));
  return true;
}

}  // namespace

SeriesEval make_eval(const CompiledRule& rule) {
  SeriesEval e;
  const auto& r = rule.rule();
  switch (r.kind) {
    case RuleKind::kAnomaly:
      e.part = std::make_unique<SeasonalBaseline>();
      break;
    case RuleKind::kForecast:
      e.part = std::make_unique<Trend>(r.forecast ? r.forecast->window_s : 86'400);
      break;
    case RuleKind::kNoData:
      e.part = NoDataState{};
      break;
    case RuleKind::kThreshold:
      if (!r.condition) break;
      switch (r.condition->fn) {
        case ConditionFn::kValue:
          break;
        case ConditionFn::kRate:
          e.part = CounterRate();
          break;
        case ConditionFn::kAvg:
        case ConditionFn::kMin:
        case ConditionFn::kMax:
        case ConditionFn::kP95:
          e.part = std::make_unique<WindowAggregate>(r.condition->fn, r.condition->window_s);
          break;
      }
      break;
    default:
      break;
  }
  return e;
}

std::optional<double> condition_input(SeriesEval& e, const CompiledRule& rule,
                                      const tsdb::Sample& s) {
  const auto& r = rule.rule();
  switch (rule.kind) {
    case RuleKind::kAnomaly: {
      auto& baseline = *std::get<std::unique_ptr<SeasonalBaseline>>(e.part);
      // Judged against what was normal before this value, then learned.
      auto dev = baseline.deviation(s.t, s.v);
      const bool warm = baseline.seen_ms() >= r.anomaly->warmup_s * 1000;
      baseline.observe(s.t, s.v);
      if (!warm || !dev) return std::nullopt;
      return std::fabs(*dev);
    }
    case RuleKind::kForecast: {
      auto& trend = *std::get<std::unique_ptr<Trend>>(e.part);
      trend.observe(s.t, s.v);
      if (!r.condition) return std::nullopt;
      auto secs = trend.seconds_until(r.condition->value, r.condition->op, s.t);
      return secs ? *secs : kNever;
    }
    default:
      break;
  }
  if (auto* rate = std::get_if<CounterRate>(&e.part)) return rate->observe(s.t, s.v);
  if (auto* window = std::get_if<std::unique_ptr<WindowAggregate>>(&e.part)) {
    (*window)->observe(s.t, s.v);
    return (*window)->value(s.t);
  }
  if (!std::isfinite(s.v)) return std::nullopt;
  return s.v;
}

void prefetch_part(const SeriesEval& e) noexcept {
  if (auto* w = std::get_if<std::unique_ptr<WindowAggregate>>(&e.part)) (*w)->prefetch_head();
}

void prefetch_part_buckets(const SeriesEval& e, std::int64_t at_ms) noexcept {
  if (auto* w = std::get_if<std::unique_ptr<WindowAggregate>>(&e.part)) {
    (*w)->prefetch_buckets(at_ms);
  }
}

NoDataState& no_data(SeriesEval& e) {
  return std::get<NoDataState>(e.part);
}

void note_sample(SeriesEval& eval, std::int64_t at_ms) {
  auto& e = no_data(eval);
  if (at_ms <= e.last_sample_ms) return;
  if (e.last_sample_ms > 0) {
    const auto gap = at_ms - e.last_sample_ms;
    // The usual interval follows the gaps slowly (1/8 per sample), so one late poll does not
    // stretch it.
    e.interval_ms = e.interval_ms == 0 ? gap : e.interval_ms + (gap - e.interval_ms) / 8;
  }
  e.last_sample_ms = at_ms;
}

bool warming_up(const SeriesEval& e, const CompiledRule& rule, std::int64_t /*now_ms*/) {
  const auto* b = std::get_if<std::unique_ptr<SeasonalBaseline>>(&e.part);
  if (!b || !*b || !rule.rule().anomaly) return false;
  return (*b)->seen_ms() < rule.rule().anomaly->warmup_s * 1000;
}

std::size_t eval_heap_bytes(const SeriesEval& e) {
  if (auto* w = std::get_if<std::unique_ptr<WindowAggregate>>(&e.part)) {
    return (*w)->state_bytes();
  }
  if (std::holds_alternative<std::unique_ptr<SeasonalBaseline>>(e.part)) {
    return sizeof(SeasonalBaseline);
  }
  if (std::holds_alternative<std::unique_ptr<Trend>>(e.part)) return sizeof(Trend);
  return 0;
}

std::optional<std::string> save_eval(const SeriesEval& e) {
  if (auto* b = std::get_if<std::unique_ptr<SeasonalBaseline>>(&e.part); b && *b) {
    return blob_of(kBaselineTag, **b);
  }
  if (auto* t = std::get_if<std::unique_ptr<Trend>>(&e.part); t && *t) {
    return blob_of(kTrendTag, **t);
  }
  return std::nullopt;
}

bool restore_eval(SeriesEval& e, std::string_view blob) {
  if (auto* b = std::get_if<std::unique_ptr<SeasonalBaseline>>(&e.part)) {
    return restore_into(*b, kBaselineTag, blob);
  }
  if (auto* t = std::get_if<std::unique_ptr<Trend>>(&e.part)) {
    return restore_into(*t, kTrendTag, blob);
  }
  return false;
}

}  // namespace netpulse::alerts::detail
