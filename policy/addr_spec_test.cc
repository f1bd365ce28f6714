#include "policy/addr_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace floodgate::policy {
namespace {

TEST(AddrSpecTest, AcceptsPlainAddresses) {
  for (const char* a : {"postmaster@example.org", "a.b+tag@mx-1.example.org", "root@localhost",
                        "o'brien@example.org", "x@a.b.c.d"}) {
    EXPECT_TRUE(IsPlainAddrSpec(a)) << a;
  }
}

TEST(AddrSpecTest, RefusesAnythingElse) {
  for (const char* a : {"",
                        "postmaster",
                        "@example.org",
                        "a@",
                        "a@@example.org",
                        "Admin <a@example.org>",
                        "\"a b\"@example.org",
                        "a@[192.0.2.1]",
                        "a..b@example.org",
                        ".a@example.org",
                        "a.@example.org",
                        "a@example..org",
                        "a@-example.org",
                        "a@example-.org",
                        "a b@example.org",
                        "a@example.org,b@example.org",
                        "a@example.org\n",
                        "a\r\n@example.org",
                        "a@exa_mple.org",
                        "\xc3\xa9@example.org",
                        "a@example.org "}) {
    EXPECT_FALSE(IsPlainAddrSpec(a)) << a;
  }
  EXPECT_FALSE(IsPlainAddrSpec(std::string(65, 'a') + "@example.org"));
  EXPECT_FALSE(IsPlainAddrSpec("a@" + std::string(64, 'b') + ".org"));
}

}  // namespace
}  // namespace floodgate::policy
