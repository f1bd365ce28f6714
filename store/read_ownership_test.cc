// ReadOwnership without a socket: who reads after every event, what the transport is
// told to do, and that exactly one party ever reads.
#include "store/read_ownership.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <vector>

namespace floodgate::store {
namespace {

using Reader = ReadOwnership::Reader;
using Steps = ReadOwnership::Steps;

const Steps kNothing{};
const Steps kStartIoRead{.start_io_read = true};

// Connected, and idle after the handshake's replies: nobody reads.
ReadOwnership Idle() {
  ReadOwnership own;
  own.Connected();
  EXPECT_EQ(own.IoReadDone(/*busy=*/false), (Steps{.park = true}));
  EXPECT_EQ(own.reader(), Reader::kNobody);
  return own;
}

TEST(ReadOwnershipTest, NobodyReadsBeforeAConnectionIsUp) {
  ReadOwnership own;
  EXPECT_EQ(own.reader(), Reader::kDown);
  EXPECT_EQ(own.TryClaim(), std::nullopt);
  EXPECT_EQ(own.NeedReader(), kNothing);  // queued for the connection, which starts reading
  EXPECT_EQ(own.RestToWrite(), kNothing);
  EXPECT_EQ(own.Broken(), kNothing);
}

TEST(ReadOwnershipTest, TheIoThreadReadsFromTheConnectUntilNothingIsInFlight) {
  ReadOwnership own;
  own.Connected();
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_EQ(own.TryClaim(), std::nullopt);  // the handshake is in flight
  EXPECT_EQ(own.NeedReader(), kNothing);    // it reads already
  EXPECT_EQ(own.IoReadDone(/*busy=*/true), (Steps{.read_again = true}));
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_EQ(own.IoReadDone(/*busy=*/false), (Steps{.park = true}));
  EXPECT_EQ(own.reader(), Reader::kNobody);
}

TEST(ReadOwnershipTest, ACommandNoCallerReadsWakesTheIoThreadOnlyWhenNobodyReads) {
  ReadOwnership own = Idle();
  EXPECT_EQ(own.NeedReader(), kStartIoRead);
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_EQ(own.NeedReader(), kNothing);
}

TEST(ReadOwnershipTest, OneCallerClaimsTheIdleConnectionAndGivesItBackToNobody) {
  ReadOwnership own = Idle();
  const std::optional<ReadOwnership::Claim> claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.reader(), Reader::kCaller);
  EXPECT_TRUE(own.Holds(*claim));
  EXPECT_EQ(own.TryClaim(), std::nullopt);  // one reader at a time
  EXPECT_EQ(own.Release(*claim, /*busy=*/false), kNothing);
  EXPECT_EQ(own.reader(), Reader::kNobody);
  EXPECT_FALSE(own.Holds(*claim));
  EXPECT_TRUE(own.TryClaim());  // the next caller may read its own reply again
}

// A second caller arriving while the first reads: its command is written behind the
// first, nobody else starts reading, and the first hands the read side to the io
// thread when its own reply is in, since the second reply is still due.
TEST(ReadOwnershipTest, ASecondCallerWhileTheFirstReadsIsReadByTheIoThreadAfterIt) {
  ReadOwnership own = Idle();
  const auto first = own.TryClaim();
  ASSERT_TRUE(first);
  EXPECT_EQ(own.TryClaim(), std::nullopt);  // the second one does not read itself
  EXPECT_EQ(own.NeedReader(), kNothing);    // and the io thread does not read meanwhile
  EXPECT_EQ(own.reader(), Reader::kCaller);
  EXPECT_EQ(own.Release(*first, /*busy=*/true), kStartIoRead);
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_EQ(own.IoReadDone(/*busy=*/false), (Steps{.park = true}));
}

// The caller's deadline passed while it read: its command is still in flight (busy), so
// the io thread reads on and drops the late reply; the caller never reads again.
TEST(ReadOwnershipTest, ACallerWhoseDeadlinePassesHandsTheReadSideToTheIoThread) {
  ReadOwnership own = Idle();
  const auto claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.Release(*claim, /*busy=*/true), kStartIoRead);
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_FALSE(own.Holds(*claim));
  EXPECT_EQ(own.Release(*claim, /*busy=*/false), kNothing);  // a second release changes nothing
  EXPECT_EQ(own.reader(), Reader::kIo);
}

TEST(ReadOwnershipTest, AFailedReadByTheCallerFailsTheConnectionAndNobodyReadsUntilItIsGone) {
  ReadOwnership own = Idle();
  const auto claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.Failed(*claim), (Steps{.fail = true}));
  EXPECT_EQ(own.reader(), Reader::kFailing);
  EXPECT_EQ(own.TryClaim(), std::nullopt);
  EXPECT_EQ(own.NeedReader(), kNothing);
  EXPECT_EQ(own.RestToWrite(), kNothing);
  EXPECT_EQ(own.Lost(), kNothing);  // nobody to wake: the transport closes the descriptor
  EXPECT_EQ(own.reader(), Reader::kDown);
}

