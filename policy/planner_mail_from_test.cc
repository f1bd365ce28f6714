// The alert mail's own sender (alerts.mail_from, in exempt.local_senders) is never
// limited when it is a local submission — and only then: over SMTP anyone can write it.
#include <gtest/gtest.h>

#include "policy/planner.h"

namespace floodgate::policy {
namespace {

TEST(PlannerMailFromTest, TheAlertMailSenderIsExemptOnlyAsALocalSubmission) {
  Config config;
  Limit limit;
  limit.name = "by-sender";
  limit.subject = SubjectKind::kSender;
  limit.count = CountKind::kMessages;
  limit.rates = {Rate{1, 3600, 1, "1/1h"}};
  limit.traffic = DefaultTraffic(SubjectKind::kSender);
  config.limits = {limit};
  config.exempt.local_senders = {"floodgate@mx1.example.org"};

  Facts local;
  local.client = Address::Parse("127.0.0.1");
  local.local_submission = true;
  local.traffic = Traffic::kLocal;
  local.sender = "floodgate@mx1.example.org";
  Event eom;
  eom.stage = Stage::kEndOfMessage;
  EXPECT_TRUE(IsExempt(config.exempt, local));
  EXPECT_TRUE(MakePlan(config, local, eom).checks.empty());

  Facts smtp = local;
  smtp.local_submission = false;
  smtp.traffic = Traffic::kRelay;
  EXPECT_FALSE(IsExempt(config.exempt, smtp));
  EXPECT_EQ(MakePlan(config, smtp, Event{}).checks.size(), 1u);

  Facts other = local;
  other.sender = "www-data@mx1.example.org";
  EXPECT_FALSE(IsExempt(config.exempt, other));
}

}  // namespace
}  // namespace floodgate::policy
