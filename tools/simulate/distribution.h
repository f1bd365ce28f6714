// Distribution: one random quantity of a workload (an account's usual day, recipients per
// message, the size of its domain pool), as the workload file describes it, and Zipf: a
// choice among ranked items where the first few take most of the draws.
//
//   constant  value                    always `value`
//   uniform   min, max                 uniform in [min, max]
//   lognormal median, sigma            exp(ln median + sigma * N(0,1)); heavy right tail
//   pareto    min, alpha               min / U^(1/alpha); heavier still (alpha <= 2)
//   geometric mean                     integers 1, 2, 3 ... with this mean (>= 1)
// Every kind takes an optional `max`: draws above it are `max`.
// Thread-safety: plain values; Draw uses the caller's Rng.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/simulate/random.h"

namespace floodgate::simulate {

struct Distribution {
  enum class Kind { kConstant, kUniform, kLognormal, kPareto, kGeometric };
  Kind kind = Kind::kConstant;
  double a = 1;    // value | min | median | min | mean
  double b = 0;    // -     | max | sigma  | alpha | -
  double max = 0;  // > 0: cap

  static Distribution Constant(double value) { return {Kind::kConstant, value, 0, 0}; }

  double Draw(Rng& rng) const;
  // Draw rounded to the nearest integer, at least `at_least`.
  std::int64_t DrawCount(Rng& rng, std::int64_t at_least = 1) const;
  // The mean without the cap (the lognormal's is median * exp(sigma^2 / 2); a pareto with
  // alpha <= 1 has none: infinity).
  double Mean() const;
  // "lognormal(median 6, sigma 1.1, max 400)", for reports.
  std::string Describe() const;
};

// Ranks 0..n-1 with P(r) proportional to 1 / (r + 1)^s (s = 0: uniform).
class Zipf {
 public:
  Zipf(std::size_t n, double s);
  std::size_t Draw(Rng& rng) const;
  std::size_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

}  // namespace floodgate::simulate
