// Unit tests for KeyComponent, LogValue and ReplyText with hostile inputs: spaces, braces,
// colons, '%', CR/LF, NUL, invalid UTF-8 and 10 KB strings. The properties checked are
// the ones the callers rely on: injective keys, one-token log values, format-safe replies.
#include "policy/escape.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace floodgate::policy {
namespace {

using namespace std::string_literals;

std::vector<std::string> HostileInputs() {
  std::vector<std::string> v = {
      ""s,
      "alice@example.org"s,
      "a b"s,
      "a:b"s,
      "a%3Ab"s,
      "a%3ab"s,
      "%"s,
      "%%"s,
      "%s%n%d"s,
      "x}:submission"s,
      "{account:bob}"s,
      "a\r\nevent=forged"s,
      "line1\nline2"s,
      "\r"s,
      "a\0b"s,
      "\0"s,
      "\0\0"s,
      "key=value"s,
      "\"quoted\""s,
      "back\\slash"s,
      "tab\there"s,
      "del\x7f"s,
      "\xff\xfe\x80"s,  // invalid UTF-8
      "\xc3\x28"s,      // invalid 2-byte sequence
      "\xe2\x82"s,      // truncated sequence
      "caf\xc3\xa9"s,   // valid UTF-8, still not ASCII
      "~"s,
      "a~0123456789ABCDEF"s,
      std::string(10 * 1024, 'a'),
      std::string(10 * 1024, 'a') + "b",
      std::string(10 * 1024, '%'),
      std::string(10 * 1024, '\n'),
      std::string(10 * 1024, '\0'),
      std::string(10 * 1024, '\xff'),
  };
  // Long values that differ only past the cut point, and at every alignment of a %XX triple.
  for (int n = 180; n < 205; ++n) {
    v.push_back(std::string(n, 'x') + ":" + std::string(300, 'y'));
    v.push_back(std::string(n, 'x') + ":" + std::string(300, 'z'));
  }
  return v;
}

// --- KeyComponent -------------------------------------------------------------------------

TEST(EscapeTest, KeyComponentKeepsSafeBytes) {
  EXPECT_EQ(KeyComponent("alice@example.org"), "alice@example.org");
  EXPECT_EQ(KeyComponent("A-Z_a-z.0+9"), "A-Z_a-z.0+9");
  EXPECT_EQ(KeyComponent(""), "");
}

TEST(EscapeTest, KeyComponentPercentEncodesUpperCase) {
  EXPECT_EQ(KeyComponent("a:b"), "a%3Ab");
  EXPECT_EQ(KeyComponent("a%3Ab"), "a%253Ab");
  EXPECT_EQ(KeyComponent("a%3ab"), "a%253ab");
  EXPECT_EQ(KeyComponent("x}:submission"), "x%7D%3Asubmission");
  EXPECT_EQ(KeyComponent("{"), "%7B");
  EXPECT_EQ(KeyComponent("a b"), "a%20b");
  EXPECT_EQ(KeyComponent("a\0b"s), "a%00b");
  EXPECT_EQ(KeyComponent("\r\n"), "%0D%0A");
  EXPECT_EQ(KeyComponent("\xff\x80"), "%FF%80");
  EXPECT_EQ(KeyComponent("~"), "%7E");
}

TEST(EscapeTest, KeyComponentsAreDistinct) {
  EXPECT_NE(KeyComponent("a:b"), KeyComponent("a%3Ab"));
  EXPECT_NE(KeyComponent("a%3Ab"), KeyComponent("a%3ab"));
  EXPECT_NE(KeyComponent("a:b"), KeyComponent("a%3ab"));
  EXPECT_NE(KeyComponent("a"), KeyComponent("a\0"s));
  EXPECT_NE(KeyComponent(""), KeyComponent("\0"s));

  std::set<std::string> inputs;
  std::set<std::string> keys;
  for (const auto& in : HostileInputs()) {
    if (inputs.insert(in).second) {
      EXPECT_TRUE(keys.insert(KeyComponent(in)).second)
          << "collision for input of size " << in.size();
    }
  }
}

TEST(EscapeTest, KeyComponentHasOnlySafePrintableBytes) {
  for (const auto& in : HostileInputs()) {
    const std::string k = KeyComponent(in);
    for (unsigned char c : k) {
      EXPECT_TRUE(c > 0x20 && c < 0x7f) << int(c);
      EXPECT_NE(c, '{');
      EXPECT_NE(c, '}');
      EXPECT_NE(c, ':');
    }
  }
}

TEST(EscapeTest, KeyComponentIsBounded) {
  for (const auto& in : HostileInputs()) EXPECT_LE(KeyComponent(in).size(), 200u);

  const std::string exact(200, 'a');
  EXPECT_EQ(KeyComponent(exact), exact);  // 200 encoded bytes: kept whole

  const std::string k = KeyComponent(std::string(201, 'a'));
  ASSERT_EQ(k.size(), 200u);
  EXPECT_EQ(k.substr(0, 183), std::string(183, 'a'));
  EXPECT_EQ(k[183], '~');
  EXPECT_EQ(k.find_first_not_of("0123456789ABCDEF", 184), std::string::npos);
}

TEST(EscapeTest, KeyComponentCutNeverSplitsATriple) {
  for (int n = 170; n < 200; ++n) {
    const std::string k = KeyComponent(std::string(n, 'a') + std::string(100, ':'));
    const auto tilde = k.find('~');
    ASSERT_NE(tilde, std::string::npos);
    const std::string head = k.substr(0, tilde);
    // Every '%' in the head is followed by two hex digits.
    for (std::size_t i = head.find('%'); i != std::string::npos; i = head.find('%', i + 1)) {
      ASSERT_LE(i + 3, head.size()) << n;
      EXPECT_EQ(head.substr(i, 3), "%3A") << n;
    }
  }
}

TEST(EscapeTest, KeyComponentHashesTheWholeValue) {
  const std::string a = std::string(300, 'a') + "1";
  const std::string b = std::string(300, 'a') + "2";
  EXPECT_NE(KeyComponent(a), KeyComponent(b));
  EXPECT_EQ(KeyComponent(a), KeyComponent(a));  // deterministic
  // The suffix is FNV-1a 64 of the raw value; pinned, since keys must stay stable across
  // versions for state in a shared store to survive an upgrade.
  EXPECT_EQ(KeyComponent(std::string(201, 'a')), std::string(183, 'a') + "~9A253EDA0CE95884");
}

// --- LogValue -----------------------------------------------------------------------------

TEST(EscapeTest, LogValuePlainTokensPassThrough) {
  EXPECT_EQ(LogValue("alice@example.org"), "alice@example.org");
  EXPECT_EQ(LogValue("limit_exceeded"), "limit_exceeded");
  EXPECT_EQ(LogValue("203.0.113.0/24"), "203.0.113.0/24");
  EXPECT_EQ(LogValue("{a:b}%"), "{a:b}%");
}

TEST(EscapeTest, LogValueQuotesAndEscapes) {
  EXPECT_EQ(LogValue(""), "\"\"");
  EXPECT_EQ(LogValue("a b"), "\"a b\"");
  EXPECT_EQ(LogValue("k=v"), "\"k=v\"");
  EXPECT_EQ(LogValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(LogValue("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(LogValue("a\r\nevent=forged"), "\"a\\x0D\\x0Aevent=forged\"");
  EXPECT_EQ(LogValue("a\0b"s), "\"a\\x00b\"");
  EXPECT_EQ(LogValue("\t"), "\"\\x09\"");
  EXPECT_EQ(LogValue("\x7f"), "\"\\x7F\"");
  EXPECT_EQ(LogValue("caf\xc3\xa9"), "\"caf\\xC3\\xA9\"");
}

TEST(EscapeTest, LogValueIsOneTokenOnOneLine) {
  for (const auto& in : HostileInputs()) {
    const std::string v = LogValue(in);
    ASSERT_FALSE(v.empty());
    for (unsigned char c : v) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << int(c);  // no \n, \r, \0, no high bytes
    }
    if (v.front() != '"') {
      EXPECT_EQ(v, in);
      EXPECT_EQ(v.find_first_of(" =\"\\"), std::string::npos) << v;
      continue;
    }
    // Quoted: the only unescaped '"' is the closing one.
    ASSERT_GE(v.size(), 2u);
    EXPECT_EQ(v.back(), '"');
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\') {
        ASSERT_LT(i + 1, v.size() - 1) << v;
        const char e = v[i + 1];
        EXPECT_TRUE(e == '"' || e == '\\' || e == 'x') << v;
        i += e == 'x' ? 3 : 1;
      } else {
        EXPECT_NE(v[i], '"') << v;
      }
    }
  }
}

