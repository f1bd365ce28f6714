// StoreLayout: how floodgate's state is named and shaped in a store - the one definition
// of its key suffixes, hash fields and list sizes. The planner builds keys with it, both
// stores, the admin backends and the window view read and write by it. store/check.lua
// spells the same names (a Lua script cannot include a header); the conformance suite and
// the admin tests on Redis hold the two equal.
//
// Keys of one subject: prefix + "{kind:value}" (a Redis Cluster hash tag) + a suffix:
//   ":" + limit name [+ "/inbound"]   a hash: the limit's windows
//   "!lock"                            a string: the lock's reason (with a TTL, or none)
//   "!lock" + ":networks"              a sorted set: network -> last seen
//   "!lock" + ":domains"               a sorted set: recipient domain token -> last seen
//   "!queue", "!held"                  lists: queue ids of accepted and of held messages
// Keys of the site: prefix + "events" (a list of event lines), prefix + "locks" (the
// Redis lock index, see store/redis_store.h).
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "floodgate/clock.h"

namespace floodgate::layout {

inline constexpr std::string_view kLimitSeparator = ":";  // limit names never hold ':' or '!'
inline constexpr std::string_view kInboundSuffix = "/inbound";
inline constexpr std::string_view kLockSuffix = "!lock";
inline constexpr std::string_view kNetworksSuffix = ":networks";  // after the lock key
inline constexpr std::string_view kDomainsSuffix = ":domains";    // after the lock key
inline constexpr std::string_view kQueueSuffix = "!queue";
inline constexpr std::string_view kHeldSuffix = "!held";
inline constexpr std::string_view kEventsKey = "events";
inline constexpr std::string_view kLockIndexKey = "locks";

// Hash fields of a limit key: three per window, named by the window's period in
// microseconds alone, so that changing a limit's numbers keeps its history.
inline constexpr char kTatField = 't';       // theoretical arrival time
inline constexpr char kReportedField = 'r';  // until when the last refusal was reported
inline constexpr char kRefusedField = 'n';   // units refused since that report
// Adaptive windows: "<period index>:<accepted>:<usual>" (one field, for size), the period
// index being the store clock's time divided by the period. See policy/adaptive.h.
inline constexpr char kLearnedField = 'l';
inline std::string Field(char kind, Micros period_us) { return kind + std::to_string(period_us); }

// The lists floodgate appends to: newest first, at most max_len, gone ttl_us after the
// last append.
struct ListShape {
  std::size_t max_len;
  Micros ttl_us;
};
inline constexpr Micros kDayUs = 86'400'000'000;
// A subject's learned normal is kept this long after its last period: one unseen for
// longer starts again at the floor.
inline constexpr Micros kLearnedKeepUs = 30 * kDayUs;
inline constexpr ListShape kEvents{1000, 7 * kDayUs};
// Postfix gives up on a message after maximal_queue_lifetime (5 days by default).
inline constexpr ListShape kQueueIds{5000, 6 * kDayUs};

}  // namespace floodgate::layout
