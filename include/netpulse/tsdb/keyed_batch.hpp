// A batch of samples for Store::append(), each with the canonical key of its series (tsdb's own
// encoding of org, metric and sorted labels) and that key's hash. Ingest parsers build it on a
// worker, so the loop only looks the keys up. The keys sit back to back in one buffer: a batch
// of 10,000 samples costs four allocations, not tens of thousands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

class KeyedBatch {
 public:
  std::size_t size() const noexcept { return samples_.size(); }
  bool empty() const noexcept { return samples_.empty(); }

  const Sample& sample(std::size_t i) const noexcept { return samples_[i]; }
  std::string_view key(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(keys_).substr(begin, ends_[i] - begin);
  }
  std::size_t hash(std::size_t i) const noexcept { return hashes_[i]; }

  void reserve(std::size_t samples, std::size_t key_bytes);
  // Adds a sample of the series whose canonical key is `key` (as written by the tsdb parsers and
  // make_keyed_batch(); any other bytes simply name a series nobody else can address).
  void push(std::string_view key, Sample sample);
  // Moves `other`'s samples to the end of this batch.
  void append(KeyedBatch&& other);

 private:
  std::vector<Sample> samples_;
  std::string keys_;
  std::vector<std::size_t> ends_;  // end of sample i's key in keys_
  std::vector<std::size_t> hashes_;
};

}  // namespace netpulse::tsdb
