// JSON ingest: `{metric_name, value, timestamp, tags, type, unit}` or an array of them, parsed as
// it arrives. Boost.JSON's basic_parser is fed piece by piece (a gzip body is inflated into it a
// buffer at a time) and builds a document for one sample at a time only, on a memory resource
// that refuses to grow past kMaxSampleBytes; each sample goes straight into the keyed batch and
// its document is freed. So a request costs its compressed body, one sample, the parser's stack
// (max_depth) and the batch, which the sample cap bounds: never the inflated body or a document
// of it. Past the cap parsing stops at once. docs/tsdb.md ("JSON ingest") is the contract.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/memory_resource.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/format.h>

#include <netpulse/tsdb/ingest_parse.hpp>

#include "detail/series_key.hpp"

namespace netpulse::tsdb {

namespace {

using boost::json::error_code;
using boost::json::string_view;

// Thrown by BoundedResource when one sample's document would take more than its cap; caught in
// JsonSampleParser::write() (basic_parser lets a handler's exception through and stays failed).
struct SampleTooLarge {};

// Heap memory with a ceiling, for the parser's value stack (partial values, strings being read).
class BoundedResource final : public boost::json::memory_resource {
 public:
  explicit BoundedResource(std::size_t cap) : cap_(cap) {}
  std::size_t used() const noexcept { return used_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (bytes > cap_ - used_) throw SampleTooLarge{};
    void* p = ::operator new(bytes, std::align_val_t(align));
    used_ += bytes;
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    ::operator delete(p, std::align_val_t(align));  // unsized: clang without -fsized-deallocation
    used_ -= bytes;
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }

  std::size_t cap_;
  std::size_t used_ = 0;
};

// The document of one sample: a bump allocator over blocks that are kept and reused from sample
// to sample (reset() after each), so parsing a sample allocates nothing once the first few have
// sized the blocks, and the blocks never hold more than `cap` bytes in all.
class SampleArena final : public boost::json::memory_resource {
 public:
  explicit SampleArena(std::size_t cap) : cap_(cap) {}
  // Forgets every allocation (the sample's document is gone); keeps the blocks.
  void reset() noexcept {
    block_ = 0;
    offset_ = 0;
  }
  std::size_t reserved() const noexcept { return reserved_; }

 private:
  struct Block {
    std::unique_ptr<unsigned char[]> bytes;
    std::size_t size = 0;
  };
  static constexpr std::size_t kFirstBlock = 4096;

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    while (true) {
      if (block_ < blocks_.size()) {
        auto& b = blocks_[block_];
        const std::size_t start = (offset_ + align - 1) / align * align;
        if (start <= b.size && bytes <= b.size - start) {
          offset_ = start + bytes;
          return b.bytes.get() + start;
        }
        if (block_ + 1 < blocks_.size()) {
          ++block_;
          offset_ = 0;
          continue;
        }
      }
      // A new block: twice the last, big enough for this allocation, within the cap.
      std::size_t size = blocks_.empty() ? kFirstBlock : 2 * blocks_.back().size;
      size = std::max(size, bytes + align);
      if (size > cap_ - reserved_) size = cap_ - reserved_;
      if (size < bytes + align) throw SampleTooLarge{};
      blocks_.push_back({std::make_unique<unsigned char[]>(size), size});
      reserved_ += size;
      block_ = blocks_.size() - 1;
      offset_ = 0;
    }
  }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }

  std::size_t cap_;
  std::vector<Block> blocks_;
  std::size_t block_ = 0;   // the block being filled
  std::size_t offset_ = 0;  // its first free byte
  std::size_t reserved_ = 0;
};

double unit_ms(Precision precision) {
  switch (precision) {
    case Precision::kNanoseconds:
      return 1e-6;
    case Precision::kMicroseconds:
      return 1e-3;
    case Precision::kMilliseconds:
      return 1;
    case Precision::kSeconds:
      return 1000;
    case Precision::kMinutes:
      return 60'000;
    case Precision::kHours:
      return 3'600'000;
  }
  return 1000;
}

}  // namespace

struct JsonSampleParser::Impl {
  // basic_parser's handler: forwards the events of one sample to a value_stack and hands each
  // finished sample to the Impl. The top-level array itself is never built.
  // The four limits are named as Boost.JSON's handler concept requires.
  // NOLINTBEGIN(readability-identifier-naming)
  struct Handler {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();
    // NOLINTEND(readability-identifier-naming)

