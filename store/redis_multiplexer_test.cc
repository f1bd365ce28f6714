// RedisMultiplexer without a socket: what is written, which reply answers which command
// and what a lost connection or a failed handshake does, byte by byte.
#include "store/redis_multiplexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace floodgate::store {
namespace {

using std::chrono::milliseconds;
using Mux = RedisMultiplexer;
using Completion = Mux::Completion;

const Mux::Deadline kNow = Mux::Deadline{} + std::chrono::hours(1);
const Mux::Deadline kLater = kNow + milliseconds(50);

// What the callbacks saw, in the order they ran: "reply:<str or integer>", "error:<kind>".
struct Log {
  std::vector<std::string> lines;
  Mux::Callback Record() {
    return [this](Result<RedisReply> r) {
      if (!r.ok()) {
        lines.push_back(r.error().kind() == ErrorKind::kTimeout ? "timeout" : "unavailable");
      } else if (r->type == RedisReply::Type::kInteger) {
        lines.push_back("int:" + std::to_string(r->integer));
      } else {
        lines.push_back((r->is_error() ? "err:" : "str:") + r->str);
      }
    };
  }
};

Mux::Command Cmd(const std::vector<std::string>& argv, Mux::Callback done,
                 Mux::Deadline deadline = kLater) {
  return {EncodeCommand(argv), deadline, std::move(done)};
}

void RunAll(std::vector<Completion>& done) {
  for (Completion& c : done) c.Run();
  done.clear();
}

// Writes everything PrepareWrite() offers, as a socket that takes it all would.
std::string WriteAll(Mux& mux) {
  std::vector<Completion> expired;
  const std::string out(mux.PrepareWrite(kNow, expired));
  mux.CommitWrite(out.size());
  EXPECT_TRUE(expired.empty());
  return out;
}

TEST(RedisMultiplexerTest, CommandsGoOutInOneWriteAndRepliesAnswerThemInOrder) {
  Mux mux;
  Log log;
  mux.Add(Cmd({"INCR", "a"}, log.Record()));
  mux.Add(Cmd({"GET", "b"}, log.Record()));
  mux.Add(Cmd({"PING"}, log.Record()));
  EXPECT_EQ(WriteAll(mux),
            EncodeCommand({"INCR", "a"}) + EncodeCommand({"GET", "b"}) + EncodeCommand({"PING"}));
  EXPECT_EQ(mux.in_flight(), 3u);
  EXPECT_EQ(mux.waiting(), 0u);
  std::vector<Completion> done;
  const std::string replies = ":7\r\n$3\r\nbee\r\n+PONG\r\n";  // several replies, one read
  EXPECT_EQ(mux.Consume(replies.data(), replies.size(), done), std::nullopt);
  RunAll(done);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"int:7", "str:bee", "str:PONG"}));
  EXPECT_EQ(mux.in_flight(), 0u);
}

// A socket that takes only the first `cut` bytes: the rest is offered again, unchanged,
// and a command added meanwhile waits for the next buffer instead of slipping inside.
TEST(RedisMultiplexerTest, APartialWriteAtEverySplitSendsEveryByteOnceInOrder) {
  const std::string first =
      EncodeCommand({"SET", "k", std::string(40, 'v')}) + EncodeCommand({"INCR", "n"});
  const std::string later = EncodeCommand({"GET", "k"});
  for (std::size_t cut = 0; cut <= first.size(); ++cut) {
    Mux mux;
    Log log;
    std::vector<Completion> expired;
    mux.Add(Cmd({"SET", "k", std::string(40, 'v')}, log.Record()));
    mux.Add(Cmd({"INCR", "n"}, log.Record()));
    std::string sent(mux.PrepareWrite(kNow, expired).substr(0, cut));
    mux.CommitWrite(cut);
    EXPECT_EQ(mux.writing(), cut < first.size()) << cut;
    mux.Add(Cmd({"GET", "k"}, log.Record()));
    while (mux.writing()) {
      const std::string_view rest = mux.PrepareWrite(kNow, expired);
      ASSERT_EQ(rest, mux.Unwritten());
      sent += std::string(rest.substr(0, 1));  // one byte at a time
      mux.CommitWrite(1);
    }
    EXPECT_EQ(sent, first) << "cut at " << cut;
    EXPECT_EQ(mux.waiting(), 1u);
    EXPECT_EQ(WriteAll(mux), later);
    EXPECT_EQ(WriteAll(mux), "");
    EXPECT_TRUE(expired.empty());
    std::vector<Completion> done;
    const std::string replies = "+OK\r\n:1\r\n$40\r\n" + std::string(40, 'v') + "\r\n";
    EXPECT_EQ(mux.Consume(replies.data(), replies.size(), done), std::nullopt);
    RunAll(done);
    EXPECT_EQ(log.lines,
              (std::vector<std::string>{"str:OK", "int:1", "str:" + std::string(40, 'v')}));
  }
}

