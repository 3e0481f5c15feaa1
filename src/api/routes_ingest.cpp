// Metric ingest routes: InfluxDB line protocol (/api/v2/write, /write), the seeds' JSON
// (/api/v1/metrics), CSV (/api/v1/metrics/csv) and manual KPI entry (/api/v1/kpis).
//
// Bodies are parsed on the worker pool as they inflate (a gzip body is never held inflated), then
// appended on the loop; the answer goes out once the store has the samples in its append log. A
// request with bad samples stores none of them (400, every issue listed by line or index), unless
// `partial=true` asks to store the good ones. The parsers themselves are tsdb's
// (tsdb/ingest_parse.hpp); this file decides what an HTTP request may send and how it is answered.
#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>

#include <netpulse/core/json.hpp>
#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/gzip.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"
#include "detail/metric_params.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
using tsdb::Timestamp;

constexpr std::size_t kMaxIssuesListed = 100;
// Line-protocol bodies at least this big are parsed by two workers at once.
constexpr std::size_t kParallelParseBytes = 256 << 10;

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

// What the query string and headers of an ingest request ask for.
struct IngestOptions {
  tsdb::Precision precision = tsdb::Precision::kNanoseconds;
  bool partial = false;
  bool gzipped = false;
};

// The handler's prologue: precision, partial, Content-Encoding and (for JSON) Content-Type.
core::Result<IngestOptions> ingest_options(const ContextPtr& ctx, const IngestSpec& spec) {
  IngestOptions out;
  out.precision = spec.default_precision;
  if (auto p = ctx->query("precision")) {
    auto parsed = tsdb::parse_precision(*p);
    if (!parsed) {
      return core::invalid_field("precision", "must be one of ns, us, ms, s (or n, u, m, h)");
    }
    out.precision = *parsed;
  }
  auto partial = bool_param(ctx, "partial");
  if (!partial) return partial.error();
  out.partial = *partial;
  auto cenc = std::string(ctx->request()[http::field::content_encoding]);
  if (cenc == "gzip" || cenc == "x-gzip") {
    out.gzipped = true;
  } else if (!cenc.empty() && cenc != "identity") {
    return core::Error(core::Errc::kUnsupportedMediaType,
                       "Content-Encoding must be gzip or identity, not \"" + cenc + "\"",
                       {{"field", "Content-Encoding"}});
  }
  if (spec.format == Format::kJson) {
    auto ctype = std::string_view(ctx->request()[http::field::content_type]);
    auto media = ctype.substr(0, ctype.find(';'));
    if (media != "application/json") {
      return core::Error(
          core::Errc::kUnsupportedMediaType,
          fmt::format("the body must be JSON with Content-Type: application/json, not \"{}\"",
                      std::string(ctype)),
          {{"field", "Content-Type"}});
    }
  }
  return out;
}

// What a worker needs to parse a body (copied to it).
struct ParseJob {
  Format format = Format::kLineProtocol;
  tsdb::Precision precision = tsdb::Precision::kNanoseconds;
  bool gzipped = false;
  Timestamp now = 0;
  std::size_t max_bytes = 0;
  std::size_t max_samples = 0;
  std::int64_t org = 0;
};

// Parses a whole body (on a worker).
Parsed parse_body(std::string_view body, const ParseJob& job) {
  Parsed out;
  if (!job.gzipped && body.size() > job.max_bytes) {
    out.error = core::Error(core::Errc::kPayloadTooLarge,
                            fmt::format("the body may be at most {} bytes", job.max_bytes),
                            {{"field", "body"}});
    return out;
  }
  tsdb::ParseLimits limits;
  limits.max_lines = job.max_samples;
  // Parsed as it inflates: the inflated body is never held, only the parser's carry-over from
  // one piece to the next (a JSON sample's document, a line or CSV record) and the samples.
  switch (job.format) {
    case Format::kLineProtocol: {
      tsdb::LineProtocolParser parser(job.precision, job.now, limits, job.max_samples, job.org);
      out.error = feed(parser, body, job.gzipped, job.max_bytes);
      if (!out.error) take_keyed(parser.take(), out);
      break;
    }
    case Format::kCsv: {
      tsdb::CsvParser parser(limits, job.org);
      out.error = feed(parser, body, job.gzipped, job.max_bytes);
      if (!out.error) take_keyed(parser.take(), out);
      break;
    }
    case Format::kJson: {
      tsdb::JsonSampleParser parser(job.precision, job.now, limits, job.max_samples, job.org);
      out.error = feed(parser, body, job.gzipped, job.max_bytes);
      if (!out.error) take_json(parser.take(), out);
      break;
    }
  }
  return out;
}

