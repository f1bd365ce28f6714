#include "tools/simulate/variants.h"

#include <fmt/format.h>

#include <algorithm>

namespace floodgate::simulate {
namespace {

const Variant kKnown[] = {
    {"adaptive", true, true},
    {"plain", false, true},
    {"no-domains", true, false},
    {"bare", false, false},
};

}  // namespace

Result<std::vector<Variant>> ParseVariants(std::string_view list) {
  std::vector<Variant> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string_view name = list.substr(pos, comma - pos);
    pos = comma + 1;
    const Variant* found = nullptr;
    for (const Variant& v : kKnown) {
      if (v.name == name) found = &v;
    }
    if (found == nullptr) {
      return Error(
          ErrorKind::kInvalid,
          fmt::format("unknown variant \"{}\" (known: adaptive, plain, no-domains, bare)", name));
    }
    for (const Variant& v : out) {
      if (v.name == name) {
        return Error(ErrorKind::kInvalid, fmt::format("variant \"{}\" given twice", name));
      }
    }
    out.push_back(*found);
  }
  return out;
}

policy::Config Apply(const Variant& v, const policy::Config& base) {
  policy::Config c = base;
  for (policy::Limit& l : c.limits) {
    if (!v.adaptive) l.adaptive.factor_milli = 0;
    if (!v.domains) l.max_recipient_domains.count = 0;
  }
  return c;
}

bool SameAsLoaded(const Variant& v, const policy::Config& base) {
  return std::none_of(base.limits.begin(), base.limits.end(), [&](const policy::Limit& l) {
    return (!v.adaptive && l.adaptive.factor_milli > 0) ||
           (!v.domains && l.max_recipient_domains.count > 0);
  });
}

}  // namespace floodgate::simulate
