#include "tools/simulate/scenario.h"

namespace floodgate::simulate {

Result<std::unique_ptr<Scenario>> Scenario::Make(Workload workload) {
  std::unique_ptr<Scenario> s(new Scenario());
  s->workload_ = std::move(workload);
  s->accounts_ = MakeAccounts(s->workload_);
  Result<std::vector<std::size_t>> victims = ChooseVictims(s->workload_, s->accounts_);
  if (!victims.ok()) return victims.error();
  s->victims_ = *victims;
  s->mail_ = std::make_unique<MailGenerator>(s->workload_, s->accounts_, s->victims_);
  return s;
}

}  // namespace floodgate::simulate
