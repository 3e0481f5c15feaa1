// Metric ingest and queries over the time-series store.
//
// Ingest: InfluxDB line protocol (/api/v2/write, /write), the seeds' JSON (/api/v1/metrics), CSV
// (/api/v1/metrics/csv) and manual KPI entry (/api/v1/kpis). Bodies are parsed on the worker pool
// as they inflate (a gzip body is never held inflated), then appended on the loop; the answer goes
// out once the store has the samples in its append log. A request with bad samples stores none of
// them (400, every issue listed by line or index), unless `partial=true` asks to store the good
// ones.
// Queries: query_range, instant query, series/label discovery, the dashboard call and metadata.
// Every read and write is confined to the caller's organization.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <netpulse/tsdb/aggregate.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/query.hpp>
#include <netpulse/tsdb/selector.hpp>

#include "detail/gzip.hpp"
#include "detail/json_fields.hpp"
#include "detail/routes.hpp"
#include "detail/url.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using tsdb::Timestamp;

constexpr std::size_t kMaxIssuesListed = 100;
constexpr Timestamp kMaxQueryRangeMs = 800LL * 86'400'000;
constexpr std::int64_t kMaxPointsPerSeries = 11'000;
// Line-protocol bodies at least this big are parsed by two workers at once.
constexpr std::size_t kParallelParseBytes = 256 << 10;

// --- query-string helpers --------------------------------------------------------------------

// Every (name, decoded value) pair of the query string.
std::vector<std::pair<std::string, std::string>> query_pairs(const ContextPtr& ctx) {
  std::vector<std::pair<std::string, std::string>> out;
  auto target = std::string_view(ctx->request().target());
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = part.find('=');
    std::string key, value;
    if (!percent_decode(part.substr(0, eq), key, true)) continue;
    if (eq != std::string_view::npos && !percent_decode(part.substr(eq + 1), value, true)) continue;
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// Every decoded value of `name` in the request's query string (for repeated `match[]`).
std::vector<std::string> query_all(const ContextPtr& ctx, std::string_view name) {
  std::vector<std::string> out;
  for (auto& [key, value] : query_pairs(ctx)) {
    if (key == name) out.push_back(std::move(value));
  }
  return out;
}

// Unix seconds, integer or decimal (kept to the millisecond) → ms.
std::optional<Timestamp> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  if (v < -1e13 || v > 1e13) return std::nullopt;
  return static_cast<Timestamp>(std::llround(v * 1000.0));
}

// "300", "300s", "500ms", "5m", "1h", "7d" → ms (positive).
std::optional<Timestamp> parse_duration_ms(std::string_view text) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  auto number = text.substr(0, i);
  auto unit = text.substr(i);
  double v = 0;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || ec != std::errc() || p != number.data() + number.size())
    return std::nullopt;
  double mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else if (unit == "w")
    mult = 7 * 86'400'000.0;
  else
    return std::nullopt;
  double ms = v * mult;
  if (!(ms >= 1) || ms > 1e13) return std::nullopt;
  return static_cast<Timestamp>(std::llround(ms));
}

core::Result<std::optional<Timestamp>> time_param(const ContextPtr& ctx, std::string_view name) {
  auto v = ctx->query(name);
  if (!v) return std::optional<Timestamp>();
  auto t = parse_unix_seconds(*v);
  if (!t)
    return core::invalid_field(name,
                               "must be a Unix time in seconds (e.g. 1721199945 or "
                               "1721199945.5)");
  return std::optional<Timestamp>(*t);
}

core::Result<std::optional<Timestamp>> duration_param(const ContextPtr& ctx,
                                                      std::string_view name) {
  auto v = ctx->query(name);
  if (!v) return std::optional<Timestamp>();
  auto d = parse_duration_ms(*v);
  if (!d)
    return core::invalid_field(name,
                               "must be a duration: seconds, or a number with ms, s, "
                               "m, h, d or w (e.g. 60, 5m, 1h)");
  return std::optional<Timestamp>(*d);
}

core::Result<std::optional<std::int64_t>> int_param(const ContextPtr& ctx, std::string_view name,
                                                    std::int64_t lo, std::int64_t hi) {
  auto v = ctx->query(name);
  if (!v) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    return core::invalid_field(name, fmt::format("must be an integer from {} to {}", lo, hi));
  }
  return std::optional<std::int64_t>(n);
}

core::Result<bool> bool_param(const ContextPtr& ctx, std::string_view name) {
  auto v = ctx->query(name);
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return core::invalid_field(name, "must be true or false");
}

// --- JSON output -----------------------------------------------------------------------------

// Unix seconds as JSON: an integer for whole seconds, else a decimal.
boost::json::value json_time(Timestamp t) {
  if (t % 1000 == 0) return t / 1000;
  return static_cast<double>(t) / 1000.0;
}

// A sample value as JSON: an integer when it is one (counters read back as they were written),
// else a double; NaN as null.
boost::json::value json_value(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0 && !(v == 0 && std::signbit(v)))
    return static_cast<std::int64_t>(v);
  return v;
}

