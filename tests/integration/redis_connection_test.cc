// RedisConnection against a real redis-server: what the write path must keep whatever
// thread sends, and what the read side's hand-overs (decided by ReadOwnership, unit-tested
// in store/read_ownership_test.cc) must keep whoever reads. Commands are sent from the
// callers' threads when the socket takes them and by the io thread otherwise (a partial
// write); either way every byte goes out once, in the order the replies are matched.
#include "store/redis_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/redis_server.h"

namespace floodgate::store {
namespace {

using floodgate::testing::RedisServer;

Deadline In(std::chrono::seconds s) { return std::chrono::steady_clock::now() + s; }

RedisUrl ParseOrDie(const std::string& url) {
  auto parsed = ParseRedisUrl(url);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message();
  return parsed.ok() ? std::move(parsed).value() : RedisUrl{};
}

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
    server_ = std::move(server).value();
  }
  std::unique_ptr<RedisServer> server_;
};

// A 2 MB value is more than a Unix socket's send buffer takes at once, so its command is
// written partly by the caller and the rest by the io thread, while other threads keep
// sending small commands that must queue behind it, not inside it.
TEST_F(RedisConnectionTest, LargeAndSmallCommandsFromManyThreadsStayWholeAndInOrder) {
  RedisConnection conn(ParseOrDie(server_->unix_url()));
  constexpr int kThreads = 6;
  constexpr int kRounds = 20;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "big:" + std::to_string(t);
      const std::string counter = "n:" + std::to_string(t);
      for (int round = 0; round < kRounds && failures[t].empty(); ++round) {
        const std::string value(2 << 20, static_cast<char>('a' + (t + round) % 26));
        auto set = conn.Execute({"SET", key, value}, In(std::chrono::seconds(10)));
        auto incr = conn.Execute({"INCR", counter}, In(std::chrono::seconds(10)));
        auto get = conn.Execute({"GET", key}, In(std::chrono::seconds(10)));
        if (!set.ok() || !incr.ok() || !get.ok()) {
          failures[t] = "transport error in round " + std::to_string(round);
        } else if (set->str != "OK") {
          failures[t] = "SET replied " + set->str;
        } else if (incr->integer != round + 1) {
          failures[t] =
              "INCR gave " + std::to_string(incr->integer) + " in round " + std::to_string(round);
        } else if (get->str != value) {
          failures[t] = "GET returned " + std::to_string(get->str.size()) + " other bytes";
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

// Callbacks run on the io thread and may submit again: a chain of Submits from inside
// callbacks completes without deadlocking on the connection's write lock.
TEST_F(RedisConnectionTest, ACallbackMaySubmitAgain) {
  RedisConnection conn(ParseOrDie(server_->unix_url()));
  std::promise<long long> last;
  std::function<void(int)> next = [&](int left) {
    conn.Submit(EncodeCommand({"INCR", "chain"}), In(std::chrono::seconds(5)),
                [&, left](Result<RedisReply> reply) {
                  if (!reply.ok()) return last.set_value(-1);
                  if (left == 1) return last.set_value(reply->integer);
                  next(left - 1);
                });
  };
  next(100);
  auto result = last.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(result.get(), 100);
}

// An idle connection is watched by nobody (a caller that finds it idle reads its own
// reply). A server that went away meanwhile is noticed before the next command is sent,
// so that command reconnects and succeeds instead of failing; and commands sent from
// many threads at once (some read by their callers, some by the io thread) all succeed.
TEST_F(RedisConnectionTest, AServerRestartedWhileIdleIsReconnectedByTheNextCommand) {
  RedisConnection::Options options;
  options.reconnect_backoff = std::chrono::milliseconds(0);
  RedisConnection conn(ParseOrDie(server_->unix_url()), options);
  for (int round = 0; round < 5; ++round) {
    auto set = conn.Execute({"SET", "k", std::to_string(round)}, In(std::chrono::seconds(5)));
    ASSERT_TRUE(set.ok()) << "round " << round << ": " << set.error().message();
    ASSERT_TRUE(server_->Restart().ok());
    auto get = conn.Execute({"GET", "k"}, In(std::chrono::seconds(5)));
    ASSERT_TRUE(get.ok()) << "round " << round << ": " << get.error().message();
    EXPECT_EQ(get->type, RedisReply::Type::kNil);  // a fresh server: the key is gone
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) {
          std::promise<bool> done;
          conn.Submit(EncodeCommand({"INCR", "n"}), In(std::chrono::seconds(5)),
                      [&done](Result<RedisReply> r) {
                        if (!r.ok()) ADD_FAILURE() << "Submit: " << r.error().message();
                        done.set_value(r.ok());
                      });
          if (!done.get_future().get()) ++failures[t];
        } else if (auto r = conn.Execute({"INCR", "n"}, In(std::chrono::seconds(5))); !r.ok()) {
          ADD_FAILURE() << "Execute: " << r.error().message();
          ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  auto n = conn.Execute({"GET", "n"}, In(std::chrono::seconds(5)));
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(n->str, "800");
}

// A caller that found the connection idle reads its own reply; when its deadline passes
// first (the server is stopped), the io thread takes the reading over: the late reply,
// once the server runs again, answers the command it belongs to and nobody else, and the
// callers after it get their own replies, read by themselves again once it is idle.
TEST_F(RedisConnectionTest, ALateReplyToACallerThatGaveUpReadingGoesToNobodyElse) {
  RedisConnection conn(ParseOrDie(server_->unix_url()));
  ASSERT_TRUE(conn.Execute({"SET", "n", "0"}, In(std::chrono::seconds(5))).ok());
  server_->Pause();
  auto late =
      conn.Execute({"INCR", "n"}, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().kind(), ErrorKind::kTimeout);
  server_->Resume();
  for (int i = 2; i <= 20; ++i) {
    auto incr = conn.Execute({"INCR", "n"}, In(std::chrono::seconds(5)));
    ASSERT_TRUE(incr.ok()) << incr.error().message();
    EXPECT_EQ(incr->integer, i);  // the late INCR counted 1, and its reply went to nobody
  }
}

// The server goes away while a caller reads its own reply: the caller is woken by the
// connection's failure (its command fails as unavailable, not at its deadline), and the
// next command reconnects.
TEST_F(RedisConnectionTest, AConnectionLostWhileACallerReadsFailsItsCommandAndReconnects) {
  RedisConnection::Options options;
  options.reconnect_backoff = std::chrono::milliseconds(0);
  RedisConnection conn(ParseOrDie(server_->unix_url()), options);
  ASSERT_TRUE(conn.Execute({"PING"}, In(std::chrono::seconds(5))).ok());
  server_->Pause();
  std::thread killer([&] {
    // Most likely the caller reads by then; killed earlier, its command fails the same way.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server_->Kill();
  });
  auto lost = conn.Execute({"PING"}, In(std::chrono::seconds(30)));
  killer.join();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable) << lost.error().message();
  ASSERT_TRUE(server_->Restart().ok());
  auto again = conn.Execute({"PING"}, In(std::chrono::seconds(5)));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->str, "PONG");
}

// Until Redis holds a client blocked in BLPOP with more commands of it read but not yet
// run (CLIENT LIST: flags b..., qbuf > 0): then those commands are in flight.
void WaitUntilBlockedWithCommandsBehind(RedisConnection& watcher) {
  for (;;) {
    auto list = watcher.Execute({"CLIENT", "LIST"}, In(std::chrono::seconds(5)));
    ASSERT_TRUE(list.ok());
    std::istringstream lines(list->str);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" flags=b") != std::string::npos &&  // b: blocked (U: a Unix socket)
          line.find(" qbuf=0 ") == std::string::npos) {
        return;
      }
    }
  }
}

