#include "tools/simulate/accounts.h"

#include <fmt/format.h>

#include <algorithm>

#include "tools/simulate/distribution.h"
#include "tools/simulate/random.h"

namespace floodgate::simulate {
namespace {

// Stream names (DeriveSeed's `a`) of the draws made here.
constexpr std::uint64_t kAccountStream = 1;
constexpr std::uint64_t kVictimStream = 2;

}  // namespace

std::string GlobalDomain(std::uint32_t id) { return fmt::format("d{}.example.net", id); }

std::vector<Account> MakeAccounts(const Workload& w) {
  const Population& p = w.population;
  const Zipf popularity(static_cast<std::size_t>(p.global_domains), 1.0);
  std::vector<Account> accounts;
  accounts.reserve(static_cast<std::size_t>(p.accounts));
  for (std::int64_t i = 0; i < p.accounts; ++i) {
    Rng rng(DeriveSeed(w.seed, kAccountStream, static_cast<std::uint64_t>(i)));
    Account a;
    a.login = fmt::format("user{}@{}", i, p.domain);
    a.client.bytes[0] = 10;
    a.client.bytes[1] = static_cast<std::uint8_t>(i >> 8);
    a.client.bytes[2] = static_cast<std::uint8_t>(i);
    a.client.bytes[3] = 10;
    a.usual_day = p.daily_messages.Draw(rng);
    const std::size_t pool = static_cast<std::size_t>(
        std::min<std::int64_t>(p.domain_pool.DrawCount(rng), p.global_domains));
    // Distinct domains by popularity; past a few tries a popular one is taken uniformly.
    while (a.pool.size() < pool) {
      std::uint32_t d = static_cast<std::uint32_t>(popularity.Draw(rng));
      for (int tries = 0; std::find(a.pool.begin(), a.pool.end(), d) != a.pool.end(); ++tries) {
        d = static_cast<std::uint32_t>(tries < 8 ? popularity.Draw(rng)
                                                 : rng.Below(popularity.size()));
      }
      a.pool.push_back(d);
    }
    accounts.push_back(std::move(a));
  }
  return accounts;
}

Result<std::vector<std::size_t>> ChooseVictims(const Workload& w,
                                               const std::vector<Account>& accounts) {
  std::vector<std::size_t> victims;
  Rng rng(DeriveSeed(w.seed, kVictimStream));
  for (const Hijack& h : w.hijacks) {
    const VictimChoice& c = h.victim;
    const auto taken = [&](std::size_t i) {
      return std::find(victims.begin(), victims.end(), i) != victims.end();
    };
    if (c.account) {
      const auto i = static_cast<std::size_t>(*c.account);
      if (i >= accounts.size() || taken(i)) {
        return Error(ErrorKind::kInvalid,
                     fmt::format("{}: hijack \"{}\": victim.account {} is {}", w.source, h.name, i,
                                 i >= accounts.size() ? "not in the population" : "taken twice"));
      }
      victims.push_back(i);
      continue;
    }
    std::vector<std::size_t> matching;
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      const double u = accounts[i].usual_day;
      if (u >= c.min_usual_day && (c.max_usual_day <= 0 || u < c.max_usual_day) && !taken(i)) {
        matching.push_back(i);
      }
    }
    if (matching.empty()) {
      return Error(ErrorKind::kInvalid,
                   fmt::format("{}: hijack \"{}\": no account (left) has a usual day in [{:g}, {}) "
                               "messages",
                               w.source, h.name, c.min_usual_day,
                               c.max_usual_day > 0 ? fmt::format("{:g}", c.max_usual_day) : "inf"));
    }
    victims.push_back(matching[rng.Below(matching.size())]);
  }
  return victims;
}

}  // namespace floodgate::simulate
