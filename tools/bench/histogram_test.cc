#include "tools/bench/histogram.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace floodgate::bench {
namespace {

TEST(HistogramTest, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 63; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.0), 1u);
  EXPECT_EQ(h.Percentile(0.5), 32u);
  EXPECT_EQ(h.Percentile(1.0), 63u);
}

TEST(HistogramTest, BucketsAreContiguousAndCoverEveryValue) {
  for (std::size_t b = 1; b < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::BucketLow(b), Histogram::BucketHigh(b - 1) + 1) << "bucket " << b;
  }
  EXPECT_EQ(Histogram::BucketHigh(Histogram::kBuckets - 1), Histogram::kMaxValue);
}

TEST(HistogramTest, EveryValueLandsInTheBucketThatContainsIt) {
  const std::uint64_t values[] = {
      0, 1, 63, 64, 65, 127, 128, 1000, 123456, 999999999, Histogram::kMaxValue};
  for (std::uint64_t v : values) {
    const std::size_t b = Histogram::BucketOf(v);
    EXPECT_LE(Histogram::BucketLow(b), v);
    EXPECT_GE(Histogram::BucketHigh(b), v);
  }
}

TEST(HistogramTest, RelativeErrorStaysUnderFourPercent) {
  for (std::uint64_t v = 64; v < (std::uint64_t{1} << 39); v = v * 3 / 2 + 7) {
    const std::size_t b = Histogram::BucketOf(v);
    const double width = static_cast<double>(Histogram::BucketHigh(b) - Histogram::BucketLow(b));
    EXPECT_LE(width / static_cast<double>(v), 1.0 / 32) << v;
  }
}

TEST(HistogramTest, HugeValuesAreClampedIntoTheTopBucket) {
  Histogram h;
  h.Record(UINT64_MAX);
  EXPECT_EQ(Histogram::BucketOf(UINT64_MAX), Histogram::kBuckets - 1);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.Percentile(1.0), UINT64_MAX);
}

TEST(HistogramTest, PercentilesOfAUniformRangeAreWithinBucketPrecision) {
  Histogram h;
  for (std::uint64_t us = 1; us <= 10000; ++us) h.Record(us * 1000);  // 1 us .. 10 ms in ns
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 5'000'000.0, 5'000'000.0 / 32);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 9'900'000.0, 9'900'000.0 / 32);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.999)), 9'990'000.0, 9'990'000.0 / 32);
  EXPECT_EQ(h.Percentile(1.0), 10'000'000u);  // the top is clamped to the real max
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_NEAR(h.mean(), 5'000'500.0, 1.0);
}

TEST(HistogramTest, ATailOfOneSlowSampleShowsAtTheRightPercentile) {
  Histogram h;
  for (int i = 0; i < 999; ++i) h.Record(100'000);
  h.Record(40'000'000);  // one delayed-ACK stall
  EXPECT_LE(h.Percentile(0.99), 100'000u + 100'000u / 32);
  EXPECT_LE(h.Percentile(0.999), 100'000u + 100'000u / 32);
  EXPECT_EQ(h.Percentile(0.9999), 40'000'000u);
  EXPECT_EQ(h.max(), 40'000'000u);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    (v % 3 ? a : b).Record(v * 37);
    all.Record(v * 37);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(a.Percentile(q), all.Percentile(q)) << q;
  }
}

TEST(HistogramTest, MergingAnEmptyHistogramChangesNothing) {
  Histogram a, empty;
  a.Record(500);
  a.Merge(empty);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.min(), 500u);
  EXPECT_EQ(a.Percentile(0.5), 500u);
}

}  // namespace
}  // namespace floodgate::bench
