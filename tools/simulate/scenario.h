// Scenario: what every variant of one workload shares - the workload, its accounts, the
// hijacks' victims and the mail generator - built once, so that the variants are run on
// exactly the same simulated weeks.
// Thread-safety: const after Make; may be shared by runs on several threads.
#pragma once

#include <memory>
#include <vector>

#include "floodgate/result.h"
#include "tools/simulate/accounts.h"
#include "tools/simulate/mail_generator.h"
#include "tools/simulate/workload.h"

namespace floodgate::simulate {

class Scenario {
 public:
  static Result<std::unique_ptr<Scenario>> Make(Workload workload);

  const Workload& workload() const { return workload_; }
  const std::vector<Account>& accounts() const { return accounts_; }
  const std::vector<std::size_t>& victims() const { return victims_; }
  const MailGenerator& mail() const { return *mail_; }

 private:
  Scenario() = default;
  Workload workload_;
  std::vector<Account> accounts_;
  std::vector<std::size_t> victims_;
  std::unique_ptr<MailGenerator> mail_;  // refers to the members above
};

}  // namespace floodgate::simulate
