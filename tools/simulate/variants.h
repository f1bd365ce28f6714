// Variants: the config a workload is run against, as loaded or with one of floodgate's
// signals turned off on every limit, so that each signal's effect shows side by side:
//   adaptive    the config as loaded (adaptive limits where it has them)
//   plain       adaptive.factor_milli = 0 on every limit
//   no-domains  max_recipient_domains.count = 0 on every limit
//   bare        both off
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "floodgate/result.h"
#include "policy/config.h"

namespace floodgate::simulate {

struct Variant {
  std::string name;
  bool adaptive = true;  // keep each limit's adaptive settings
  bool domains = true;   // keep each limit's max_recipient_domains
};

// "adaptive,plain,no-domains" -> those variants, in that order; unknown or repeated names
// are refused with the list of known ones.
Result<std::vector<Variant>> ParseVariants(std::string_view list);

// `base` with the variant's signals turned off.
policy::Config Apply(const Variant& v, const policy::Config& base);

// True when turning `v`'s signals off changes nothing in `base` (the signal is not used).
bool SameAsLoaded(const Variant& v, const policy::Config& base);

}  // namespace floodgate::simulate