TEST(RedisMultiplexerTest, RepliesSplitAtEveryByteCompleteTheSameCommands) {
  const std::string replies = "*2\r\n$1\r\na\r\n:5\r\n:42\r\n-ERR no\r\n$5\r\nhello\r\n";
  for (std::size_t cut = 0; cut <= replies.size(); ++cut) {
    Mux mux;
    std::vector<Result<RedisReply>> got;
    for (int i = 0; i < 4; ++i) {
      mux.Add(Cmd({"X"}, [&got](Result<RedisReply> r) { got.push_back(std::move(r)); }));
    }
    WriteAll(mux);
    std::vector<Completion> done;
    ASSERT_EQ(mux.Consume(replies.data(), cut, done), std::nullopt);
    ASSERT_EQ(mux.Consume(replies.data() + cut, replies.size() - cut, done), std::nullopt);
    RunAll(done);
    ASSERT_EQ(got.size(), 4u) << "cut at " << cut;
    for (const auto& r : got) ASSERT_TRUE(r.ok());
    ASSERT_EQ(got[0]->type, RedisReply::Type::kArray);
    ASSERT_EQ(got[0]->elements.size(), 2u);
    EXPECT_EQ(got[0]->elements[0].str, "a");
    EXPECT_EQ(got[0]->elements[1].integer, 5);
    EXPECT_EQ(got[1]->integer, 42);
    EXPECT_TRUE(got[2]->is_error());
    EXPECT_EQ(got[2]->str, "ERR no");
    EXPECT_EQ(got[3]->str, "hello");
    EXPECT_EQ(mux.in_flight(), 0u);
  }
}

// An error reply answers its command; the connection and the commands behind it go on.
TEST(RedisMultiplexerTest, AnErrorReplyGoesToItsCommandAndKeepsTheConnection) {
  Mux mux;
  Log log;
  mux.Add(Cmd({"EVALSHA", "x", "0"}, log.Record()));
  mux.Add(Cmd({"PING"}, log.Record()));
  WriteAll(mux);
  std::vector<Completion> done;
  const std::string replies = "-NOSCRIPT No matching script\r\n+PONG\r\n";
  EXPECT_EQ(mux.Consume(replies.data(), replies.size(), done), std::nullopt);
  RunAll(done);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"err:NOSCRIPT No matching script", "str:PONG"}));
}

