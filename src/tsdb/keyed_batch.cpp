// KeyedBatch: samples with their series keys back to back in one buffer, and the keys' hashes.
#include <netpulse/tsdb/keyed_batch.hpp>

#include "detail/series_key.hpp"

namespace netpulse::tsdb {

void KeyedBatch::reserve(std::size_t samples, std::size_t key_bytes) {
  samples_.reserve(samples);
  ends_.reserve(samples);
  hashes_.reserve(samples);
  keys_.reserve(key_bytes);
}

void KeyedBatch::push(std::string_view key, Sample sample) {
  keys_.append(key);
  samples_.push_back(sample);
  ends_.push_back(keys_.size());
  hashes_.push_back(detail::series_key_hash(key));
}

void KeyedBatch::append(KeyedBatch&& other) {
  if (samples_.empty()) {
    *this = std::move(other);
    return;
  }
  const std::size_t shift = keys_.size();
  keys_.append(other.keys_);
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  hashes_.insert(hashes_.end(), other.hashes_.begin(), other.hashes_.end());
  ends_.reserve(ends_.size() + other.ends_.size());
  for (auto e : other.ends_) ends_.push_back(e + shift);
  other = KeyedBatch();
}

}  // namespace netpulse::tsdb