    Impl* impl = nullptr;
    boost::json::value_stack st;
    std::size_t depth = 0;         // containers open around the current event
    bool top_array = false;        // the document is an array of samples
    bool in_sample = false;        // st holds a sample being built
    std::string number;            // a number's text, when the parser hands it over in parts
    std::size_t number_bytes = 0;  // its length, kept or not (see on_number_part)
    // What the sample being built has pushed: 16 bytes per value or key and the bytes of its
    // kept text. The sample's budget (max_json_sample_bytes) is checked against this count, not
    // against allocations, and only when a value or key is complete, never on a part of one (the
    // parts depend on where the body is cut: charged early, a sample over its budget would be
    // 413 in pieces where the whole body is 400 for a syntax error further on). A string's parts
    // are bounded meanwhile by max_json_string_bytes.
    std::size_t charged = 0;
    // Strings and keys longer than limits.max_json_string_bytes are not kept: the sample is
    // marked and refused with an issue naming where (`long_field`), the others still count.
    std::size_t text_bytes = 0;  // of the string or key being read
    std::string key_text;        // the key being read (its first kMaxNameInIssue bytes)
    std::string top_key;         // the sample's member being read
    std::string inner_key;       // ... and the key inside it (for "tags.<name>")
    std::optional<std::string> long_field;

    explicit Handler(boost::json::storage_ptr sp) : st(std::move(sp)) {}

    std::size_t sample_depth() const { return top_array ? 1 : 0; }