// Connection loss while a caller reads: the caller is woken and closes the descriptor
// itself; its claim stays stale on the next connection too, and ending it changes
// nothing there.
TEST(ReadOwnershipTest, ConnectionLossWhileACallerReadsWakesItAndLeavesClosingToIt) {
  ReadOwnership own = Idle();
  const auto old = own.TryClaim();
  ASSERT_TRUE(old);
  EXPECT_EQ(own.Lost(), (Steps{.wake_caller = true}));
  EXPECT_EQ(own.reader(), Reader::kDown);
  EXPECT_FALSE(own.Holds(*old));
  // Reconnected and idle again before the old caller noticed; a new caller reads.
  own.Connected();
  EXPECT_EQ(own.IoReadDone(/*busy=*/false), (Steps{.park = true}));
  const auto fresh = own.TryClaim();
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(own.Holds(*old));
  EXPECT_EQ(own.Release(*old, /*busy=*/true), (Steps{.close = true}));
  EXPECT_EQ(own.Failed(*old), (Steps{.close = true}));
  EXPECT_EQ(own.reader(), Reader::kCaller);  // the new caller still reads
  EXPECT_TRUE(own.Holds(*fresh));
  EXPECT_EQ(own.Release(*fresh, /*busy=*/false), kNothing);
}

TEST(ReadOwnershipTest, ConnectionLossWhileTheIoThreadOrNobodyReadsWakesNobody) {
  ReadOwnership own = Idle();
  EXPECT_EQ(own.Lost(), kNothing);
  own.Connected();
  EXPECT_EQ(own.Lost(), kNothing);
  EXPECT_EQ(own.reader(), Reader::kDown);
}

// The rest of a partial write goes out from the io thread, which must hold the read
// side: while a caller reads it waits, and follows when the caller gives the read side
// back, even if the caller saw nothing else due.
TEST(ReadOwnershipTest, TheRestOfAPartialWriteWaitsForTheReadingCaller) {
  ReadOwnership own = Idle();
  const auto claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.RestToWrite(), kNothing);
  EXPECT_EQ(own.reader(), Reader::kCaller);
  EXPECT_EQ(own.Release(*claim, /*busy=*/false),
            (Steps{.start_io_read = true, .write_rest = true}));
  EXPECT_EQ(own.reader(), Reader::kIo);
  EXPECT_EQ(own.RestToWrite(), (Steps{.write_rest = true}));
}

TEST(ReadOwnershipTest, TheRestOfAPartialWriteTakesTheReadSideFromNobody) {
  ReadOwnership own = Idle();
  EXPECT_EQ(own.RestToWrite(), (Steps{.start_io_read = true, .write_rest = true}));
  EXPECT_EQ(own.reader(), Reader::kIo);
}

TEST(ReadOwnershipTest, ARestThatWaitedIsForgottenWithItsConnection) {
  ReadOwnership own = Idle();
  const auto claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.RestToWrite(), kNothing);
  EXPECT_EQ(own.Lost(), (Steps{.wake_caller = true}));
  own.Connected();
  EXPECT_EQ(own.IoReadDone(/*busy=*/false), (Steps{.park = true}));
  const auto fresh = own.TryClaim();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(own.Release(*fresh, /*busy=*/false), kNothing);  // no old rest to write
}

TEST(ReadOwnershipTest, ABrokenHandOverFailsTheConnectionButNeverACallersClaim) {
  ReadOwnership own = Idle();
  const auto claim = own.TryClaim();
  ASSERT_TRUE(claim);
  EXPECT_EQ(own.Broken(), kNothing);
  EXPECT_TRUE(own.Holds(*claim));
  EXPECT_EQ(own.Release(*claim, /*busy=*/true), kStartIoRead);
  EXPECT_EQ(own.Broken(), (Steps{.fail = true}));  // e.g. the descriptor could not be registered
  EXPECT_EQ(own.reader(), Reader::kFailing);
  EXPECT_EQ(own.Broken(), kNothing);  // one failure is enough

  ReadOwnership idle = Idle();
  EXPECT_EQ(idle.Broken(), (Steps{.fail = true}));  // the idle socket was found closed
  EXPECT_EQ(idle.TryClaim(), std::nullopt);
}

