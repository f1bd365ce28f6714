#include "store/block_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

namespace floodgate::store {
namespace {

struct TestBlock {
  std::string k;
  int value = 0;
  std::string_view key() const { return k; }
  static int live;
  static void Destroy(TestBlock* b) {
    --live;
    delete b;
  }
  static TestBlock* Make(std::string k, int value) {
    ++live;
    return new TestBlock{std::move(k), value};
  }
};
int TestBlock::live = 0;

TEST(BlockTableTest, CoarseSecondsRoundUp) {
  EXPECT_EQ(CoarseSeconds(0), 0u);
  EXPECT_EQ(CoarseSeconds(1), 1u);
  EXPECT_EQ(CoarseSeconds(1'000'000), 1u);
  EXPECT_EQ(CoarseSeconds(1'000'001), 2u);
  EXPECT_EQ(CoarseSeconds(std::numeric_limits<Micros>::max()),
            std::numeric_limits<std::uint32_t>::max());
}

// Random inserts and erases against std::unordered_map: every key stays findable, every
// erased one is gone, through growth and backward-shift deletion.
TEST(BlockTableTest, BehavesLikeAMapUnderRandomInsertsAndErases) {
  {
    BlockTable<TestBlock> table;
    std::unordered_map<std::string, int> model;
    std::mt19937 rng(42);
    for (int step = 0; step < 20000; ++step) {
      const std::string key = "k" + std::to_string(rng() % 3000);
      if (auto* slot = table.Find(key)) {
        ASSERT_EQ(model.count(key), 1u) << key;
        EXPECT_EQ(slot->block->value, model[key]);
        if (rng() % 2 == 0) {
          table.Erase(slot);
          model.erase(key);
        }
      } else {
        ASSERT_EQ(model.count(key), 0u) << key;
        table.Insert(TestBlock::Make(key, step), static_cast<std::uint32_t>(step));
        model[key] = step;
      }
      ASSERT_EQ(table.size(), model.size());
    }
    for (const auto& [key, value] : model) {
      const auto* slot = table.Find(key);
      ASSERT_NE(slot, nullptr) << key;
      EXPECT_EQ(slot->block->value, value);
    }
    EXPECT_EQ(TestBlock::live, static_cast<int>(model.size()));
    // EraseIf visits everything once a shift moved it.
    table.EraseIf([](const auto& s) { return s.block->value % 3 == 0; });
    for (const auto& [key, value] : model) {
      EXPECT_EQ(table.Find(key) != nullptr, value % 3 != 0) << key;
    }
  }
  EXPECT_EQ(TestBlock::live, 0) << "the table frees its blocks";
}

TEST(BlockTableTest, EvictionForgetsTheSoonestExpiringFirst) {
  BlockTable<TestBlock> table;
  for (int i = 0; i < 1000; ++i) {
    // Expiries in a scrambled order, each distinct.
    const int expires = (i * 7919) % 1000 + 1;
    table.Insert(TestBlock::Make("k" + std::to_string(i), expires),
                 static_cast<std::uint32_t>(expires));
  }
  EXPECT_EQ(table.EvictSoonestExpiring(100), 100u);
  EXPECT_EQ(table.size(), 900u);
  std::uint32_t earliest = std::numeric_limits<std::uint32_t>::max();
  table.ForEach([&](const auto& s) { earliest = std::min(earliest, s.expires_s); });
  EXPECT_EQ(earliest, 101u) << "expiries 1..100 went, 101.. stayed";
}

TEST(BlockTableTest, EvictionWithTiesForgetsExactlyTheCount) {
  BlockTable<TestBlock> table;
  for (int i = 0; i < 100; ++i) table.Insert(TestBlock::Make("k" + std::to_string(i), 0), 5);
  EXPECT_EQ(table.EvictSoonestExpiring(30), 30u);
  EXPECT_EQ(table.size(), 70u);
}

TEST(BlockTableTest, AnIncrementalSweepErasesOnlyWhatExpired) {
  BlockTable<TestBlock> table;
  for (int i = 0; i < 500; ++i) {
    table.Insert(TestBlock::Make("k" + std::to_string(i), i), i % 2 == 0 ? 10 : 20);
  }
  std::size_t cursor = 0;
  std::size_t erased = 0;
  for (int pass = 0; pass < 100; ++pass) erased += table.SweepSome(&cursor, 64, 10);
  EXPECT_EQ(erased, 250u);
  table.ForEach([](const auto& s) { EXPECT_EQ(s.expires_s, 20u); });
}

}  // namespace
}  // namespace floodgate::store