    // Before a value's first event: at the sample level it starts a sample.
    bool begin_value() {
      if (!in_sample && depth == sample_depth()) {
        st.reset(impl->storage_);
        in_sample = true;
        charged = 0;
        top_key.clear();
        inner_key.clear();
        long_field.reset();
      }
      return true;
    }
    // Charges `bytes` to the sample being built; past its budget the body is refused.
    void charge(std::size_t bytes) {
      if (!in_sample) return;
      charged += bytes;
      if (charged > impl->limits_.max_json_sample_bytes) throw SampleTooLarge{};
    }
    static constexpr std::size_t kValueBytes = sizeof(boost::json::value);
    // Counts a piece of the string or key being read; false once it is too long to keep.
    bool keep_text(string_view piece, bool is_key) {
      text_bytes += piece.size();
      if (text_bytes <= impl->limits_.max_json_string_bytes) return true;
      if (!long_field) {
        const std::size_t member = sample_depth() + 1;
        if (is_key || depth < member) {
          long_field = depth < member ? "sample" : depth == member ? "key" : top_key;
        } else if (depth == member) {
          long_field = top_key;
        } else {
          long_field = top_key == "tags" ? "tags." + inner_key : top_key;
        }
      }
      return false;
    }
    void note_key(string_view piece, bool last) {
      if (key_text.size() < 64)
        key_text.append(piece.data(), std::min<std::size_t>(piece.size(), 64));
      if (!last) return;
      if (depth == sample_depth() + 1) top_key = key_text;
      if (depth == sample_depth() + 2) inner_key = key_text;
      key_text.clear();
    }
    // After a value's last event: at the sample level the sample is complete.
    bool end_value(error_code& ec) {
      if (in_sample && depth == sample_depth()) {
        in_sample = false;
        return impl->take_sample(st.release(), long_field, ec);
      }
      return true;
    }
    bool refuse_body(error_code& ec) {
      impl->fail(core::invalid_field("body", "must be a sample object or an array of them"));
      ec = boost::json::error::syntax;
      return false;
    }
    // Before a scalar: a scalar document is no body of samples.
    bool scalar_allowed(error_code& ec) {
      if (depth == 0) return refuse_body(ec);
      return begin_value();
    }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) {
      begin_value();
      charge(kValueBytes);
      ++depth;
      return true;
    }
    bool on_object_end(std::size_t n, error_code& ec) {
      --depth;
      st.push_object(n);
      return end_value(ec);
    }
    bool on_array_begin(error_code&) {
      if (depth == 0) {
        top_array = true;
        ++depth;
        return true;
      }
      begin_value();
      charge(kValueBytes);
      ++depth;
      return true;
    }
    bool on_array_end(std::size_t n, error_code& ec) {
      --depth;
      if (depth == 0 && top_array) return true;  // the end of the samples
      st.push_array(n);
      return end_value(ec);
    }
    bool on_key_part(string_view s, std::size_t, error_code&) {
      note_key(s, false);
      if (keep_text(s, true)) st.push_chars(s);
      return true;
    }
    bool on_key(string_view s, std::size_t, error_code&) {
      note_key(s, true);
      const bool keep = keep_text(s, true);
      charge(kValueBytes + (keep ? text_bytes : 0));
      st.push_key(keep ? s : string_view());
      text_bytes = 0;
      return true;
    }
    bool on_string_part(string_view s, std::size_t, error_code& ec) {
      // A string document is refused once it is whole (on_string), as when it arrives in one
      // piece: refused at its first part, a bad escape later in it would be another answer.
      if (!in_sample && depth == 0) return true;
      if (!in_sample && !scalar_allowed(ec)) return false;
      if (keep_text(s, false)) st.push_chars(s);
      return true;
    }
    bool on_string(string_view s, std::size_t, error_code& ec) {
      if (!in_sample && !scalar_allowed(ec)) return false;
      const bool keep = keep_text(s, false);
      charge(kValueBytes + (keep ? text_bytes : 0));
      st.push_string(keep ? s : string_view());
      text_bytes = 0;
      return end_value(ec);
    }
    // A number's text is kept for on_double's correction only up to kMaxNumberText bytes (no
    // double needs more); a longer one takes Boost's value, and its text costs no memory.
    static constexpr std::size_t kMaxNumberText = 4096;
    bool on_number_part(string_view s, error_code&) {
      number_bytes += s.size();
      if (number_bytes <= kMaxNumberText) number.append(s.data(), s.size());
      return true;
    }
    void end_number() {
      number.clear();
      number_bytes = 0;
    }
    bool on_int64(std::int64_t i, string_view, error_code& ec) {
      end_number();
      if (!in_sample && !scalar_allowed(ec)) return false;
      charge(kValueBytes);
      st.push_int64(i);
      return end_value(ec);
    }
    bool on_uint64(std::uint64_t u, string_view, error_code& ec) {
      end_number();
      if (!in_sample && !scalar_allowed(ec)) return false;
      charge(kValueBytes);
      st.push_uint64(u);
      return end_value(ec);
    }
    bool on_double(double d, string_view s, error_code& ec) {
      // As core::parse_json(): the double nearest to the decimal text (Boost 1.81 is sometimes
      // one unit in the last place off).
      number_bytes += s.size();
      if (number_bytes <= kMaxNumberText) {
        number.append(s.data(), s.size());
        double exact = 0;
        const char* last = number.data() + number.size();
        if (auto [p, e] = std::from_chars(number.data(), last, exact);
            e == std::errc() && p == last) {
          d = exact;
        }
      }
      end_number();
      if (!in_sample && !scalar_allowed(ec)) return false;
      charge(kValueBytes);
      st.push_double(d);
      return end_value(ec);
    }
    bool on_bool(bool b, error_code& ec) {
      if (!in_sample && !scalar_allowed(ec)) return false;
      charge(kValueBytes);
      st.push_bool(b);
      return end_value(ec);
    }
    bool on_null(error_code& ec) {
      if (!in_sample && !scalar_allowed(ec)) return false;
      charge(kValueBytes);
      st.push_null();
      return end_value(ec);
    }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }
  };

  Impl(Precision precision, Timestamp now_ms, const ParseLimits& limits, std::size_t max_samples,
       std::int64_t org_id)
      : stack_memory_(kStackSlack * (limits.max_json_sample_bytes + limits.max_json_string_bytes) +
                      16384),
        arena_(limits.max_json_sample_bytes),
        stack_storage_(&stack_memory_),
        storage_(&arena_),
        parser_(json_options(limits), stack_storage_),
        unit_ms_(unit_ms(precision)),
        now_(now_ms),
        limits_(limits),
        max_samples_(max_samples),
        org_(org_id) {
    parser_.handler().impl = this;
    key_bytes_left_ = limits.max_key_bytes;
  }

  static boost::json::parse_options json_options(const ParseLimits& limits) {
    boost::json::parse_options o;
    o.max_depth = limits.max_json_depth;
    return o;
  }

  void fail(core::Error e) {
    if (!result_.error) result_.error = std::move(e);
    failed_ = true;
  }

  bool write(const char* data, std::size_t size, bool more) {
    if (failed_) return false;
    error_code ec;
    std::size_t used = 0;
    try {
      used = parser_.write_some(more, data, size, ec);
    } catch (const SampleTooLarge&) {
      fail(
          core::Error(core::Errc::kPayloadTooLarge,
                      fmt::format("sample {} takes more than {} bytes to parse; a sample is a "
                                  "metric, a value, a timestamp and at most {} tags",
                                  samples_seen_, limits_.max_json_sample_bytes, limits_.max_labels),
                      {{"field", "body"}, {"index", samples_seen_}}));
      return false;
    } catch (const std::bad_alloc&) {
      fail(core::Error(core::Errc::kServiceUnavailable, "out of memory while parsing the body"));
      return false;
    } catch (const std::exception& e) {
      fail(core::Error(core::Errc::kInvalidInput,
                       std::string("the body cannot be parsed: ") + e.what(), {{"field", "body"}}));
      return false;
    }
    if (failed_) return false;  // a handler refused the body and said why
    if (!ec && used < size) ec = boost::json::error::extra_data;
    if (ec) {
      fail(core::Error(core::Errc::kMalformedJson, "the body is not valid JSON: " + ec.message(),
                       {{"reason", ec.message()}}));
      return false;
    }
    return true;
  }

  // One complete element at the sample level: counted against the cap, then checked and keyed.
  bool take_sample(boost::json::value v, const std::optional<std::string>& long_field,
                   error_code& ec) {
    const std::size_t index = samples_seen_++;
    if (samples_seen_ > max_samples_) {
      fail(core::Error(core::Errc::kPayloadTooLarge,
                       fmt::format("at most {} samples per request; this one has more (parsing "
                                   "stopped at sample {})",
                                   max_samples_, index),
                       {{"field", "body"}}));
      ec = boost::json::error::exception;
      return false;
    }
    if (long_field) {
      issue(index, *long_field,
            fmt::format("a string longer than {} bytes", limits_.max_json_string_bytes));
    } else {
      convert(v, index);
    }
    v = nullptr;  // the document goes before its arena is emptied
    arena_.reset();
    if (failed_) {
      ec = boost::json::error::exception;
      return false;
    }
    return true;
  }

  void issue(std::size_t index, std::string field, std::string reason) {
    result_.issues.push_back({index, std::move(field), std::move(reason)});
  }

  // The seeds' sample object to a keyed sample, or one issue naming the field.
  void convert(const boost::json::value& item, std::size_t i) {
    if (!item.is_object()) return issue(i, "sample", "must be an object");
    const auto& o = item.as_object();
    for (const auto& [k, v] : o) {
      if (k != "metric_name" && k != "value" && k != "timestamp" && k != "tags" && k != "type" &&
          k != "unit") {
        return issue(i, std::string(k),
                     "unknown field (expected metric_name, value, timestamp, tags, type, unit)");
      }
    }
    SeriesKey key;
    Sample sample;
    auto name = o.if_contains("metric_name");
    if (!name || !name->is_string()) return issue(i, "metric_name", "required: a string");
    key.metric = std::string(name->as_string());
    if (!valid_metric_name(key.metric)) {
      return issue(i, "metric_name", "must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus naming)");
    }
    auto val = o.if_contains("value");
    if (!val || !val->is_number()) return issue(i, "value", "required: a number");
    sample.v = val->to_number<double>();
    if (!std::isfinite(sample.v)) return issue(i, "value", "must be finite");
    if (auto ts = o.if_contains("timestamp"); ts && !ts->is_null()) {
      if (!ts->is_number()) {
        return issue(i, "timestamp",
                     "must be a number (Unix time in the unit of the precision parameter)");
      }
      const double t = ts->to_number<double>() * unit_ms_;
      if (!std::isfinite(t) || t < -1e15 || t > 1e15) return issue(i, "timestamp", "out of range");
      sample.t = static_cast<Timestamp>(std::llround(t));
    } else {
      sample.t = now_;
    }
    if (auto tags = o.if_contains("tags"); tags && !tags->is_null()) {
      if (!tags->is_object()) return issue(i, "tags", "must be an object of strings");
      if (tags->as_object().size() > limits_.max_labels) {
        return issue(i, "tags", fmt::format("at most {} tags", limits_.max_labels));
      }
      for (const auto& [k, v] : tags->as_object()) {
        std::string name_text(k);
        if (!valid_label_name(name_text)) {
          return issue(i, "tags." + name_text,
                       "tag names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
        }
        if (!v.is_string()) return issue(i, "tags." + name_text, "must be a string");
        std::string_view sv = v.as_string();
        if (auto why = label_value_problem(sv, limits_); !why.empty()) {
          return issue(i, "tags." + name_text, std::string(why));
        }
        key.labels.emplace_back(std::move(name_text), std::string(sv));
      }
    }
    auto labels = normalize_labels(std::move(key.labels));
    if (!labels) return issue(i, "tags", labels.error().message);
    key.labels = std::move(*labels);
    MetricMetadata md;
    bool has_md = false;
    if (auto t = o.if_contains("type"); t && !t->is_null()) {
      auto type =
          t->is_string() ? parse_metric_type(std::string_view(t->as_string())) : std::nullopt;
      if (!type) return issue(i, "type", "must be \"gauge\" or \"counter\"");
      md.type = *type;
      has_md = true;
    }
    if (auto u = o.if_contains("unit"); u && !u->is_null()) {
      if (!u->is_string() || u->as_string().size() > 64) {
        return issue(i, "unit", "must be a string of at most 64 bytes");
      }
      md.unit = std::string(u->as_string());
      has_md = true;
    }
    const std::string encoded = detail::encode_series_key(org_, key);
    if (encoded.size() > key_bytes_left_) {
      fail(core::Error(core::Errc::kPayloadTooLarge,
                       fmt::format("the body's series keys would take more than {} bytes; split "
                                   "the batch",
                                   limits_.max_key_bytes),
                       {{"field", "body"}}));
      return;
    }
    key_bytes_left_ -= encoded.size();
    if (has_md) {
      md.metric = key.metric;
      result_.metadata.push_back(std::move(md));
    }
    result_.batch.push(encoded, sample);
    result_.sample_indexes.push_back(i);
  }

  // The value stack holds at most what the sample has been charged plus the string being read,
  // but grows by doubling (old and new buffers live at once): its ceiling is a backstop that a
  // sample within its budget never reaches.
  static constexpr std::size_t kStackSlack = 4;
  BoundedResource stack_memory_;
  SampleArena arena_;
  boost::json::storage_ptr stack_storage_;  // the value stack's own memory
  boost::json::storage_ptr storage_;        // one sample's document
  boost::json::basic_parser<Handler> parser_;
  double unit_ms_;
  Timestamp now_;
  ParseLimits limits_;
  std::size_t max_samples_;
  std::int64_t org_;
  std::size_t key_bytes_left_ = 0;
  std::size_t samples_seen_ = 0;
  bool failed_ = false;
  bool finished_ = false;
  JsonParseResult result_;
};

