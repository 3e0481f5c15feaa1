// Rollup block encoding: six chunks side by side, each compacted (compact_chunk) (see
// detail/rollup_block.hpp).
#include "detail/rollup_block.hpp"

#include <array>
#include <cmath>

#include <netpulse/tsdb/chunk.hpp>

#include "detail/le_codec.hpp"

namespace netpulse::tsdb::detail {

namespace {

constexpr int kStreams = 6;

double field(const RollupBucket& b, int i) {
  switch (i) {
    case 0:
      return b.min;
    case 1:
      return b.max;
    case 2:
      return b.sum;
    case 3:
      return static_cast<double>(b.count);
    case 4:
      return b.last;
    default:
      return static_cast<double>(b.last_t - b.t);
  }
}

core::Error damaged(std::string_view what) {
  return core::Error(core::Errc::kDatabaseError,
                     std::string("tsdb: damaged rollup block: ") + std::string(what));
}

}  // namespace

core::Result<std::string> encode_rollup_block(const std::vector<RollupBucket>& buckets) {
  if (buckets.size() > kMaxChunkSamples) return damaged("too many buckets");
  std::string out;
  out.push_back(1);
  for (int s = 0; s < kStreams; ++s) {
    ChunkEncoder enc;
    for (const auto& b : buckets) {
      auto r = enc.append({b.t, field(b, s)});
      if (!r) return r.error();
    }
    const std::string packed = compact_chunk(enc.bytes());
    put_u32(out, static_cast<std::uint32_t>(packed.size()));
    out.append(packed);
  }
  return out;
}

core::Result<std::vector<RollupBucket>> decode_rollup_block(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != 1) return damaged("unknown version");
  std::size_t pos = 1;
  std::array<std::vector<Sample>, kStreams> streams;
  for (int s = 0; s < kStreams; ++s) {
    if (pos + 4 > bytes.size()) return damaged("truncated");
    const auto len = load_le<std::uint32_t>(bytes.data() + pos);
    pos += 4;
    if (len > bytes.size() - pos) return damaged("truncated stream");
    auto samples = decode_chunk(bytes.substr(pos, len));
    if (!samples) return samples.error();
    streams[s] = std::move(*samples);
    pos += len;
  }
  if (pos != bytes.size()) return damaged("trailing bytes");
  std::vector<RollupBucket> out(streams[0].size());
  for (int s = 1; s < kStreams; ++s) {
    if (streams[s].size() != out.size()) return damaged("streams differ in length");
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& b = out[i];
    b.t = streams[0][i].t;
    for (int s = 1; s < kStreams; ++s) {
      if (streams[s][i].t != b.t) return damaged("streams differ in time");
    }
    b.min = streams[0][i].v;
    b.max = streams[1][i].v;
    b.sum = streams[2][i].v;
    b.count = static_cast<std::int64_t>(streams[3][i].v);
    b.last = streams[4][i].v;
    b.last_t = b.t + static_cast<Timestamp>(streams[5][i].v);
  }
  return out;
}

std::vector<RollupBucket> merge_rollup_buckets(const std::vector<RollupBucket>& base,
                                               const std::vector<RollupBucket>& updates) {
  std::vector<RollupBucket> out;
  out.reserve(base.size() + updates.size());
  std::size_t i = 0, j = 0;
  while (i < base.size() || j < updates.size()) {
    if (j == updates.size() || (i < base.size() && base[i].t < updates[j].t)) {
      out.push_back(base[i++]);
    } else if (i == base.size() || updates[j].t < base[i].t) {
      out.push_back(updates[j++]);
    } else {
      out.push_back(updates[j++]);
      ++i;
    }
  }
  return out;
}

}  // namespace netpulse::tsdb::detail
