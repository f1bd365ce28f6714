#include "store/one_shot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace floodgate::store {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST(OneShotTest, AValueSetBeforeTheWaitIsReturnedAtOnce) {
  OneShot<std::string> slot;
  slot.Set("reply");
  // A deadline already past: a value that is there is still taken.
  EXPECT_EQ(slot.WaitUntil(steady_clock::now() - 1s), "reply");
}

TEST(OneShotTest, NothingSetByTheDeadlineIsNullopt) {
  OneShot<int> slot;
  const auto deadline = steady_clock::now() + 20ms;
  EXPECT_EQ(slot.WaitUntil(deadline), std::nullopt);
  EXPECT_GE(steady_clock::now(), deadline);  // it waited for the deadline, not less
}

TEST(OneShotTest, ASetFromAnotherThreadWakesTheWaiter) {
  for (int i = 0; i < 200; ++i) {  // both orders of Set and the start of the wait occur
    auto slot = std::make_shared<OneShot<int>>();
    std::thread setter([slot, i] { slot->Set(i); });
    EXPECT_EQ(slot->WaitUntil(steady_clock::now() + 10s), i);
    setter.join();
  }
}

TEST(OneShotTest, ALateSetAfterTheWaiterGaveUpIsHarmless) {
  auto slot = std::make_shared<OneShot<std::string>>();
  EXPECT_EQ(slot->WaitUntil(steady_clock::now() + 1ms), std::nullopt);
  std::thread setter([slot] { slot->Set("late"); });
  setter.join();
  // Only the other side holds it now in real use; here the value is simply there.
  EXPECT_EQ(slot->WaitUntil(steady_clock::now()), "late");
}

}  // namespace
}  // namespace floodgate::store
