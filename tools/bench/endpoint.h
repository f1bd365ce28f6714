// Where the milter listens, in the notations Postfix and libmilter accept:
// "inet:PORT@HOST", "inet6:PORT@HOST", "inet:HOST:PORT" (Postfix), "unix:/path",
// "local:/path". HOST must be a numeric address or a name the resolver knows.
// Thread-safety: plain values and a pure parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "floodgate/result.h"

namespace floodgate::bench {

struct Endpoint {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  std::string host;  // kInet: address or name
  std::uint16_t port = 0;
  std::string path;  // kUnix: socket path

  // Back to libmilter notation: "inet:8899@127.0.0.1" or "unix:/path".
  std::string ToString() const;
};

Result<Endpoint> ParseEndpoint(std::string_view spec);

}  // namespace floodgate::bench