// Written commands, a half-written one and commands not yet written all fail, in the
// order they were added, with kUnavailable; half a reply is forgotten, so the next
// connection's first reply answers its first command.
TEST(RedisMultiplexerTest, ALostConnectionFailsEveryCommandInFlightOrWaiting) {
  Mux mux;
  Log log;
  mux.Add(Cmd({"GET", "answered"}, log.Record()));
  mux.Add(Cmd({"GET", "written"}, log.Record()));
  mux.Add(Cmd({"GET", "half"}, log.Record()));
  std::vector<Completion> expired;
  const std::size_t size = mux.PrepareWrite(kNow, expired).size();
  mux.CommitWrite(size - 3);
  mux.Add(Cmd({"GET", "waiting"}, log.Record()));
  std::vector<Completion> done;
  const std::string replies = "$2\r\nok\r\n$10\r\nhalf a rep";
  ASSERT_EQ(mux.Consume(replies.data(), replies.size(), done), std::nullopt);
  RunAll(done);
  std::vector<Completion> failed = mux.LoseConnection("connection closed by the server");
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(failed[0].result.error().message(), "redis: connection closed by the server");
  RunAll(failed);
  EXPECT_EQ(log.lines,
            (std::vector<std::string>{"str:ok", "unavailable", "unavailable", "unavailable"}));
  EXPECT_EQ(mux.in_flight(), 0u);
  EXPECT_EQ(mux.waiting(), 0u);
  EXPECT_FALSE(mux.writing());

  mux.Connected("127.0.0.1:6379", {});
  mux.Add(Cmd({"PING"}, log.Record()));
  EXPECT_EQ(WriteAll(mux), EncodeCommand({"PING"}));
  ASSERT_EQ(mux.Consume("+PONG\r\n", 7, done), std::nullopt);
  RunAll(done);
  EXPECT_EQ(log.lines.back(), "str:PONG");
}

TEST(RedisMultiplexerTest, ACommandPastItsDeadlineIsNotSentAndTimesOut) {
  Mux mux;
  Log log;
  mux.Add(Cmd({"GET", "late"}, log.Record(), kNow));
  mux.Add(Cmd({"GET", "in-time"}, log.Record()));
  std::vector<Completion> expired;
  EXPECT_EQ(mux.PrepareWrite(kNow, expired), EncodeCommand({"GET", "in-time"}));
  ASSERT_EQ(expired.size(), 1u);
  RunAll(expired);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"timeout"}));
  EXPECT_EQ(mux.in_flight(), 1u);
}

TEST(RedisMultiplexerTest, TheHandshakeGoesBeforeTheCommandsThatWaitedForTheConnection) {
  Mux mux;
  Log log;
  mux.Add(Cmd({"GET", "k"}, log.Record()));  // added while connecting
  std::vector<Mux::Command> handshake;
  handshake.push_back(
      {EncodeCommand({"AUTH", "pw"}), kLater, nullptr, Mux::Check::kHandshake, "AUTH"});
  handshake.push_back(
      {EncodeCommand({"SELECT", "2"}), kLater, nullptr, Mux::Check::kHandshake, "SELECT"});
  mux.Connected("127.0.0.1:6379", std::move(handshake));
  EXPECT_EQ(WriteAll(mux), EncodeCommand({"AUTH", "pw"}) + EncodeCommand({"SELECT", "2"}) +
                               EncodeCommand({"GET", "k"}));
  std::vector<Completion> done;
  const std::string replies = "+OK\r\n+OK\r\n$1\r\nv\r\n";
  EXPECT_EQ(mux.Consume(replies.data(), replies.size(), done), std::nullopt);
  RunAll(done);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"str:v"}));  // the handshake has no callback
}

// A refused AUTH or SELECT fails the connection (with its reason), and the commands
// pipelined behind it fail with it instead of receiving the replies meant for them.
TEST(RedisMultiplexerTest, AHandshakeErrorFailsTheConnectionWithItsReason) {
  for (const char* name : {"AUTH", "SELECT"}) {
    Mux mux;
    Log log;
    mux.Add(Cmd({"GET", "k"}, log.Record()));
    std::vector<Mux::Command> handshake;
    handshake.push_back(
        {EncodeCommand({name, "x"}), kLater, nullptr, Mux::Check::kHandshake, name});
    mux.Connected("127.0.0.1:6379", std::move(handshake));
    WriteAll(mux);
    std::vector<Completion> done;
    const std::string replies =
        "-WRONGPASS invalid password\r\n-NOAUTH Authentication required.\r\n";
    EXPECT_EQ(mux.Consume(replies.data(), replies.size(), done),
              std::string(name) + " failed: WRONGPASS invalid password");
    EXPECT_TRUE(done.empty());
    std::vector<Completion> failed = mux.LoseConnection("AUTH failed");
    RunAll(failed);
    EXPECT_EQ(log.lines, (std::vector<std::string>{"unavailable"})) << name;
  }
}

