#include "tools/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace floodgate::bench {

// Values below 64 get a bucket each. Above, a value with highest set bit e is shifted
// right by e - 5, leaving a mantissa in [32, 63]; bucket = shift * 32 + mantissa. The
// two schemes meet at 64 (shift 1, mantissa 32).
std::size_t Histogram::BucketOf(std::uint64_t value) {
  value = std::min(value, kMaxValue);
  if (value < 64) return static_cast<std::size_t>(value);
  const int top = 63 - std::countl_zero(value);
  const int shift = top - kSubBits;
  return static_cast<std::size_t>(shift) * 32 + static_cast<std::size_t>(value >> shift);
}

std::uint64_t Histogram::BucketLow(std::size_t bucket) {
  if (bucket < 64) return bucket;
  const std::size_t shift = bucket / 32 - 1;
  const std::uint64_t mantissa = bucket % 32 + 32;
  return mantissa << shift;
}

std::uint64_t Histogram::BucketHigh(std::size_t bucket) {
  if (bucket < 64) return bucket;
  const std::size_t shift = bucket / 32 - 1;
  const std::uint64_t mantissa = bucket % 32 + 32;
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::Record(std::uint64_t value) {
  ++buckets_[BucketOf(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min_, max_);
  }
  return max_;
}

}  // namespace floodgate::bench
