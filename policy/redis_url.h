// RedisUrl: where the Redis store connects, parsed from the [store] url setting.
//
//   redis://[[user]:password@]host[:port][/db]      TCP, default port 6379, db 0
//   unix:///path/to.sock[?db=N&password=P]          Unix domain socket
//   redis+sentinel://[[user]:password@]h1:p1,h2:p2/mastername[/db]
//       [?sentinel_password=P[&sentinel_user=U]]
//                                                   Sentinel, default port 26379; the
//                                                   password is the master's; sentinels
//                                                   are asked with AUTH only when
//                                                   sentinel_password is given
//
// Parsing is pure: no DNS, no I/O. User and password (and unix:// query values) are
// percent-decoded as in RFC 3986, so "p%40ss%2F1" is the password "p@ss/1"; a literal '%'
// is written "%25". Hosts are DNS names, IPv4 addresses or [IPv6] addresses; ports 1 to
// 65535. The config loader refuses what this refuses, and the Redis store connects with
// what it returns, so `floodgate -n` and the start agree on every url.
// Thread-safety: plain values and a pure function.
#pragma once

#include <string>
#include <vector>

#include "floodgate/result.h"

namespace floodgate::policy {

struct HostPort {
  std::string host;
  int port = 0;
};

struct RedisUrl {
  enum class Kind { kTcp, kUnix, kSentinel };
  Kind kind = Kind::kTcp;
  std::string host;                 // kTcp
  int port = 6379;                  // kTcp
  std::string path;                 // kUnix: socket path
  std::vector<HostPort> sentinels;  // kSentinel
  std::string master_name;          // kSentinel
  std::string user;                 // empty: AUTH with the password only
  std::string password;             // empty: no AUTH
  std::string sentinel_user;        // kSentinel: AUTH to the sentinels, like user/password
  std::string sentinel_password;    // kSentinel: empty: sentinels are asked without AUTH
  int db = 0;

  // "host:port", "unix:/path" or "sentinel:master" — for logs; never shows the password.
  std::string Describe() const;
};

Result<RedisUrl> ParseRedisUrl(const std::string& url);

}  // namespace floodgate::policy