TEST(RedisMultiplexerTest, AServerThatIsNotAMasterFailsTheRoleCheck) {
  Mux mux(true);
  Log log;
  mux.Connected("mymaster at 127.0.0.1:6380",
                {{EncodeCommand({"ROLE"}), kLater, nullptr, Mux::Check::kRole, "ROLE"}});
  mux.Add(Cmd({"GET", "k"}, log.Record()));
  WriteAll(mux);
  std::vector<Completion> done;
  const std::string role =
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:1\r\n";
  EXPECT_EQ(mux.Consume(role.data(), role.size(), done),
            "mymaster at 127.0.0.1:6380 is not a master");
  EXPECT_TRUE(done.empty());

  Mux master(true);
  master.Connected("m", {{EncodeCommand({"ROLE"}), kLater, nullptr, Mux::Check::kRole, "ROLE"}});
  WriteAll(master);
  const std::string ok = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
  EXPECT_EQ(master.Consume(ok.data(), ok.size(), done), std::nullopt);
}

// A demoted master (READONLY) or one cut off from its replicas (NOREPLICAS): the command
// gets the reply, and a sentinel-following connection is dropped to rediscover the master.
// A plain connection keeps going: there is no other master to find.
TEST(RedisMultiplexerTest, ReadonlyAndNoreplicasFailASentinelConnectionAfterTheReply) {
  for (const std::string error : {"READONLY You can't write against a read only replica.",
                                  "NOREPLICAS Not enough good replicas to write."}) {
    for (const bool follow : {true, false}) {
      Mux mux(follow);
      Log log;
      mux.Connected("m at 10.0.0.1:6379", {});
      mux.Add(Cmd({"SET", "k", "v"}, log.Record()));
      mux.Add(Cmd({"GET", "k"}, log.Record()));
      WriteAll(mux);
      std::vector<Completion> done;
      const std::string replies = "-" + error + "\r\n$1\r\nv\r\n";
      const std::optional<std::string> fail = mux.Consume(replies.data(), replies.size(), done);
      RunAll(done);
      if (follow) {
        EXPECT_EQ(fail, "m at 10.0.0.1:6379 is no longer the master");
        EXPECT_EQ(log.lines, (std::vector<std::string>{"err:" + error}));
      } else {
        EXPECT_EQ(fail, std::nullopt);
        EXPECT_EQ(log.lines, (std::vector<std::string>{"err:" + error, "str:v"}));
      }
    }
  }
}

TEST(RedisMultiplexerTest, AReplyNobodyAskedForOrBadRespFailsTheConnection) {
  Mux mux;
  std::vector<Completion> done;
  EXPECT_EQ(mux.Consume("+OK\r\n", 5, done), "reply without a request");
  Mux bad;
  bad.Add(Cmd({"PING"}, nullptr));
  WriteAll(bad);
  const std::optional<std::string> fail = bad.Consume("?what\r\n", 7, done);
  ASSERT_TRUE(fail.has_value());
  EXPECT_NE(fail->find("protocol error"), std::string::npos) << *fail;
}

// Hung: the oldest command written is due more than the grace period ago. Commands
// still waiting to be written do not count (nothing was asked of the server yet).
TEST(RedisMultiplexerTest, StalledWhenTheOldestCommandWrittenIsFarPastItsDeadline) {
  Mux mux;
  mux.Add(Cmd({"GET", "k"}, nullptr, kLater));
  EXPECT_FALSE(mux.Stalled(kLater + milliseconds(5000), milliseconds(2000)));
  WriteAll(mux);
  EXPECT_FALSE(mux.Stalled(kLater + milliseconds(2000), milliseconds(2000)));
  EXPECT_TRUE(mux.Stalled(kLater + milliseconds(2001), milliseconds(2000)));
  std::vector<Completion> done;
  ASSERT_EQ(mux.Consume("$-1\r\n", 5, done), std::nullopt);
  EXPECT_FALSE(mux.Stalled(kLater + milliseconds(5000), milliseconds(2000)));
}

}  // namespace
}  // namespace floodgate::store