// Why a parsed body is refused before the store sees it, if it is: too many lines or key bytes
// (even with partial), or bad samples without partial.
std::optional<core::Error> refusal(const Parsed& parsed, bool partial, std::size_t max_samples) {
  if (parsed.result.truncated) {
    // Too many lines (or key bytes) is about the request, not about a line: refused whole,
    // even with partial. An issue says which limit.
    const auto& issues = parsed.result.issues;
    auto keys = std::find_if(issues.begin(), issues.end(), [](const tsdb::ParseIssue& i) {
      return i.reason.find("series keys") != std::string::npos;
    });
    return core::Error(
        core::Errc::kPayloadTooLarge,
        keys != issues.end()
            ? fmt::format("{}; split the batch", keys->reason)
            : fmt::format("at most {} lines per request; split the batch", max_samples),
        {{"field", "body"}});
  }
  if (!parsed.result.issues.empty() && !partial) {
    auto n = parsed.result.issues.size();
    return core::Error(
        core::Errc::kInvalidInput,
        fmt::format("{} {} refused; nothing was stored (add partial=true to store the good "
                    "ones)",
                    n,
                    n == 1 ? (parsed.by_index ? "sample was" : "line was")
                           : (parsed.by_index ? "samples were" : "lines were")),
        {{"issues", issues_json(parsed, nullptr)}, {"issue_count", n}, {"stored", 0}});
  }
  return std::nullopt;
}

// The callback of the store's append: answers what was stored and what was refused.
auto answer_append(ContextPtr ctx, std::shared_ptr<const Parsed> parsed, IngestSpec spec) {
  const auto unit = parsed->by_index ? "samples" : "lines";
  return [ctx = std::move(ctx), parsed = std::move(parsed), spec,
          unit](core::Result<tsdb::AppendResult> r) {
    if (!r) return ctx->reply_error(r.error());
    const auto& a = *r;
    auto refused_count = a.refused.size() + parsed->result.issues.size();
    if (!a.stored) {
      return ctx->reply_error(core::Error(
          core::Errc::kInvalidInput,
          fmt::format("{} {} refused by the store; nothing was stored (add partial=true "
                      "to store the good ones)",
                      refused_count, unit),
          {{"issues", issues_json(*parsed, &a)}, {"issue_count", refused_count}, {"stored", 0}}));
    }
    if (refused_count == 0 && spec.no_content_on_success) return ctx->reply_no_content();
    boost::json::object data{{"accepted", a.accepted},
                             {"duplicates", a.duplicates},
                             {"new_series", a.new_series},
                             {"refused_count", refused_count},
                             {"refused", issues_json(*parsed, &a)}};
    ctx->reply_data(std::move(data));
  };
}

// "type"/"unit" of JSON samples: metadata, set when it changes.
void update_metadata(const RouteDeps& deps, std::int64_t org,
                     std::vector<std::pair<std::string, tsdb::MetricMetadata>> metadata) {
  std::set<std::string> seen;
  for (auto& [metric, md] : metadata) {
    if (!seen.insert(metric).second) continue;
    auto current = deps.tsdb->metadata(org, metric);
    if (current && current->type == md.type && current->unit == md.unit) continue;
    if (current) md.help = current->help;
    deps.tsdb->set_metadata(org, std::move(md), [](core::Result<void>) {});
  }
}

// Back on the loop with a parsed body: answers its refusal, or appends its samples.
void store_parsed(const ContextPtr& ctx, const RouteDeps& deps, IngestSpec spec, bool partial,
                  Parsed parsed) {
  if (parsed.error) return ctx->reply_error(*parsed.error);
  if (parsed.result.skipped_strings > 0) {
    skipped_fields_counter(deps.metrics, "string")
        .inc(static_cast<double>(parsed.result.skipped_strings));
  }
  if (auto refused = refusal(parsed, partial, deps.ingest_max_samples)) {
    return ctx->reply_error(*refused);
  }
  if (parsed.result.batch.empty() && parsed.result.issues.empty()) {
    if (spec.no_content_on_success) return ctx->reply_no_content();
    return ctx->reply_data(
        {{"accepted", 0}, {"duplicates", 0}, {"new_series", 0}, {"refused", boost::json::array()}});
  }
  auto org = ctx->org_scope().org_id();
  auto shared = std::make_shared<Parsed>(std::move(parsed));
  auto batch = std::move(shared->result.batch);
  auto metadata = std::move(shared->metadata);
  deps.tsdb->append(org, std::move(batch),
                    partial ? tsdb::AppendMode::kPartial : tsdb::AppendMode::kAllOrNothing,
                    answer_append(ctx, shared, spec));
  update_metadata(deps, org, std::move(metadata));
}

