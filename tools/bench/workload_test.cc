#include "tools/bench/workload.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace floodgate::bench {
namespace {

TEST(WorkQueueTest, HandsOutExactlyTheBudgetAcrossThreads) {
  WorkQueue q(10000, WorkQueue::Clock::time_point::max());
  std::vector<std::vector<std::uint64_t>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) {
    threads.emplace_back([&q, &g] {
      while (auto n = q.Claim()) g.push_back(*n);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::uint64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), 10000u);
  EXPECT_EQ(*all.rbegin(), 9999u);
  EXPECT_TRUE(q.stopped());
}

TEST(WorkQueueTest, StopsAtThePastDeadline) {
  WorkQueue q(-1, WorkQueue::Clock::now());
  EXPECT_FALSE(q.Claim().has_value());
}

TEST(WorkQueueTest, StopsAfterTooManyConnectFailuresInARow) {
  WorkQueue q(-1, WorkQueue::Clock::time_point::max());
  for (int i = 1; i < WorkQueue::kMaxConnectFailuresInARow; ++i) EXPECT_FALSE(q.ConnectFailed());
  q.ConnectSucceeded();  // a success starts the count again
  for (int i = 1; i < WorkQueue::kMaxConnectFailuresInARow; ++i) EXPECT_FALSE(q.ConnectFailed());
  EXPECT_TRUE(q.Claim().has_value());
  EXPECT_TRUE(q.ConnectFailed());
  EXPECT_FALSE(q.Claim().has_value());
}

TEST(WorkloadTest, RoundRobinCyclesThroughTheAccounts) {
  WorkloadOptions w;
  w.accounts = 3;
  EXPECT_EQ(AccountFor(w, 0), "user0@example.org");
  EXPECT_EQ(AccountFor(w, 2), "user2@example.org");
  EXPECT_EQ(AccountFor(w, 3), "user0@example.org");
  EXPECT_EQ(SenderFor(w, 4), "user1@example.org");
}

TEST(WorkloadTest, RandomAccountsStayInRangeAndSpread) {
  WorkloadOptions w;
  w.accounts = 10;
  w.random_accounts = true;
  std::set<std::string> seen;
  for (std::uint64_t n = 0; n < 1000; ++n) seen.insert(AccountFor(w, n));
  EXPECT_EQ(seen.size(), 10u);
}

TEST(WorkloadTest, NoAccountsMeansUnauthenticated) {
  WorkloadOptions w;
  w.accounts = 0;
  EXPECT_EQ(AccountFor(w, 7), "");
  EXPECT_FALSE(SenderFor(w, 7).empty());
}

TEST(WorkloadTest, ClientAddressesAreDistinctAndValid) {
  WorkloadOptions w;
  w.addresses = 600;
  std::set<std::string> seen;
  for (std::uint64_t c = 0; c < 600; ++c) seen.insert(ClientAddressFor(w, c));
  EXPECT_EQ(seen.size(), 600u);
  EXPECT_EQ(ClientAddressFor(w, 0), "10.0.0.1");
  EXPECT_EQ(ClientAddressFor(w, 253), "10.0.0.254");
  EXPECT_EQ(ClientAddressFor(w, 254), "10.0.1.1");
  EXPECT_EQ(ClientAddressFor(w, 600), "10.0.0.1");  // cycles
}

TEST(WorkloadTest, RecipientsAreDistinctAcrossMessages) {
  WorkloadOptions w;
  w.rcpts = 2;
  EXPECT_EQ(RecipientFor(w, 0, 1), "rcpt1@example.net");
  EXPECT_EQ(RecipientFor(w, 1, 0), "rcpt2@example.net");
  EXPECT_EQ(QueueIdFor(255), "00000000FF");
}

}  // namespace
}  // namespace floodgate::bench
