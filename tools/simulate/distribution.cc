#include "tools/simulate/distribution.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace floodgate::simulate {

double Distribution::Draw(Rng& rng) const {
  double x = a;
  switch (kind) {
    case Kind::kConstant:
      break;
    case Kind::kUniform:
      x = a + (b - a) * rng.Uniform();
      break;
    case Kind::kLognormal:
      x = std::exp(std::log(a) + b * rng.Normal());
      break;
    case Kind::kPareto:
      x = a / std::pow(rng.UniformPositive(), 1.0 / b);
      break;
    case Kind::kGeometric:
      if (a > 1) {
        const double p = 1.0 / a;
        x = 1 + std::floor(std::log(rng.UniformPositive()) / std::log1p(-p));
      } else {
        x = 1;
      }
      break;
  }
  return max > 0 ? std::min(x, max) : x;
}

std::int64_t Distribution::DrawCount(Rng& rng, std::int64_t at_least) const {
  const double x = std::round(Draw(rng));
  if (!(x >= static_cast<double>(at_least))) return at_least;  // also NaN
  return x > 1e15 ? std::int64_t{1'000'000'000'000'000} : static_cast<std::int64_t>(x);
}

double Distribution::Mean() const {
  switch (kind) {
    case Kind::kConstant:
      return a;
    case Kind::kUniform:
      return (a + b) / 2;
    case Kind::kLognormal:
      return a * std::exp(b * b / 2);
    case Kind::kPareto:
      return b > 1 ? b * a / (b - 1) : std::numeric_limits<double>::infinity();
    case Kind::kGeometric:
      return std::max(a, 1.0);
  }
  return a;
}

std::string Distribution::Describe() const {
  std::string text;
  switch (kind) {
    case Kind::kConstant:
      text = fmt::format("constant({:g}", a);
      break;
    case Kind::kUniform:
      text = fmt::format("uniform({:g}..{:g}", a, b);
      break;
    case Kind::kLognormal:
      text = fmt::format("lognormal(median {:g}, sigma {:g}", a, b);
      break;
    case Kind::kPareto:
      text = fmt::format("pareto(min {:g}, alpha {:g}", a, b);
      break;
    case Kind::kGeometric:
      text = fmt::format("geometric(mean {:g}", a);
      break;
  }
  if (max > 0) text += fmt::format(", max {:g}", max);
  return text + ")";
}

Zipf::Zipf(std::size_t n, double s) {
  cdf_.reserve(n);
  double total = 0;
  for (std::size_t r = 0; r < n; ++r) {
    total += 1.0 / std::pow(static_cast<double>(r + 1), s);
    cdf_.push_back(total);
  }
  for (double& c : cdf_) c /= total;
}

std::size_t Zipf::Draw(Rng& rng) const {
  if (cdf_.empty()) return 0;
  const double u = rng.Uniform();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

}  // namespace floodgate::simulate
