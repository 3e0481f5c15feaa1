// Fuzz target: decoding stored chunks (tsdb::decode_chunk, ChunkDecoder, compact_chunk) and
// rollup blocks. What decodes must re-encode to the same samples, compact_chunk must keep the
// samples, and the streaming decoder must agree with decode_chunk.
#include <cmath>
#include <vector>

#include <netpulse/tsdb/chunk.hpp>

#include "support/fuzz_target.hpp"
#include "tsdb/detail/rollup_block.hpp"

using namespace netpulse;

NETPULSE_FUZZ_TARGET(chunk) {
  const auto bytes = fuzz::as_text(data, size);
  (void)tsdb::detail::decode_rollup_block(bytes);

  auto whole = tsdb::decode_chunk(bytes);
  tsdb::ChunkDecoder decoder(bytes);
  std::vector<tsdb::Sample> streamed;
  while (decoder.next()) streamed.push_back(decoder.sample());
  if (whole.has_value() != !decoder.error().has_value()) {
    fuzz::fail("decode_chunk and ChunkDecoder disagree on whether the chunk is corrupt");
  }
  const auto compacted = tsdb::compact_chunk(bytes);
  if (!whole) return 0;
  if (*whole != streamed) fuzz::fail("decode_chunk and ChunkDecoder disagree on the samples");

  auto again = tsdb::decode_chunk(compacted);
  if (!again) fuzz::fail("compact_chunk made an undecodable chunk: " + again.error().message);
  if (*again != *whole) fuzz::fail("compact_chunk changed the samples");

  tsdb::ChunkEncoder encoder;
  for (const auto& s : *whole) {
    if (!std::isfinite(s.v)) fuzz::fail("a decoded value is not finite");
    if (!encoder.append(s)) fuzz::fail("a decoded sample cannot be appended again");
  }
  auto reencoded = tsdb::decode_chunk(encoder.bytes());
  if (!reencoded || *reencoded != *whole) fuzz::fail("re-encoding changed the samples");
  return 0;
}