JsonSampleParser::JsonSampleParser(Precision precision, Timestamp now_ms, const ParseLimits& limits,
                                   std::size_t max_samples, std::int64_t org_id)
    : impl_(std::make_unique<Impl>(precision, now_ms, limits, max_samples, org_id)) {}

JsonSampleParser::~JsonSampleParser() = default;

bool JsonSampleParser::write(std::string_view piece) {
  if (piece.empty()) return !impl_->failed_;
  return impl_->write(piece.data(), piece.size(), true);
}

bool JsonSampleParser::finish() {
  if (impl_->finished_) return !impl_->failed_;
  impl_->finished_ = true;
  return impl_->write(nullptr, 0, false);
}

std::size_t JsonSampleParser::peak_sample_bytes() const noexcept {
  return impl_->arena_.reserved() + impl_->stack_memory_.used();
}

JsonParseResult JsonSampleParser::take() {
  finish();
  return std::move(impl_->result_);
}

JsonParseResult parse_json_samples(std::string_view body, Precision precision, Timestamp now_ms,
                                   const ParseLimits& limits, std::size_t max_samples,
                                   std::int64_t org_id) {
  JsonSampleParser parser(precision, now_ms, limits, max_samples, org_id);
  parser.write(body);
  return parser.take();
}

}  // namespace netpulse::tsdb