// The two halves of a split body, parsed at once and joined in body order.
struct Join {
  Parsed parts[2];
  int remaining = 2;
  std::size_t first_lines = 0;
  std::function<void(Parsed)> done;
};

// Joins the second half onto the first (its line numbers shifted back) and hands the whole to
// join.done.
void join_halves(Join& join, std::size_t max_samples) {
  Parsed merged = std::move(join.parts[0]);
  auto& second = join.parts[1].result;
  for (auto& i : second.issues) i.line += join.first_lines;
  for (auto& l : second.sample_lines) l += join.first_lines;
  auto& r = merged.result;
  r.batch.append(std::move(second.batch));
  r.issues.insert(r.issues.end(), second.issues.begin(), second.issues.end());
  r.truncated = r.truncated || second.truncated;
  r.skipped_strings += second.skipped_strings;
  r.sample_lines.insert(r.sample_lines.end(), second.sample_lines.begin(),
                        second.sample_lines.end());
  // A half past the sample cap stopped there; so did the whole.
  if (merged.error || join.parts[1].error || r.batch.size() > max_samples) {
    merged.error =
        core::Error(core::Errc::kPayloadTooLarge,
                    fmt::format("at most {} samples per request; this one has more", max_samples),
                    {{"field", "body"}});
  }
  join.done(std::move(merged));
}

// A big plain line-protocol body is parsed in two halves at once (split at a line break), so one
// client's batch uses both workers; line numbers of the second half are shifted back. False when
// the body is not one to split (the caller parses it whole); true once the halves are queued or
// the error answered.
bool parse_in_halves(const ContextPtr& ctx, const RouteDeps& deps, const ParseJob& job,
                     std::function<void(Parsed)>& done) {
  std::string_view body = ctx->request().body();
  if (job.format != Format::kLineProtocol || job.gzipped || body.size() < kParallelParseBytes ||
      body.size() > job.max_bytes) {
    return false;
  }
  // Cut at the end of a record: a newline inside a quoted string does not end one.
  std::size_t cut = 0;
  while (cut < body.size() / 2) cut = tsdb::line_protocol_record_end(body, cut) + 1;
  --cut;
  if (cut + 1 >= body.size()) return false;
  auto join = std::make_shared<Join>();
  join->first_lines = static_cast<std::size_t>(
      std::count(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(cut) + 1, '\n'));
  join->done = std::move(done);
  for (int half = 0; half < 2; ++half) {
    auto piece = half == 0 ? body.substr(0, cut + 1) : body.substr(cut + 1);
    auto part_work = [ctx, piece, job]() -> Parsed {
      Parsed out;
      tsdb::ParseLimits limits;
      limits.max_lines = job.max_samples;
      // Each half may use half of the key budget, so the body as a whole keeps to it.
      limits.max_key_bytes /= 2;
      tsdb::LineProtocolParser parser(job.precision, job.now, limits, job.max_samples, job.org);
      parser.write(piece);
      take_keyed(parser.take(), out);
      return out;
    };
    auto finish = [join, half, max_samples = job.max_samples](Parsed p) {
      join->parts[half] = std::move(p);
      if (--join->remaining > 0) return;
      join_halves(*join, max_samples);
    };
    auto r = deps.workers->run<Parsed>(std::move(part_work), deps.loop, std::move(finish));
    if (!r) {
      // The first half may already be queued; its result then finds remaining > 0 forever
      // and is dropped with the join. Answer now.
      join->remaining = 1000;
      ctx->reply_error(r.error());
      return true;
    }
  }
  return true;
}

void ingest(const ContextPtr& ctx, const RouteDeps& deps, IngestSpec spec) {
  auto options = ingest_options(ctx, spec);
  if (!options) return ctx->reply_error(options.error());
  ParseJob job;
  job.format = spec.format;
  job.precision = options->precision;
  job.gzipped = options->gzipped;
  job.now = deps.clock.unix_millis();
  job.max_bytes = deps.ingest_max_bytes;
  job.max_samples = deps.ingest_max_samples;
  job.org = ctx->org_scope().org_id();
  std::function<void(Parsed)> done = [ctx, d = std::make_shared<RouteDeps>(deps), spec,
                                      partial = options->partial](Parsed parsed) {
    store_parsed(ctx, *d, spec, partial, std::move(parsed));
  };
  if (parse_in_halves(ctx, deps, job, done)) return;
  auto work = [ctx, job]() -> Parsed { return parse_body(ctx->request().body(), job); };
  auto r = deps.workers->run<Parsed>(std::move(work), deps.loop, std::move(done));
  if (!r) ctx->reply_error(r.error());
}