boost::json::object json_labels(const tsdb::LabelSet& labels) {
  boost::json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

// --- ingest ----------------------------------------------------------------------------------

enum class Format { kLineProtocol, kCsv, kJson };

struct Parsed {
  std::optional<core::Error> error;  // the body as a whole is unusable
  // The samples keyed on the worker (what goes to the store), issues, lines and truncation.
  tsdb::KeyedParseResult result;
  bool by_index = false;  // JSON: issues and refusals name the array index, not a line
  std::vector<std::pair<std::string, tsdb::MetricMetadata>> metadata;  // JSON "type"/"unit"
};

// Feeds `body` to `parser` (any of the tsdb ingest parsers), inflating it 64 KiB at a time when
// gzipped, so the inflated body never exists whole. An error when the gzip stream is damaged or
// inflates past `max_bytes`; a parser that stops early stops the inflation.
template <class Parser>
std::optional<core::Error> feed(Parser& parser, std::string_view body, bool gzipped,
                                std::size_t max_bytes) {
  if (!gzipped) {
    parser.write(body);
    return std::nullopt;
  }
  std::string why;
  if (gzip_inflate(body, max_bytes, why,
                   [&parser](std::string_view piece) { return parser.write(piece); }) ||
      why.empty()) {
    return std::nullopt;
  }
  return core::Error(why.find("more than") != std::string::npos ? core::Errc::kPayloadTooLarge
                                                                : core::Errc::kInvalidInput,
                     "Content-Encoding gzip: " + why, {{"field", "body"}});
}

// A line protocol or CSV result into `out`.
void take_keyed(tsdb::KeyedParseResult r, Parsed& out) {
  out.result = std::move(r);
  out.error = std::exchange(out.result.error, std::nullopt);
}

// A JSON body's result into `out`: issues and refusals name the array index.
void take_json(tsdb::JsonParseResult r, Parsed& out) {
  out.by_index = true;
  out.error = std::move(r.error);
  out.result.batch = std::move(r.batch);
  out.result.issues = std::move(r.issues);
  out.result.sample_lines = std::move(r.sample_indexes);
  for (auto& md : r.metadata) {
    auto metric = md.metric;
    out.metadata.emplace_back(std::move(metric), std::move(md));
  }
}

boost::json::object issue_json(bool by_index, std::size_t where, std::string_view field,
                               std::string_view reason) {
  boost::json::object o;
  o[by_index ? "index" : "line"] = where;
  o["field"] = field;
  o["reason"] = reason;
  return o;
}

// Parse issues and store refusals, merged in body order, at most kMaxIssuesListed.
boost::json::array issues_json(const Parsed& p, const tsdb::AppendResult* appended) {
  std::vector<std::tuple<std::size_t, std::string, std::string>> all;
  for (const auto& i : p.result.issues) all.emplace_back(i.line, i.field, i.reason);
  if (appended) {
    for (const auto& r : appended->refused) {
      auto where = r.index < p.result.sample_lines.size() ? p.result.sample_lines[r.index] : 0;
      all.emplace_back(where, r.field,
                       fmt::format("{} ({})", r.message, tsdb::refuse_reason_name(r.reason)));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  boost::json::array out;
  for (const auto& [where, field, reason] : all) {
    if (out.size() >= kMaxIssuesListed) break;
    out.push_back(issue_json(p.by_index, where, field, reason));
  }
  return out;
}

// Line-protocol fields skipped rather than stored, by reason ("string": a string field value,
// which NetPulse does not store; its line's numeric fields still are).
core::Counter& skipped_fields_counter(core::MetricsRegistry& metrics, const std::string& reason) {
  return metrics.counter("netpulse_ingest_fields_skipped_total",
                         "Line protocol fields skipped (not stored, not refused), by reason",
                         {{"reason", reason}});
}

struct IngestSpec {
  Format format = Format::kLineProtocol;
  bool no_content_on_success = false;  // line protocol answers 204 like InfluxDB
  tsdb::Precision default_precision = tsdb::Precision::kNanoseconds;
};

void ingest(const ContextPtr& ctx, const RouteDeps& deps, IngestSpec spec) {
  auto precision = spec.default_precision;
  if (auto p = ctx->query("precision")) {
    auto parsed = tsdb::parse_precision(*p);
    if (!parsed) {
      return ctx->reply_error(
          core::invalid_field("precision", "must be one of ns, us, ms, s (or n, u, m, h)"));
    }
    precision = *parsed;
  }
  auto partial = bool_param(ctx, "partial");
  if (!partial) return ctx->reply_error(partial.error());
  auto cenc = std::string(ctx->request()[http::field::content_encoding]);
  bool gzipped = false;
  if (cenc == "gzip" || cenc == "x-gzip") {
    gzipped = true;
  } else if (!cenc.empty() && cenc != "identity") {
    return ctx->reply_error(
        core::Error(core::Errc::kUnsupportedMediaType,
                    "Content-Encoding must be gzip or identity, not \"" + cenc + "\"",
                    {{"field", "Content-Encoding"}}));
  }
  if (spec.format == Format::kJson) {
    auto ctype = std::string_view(ctx->request()[http::field::content_type]);
    auto media = ctype.substr(0, ctype.find(';'));
    if (media != "application/json") {
      return ctx->reply_error(core::Error(
          core::Errc::kUnsupportedMediaType,
          fmt::format("the body must be JSON with Content-Type: application/json, not \"{}\"",
                      std::string(ctype)),
          {{"field", "Content-Type"}}));
    }
  }
  const Timestamp now = deps.clock.unix_millis();
  const auto max_bytes = deps.ingest_max_bytes;
  const auto max_samples = deps.ingest_max_samples;
  const auto org = ctx->org_scope().org_id();
  auto work = [ctx, spec, precision, gzipped, now, max_bytes, max_samples, org]() -> Parsed {
    Parsed out;
    const std::string_view body = ctx->request().body();
    if (!gzipped && body.size() > max_bytes) {
      out.error = core::Error(core::Errc::kPayloadTooLarge,
                              fmt::format("the body may be at most {} bytes", max_bytes),
                              {{"field", "body"}});
      return out;
    }
    tsdb::ParseLimits limits;
    limits.max_lines = max_samples;
    // Parsed as it inflates: the inflated body is never held, only the parser's carry-over from
    // one piece to the next (a JSON sample's document, a line or CSV record) and the samples.
    switch (spec.format) {
      case Format::kLineProtocol: {
        tsdb::LineProtocolParser parser(precision, now, limits, max_samples, org);
        out.error = feed(parser, body, gzipped, max_bytes);
        if (!out.error) take_keyed(parser.take(), out);
        break;
      }
      case Format::kCsv: {
        tsdb::CsvParser parser(limits, org);
        out.error = feed(parser, body, gzipped, max_bytes);
        if (!out.error) take_keyed(parser.take(), out);
        break;
      }
      case Format::kJson: {
        tsdb::JsonSampleParser parser(precision, now, limits, max_samples, org);
        out.error = feed(parser, body, gzipped, max_bytes);
        if (!out.error) take_json(parser.take(), out);
        break;
      }
    }
    return out;
  };
  auto done = [ctx, d = std::make_shared<RouteDeps>(deps), spec,
               partial = *partial](Parsed parsed) {
    const RouteDeps& deps = *d;
    if (parsed.error) return ctx->reply_error(*parsed.error);
    if (parsed.result.skipped_strings > 0) {
      skipped_fields_counter(deps.metrics, "string")
          .inc(static_cast<double>(parsed.result.skipped_strings));
    }
    if (parsed.result.truncated) {
      // Too many lines (or key bytes) is about the request, not about a line: refused whole,
      // even with partial. An issue says which limit.
      const auto& issues = parsed.result.issues;
      auto keys = std::find_if(issues.begin(), issues.end(), [](const tsdb::ParseIssue& i) {
        return i.reason.find("series keys") != std::string::npos;
      });
      return ctx->reply_error(core::Error(
          core::Errc::kPayloadTooLarge,
          keys != issues.end() ? fmt::format("{}; split the batch", keys->reason)
                               : fmt::format("at most {} lines per request; split the batch",
                                             deps.ingest_max_samples),
          {{"field", "body"}}));
    }
    const auto unit = parsed.by_index ? "samples" : "lines";
    if (!parsed.result.issues.empty() && !partial) {
      auto n = parsed.result.issues.size();
      return ctx->reply_error(core::Error(
          core::Errc::kInvalidInput,
          fmt::format("{} {} refused; nothing was stored (add partial=true to store the good "
                      "ones)",
                      n,
                      n == 1 ? (parsed.by_index ? "sample was" : "line was")
                             : (parsed.by_index ? "samples were" : "lines were")),
          {{"issues", issues_json(parsed, nullptr)}, {"issue_count", n}, {"stored", 0}}));
    }
    if (parsed.result.batch.empty() && parsed.result.issues.empty()) {
      if (spec.no_content_on_success) return ctx->reply_no_content();
      return ctx->reply_data({{"accepted", 0},
                              {"duplicates", 0},
                              {"new_series", 0},
                              {"refused", boost::json::array()}});
    }
    auto org = ctx->org_scope().org_id();
    auto shared = std::make_shared<Parsed>(std::move(parsed));
    auto batch = std::move(shared->result.batch);
    auto metadata = std::move(shared->metadata);
    deps.tsdb->append(
        org, std::move(batch),
        partial ? tsdb::AppendMode::kPartial : tsdb::AppendMode::kAllOrNothing,
        [ctx, shared, spec, unit](core::Result<tsdb::AppendResult> r) {
          if (!r) return ctx->reply_error(r.error());
          const auto& a = *r;
          auto refused_count = a.refused.size() + shared->result.issues.size();
          if (!a.stored) {
            return ctx->reply_error(core::Error(
                core::Errc::kInvalidInput,
                fmt::format("{} {} refused by the store; nothing was stored (add partial=true "
                            "to store the good ones)",
                            refused_count, unit),
                {{"issues", issues_json(*shared, &a)},
                 {"issue_count", refused_count},
                 {"stored", 0}}));
          }
          if (refused_count == 0 && spec.no_content_on_success) return ctx->reply_no_content();
          boost::json::object data{{"accepted", a.accepted},
                                   {"duplicates", a.duplicates},
                                   {"new_series", a.new_series},
                                   {"refused_count", refused_count},
                                   {"refused", issues_json(*shared, &a)}};
          ctx->reply_data(std::move(data));
        });
    // "type"/"unit" of JSON samples: metadata, set when it changes.
    std::set<std::string> seen;
    for (auto& [metric, md] : metadata) {
      if (!seen.insert(metric).second) continue;
      auto current = deps.tsdb->metadata(org, metric);
      if (current && current->type == md.type && current->unit == md.unit) continue;
      if (current) md.help = current->help;
      deps.tsdb->set_metadata(org, std::move(md), [](core::Result<void>) {});
    }
  };
  // A big plain line-protocol body is parsed in two halves at once (split at a line break), so
  // one client's batch uses both workers; line numbers of the second half are shifted back.
  std::string_view body = ctx->request().body();
  if (spec.format == Format::kLineProtocol && !gzipped && body.size() >= kParallelParseBytes &&
      body.size() <= max_bytes) {
    // Cut at the end of a record: a newline inside a quoted string does not end one.
    std::size_t cut = 0;
    while (cut < body.size() / 2) cut = tsdb::line_protocol_record_end(body, cut) + 1;
    --cut;
    if (cut + 1 < body.size()) {
      struct Join {
        Parsed parts[2];
        int remaining = 2;
        std::size_t first_lines = 0;
        std::function<void(Parsed)> done;
      };
      auto join = std::make_shared<Join>();
      join->first_lines = static_cast<std::size_t>(
          std::count(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(cut) + 1, '\n'));
      join->done = std::move(done);
      for (int half = 0; half < 2; ++half) {
        auto piece = half == 0 ? body.substr(0, cut + 1) : body.substr(cut + 1);
        auto part_work = [ctx, piece, precision, now, max_samples, org]() -> Parsed {
          Parsed out;
          tsdb::ParseLimits limits;
          limits.max_lines = max_samples;
          // Each half may use half of the key budget, so the body as a whole keeps to it.
          limits.max_key_bytes /= 2;
          tsdb::LineProtocolParser parser(precision, now, limits, max_samples, org);
          parser.write(piece);
          take_keyed(parser.take(), out);
          return out;
        };
        auto finish = [join, half, max_samples](Parsed p) {
          join->parts[half] = std::move(p);
          if (--join->remaining > 0) return;
          Parsed merged = std::move(join->parts[0]);
          auto& second = join->parts[1].result;
          for (auto& i : second.issues) i.line += join->first_lines;
          for (auto& l : second.sample_lines) l += join->first_lines;
          auto& r = merged.result;
          r.batch.append(std::move(second.batch));
          r.issues.insert(r.issues.end(), second.issues.begin(), second.issues.end());
          r.truncated = r.truncated || second.truncated;
          r.skipped_strings += second.skipped_strings;
          r.sample_lines.insert(r.sample_lines.end(), second.sample_lines.begin(),
                                second.sample_lines.end());
          // A half past the sample cap stopped there; so did the whole.
          if (merged.error || join->parts[1].error || r.batch.size() > max_samples) {
            merged.error = core::Error(
                core::Errc::kPayloadTooLarge,
                fmt::format("at most {} samples per request; this one has more", max_samples),
                {{"field", "body"}});
          }
          join->done(std::move(merged));
        };
        auto r = deps.workers->run<Parsed>(std::move(part_work), deps.loop, std::move(finish));
        if (!r) {
          // The first half may already be queued; its result then finds remaining > 0 forever
          // and is dropped with the join. Answer now.
          join->remaining = 1000;
          return ctx->reply_error(r.error());
        }
      }
      return;
    }
  }
  auto r = deps.workers->run<Parsed>(std::move(work), deps.loop, std::move(done));
  if (!r) ctx->reply_error(r.error());
}

// --- queries ---------------------------------------------------------------------------------

core::Result<tsdb::Selector> selector_param(const ContextPtr& ctx, std::string_view name) {
  auto q = ctx->query(name);
  if (!q || q->empty())
    return core::invalid_field(name,
                               "required: a series selector such as "
                               "ifHCInOctets{host=\"core-1\"}");
  auto sel = tsdb::Selector::parse(*q);
  if (!sel) return core::invalid_field(name, sel.error().message);
  return sel;
}

core::Result<std::vector<tsdb::Selector>> match_params(const ContextPtr& ctx) {
  std::vector<tsdb::Selector> out;
  auto values = query_all(ctx, "match[]");
  for (auto& v : query_all(ctx, "match")) values.push_back(std::move(v));
  if (values.size() > 16) return core::invalid_field("match[]", "at most 16 selectors");
  for (const auto& v : values) {
    auto sel = tsdb::Selector::parse(v);
    if (!sel) return core::invalid_field("match[]", sel.error().message);
    out.push_back(std::move(*sel));
  }
  return out;
}

boost::json::object series_json(const tsdb::ResultSeries& s) {
  boost::json::array points;
  points.reserve(s.points.size());
  for (const auto& p : s.points)
    points.push_back(boost::json::array{json_time(p.t), json_value(p.v)});
  return {{"metric", s.metric}, {"labels", json_labels(s.labels)}, {"points", std::move(points)}};
}

void query_range(const ContextPtr& ctx, const RouteDeps& deps) {
  auto fail = [&](const core::Error& e) { ctx->reply_error(e); };
  auto sel = selector_param(ctx, "query");
  if (!sel) return fail(sel.error());
  auto start = time_param(ctx, "start");
  if (!start) return fail(start.error());
  auto end = time_param(ctx, "end");
  if (!end) return fail(end.error());
  if (!*start) return fail(core::invalid_field("start", "required: Unix time in seconds"));
  const Timestamp now = deps.clock.unix_millis();
  Timestamp s = **start;
  Timestamp e = *end ? **end : now;
  if (e < s) return fail(core::invalid_field("end", "must not be before start"));
  if (e - s > kMaxQueryRangeMs)
    return fail(core::invalid_field("end", "the range may be at most 800 days"));
  auto step = duration_param(ctx, "step");
  if (!step) return fail(step.error());
  tsdb::RangeQuery q;
  q.start = s;
  q.end = e;
  q.step = step->value_or(0);
  if (q.step > 0 && (e - s) / q.step + 1 > kMaxPointsPerSeries) {
    return fail(core::invalid_field(
        "step", fmt::format("gives more than {} points per series: raise it or shorten the range",
                            kMaxPointsPerSeries)));
  }
  if (auto agg = ctx->query("agg")) {
    auto a = tsdb::parse_agg(*agg);
    if (!a)
      return fail(core::invalid_field("agg",
                                      "must be one of avg, min, max, sum, count, "
                                      "last, p50, p90, p95, p99"));
    q.agg = *a;
  }
  if (auto fn = ctx->query("fn")) {
    auto f = tsdb::parse_range_fn(*fn);
    if (!f) return fail(core::invalid_field("fn", "must be rate or increase"));
    q.fn = *f;
  }
  if (auto w = ctx->query("width")) {
    if (*w == "32")
      q.width = tsdb::CounterWidth::k32;
    else if (*w == "64")
      q.width = tsdb::CounterWidth::k64;
    else
      return fail(core::invalid_field("width", "must be 32 or 64 (counter width)"));
  }
  if (auto by = ctx->query("by")) {
    q.group = true;
    std::string_view rest = *by;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      if (name != tsdb::kMetricNameLabel && !tsdb::valid_label_name(name))
        return fail(core::invalid_field("by", "must be a comma-separated list of label names"));
      q.group_by.emplace_back(name);
    }
    if (q.group_by.size() > 16) return fail(core::invalid_field("by", "at most 16 labels"));
  }
  if (auto g = ctx->query("group")) {
    auto a = tsdb::parse_agg(*g);
    if (!a)
      return fail(core::invalid_field("group",
                                      "must be one of avg, min, max, sum, count, "
                                      "last, p50, p90, p95, p99"));
    q.group = true;
    q.group_agg = *a;
  }
  if (q.group && q.step == 0) {
    return fail(core::invalid_field("step", "grouping series (by/group) needs a step"));
  }
  auto topk = int_param(ctx, "topk", 1, 10'000);
  if (!topk) return fail(topk.error());
  if (*topk) q.topk = static_cast<std::size_t>(**topk);
  auto points = int_param(ctx, "points", 2, 100'000);
  if (!points) return fail(points.error());
  if (*points) q.max_points = static_cast<std::size_t>(**points);

  // The tier: raw unless the range is long for the step, or older than raw retention.
  std::optional<tsdb::Tier> tier;
  std::string tier_choice = ctx->query("tier").value_or("auto");
  bool percentile = q.agg == tsdb::AggFn::kP50 || q.agg == tsdb::AggFn::kP90 ||
                    q.agg == tsdb::AggFn::kP95 || q.agg == tsdb::AggFn::kP99;
  if (tier_choice == "raw" || tier_choice == "1m") {
  } else if (tier_choice == "5m") {
    tier = tsdb::Tier::k5m;
  } else if (tier_choice == "1h") {
    tier = tsdb::Tier::k1h;
  } else if (tier_choice == "auto") {
    bool beyond_raw = s < now - deps.raw_retention_ms;
    if (q.step >= 3'600'000 && (beyond_raw || (!percentile && e - s > 30LL * 86'400'000))) {
      tier = tsdb::Tier::k1h;
    } else if (q.step >= 300'000 && (beyond_raw || (!percentile && e - s > 7LL * 86'400'000))) {
      tier = tsdb::Tier::k5m;
    }
  } else {
    return fail(core::invalid_field("tier", "must be auto, raw, 5m or 1h"));
  }
  if (tier && q.step > 0 && q.step < tsdb::kTierWidthMs[static_cast<int>(*tier)]) {
    return fail(core::invalid_field("step", "must be at least the tier's bucket width"));
  }
  tsdb::SelectRequest req;
  req.org_id = ctx->org_scope().org_id();
  req.selectors.push_back(std::move(*sel));
  // rate/increase need the sample before each bucket: read one step earlier.
  req.start = q.fn != tsdb::RangeFn::kNone && q.step > 0 ? s - q.step : s;
  req.end = q.step > 0 ? e + q.step - 1 : e;
  req.tier = tier;
  auto tier_label = tier ? std::string(tsdb::tier_name(*tier)) : std::string("raw");
  auto step_ms = q.step;
  auto* workers = deps.workers;
  auto loop = deps.loop;
  deps.tsdb->select(std::move(req), [ctx, q = std::move(q), tier_label, step_ms, workers, loop](
                                        core::Result<std::vector<tsdb::SeriesData>> data) mutable {
    if (!data) return ctx->reply_error(data.error());
    auto evaluate = [q, data = std::make_shared<std::vector<tsdb::SeriesData>>(
                            std::move(*data))]() -> core::Result<std::string> {
      auto result = tsdb::evaluate_range(q, std::move(*data));
      if (!result) return result.error();
      boost::json::array series;
      for (const auto& s : *result) series.push_back(series_json(s));
      return boost::json::serialize(series);
    };
    auto reply = [ctx, tier_label, step_ms](core::Result<std::string> series) {
      if (!series) return ctx->reply_error(series.error());
      // The series array is serialised already (on the worker); splice it into the envelope.
      std::string body = fmt::format(
          R"({{"success":true,"data":{{"series":{},"tier":"{}","step":{}}},"meta":{}}})", *series,
          tier_label,
          step_ms > 0 ? fmt::format("{}", static_cast<double>(step_ms) / 1000.0)
                      : std::string("null"),
          boost::json::serialize(ctx->meta()));
      ctx->reply({http::status::ok, std::move(body)});
    };
    auto r = workers->run<core::Result<std::string>>(std::move(evaluate), loop, std::move(reply));
    if (!r) ctx->reply_error(r.error());
  });
}

void query_instant(const ContextPtr& ctx, const RouteDeps& deps) {
  auto sel = selector_param(ctx, "query");
  if (!sel) return ctx->reply_error(sel.error());
  auto at = time_param(ctx, "time");
  if (!at) return ctx->reply_error(at.error());
  auto lookback = duration_param(ctx, "lookback");
  if (!lookback) return ctx->reply_error(lookback.error());
  Timestamp t = at->value_or(deps.clock.unix_millis());
  Timestamp lb = lookback->value_or(300'000);
  if (lb > 31LL * 86'400'000)
    return ctx->reply_error(core::invalid_field("lookback", "at most 31 days"));
  tsdb::SelectRequest req;
  req.org_id = ctx->org_scope().org_id();
  req.selectors.push_back(std::move(*sel));
  req.start = t - lb;
  req.end = t;
  deps.tsdb->select(std::move(req), [ctx](core::Result<std::vector<tsdb::SeriesData>> data) {
    if (!data) return ctx->reply_error(data.error());
    boost::json::array out;
    for (const auto& d : *data) {
      if (d.samples.empty()) continue;
      const auto& last = d.samples.back();
      out.push_back({{"metric", d.key.metric},
                     {"labels", json_labels(d.key.labels)},
                     {"value", boost::json::array{json_time(last.t), json_value(last.v)}}});
    }
    ctx->reply_data({{"series", std::move(out)}});
  });
}

void dashboard(const ContextPtr& ctx, const RouteDeps& deps) {
  auto metric = ctx->query("metric");
  if (!metric || !tsdb::valid_metric_name(*metric)) {
    return ctx->reply_error(core::invalid_field("metric", "required: a metric name"));
  }
  auto window_text = ctx->query("window").value_or("5m");
  auto window = parse_duration_ms(window_text);
  if (!window || *window > 31LL * 86'400'000) {
    return ctx->reply_error(
        core::invalid_field("window", "must be a duration of at most 31 days (e.g. 5m, 1h, 24h)"));
  }
  // Every other query parameter is a label filter: name=value.
  std::vector<tsdb::Matcher> filters;
  boost::json::object filter_json;
  for (auto& [k, v] : query_pairs(ctx)) {
    if (k == "metric" || k == "window") continue;
    if (!tsdb::valid_label_name(k)) {
      return ctx->reply_error(core::invalid_field(
          k, "unknown parameter: label filters are name=value with a label name"));
    }
    auto m = tsdb::Matcher::make(k, tsdb::MatchOp::kEqual, v);
    if (!m) return ctx->reply_error(m.error());
    filter_json[k] = v;
    filters.push_back(std::move(*m));
  }
  if (filters.size() > 16) return ctx->reply_error(core::invalid_field("filters", "at most 16"));
  std::string text = *metric;
  if (!filters.empty()) {
    text += "{";
    for (std::size_t i = 0; i < filters.size(); ++i) {
      if (i) text += ",";
      std::string escaped;
      for (char c : filters[i].value) {
        if (c == '\\' || c == '"') escaped.push_back('\\');
        if (c == '\n') {
          escaped += "\\n";
          continue;
        }
        escaped.push_back(c);
      }
      text += fmt::format("{}=\"{}\"", filters[i].name, escaped);
    }
    text += "}";
  }
  auto sel = tsdb::Selector::parse(text);
  if (!sel) return ctx->reply_error(core::invalid_field("filters", sel.error().message));
  Timestamp now = deps.clock.unix_millis();
  tsdb::SelectRequest req;
  req.org_id = ctx->org_scope().org_id();
  req.selectors.push_back(std::move(*sel));
  req.start = now - *window;
  req.end = now;
  deps.tsdb->select(std::move(req), [ctx, metric = *metric, window_text, filter_json](
                                        core::Result<std::vector<tsdb::SeriesData>> data) {
    if (!data) return ctx->reply_error(data.error());
    std::vector<double> values;
    std::size_t series = 0;
    for (const auto& d : *data) {
      if (!d.samples.empty()) ++series;
      for (const auto& s : d.samples) values.push_back(s.v);
    }
    boost::json::object aggs;
    if (values.empty()) {
      aggs = {{"avg", nullptr}, {"min", nullptr}, {"max", nullptr}, {"p95", nullptr}, {"count", 0}};
    } else {
      aggs = {{"avg", json_value(tsdb::aggregate(tsdb::AggFn::kAvg, values))},
              {"min", json_value(tsdb::aggregate(tsdb::AggFn::kMin, values))},
              {"max", json_value(tsdb::aggregate(tsdb::AggFn::kMax, values))},
              {"p95", json_value(tsdb::aggregate(tsdb::AggFn::kP95, values))},
              {"count", values.size()}};
    }
    ctx->reply_data({{"metric_name", metric},
                     {"window", window_text},
                     {"filters", filter_json},
                     {"series_count", series},
                     {"aggregations", std::move(aggs)}});
  });
}

boost::json::object metadata_json(const tsdb::MetricMetadata& md) {
  return {{"metric", md.metric},
          {"type", tsdb::metric_type_name(md.type)},
          {"unit", md.unit},
          {"help", md.help}};
}

Route route(http::verb method, std::string pattern, Permission perm, std::string summary,
            Handler handler, std::vector<QueryParamDoc> query = {}) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.permission = perm;
  r.doc.summary = std::move(summary);
  r.doc.tag = "metrics";
  r.doc.query = std::move(query);
  r.handler = std::move(handler);
  return r;
}

}  // namespace

void register_metric_routes(Router& router, const RouteDeps& deps_in) {
  if (!deps_in.tsdb || !deps_in.workers) return;
  // Handlers outlive the caller's RouteDeps: they share one copy.
  auto shared = std::make_shared<RouteDeps>(deps_in);
  const RouteDeps& deps = *shared;
  using verb = http::verb;
  const std::vector<QueryParamDoc> ingest_params = {
      {"precision", "timestamp unit: ns (default for line protocol), us, ms, s (default for JSON)"},
      {"partial", "true: store the good samples and list the bad ones (default: all or nothing)",
       "boolean"}};

  skipped_fields_counter(deps.metrics, "string");  // listed in /metrics from the start
  auto lp = [shared, &deps](ContextPtr ctx) {
    ingest(ctx, deps, {Format::kLineProtocol, true, tsdb::Precision::kNanoseconds});
  };
  for (const char* path : {"/api/v2/write", "/write"}) {
    auto r = route(verb::post, path, Permission::kMetricsWrite,
                   "Write samples in InfluxDB line protocol (Telegraf compatible; "
                   "Authorization: Token <api key> or Bearer)",
                   lp, ingest_params);
    r.audited = false;  // machine ingest: counted in /metrics, not one audit row per batch
    r.doc.success_status = 204;
    router.add(std::move(r));
  }
  {
    auto r = route(
        verb::post, "/api/v1/metrics", Permission::kMetricsWrite,
        "Write samples as JSON: {metric_name, value, timestamp, tags} or an array",
        [shared, &deps](ContextPtr ctx) {
          ingest(ctx, deps, {Format::kJson, false, tsdb::Precision::kSeconds});
        },
        ingest_params);
    r.audited = false;
    router.add(std::move(r));
  }
  {
    auto r = route(verb::post, "/api/v1/metrics/csv", Permission::kMetricsWrite,
                   "Write samples as CSV: header metric,value,timestamp[,label...]",
                   [shared, &deps](ContextPtr ctx) {
                     ingest(ctx, deps, {Format::kCsv, false, tsdb::Precision::kSeconds});
                   },
                   {ingest_params[1]});
    r.audited = false;
    router.add(std::move(r));
  }
  {
    auto r = route(
        verb::post, "/api/v1/kpis", Permission::kMetricsWrite,
        "Enter one KPI value by hand (recorded in the audit log with who entered it)",
        [shared, &deps](ContextPtr ctx) {
          Fields f(ctx->body());
          if (auto r = f.only({"metric_name", "value", "timestamp", "tags", "note"}); !r)
            return ctx->reply_error(r.error());
          auto note = f.optional_string("note", 500);
          if (!note) return ctx->reply_error(note.error());
          boost::json::object sample = ctx->body();
          sample.erase("note");
          auto parsed =
              tsdb::parse_json_samples(boost::json::serialize(sample), tsdb::Precision::kSeconds,
                                       deps.clock.unix_millis(), {}, 1, ctx->org_scope().org_id());
          if (parsed.error) return ctx->reply_error(*parsed.error);
          if (!parsed.issues.empty()) {
            const auto& i = parsed.issues.front();
            return ctx->reply_error(core::invalid_field(i.field, i.reason));
          }
          // The parser checked the body: its metric and tags are as stored.
          tsdb::ParsedSample s;
          s.key.metric = std::string(sample.at("metric_name").as_string());
          if (auto* tags = sample.if_contains("tags"); tags && tags->is_object()) {
            for (const auto& [k, v] : tags->as_object()) {
              s.key.labels.emplace_back(std::string(k), std::string(v.as_string()));
            }
            std::sort(s.key.labels.begin(), s.key.labels.end());
          }
          s.sample = parsed.batch.sample(0);
          ctx->set_audit_target("kpis/" + s.key.metric);
          auto actor = ctx->principal().actor;
          deps.tsdb->append(
              ctx->org_scope().org_id(), std::move(parsed.batch), tsdb::AppendMode::kAllOrNothing,
              [ctx, s, actor, note = note->value_or("")](core::Result<tsdb::AppendResult> r) {
                if (!r) return ctx->reply_error(r.error());
                if (!r->stored || r->accepted == 0) {
                  const auto& why = r->refused.front();
                  return ctx->reply_error(core::invalid_field(why.field, why.message));
                }
                ctx->reply_data({{"metric_name", s.key.metric},
                                 {"value", s.sample.v},
                                 {"timestamp", json_time(s.sample.t)},
                                 {"tags", json_labels(s.key.labels)},
                                 {"note", note},
                                 {"entered_by", actor},
                                 {"duplicate", r->duplicates > 0}},
                                http::status::created);
              });
        });
    r.json_body = true;
    r.doc.success_status = 201;
    router.add(std::move(r));
  }
  router.add(route(verb::get, "/api/v1/query_range", Permission::kMetricsRead,
                   "Range query: raw samples, or step-aggregated, rate/increase, grouped, top-k, "
                   "downsampled",
                   [shared, &deps](ContextPtr ctx) { query_range(ctx, deps); },
                   {{"query", "series selector, e.g. ifHCInOctets{host=\"core-1\"}"},
                    {"start", "Unix seconds", "number"},
                    {"end", "Unix seconds (default: now)", "number"},
                    {"step", "bucket width: seconds or 30s, 5m, 1h (omit for raw samples)"},
                    {"agg", "avg (default), min, max, sum, count, last, p50, p90, p95, p99"},
                    {"fn", "rate or increase (counters)"},
                    {"width", "counter width for wrap detection: 32 or 64"},
                    {"by", "comma-separated labels to group series by"},
                    {"group", "how grouped series combine: sum (default), avg, min, max, ..."},
                    {"topk", "keep the k largest series", "integer"},
                    {"points", "at most this many points per series (min/max kept)", "integer"},
                    {"tier", "auto (default), raw, 5m, 1h"}}));
  router.add(route(verb::get, "/api/v1/query", Permission::kMetricsRead,
                   "Instant query: the latest sample of each selected series",
                   [shared, &deps](ContextPtr ctx) { query_instant(ctx, deps); },
                   {{"query", "series selector"},
                    {"time", "Unix seconds (default: now)", "number"},
                    {"lookback", "how far back to look for a sample (default 5m)"}}));
  router.add(route(verb::get, "/api/v1/metrics/usage", Permission::kMetricsRead,
                   "Your organization's series against tsdb.max_series_per_org (events at 80 % "
                   "and 100 %)",
                   [shared, &deps](ContextPtr ctx) {
                     const auto u = deps.tsdb->series_usage(ctx->org_scope().org_id());
                     const double pct = u.limit ? 100.0 * static_cast<double>(u.series) /
                                                      static_cast<double>(u.limit)
                                                : 0.0;
                     ctx->reply_data({{"series", u.series},
                                      {"series_limit", u.limit},
                                      {"percent", std::round(pct * 10) / 10},
                                      {"level", u.series >= u.limit ? "full"
                                                : pct >= 80.0       ? "warning"
                                                                    : "ok"}});
                   }));
  router.add(route(verb::get, "/api/v1/series", Permission::kMetricsRead,
                   "Series matching the selectors (match[] may repeat)",
                   [shared, &deps](ContextPtr ctx) {
                     auto sels = match_params(ctx);
                     if (!sels) return ctx->reply_error(sels.error());
                     auto limit = int_param(ctx, "limit", 1, 100'000);
                     if (!limit) return ctx->reply_error(limit.error());
                     auto list = deps.tsdb->series(ctx->org_scope().org_id(), *sels,
                                                   static_cast<std::size_t>(limit->value_or(1000)));
                     boost::json::array out;
                     for (const auto& s : list) {
                       out.push_back({{"metric", s.key.metric},
                                      {"labels", json_labels(s.key.labels)},
                                      {"last_timestamp", s.last_t ? json_time(s.last_t) : nullptr},
                                      {"last_value", s.last_t ? json_value(s.last_value) : nullptr},
                                      {"stale", s.stale}});
                     }
                     ctx->reply_data(std::move(out));
                   },
                   {{"match[]", "series selector (repeatable)"},
                    {"limit", "most series returned (default 1000)", "integer"}}));
  router.add(route(verb::get, "/api/v1/labels", Permission::kMetricsRead,
                   "Label names of the (selected) series",
                   [shared, &deps](ContextPtr ctx) {
                     auto sels = match_params(ctx);
                     if (!sels) return ctx->reply_error(sels.error());
                     boost::json::array out;
                     for (auto& n : deps.tsdb->label_names(ctx->org_scope().org_id(), *sels))
                       out.push_back(boost::json::string(n));
                     ctx->reply_data(std::move(out));
                   },
                   {{"match[]", "series selector (repeatable)"}}));
  router.add(route(verb::get, "/api/v1/label/{name}/values", Permission::kMetricsRead,
                   "Values of one label (__name__: metric names)",
                   [shared, &deps](ContextPtr ctx) {
                     auto name = std::string(ctx->param("name"));
                     if (name != tsdb::kMetricNameLabel && !tsdb::valid_label_name(name))
                       return ctx->reply_error(core::invalid_field("name", "not a label name"));
                     auto sels = match_params(ctx);
                     if (!sels) return ctx->reply_error(sels.error());
                     boost::json::array out;
                     for (auto& v : deps.tsdb->label_values(ctx->org_scope().org_id(), name, *sels))
                       out.push_back(boost::json::string(v));
                     ctx->reply_data(std::move(out));
                   },
                   {{"match[]", "series selector (repeatable)"}}));
  router.add(route(verb::get, "/api/v1/dashboard", Permission::kMetricsRead,
                   "avg, min, max, p95 and count of a metric over a window; other parameters "
                   "filter by label (host=web-01)",
                   [shared, &deps](ContextPtr ctx) { dashboard(ctx, deps); },
                   {{"metric", "metric name"}, {"window", "e.g. 5m (default), 1h, 24h"}}));
  router.add(route(
      verb::get, "/api/v1/metadata", Permission::kMetricsRead, "Metric metadata (type, unit, help)",
      [shared, &deps](ContextPtr ctx) {
        auto metric = ctx->query("metric");
        if (!metric || !tsdb::valid_metric_name(*metric))
          return ctx->reply_error(core::invalid_field("metric", "required: a metric name"));
        auto md = deps.tsdb->metadata(ctx->org_scope().org_id(), *metric);
        if (!md) {
          md = tsdb::MetricMetadata{*metric, tsdb::MetricType::kUnknown, "", ""};
        }
        ctx->reply_data(metadata_json(*md));
      },
      {{"metric", "metric name"}}));
  {
    auto r = route(
        verb::put, "/api/v1/metadata/{metric}", Permission::kMetricsWrite,
        "Set a metric's type (gauge/counter), unit and help", [shared, &deps](ContextPtr ctx) {
          auto metric = std::string(ctx->param("metric"));
          if (!tsdb::valid_metric_name(metric))
            return ctx->reply_error(core::invalid_field("metric", "not a metric name"));
          Fields f(ctx->body());
          if (auto r = f.only({"type", "unit", "help"}); !r) return ctx->reply_error(r.error());
          auto type = f.optional_string("type", 16);
          if (!type) return ctx->reply_error(type.error());
          auto unit = f.optional_string("unit", 64);
          if (!unit) return ctx->reply_error(unit.error());
          auto help = f.optional_string("help", 1024);
          if (!help) return ctx->reply_error(help.error());
          tsdb::MetricMetadata md;
          md.metric = metric;
          if (*type) {
            auto t = tsdb::parse_metric_type(**type);
            if (!t)
              return ctx->reply_error(
                  core::invalid_field("type", "must be gauge, counter or unknown"));
            md.type = *t;
          }
          md.unit = unit->value_or("");
          md.help = help->value_or("");
          ctx->set_audit_target("metadata/" + metric);
          deps.tsdb->set_metadata(ctx->org_scope().org_id(), md, [ctx, md](core::Result<void> r) {
            if (!r) return ctx->reply_error(r.error());
            ctx->reply_data(metadata_json(md));
          });
        });
    r.json_body = true;
    router.add(std::move(r));
  }
}

}  // namespace netpulse::api::detail