// A command that arrives behind unanswered ones, while no more wait than are in flight, is
// not written at once and wakes nobody: whoever reads the earlier replies sends it right
// after. Here the io thread reads (the earlier commands have no waiting caller); the later
// one must still be sent and answered, long before its deadline.
TEST_F(RedisConnectionTest, ACommandBehindUnansweredOnesIsSentOnceTheIoThreadReadsTheirReplies) {
  RedisConnection conn(ParseOrDie(server_->unix_url()));
  RedisConnection watcher(ParseOrDie(server_->unix_url()));
  ASSERT_TRUE(conn.Execute({"PING"}, In(std::chrono::seconds(5))).ok());  // connected, idle
  std::promise<bool> blpop_done;
  // Redis answers BLPOP on an empty list after its timeout (300 ms), with nil, and runs
  // the PING sent behind it only then.
  conn.Submit(EncodeCommand({"BLPOP", "empty", "0.3"}), In(std::chrono::seconds(5)),
              [&](Result<RedisReply> r) { blpop_done.set_value(r.ok()); });
  conn.Submit(EncodeCommand({"PING"}), In(std::chrono::seconds(5)), [](Result<RedisReply>) {});
  WaitUntilBlockedWithCommandsBehind(watcher);  // two in flight
  auto ping = conn.Execute({"ECHO", "behind"}, In(std::chrono::seconds(10)));
  ASSERT_TRUE(ping.ok()) << ping.error().message();
  EXPECT_EQ(ping->str, "behind");
  auto first = blpop_done.get_future();
  ASSERT_EQ(first.wait_for(std::chrono::seconds(0)), std::future_status::ready);  // in order
  EXPECT_TRUE(first.get());
}

// The same when the first command's caller reads its own reply: it sends what queued up
// behind before it returns.
TEST_F(RedisConnectionTest, ACommandBehindUnansweredOnesIsSentOnceTheirCallerReadsTheReply) {
  RedisConnection conn(ParseOrDie(server_->unix_url()));
  RedisConnection watcher(ParseOrDie(server_->unix_url()));
  ASSERT_TRUE(conn.Execute({"PING"}, In(std::chrono::seconds(5))).ok());  // connected, idle
  std::thread blocked([&] {
    auto r = conn.Execute({"BLPOP", "empty", "0.5"}, In(std::chrono::seconds(10)));
    EXPECT_TRUE(r.ok());
  });
  // Until Redis holds the BLPOP: then the caller reads, and the PING goes out behind it.
  for (;;) {
    auto info = watcher.Execute({"INFO", "clients"}, In(std::chrono::seconds(5)));
    ASSERT_TRUE(info.ok());
    if (info->str.find("blocked_clients:1") != std::string::npos) break;
  }
  conn.Submit(EncodeCommand({"PING"}), In(std::chrono::seconds(5)), [](Result<RedisReply>) {});
  WaitUntilBlockedWithCommandsBehind(watcher);  // two in flight
  auto echo = conn.Execute({"ECHO", "behind"}, In(std::chrono::seconds(10)));
  blocked.join();
  ASSERT_TRUE(echo.ok()) << echo.error().message();
  EXPECT_EQ(echo->str, "behind");
}

}  // namespace
}  // namespace floodgate::store
