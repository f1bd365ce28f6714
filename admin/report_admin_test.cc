// Admin::Report on the memory store, through a Request as floodgatectl sends it: the
// events the store keeps, digested, and the locks it holds now.
#include <gtest/gtest.h>

#include "admin/admin.h"
#include "admin/memory_admin_backend.h"
#include "admin/request.h"
#include "policy/planner.h"
#include "store/memory_store.h"

namespace floodgate::admin {
namespace {

TEST(ReportAdminTest, ReportsTheLocksMadeAndWhatIsLockedNow) {
  SystemClock clock;
  store::MemoryStore store(clock);
  MemoryAdminBackend backend(store, "/run/floodgate/admin.sock");
  policy::Config config;
  config.store.key_prefix = "fg:";
  Admin admin(config, backend, nullptr);
  const auto subject = [](const std::string& text) { return *policy::ParseSubject(text); };
  ASSERT_TRUE(admin.Lock(subject("account:alice@example.org"), 3600, "hijacked").ok());
  ASSERT_TRUE(admin.Lock(subject("account:bob@example.org"), 0, "").ok());
  ASSERT_TRUE(admin.Unlock(subject("account:bob@example.org")).ok());
  // The daemon records the queue ids it put on hold under the subject.
  const std::string held_key =
      policy::HeldKey("fg:", policy::SubjectKind::kAccount, "c@example.org");
  ASSERT_TRUE(backend.Append(held_key, "4AbC1", 100, 3'600'000'000).ok());
  ASSERT_TRUE(backend.Append(held_key, "4AbC2", 100, 3'600'000'000).ok());

  Request request;
  request.op = "report";
  request.since_s = 3600;
  auto parsed = RequestFromJson(ToJson(request));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->since_s, 3600);
  auto report = Perform(admin, *parsed);
  ASSERT_TRUE(report.ok()) << report.error().message();
  const Json& r = *report;
  EXPECT_EQ(r["events"], 3) << r.dump(2);
  EXPECT_EQ(r["since_s"], 3600);
  ASSERT_EQ(r["subjects"].size(), 2u) << r.dump(2);
  const Json& bob = r["subjects"][1];  // as many locks as alice: by name
  EXPECT_EQ(bob["subject"], "account:bob@example.org");
  EXPECT_EQ(bob["locks"][0]["reason"], "admin");
  EXPECT_EQ(bob["locks"][0]["by"], "floodgatectl");
  EXPECT_EQ(bob["unlocks"].size(), 1u);
  ASSERT_EQ(r["locked_now"].size(), 1u) << r.dump(2);
  EXPECT_EQ(r["locked_now"][0]["subject"], "account:alice@example.org");
  EXPECT_EQ(r["locked_now"][0]["reason"], "hijacked");
  EXPECT_LE(r["locked_now"][0]["expires_in_s"].get<double>(), 3600.0);

  EXPECT_EQ(r["held"], (Json::array({{{"subject", "account:c@example.org"},
                                      {"recorded", 2},
                                      {"queue_ids", {"4AbC1", "4AbC2"}}}})));

  request.since_s = 0;
  EXPECT_FALSE(RequestFromJson(ToJson(request)).ok()) << "an empty period is refused";
}

}  // namespace
}  // namespace floodgate::admin
