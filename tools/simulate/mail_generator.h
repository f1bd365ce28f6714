// MailGenerator: the messages of one simulated day, legitimate and spam.
//
// Legitimate: each account writes Poisson(usual day x DayFactor x a lognormal day factor)
// messages at times from the rhythm; each message has recipients drawn from the
// population's distribution, local with local_share, else mostly in the account's pool
// (Zipf by rank, exponent domain_zipf) and sometimes (new_domain_share) to any domain.
// Bursts: per weekday, with weekly_probability / 5, an account sends a burst profile.
// Spam: a hijack sends a message of `recipients` recipients every recipients /
// rate, evenly, from start to start + duration, each recipient at a domain never seen
// before, cycling through its networks.
//
// A day's draws come from streams named by (seed, day, account), so they do not depend on
// what any run did before: every variant of a workload sees exactly the same mail.
// Thread-safety: const after construction; Day may be called from several threads.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/network.h"
#include "tools/simulate/accounts.h"
#include "tools/simulate/distribution.h"
#include "tools/simulate/mail.h"
#include "tools/simulate/workload.h"

namespace floodgate::simulate {

class MailGenerator {
 public:
  // `victims`: ChooseVictims' answer, one per hijack.
  MailGenerator(const Workload& w, const std::vector<Account>& accounts,
                std::vector<std::size_t> victims);

  // Appends every message of `day` (legitimate, bursts, spam) to *out, in no order.
  void Day(std::int64_t day, std::vector<Message>* out) const;

  // Where hijack h's network n connects from: 100.64.0.0/10, one /24 per network.
  static policy::Address AttackerAddress(std::size_t hijack, std::uint32_t network);

 private:
  std::string LegitRecipient(const Account& a, double new_domain_share, Rng& rng) const;
  void Legit(std::int64_t day, std::uint32_t account, std::vector<Message>* out) const;
  void Spam(std::int64_t day, std::size_t hijack, std::vector<Message>* out) const;

  const Workload& w_;
  const std::vector<Account>& accounts_;
  const std::vector<std::size_t> victims_;
  std::vector<Zipf> pool_choice_;  // by pool size
};

}  // namespace floodgate::simulate
