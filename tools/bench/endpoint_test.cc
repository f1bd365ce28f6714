#include "tools/bench/endpoint.h"

#include <gtest/gtest.h>

namespace floodgate::bench {
namespace {

TEST(EndpointTest, ParsesLibmilterInetNotation) {
  auto e = ParseEndpoint("inet:8899@127.0.0.1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, Endpoint::Kind::kInet);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8899);
  EXPECT_EQ(e->ToString(), "inet:8899@127.0.0.1");
}

TEST(EndpointTest, ParsesPostfixHostColonPort) {
  auto e = ParseEndpoint("inet:localhost:10025");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 10025);
}

TEST(EndpointTest, ParsesInet6WithBrackets) {
  auto e = ParseEndpoint("inet6:8899@[::1]");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->ToString(), "inet6:8899@::1");
}

TEST(EndpointTest, PortAloneMeansLoopback) {
  auto e = ParseEndpoint("inet:8899");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
}

TEST(EndpointTest, ParsesUnixAndLocal) {
  for (const char* spec : {"unix:/run/floodgate/milter.sock", "local:/run/floodgate/milter.sock"}) {
    auto e = ParseEndpoint(spec);
    ASSERT_TRUE(e.ok()) << spec;
    EXPECT_EQ(e->kind, Endpoint::Kind::kUnix);
    EXPECT_EQ(e->path, "/run/floodgate/milter.sock");
  }
}

TEST(EndpointTest, RejectsNonsense) {
  for (const char* spec : {"8899", "tcp:8899@host", "inet:0@127.0.0.1", "inet:65536@127.0.0.1",
                           "inet:88x9@127.0.0.1", "inet:@127.0.0.1", "unix:"}) {
    EXPECT_FALSE(ParseEndpoint(spec).ok()) << spec;
  }
}

}  // namespace
}  // namespace floodgate::bench
