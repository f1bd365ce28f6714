#include "milter/alert_command.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace floodgate::milter {
namespace {

namespace fs = std::filesystem;

class AlertCommandTest : public ::testing::Test {
 protected:
  AlertCommandTest() {
    char tmpl[] = "/tmp/fg-alert-XXXXXX";
    dir_ = mkdtemp(tmpl);
    script_ = dir_ / "notify";
    // Each run appends its environment's FLOODGATE_ lines to its own file.
    std::ofstream(script_) << "#!/bin/sh\nenv | grep ^FLOODGATE_ | sort > \"" << dir_.string()
                           << "/out.$$\"\n";
    chmod(script_.c_str(), 0755);
  }
  ~AlertCommandTest() override { fs::remove_all(dir_); }
  std::vector<std::string> Outputs() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("out.", 0) != 0) continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
    return out;
  }
  fs::path dir_;
  fs::path script_;
};

TEST(AlertEnvironmentTest, FieldsBecomeUpperCaseVariables) {
  const policy::Alert a{"locked", {{"subject", "account:a@b"}, {"reason", "burst"}}};
  const auto env = AlertEnvironment(a);
  EXPECT_NE(std::find(env.begin(), env.end(), "FLOODGATE_EVENT=locked"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "FLOODGATE_SUBJECT=account:a@b"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "FLOODGATE_REASON=burst"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(),
                      "FLOODGATE_LINE=event=locked subject=account:a@b reason=burst"),
            env.end());
}

TEST_F(AlertCommandTest, RunsOncePerEventWithTheFieldsInItsEnvironment) {
  ChildRunner runner;
  for (int i = 0; i < 10; ++i) {
    runner.Submit(AlertCommandJob(
        script_.string(), {"limit_exceeded", {{"subject", "account:u" + std::to_string(i)}}}));
  }
  runner.Drain();
  const auto outputs = Outputs();
  ASSERT_EQ(outputs.size(), 10u);
  int with_subject = 0;
  for (const auto& o : outputs) {
    EXPECT_NE(o.find("FLOODGATE_EVENT=limit_exceeded"), std::string::npos) << o;
    with_subject += o.find("FLOODGATE_SUBJECT=account:u") != std::string::npos;
  }
  EXPECT_EQ(with_subject, 10);
  EXPECT_EQ(runner.dropped(), 0u);
}

TEST_F(AlertCommandTest, NoProgramRunsNothing) {
  ChildRunner runner;
  runner.Submit(ChildJob{});
  runner.Drain();
  EXPECT_TRUE(Outputs().empty());
}

}  // namespace
}  // namespace floodgate::milter