// Random sequences of everything a transport can report, checked against a model of the
// transport that does what the Steps say: at every moment at most one party reads (the io
// thread with a read pending, or one caller whose claim holds); whenever replies are due
// on a connection that is not failing, someone reads; and a caller whose connection went
// away closes its descriptor exactly once, when it ends.
TEST(ReadOwnershipTest, ExactlyOnePartyEverReadsAndDueRepliesAlwaysHaveAReader) {
  struct Caller {
    ReadOwnership::Claim claim;
    bool stale = false;  // its connection went away while it read
  };
  std::mt19937 rng(20240601);
  for (int run = 0; run < 300; ++run) {
    ReadOwnership own;
    bool connected = false;
    bool failing = false;   // a Fail() is posted
    bool io_reads = false;  // the io thread has a read pending
    bool rest = false;      // a partial write's rest is still to go
    int in_flight = 0;
    std::vector<Caller> callers;  // callers still reading: at most one live, any stale
    int closes = 0;
    int stale_endings = 0;
    const auto busy = [&] { return in_flight > 0 || rest; };
    const auto apply = [&](const Steps& s) {
      EXPECT_FALSE(s.start_io_read && io_reads) << "a second read by the io thread";
      if (s.start_io_read) io_reads = true;
      if (s.park) io_reads = false;
      if (s.write_rest) rest = false;
      if (s.fail) failing = true;
      if (s.close) ++closes;
    };
    const auto end_caller = [&](bool failed) {
      const std::size_t i = rng() % callers.size();
      const Caller c = callers[i];
      callers.erase(callers.begin() + static_cast<std::ptrdiff_t>(i));
      if (c.stale) ++stale_endings;
      // Its own reply (and maybe others) came, or its deadline passed.
      if (!failed && !c.stale && in_flight > 0 && rng() % 2) {
        in_flight -= 1 + static_cast<int>(rng() % static_cast<unsigned>(in_flight));
      }
      apply(failed ? own.Failed(c.claim) : own.Release(c.claim, busy()));
    };
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 9) {
        case 0:  // connected; the handshake is in flight
          if (!connected) {
            own.Connected();
            connected = true;
            failing = false;
            io_reads = true;
            ++in_flight;
          }
          break;
        case 1:  // a caller finds the connection idle, writes its command whole, claims
          if (own.reader() != Reader::kNobody) {
            EXPECT_EQ(own.TryClaim(), std::nullopt);
          } else if (connected && !failing && !busy()) {
            ++in_flight;
            const auto claim = own.TryClaim();
            ASSERT_TRUE(claim);
            callers.push_back({*claim});
          }
          break;
        case 2:  // another command, whose caller does not read
          if (connected && !failing) {
            ++in_flight;
            apply(own.NeedReader());
          }
          break;
        case 3:  // the io thread's read brings replies
          if (io_reads && in_flight > 0) {
            in_flight -= 1 + static_cast<int>(rng() % static_cast<unsigned>(in_flight));
            const Steps s = own.IoReadDone(busy());
            if (!s.read_again) io_reads = false;
            apply(s);
          }
          break;
        case 4:
          if (!callers.empty()) end_caller(/*failed=*/false);
          break;
        case 5:
          if (!callers.empty()) end_caller(/*failed=*/true);
          break;
        case 6:  // a partial write leaves a rest for the io thread
          if (connected && !failing && !rest) {
            rest = true;
            ++in_flight;
            apply(own.RestToWrite());
          }
          break;
        case 7:  // the io thread tries the rest again (as posted)
          if (rest) apply(own.RestToWrite());
          break;
        case 8:  // the connection is lost
          if (connected && rng() % 3 == 0) {
            bool live = false;
            for (Caller& c : callers) {
              live = live || !c.stale;
              c.stale = true;
            }
            EXPECT_EQ(own.Lost().wake_caller, live);
            connected = failing = io_reads = rest = false;
            in_flight = 0;
          }
          break;
      }
      int caller_reads = 0;
      for (const Caller& c : callers) caller_reads += own.Holds(c.claim) ? 1 : 0;
      ASSERT_LE(int{io_reads} + caller_reads, 1) << "run " << run << " step " << step;
      ASSERT_EQ(io_reads, own.reader() == Reader::kIo) << "run " << run << " step " << step;
      ASSERT_EQ(caller_reads == 1, own.reader() == Reader::kCaller);
      if (connected && !failing && busy()) {
        ASSERT_TRUE(io_reads || caller_reads) << "replies due, nobody reads: run " << run;
      }
      for (const Caller& c : callers) {
        ASSERT_FALSE(c.stale && own.Holds(c.claim));
      }
    }
    while (!callers.empty()) end_caller(/*failed=*/false);
    EXPECT_EQ(closes, stale_endings) << "run " << run;
  }
}

}  // namespace
}  // namespace floodgate::store
