// Accounts: the simulated population, drawn once from the workload's seed - each
// account's login, client address, usual day (messages on a weekday) and the pool of
// recipient domains it usually writes to - and the choice of each hijack's victim.
//
// Account i is "user<i>@<domain>" and connects from 10.<i/256>.<i%256>.10, so every
// account has a /24 of its own (max_networks counts /24s). Global domain d is
// "d<d>.example.net"; pools are drawn from them with Zipf(s = 1) popularity, so big
// providers sit in many pools, as they do.
// Thread-safety: plain values; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "policy/network.h"
#include "tools/simulate/workload.h"

namespace floodgate::simulate {

struct Account {
  std::string login;
  policy::Address client;
  double usual_day = 0;             // mean messages on a weekday
  std::vector<std::uint32_t> pool;  // global domain ids, most written-to first
};

std::vector<Account> MakeAccounts(const Workload& w);

std::string GlobalDomain(std::uint32_t id);

// The account each hijack of `w` takes over, in order: distinct accounts, each matching
// its VictimChoice, picked with the seed. Fails naming the hijack when none matches.
Result<std::vector<std::size_t>> ChooseVictims(const Workload& w,
                                               const std::vector<Account>& accounts);

}  // namespace floodgate::simulate
