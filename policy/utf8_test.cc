// FindInvalidUtf8: valid text of every sequence length passes; each kind of malformed
// sequence is found at the right offset, line and column.
#include "policy/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace floodgate::policy {
namespace {

using namespace std::string_literals;

TEST(Utf8Test, AcceptsAsciiAndEverySequenceLength) {
  EXPECT_FALSE(FindInvalidUtf8(""));
  EXPECT_FALSE(FindInvalidUtf8("name = \"x\"\n"));
  EXPECT_FALSE(FindInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"s));  // é € 📧
  EXPECT_FALSE(FindInvalidUtf8("\xed\x9f\xbf \xf4\x8f\xbf\xbf"s));              // U+D7FF, U+10FFFF
  EXPECT_FALSE(FindInvalidUtf8("a\0b"s));  // NUL is valid UTF-8; TOML refuses it itself
}

TEST(Utf8Test, FindsTheFirstInvalidByteWithLineAndColumn) {
  const auto at = FindInvalidUtf8("a = 1\nb = '\xa6\xa6'\n"s);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->offset, 11u);
  EXPECT_EQ(at->line, 2);
  EXPECT_EQ(at->column, 6);
}

TEST(Utf8Test, RefusesEachKindOfMalformedSequence) {
  for (const std::string& bad : {
           "\x80"s,              // lone continuation byte
           "\xc3"s,              // truncated 2-byte sequence at the end
           "\xc3("s,             // 2-byte lead without continuation
           "\xc0\xaf"s,          // overlong '/'
           "\xc1\xbf"s,          // overlong
           "\xe0\x80\xaf"s,      // overlong 3-byte
           "\xed\xa0\x80"s,      // UTF-16 surrogate D800
           "\xf0\x80\x80\xaf"s,  // overlong 4-byte
           "\xf4\x90\x80\x80"s,  // above U+10FFFF
           "\xf5\x80\x80\x80"s,  // F5 never starts a sequence
           "\xff"s,
           "\xe2\x82"s,  // truncated 3-byte sequence
       }) {
    const auto at = FindInvalidUtf8("x" + bad);
    ASSERT_TRUE(at) << testing::PrintToString(bad);
    EXPECT_EQ(at->offset, 1u) << testing::PrintToString(bad);
  }
}

}  // namespace
}  // namespace floodgate::policy
