#include "policy/recipient.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

std::string D(std::string_view rcpt) { return RecipientDomain(rcpt).value_or("(none)"); }

TEST(RecipientDomainTest, PlainMailboxesGiveTheirLowerCasedDomain) {
  EXPECT_EQ(D("<bob@example.org>"), "example.org");
  EXPECT_EQ(D("bob@example.org"), "example.org");
  EXPECT_EQ(D(" <Bob.Smith+tag@Mail.Example.ORG> "), "mail.example.org");
  EXPECT_EQ(D("<o'brien@example.org>"), "example.org");
  EXPECT_EQ(D("<bob@mx_1.example.org>"), "mx_1.example.org");
}

TEST(RecipientDomainTest, QuotedLocalPartsAreFineUnlessTheyHideRouting) {
  EXPECT_EQ(D("<\"bob smith\"@example.org>"), "example.org");
  EXPECT_EQ(D("<\"bob\\\"q\"@example.org>"), "example.org");
  EXPECT_EQ(D("<\"victim@evil.example\"@example.org>"), "(none)");
  EXPECT_EQ(D("<\"victim\\@evil.example\"@example.org>"), "(none)");
  EXPECT_EQ(D("<\"victim%evil.example\"@example.org>"), "(none)");
  EXPECT_EQ(D("<\"unterminated@example.org>"), "(none)");
  EXPECT_EQ(D("<\"a\"b@example.org>"), "(none)");
}

TEST(RecipientDomainTest, AddressesPostfixWouldRouteElsewhereHaveNoDomain) {
  EXPECT_EQ(D("<victim%evil.example@example.org>"), "(none)");     // allow_percent_hack
  EXPECT_EQ(D("<evil.example!victim@example.org>"), "(none)");     // swap_bangpath
  EXPECT_EQ(D("<@relay.example:victim@evil.example>"), "(none)");  // source route
  EXPECT_EQ(D("<@a.example,@b.example:victim@example.org>"), "(none)");
  EXPECT_EQ(D("<a@b@example.org>"), "(none)");
}

TEST(RecipientDomainTest, MalformedAddressesHaveNoDomain) {
  for (const char* bad : {"",
                          "<>",
                          "<",
                          "bob",
                          "<postmaster>",
                          "<bob@>",
                          "<@example.org>",
                          "<bob@[192.0.2.1]>",
                          "<bob@example.org.>",
                          "<bob@.example.org>",
                          "<bob@example..org>",
                          "<.bob@example.org>",
                          "<bob.@example.org>",
                          "<bob..x@example.org>",
                          "<bob@exa mple.org>",
                          "<bob@example.org",
                          "bob@example.org>",
                          "<bob@exa\r\nmple.org>",
                          "<bob\0@example.org>",
                          "<b(c)@example.org>"}) {
    EXPECT_EQ(D(std::string_view(bad, std::char_traits<char>::length(bad))), "(none)") << bad;
  }
  EXPECT_EQ(D(std::string_view("<bob\0x@example.org>", 19)), "(none)") << "embedded NUL";
}

TEST(RecipientDomainTest, InternationalisedNamesAreComparedAsSent) {
  EXPECT_EQ(D("<j\xc3\xb6rg@b\xc3\xbc"
              "cher.example>"),
            "b\xc3\xbc"
            "cher.example");
  EXPECT_EQ(D("<bob@xn--bcher-kva.example>"), "xn--bcher-kva.example");
  EXPECT_EQ(D("<bob@B\xc3\x9c"
              "CHER.example>"),
            "b\xc3\x9c"
            "cher.example")
      << "ASCII lowered only";
}

TEST(RecipientDomainTest, OverlongInputIsRefusedWithoutScanning) {
  std::string huge = "<" + std::string(10 * 1024, 'a') + "@example.org>";
  EXPECT_EQ(D(huge), "(none)");
  std::string longest = "<" + std::string(kMaxRecipientLength - 14, 'a') + "@example.org>";
  ASSERT_EQ(longest.size(), kMaxRecipientLength);
  EXPECT_EQ(D(longest), "example.org");
}

}  // namespace
}  // namespace floodgate::policy