TEST(EscapeTest, LogValueIsCutAt256Bytes) {
  const std::string exact(256, 'a');
  EXPECT_EQ(LogValue(exact), exact);
  EXPECT_EQ(LogValue(std::string(257, 'a')), "\"" + std::string(256, 'a') + "...\"");
  const std::string big = LogValue(std::string(10 * 1024, '\n'));
  EXPECT_EQ(big.size(), 1 + 256 * 4 + 3 + 1);
  EXPECT_EQ(big.substr(big.size() - 4), "...\"");
}

// --- ReplyText ----------------------------------------------------------------------------

bool HasLonePercent(const std::string& r) {
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '%') {
      if (i + 1 >= r.size() || r[i + 1] != '%') return true;
      ++i;
    }
  }
  return false;
}

TEST(EscapeTest, ReplyTextMapsBytes) {
  EXPECT_EQ(ReplyText("account sending rate exceeded"), "account sending rate exceeded");
  EXPECT_EQ(ReplyText("100% full"), "100%% full");
  EXPECT_EQ(ReplyText("%s%n"), "%%s%%n");
  EXPECT_EQ(ReplyText("a\r\nb"), "a  b");
  EXPECT_EQ(ReplyText("a\0b\tc"s), "a b c");
  EXPECT_EQ(ReplyText("caf\xc3\xa9\x7f"), "caf???");
  EXPECT_EQ(ReplyText(""), "");
}

TEST(EscapeTest, ReplyTextIsSafe) {
  for (const auto& in : HostileInputs()) {
    const std::string r = ReplyText(in);
    EXPECT_LE(r.size(), 400u);
    EXPECT_FALSE(HasLonePercent(r)) << r;
    for (unsigned char c : r) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << int(c);
  }
}

TEST(EscapeTest, ReplyTextCutNeverSplitsADoubledPercent) {
  for (int n = 395; n < 402; ++n) {
    const std::string r = ReplyText(std::string(n, 'a') + std::string(10, '%'));
    EXPECT_LE(r.size(), 400u);
    EXPECT_FALSE(HasLonePercent(r)) << n;
  }
  EXPECT_EQ(ReplyText(std::string(399, 'a') + "%"), std::string(399, 'a'));
  EXPECT_EQ(ReplyText(std::string(398, 'a') + "%"), std::string(398, 'a') + "%%");
  EXPECT_EQ(ReplyText(std::string(10 * 1024, '%')).size(), 400u);
}

}  // namespace
}  // namespace floodgate::policy
