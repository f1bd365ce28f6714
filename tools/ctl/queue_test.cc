#include "tools/ctl/queue.h"

#include <gtest/gtest.h>

namespace floodgate::ctl {
namespace {

TEST(PostqueueJsonTest, ParsesOneObjectPerLineAndSkipsJunk) {
  const std::string text =
      R"({"queue_name": "deferred", "queue_id": "4ABCD12", "arrival_time": 1, "message_size": 2, "sender": "a@example.org", "recipients": [{"address": "x@example.net"}, {"address": "y@example.net"}]})"
      "\nnot json\n"
      R"({"queue_name": "hold", "queue_id": "5EF", "sender": "", "recipients": []})"
      "\n";
  const auto m = ParsePostqueueJson(text);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].queue_id, "4ABCD12");
  EXPECT_EQ(m[0].queue_name, "deferred");
  EXPECT_EQ(m[0].recipients, 2u);
  EXPECT_EQ(m[1].queue_name, "hold");
}

}  // namespace
}  // namespace floodgate::ctl
