// Rng: the simulator's deterministic random numbers (xoshiro256**, seeded through
// splitmix64), with the few draws the workload needs written out here rather than taken
// from <random>, whose distributions differ between standard libraries: a seed gives the
// same simulated weeks on every build.
//
// Streams are derived, not shared: DeriveSeed(seed, a, b) names the stream of one account
// on one day (or one hijack), so what one part of the workload draws never shifts another.
// Thread-safety: an Rng is a plain value; use one per thread.
#pragma once

#include <cstdint>

namespace floodgate::simulate {

// A seed for the stream (seed, a, b): well mixed, so neighbouring a and b are unrelated.
std::uint64_t DeriveSeed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  // Uniform in (0, 1]: safe under log().
  double UniformPositive() { return 1.0 - Uniform(); }
  // Uniform integer in [0, n); n > 0.
  std::uint64_t Below(std::uint64_t n);
  bool Chance(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller).
  double Normal();
  // Poisson with this mean (>= 0): exact (Knuth) below 30, the rounded normal
  // approximation above, where it is within a fraction of a percent.
  std::int64_t Poisson(double mean);

 private:
  std::uint64_t s_[4];
};

}  // namespace floodgate::simulate
