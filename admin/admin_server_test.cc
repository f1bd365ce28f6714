// The admin socket: one JSON line in, one out; errors come back as errors; the socket is
// private; a second daemon cannot take it over, a stale file is replaced.
#include "admin/admin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace floodgate::admin {
namespace {

using Json = nlohmann::json;

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fg-admin-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/admin.sock";  // run/ does not exist yet: Bind creates it
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AdminServer> Serve(AdminServer::Handler handler) {
    auto bound = AdminServer::Bind(path_);
    EXPECT_TRUE(bound.ok()) << bound.error().message();
    if (!bound.ok()) return nullptr;
    (*bound)->Start(std::move(handler));
    return std::move(bound).value();
  }

  // Sends raw bytes and reads the reply line, as a client other than floodgatectl would.
  std::string Raw(const std::string& bytes) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ::shutdown(fd, SHUT_WR);  // all there is: the server sees the end at once
    std::string reply;
    char buf[256];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) reply.append(buf, n);
    ::close(fd);
    return reply;
  }

  std::string dir_, path_;
};

TEST_F(AdminServerTest, AnswersEachRequestWithTheHandlersResult) {
  auto server = Serve([](const Json& request) -> Result<Json> {
    return Json{{"op", request["op"]}, {"n", 7}};
  });
  ASSERT_TRUE(server);
  for (const char* op : {"show", "top"}) {
    auto reply = CallAdminSocket(path_, {{"op", op}});
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_EQ(*reply, (Json{{"op", op}, {"n", 7}}));
  }
}

TEST_F(AdminServerTest, ErrorsAndBadInputComeBackAsErrorsAndTheServerGoesOn) {
  auto server = Serve([](const Json& request) -> Result<Json> {
    if (request.value("op", "") == "throw") throw std::runtime_error("boom");
    return Error(ErrorKind::kInvalid, "no such subject");
  });
  ASSERT_TRUE(server);
  auto refused = CallAdminSocket(path_, {{"op", "show"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(), "no such subject");
  auto thrown = CallAdminSocket(path_, {{"op", "throw"}});
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.error().message().find("boom"), std::string::npos);
  const Json not_json = Json::parse(Raw("hello\n"));
  EXPECT_FALSE(not_json["ok"].get<bool>());
  EXPECT_EQ(not_json["error"], "admin socket: not JSON");
  const Json cut_short = Json::parse(Raw("{\"op\": \"sh"));  // closed before the newline
  EXPECT_FALSE(cut_short["ok"].get<bool>());
  EXPECT_TRUE(CallAdminSocket(path_, {{"op", "show"}}).error().message() == "no such subject");
}

TEST_F(AdminServerTest, TheSocketIsPrivateAndGoesAwayWithTheServer) {
  auto server = Serve([](const Json&) -> Result<Json> { return Json(); });
  ASSERT_TRUE(server);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_FALSE(CallAdminSocket(path_, {{"op", "status"}}).ok());
}

TEST_F(AdminServerTest, ASecondServerIsRefusedButAStaleFileIsReplaced) {
  auto first = Serve([](const Json&) -> Result<Json> { return Json("first"); });
  ASSERT_TRUE(first);
  auto second = AdminServer::Bind(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
  EXPECT_EQ(CallAdminSocket(path_, {{"op", "status"}}).value(), Json("first"));
  first.reset();

  // A socket file nobody listens on any more (a floodgate killed with SIGKILL).
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  auto third = Serve([](const Json&) -> Result<Json> { return Json("third"); });
  ASSERT_TRUE(third);
  EXPECT_EQ(CallAdminSocket(path_, {{"op", "status"}}).value(), Json("third"));
}

}  // namespace
}  // namespace floodgate::admin
