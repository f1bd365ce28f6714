// The session driver: one coroutine per simulated Postfix-to-milter connection, run on a
// Boost.Asio io_context. Each session opens a milter connection, negotiates options,
// reports CONNECT, sends messages (MAIL, RCPT..., and DATA/headers/body/end of message as
// the milter asked), ABORT after each message, QUIT, and starts over with a new
// connection until the WorkQueue is drained. With pacing (--rate) a session waits until
// each message it claims is due before beginning it: before connecting, for the first
// message of a connection, and on the open connection for the others.
//
// Like Postfix, a session buffers what it writes and sends it only when it waits for a
// reply (macros, the command and a preceding ABORT travel in one write), and does not set
// TCP_NODELAY unless asked to.
//
// Thread-safety: a session runs on the one thread that runs its io_context and updates
// that thread's Stats; the WorkQueue is the only state shared across threads.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>

#include "tools/bench/pacing.h"
#include "tools/bench/stats.h"
#include "tools/bench/workload.h"

namespace floodgate::bench {

struct SessionConfig {
  boost::asio::generic::stream_protocol::endpoint endpoint;
  bool inet = true;                          // TCP: the address family sent in SMFIC_CONNECT
  bool nodelay = false;                      // set TCP_NODELAY (Postfix does not)
  std::uint32_t protocol_offer = 0;          // SMFIP_* flags offered in OPTNEG
  std::uint32_t actions_offer = 0;           // SMFIF_* actions offered in OPTNEG
  std::chrono::milliseconds timeout{10000};  // per reply
  WorkloadOptions workload;
  Pacing pacing;  // when each message is due (--rate), and the start of the run
};

// Starts one session on io. config, queue and stats must outlive io.run().
void SpawnSession(boost::asio::io_context& io, const SessionConfig& config, WorkQueue& queue,
                  Stats& stats);

}  // namespace floodgate::bench
