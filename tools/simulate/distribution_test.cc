#include "tools/simulate/distribution.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tools/simulate/random.h"

namespace floodgate::simulate {
namespace {

using Kind = Distribution::Kind;

double SampleMean(const Distribution& d, int n, std::uint64_t seed = 7) {
  Rng rng(seed);
  double total = 0;
  for (int i = 0; i < n; ++i) total += d.Draw(rng);
  return total / n;
}

TEST(RngTest, SameSeedSameDraws) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, DerivedStreamsAreDistinctAndStable) {
  EXPECT_EQ(DeriveSeed(1, 2, 3), DeriveSeed(1, 2, 3));
  EXPECT_NE(DeriveSeed(1, 2, 3), DeriveSeed(1, 3, 2));
  EXPECT_NE(DeriveSeed(1, 2, 3), DeriveSeed(2, 2, 3));
  EXPECT_NE(DeriveSeed(1, 0, 0), DeriveSeed(1, 0, 1));
}

TEST(RngTest, UniformAndBelowStayInRange) {
  Rng rng(1);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_LT(rng.Below(7), 7u);
  }
}

TEST(RngTest, PoissonMeanBothBelowAndAboveTheApproximation) {
  for (double mean : {0.3, 4.0, 25.0, 120.0}) {
    Rng rng(3);
    double total = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) total += static_cast<double>(rng.Poisson(mean));
    EXPECT_NEAR(total / n, mean, mean * 0.02 + 0.01) << mean;
  }
  Rng rng(3);
  EXPECT_EQ(rng.Poisson(0), 0);
}

TEST(DistributionTest, MeansMatchTheirFormulaOverManyDraws) {
  const std::vector<Distribution> cases = {
      {Kind::kConstant, 3, 0, 0}, {Kind::kUniform, 2, 10, 10},   {Kind::kLognormal, 6, 1.0, 0},
      {Kind::kPareto, 2, 3.0, 0}, {Kind::kGeometric, 1.6, 0, 0},
  };
  for (const Distribution& d : cases) {
    EXPECT_NEAR(SampleMean(d, 400000), d.Mean(), d.Mean() * 0.02) << d.Describe();
  }
  EXPECT_DOUBLE_EQ((Distribution{Kind::kLognormal, 6, 1.0, 0}.Mean()), 6 * std::exp(0.5));
  EXPECT_TRUE(std::isinf((Distribution{Kind::kPareto, 1, 1.0, 0}.Mean())));
}

TEST(DistributionTest, DeterministicWithTheSeed) {
  const Distribution d{Kind::kLognormal, 6, 1.1, 400};
  EXPECT_EQ(SampleMean(d, 1000, 9), SampleMean(d, 1000, 9));
  EXPECT_NE(SampleMean(d, 1000, 9), SampleMean(d, 1000, 10));
}

TEST(DistributionTest, MaxCapsEveryDraw) {
  const Distribution d{Kind::kPareto, 1, 0.5, 50};  // no mean: huge draws are common
  Rng rng(5);
  for (int i = 0; i < 10000; ++i) EXPECT_LE(d.Draw(rng), 50);
}

TEST(DistributionTest, GeometricCountsAreWholeAndAtLeastOne) {
  const Distribution d{Kind::kGeometric, 2.5, 0, 0};
  Rng rng(8);
  for (int i = 0; i < 10000; ++i) {
    const double x = d.Draw(rng);
    EXPECT_GE(x, 1);
    EXPECT_EQ(x, std::floor(x));
  }
  EXPECT_EQ(Distribution::Constant(0.2).DrawCount(rng), 1);  // at least one
  EXPECT_EQ(Distribution::Constant(7.4).DrawCount(rng), 7);
}

TEST(ZipfTest, FirstRanksTakeMostDrawsInProportion) {
  const Zipf z(10, 1.0);
  Rng rng(11);
  std::vector<int> counts(10);
  const int n = 300000;
  for (int i = 0; i < n; ++i) ++counts[z.Draw(rng)];
  // P(r) = (1 / (r + 1)) / H(10), H(10) = 2.929.
  EXPECT_NEAR(counts[0] / static_cast<double>(n), 1 / 2.929, 0.005);
  EXPECT_NEAR(counts[1] / static_cast<double>(counts[0]), 0.5, 0.02);
  EXPECT_NEAR(counts[9] / static_cast<double>(counts[0]), 0.1, 0.01);
}

TEST(ZipfTest, ExponentZeroIsUniform) {
  const Zipf z(4, 0.0);
  Rng rng(2);
  std::vector<int> counts(4);
  for (int i = 0; i < 40000; ++i) ++counts[z.Draw(rng)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

}  // namespace
}  // namespace floodgate::simulate
