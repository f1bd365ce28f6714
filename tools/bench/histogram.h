// A latency histogram with log-linear buckets, in the spirit of HdrHistogram: every power
// of two is split into 32 linear sub-buckets, so any recorded value is reported within
// about 3% (values below 64 exactly). Values are nanoseconds; anything above ~18 minutes
// lands in the top bucket. Fixed size (~9 KiB), no allocation after construction.
//
// Thread-safety: none. Each thread records into its own histogram; Merge() them once
// the threads have finished.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace floodgate::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 5;    // 32 sub-buckets per power of two
  static constexpr int kMaxShift = 34;  // values up to 2^40 - 1
  static constexpr std::size_t kBuckets = (kMaxShift + 1) * 32 + 32;
  static constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 40) - 1;

  void Record(std::uint64_t value);
  void Merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The value at quantile q in [0, 1]: the highest value of the bucket that holds the
  // ceil(q * count)-th smallest sample, clamped to [min, max]. 0 when empty.
  std::uint64_t Percentile(double q) const;

  // Bucket arithmetic, exposed for tests.
  static std::size_t BucketOf(std::uint64_t value);
  static std::uint64_t BucketLow(std::size_t bucket);
  static std::uint64_t BucketHigh(std::size_t bucket);

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace floodgate::bench