// POST /api/v1/kpis: one sample entered by hand, checked by the JSON ingest parser.
void enter_kpi(const RouteDeps& deps, const ContextPtr& ctx) {
  Fields f(ctx->body());
  if (auto r = f.only({"metric_name", "value", "timestamp", "tags", "note"}); !r)
    return ctx->reply_error(r.error());
  auto note = f.optional_string("note", 500);
  if (!note) return ctx->reply_error(note.error());
  boost::json::object sample = ctx->body();
  sample.erase("note");
  auto parsed =
      tsdb::parse_json_samples(core::to_json_text(sample), tsdb::Precision::kSeconds,
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
      [ctx, s, actor, note = note->value_or(""), inventory = deps.inventory,
       now_s = deps.clock.unix_seconds()](core::Result<tsdb::AppendResult> r) {
        if (!r) return ctx->reply_error(r.error());
        if (!r->stored || r->accepted == 0) {
          const auto& why = r->refused.front();
          return ctx->reply_error(core::invalid_field(why.field, why.message));
        }
        boost::json::object entry{{"metric_name", s.key.metric},
                                  {"value", s.sample.v},
                                  {"timestamp", json_time(s.sample.t)},
                                  {"tags", json_labels(s.key.labels)},
                                  {"note", note},
                                  {"entered_by", actor},
                                  {"duplicate", r->duplicates > 0}};
        // The entry goes into the organization's event log as well (kind "kpi"): the list of
        // recent entries across users (GET /api/v1/events?kind=kpi) and the feed's events.
        if (inventory && r->duplicates == 0) {
          devices::DeviceEvent e;
          e.org_id = ctx->org_scope().org_id();
          e.at = now_s;
          e.kind = "kpi";
          e.message = fmt::format("{} = {} entered by {}", s.key.metric,
                                  core::to_json_text(boost::json::value(s.sample.v)), actor);
          e.details_json = core::to_json_text(entry);
          inventory->record_event(std::move(e));
        }
        ctx->reply_data(std::move(entry), http::status::created);
      });
}

}  // namespace

void register_ingest_routes(Router& router, const RouteDeps& deps_in) {
  // Handlers outlive the caller's RouteDeps: they share one copy.
  auto shared = std::make_shared<RouteDeps>(deps_in);
  const RouteDeps& deps = *shared;
  using http::verb;
  const std::vector<QueryParamDoc> ingest_params = {
      {"precision", "timestamp unit: ns (default for line protocol), us, ms, s (default for JSON)"},
      {"partial", "true: store the good samples and list the bad ones (default: all or nothing)",
       "boolean"}};

  skipped_fields_counter(deps.metrics, "string");  // listed in /metrics from the start
  auto lp = [shared, &deps](ContextPtr ctx) {
    ingest(ctx, deps, {Format::kLineProtocol, true, tsdb::Precision::kNanoseconds});
  };
  for (const char* path : {"/api/v2/write", "/write"}) {
    auto r = make_route(verb::post, path, Permission::kMetricsWrite,
                        "Write samples in InfluxDB line protocol (Telegraf compatible; "
                        "Authorization: Token <api key> or Bearer)",
                        "metrics", lp);
    r.doc.query = ingest_params;
    r.audited = false;  // machine ingest: counted in /metrics, not one audit row per batch
    r.doc.success_status = 204;
    router.add(std::move(r));
  }

  auto json = make_route(verb::post, "/api/v1/metrics", Permission::kMetricsWrite,
                         "Write samples as JSON: {metric_name, value, timestamp, tags} or an array",
                         "metrics", [shared, &deps](ContextPtr ctx) {
                           ingest(ctx, deps, {Format::kJson, false, tsdb::Precision::kSeconds});
                         });
  json.doc.query = ingest_params;
  json.audited = false;
  json.doc.success_status = 200;  // samples are not a resource: 200 with what was stored
  router.add(std::move(json));

  auto csv = make_route(verb::post, "/api/v1/metrics/csv", Permission::kMetricsWrite,
                        "Write samples as CSV: header metric,value,timestamp[,label...]", "metrics",
                        [shared, &deps](ContextPtr ctx) {
                          ingest(ctx, deps, {Format::kCsv, false, tsdb::Precision::kSeconds});
                        });
  csv.doc.query = {ingest_params[1]};
  csv.audited = false;
  csv.doc.success_status = 200;
  router.add(std::move(csv));

  router.add(make_route(
      verb::post, "/api/v1/kpis", Permission::kMetricsWrite,
      "Enter one KPI value by hand (recorded in the audit log with who entered it)", "metrics",
      [shared, &deps](ContextPtr ctx) { enter_kpi(deps, ctx); }, Body::kJson));
}

}  // namespace netpulse::api::detail
