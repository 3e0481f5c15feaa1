// Rollup blocks: the stored form of a run of rollup buckets of one series and tier (tsdb_rollups).
//
//   u8 version (1) | 6 × (u32 LE length | chunk)     (chunk.hpp format)
//
// The six chunks share the buckets' start times and hold, in order: min, max, sum, count, last,
// and last_t - t (the offset of the last sample in its bucket). Each is a Gorilla chunk, so a
// regular series costs a few bits per field. Pure functions. The format is
// docs/format/rollup_block.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/tsdb/query.hpp>

namespace netpulse::tsdb::detail {

// Encodes `buckets` (sorted by t, unique, finite values, at most kMaxChunkSamples).
core::Result<std::string> encode_rollup_block(const std::vector<RollupBucket>& buckets);

// Decodes a block; kDatabaseError on any damage.
core::Result<std::vector<RollupBucket>> decode_rollup_block(std::string_view bytes);

// `base` with every bucket of `updates` put in its place (a bucket with the same t is replaced),
// sorted by t. Both inputs sorted by t.
std::vector<RollupBucket> merge_rollup_buckets(const std::vector<RollupBucket>& base,
                                               const std::vector<RollupBucket>& updates);

}  // namespace netpulse::tsdb::detail
