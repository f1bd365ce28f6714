#include "tools/bench/endpoint.h"

#include <charconv>

namespace floodgate::bench {
namespace {

Result<std::uint16_t> ParsePort(std::string_view s, std::string_view spec) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) {
    return Error(ErrorKind::kInvalid, "bad port in socket \"" + std::string(spec) + "\"");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string Endpoint::ToString() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(v6 ? "inet6:" : "inet:") + std::to_string(port) + "@" + host;
}

Result<Endpoint> ParseEndpoint(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return Error(ErrorKind::kInvalid,
                 "socket \"" + std::string(spec) + "\" needs a type: inet:PORT@HOST or unix:/path");
  }
  const std::string_view type = spec.substr(0, colon);
  const std::string_view rest = spec.substr(colon + 1);
  Endpoint e;
  if (type == "unix" || type == "local") {
    if (rest.empty())
      return Error(ErrorKind::kInvalid, "socket \"" + std::string(spec) + "\" has no path");
    e.kind = Endpoint::Kind::kUnix;
    e.path = std::string(rest);
    return e;
  }
  if (type != "inet" && type != "inet6") {
    return Error(ErrorKind::kInvalid, "unknown socket type \"" + std::string(type) + "\"");
  }
  std::string_view host;
  std::string_view port;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    port = rest.substr(0, at);  // libmilter: PORT@HOST
    host = rest.substr(at + 1);
  } else if (const auto last = rest.rfind(':'); last != std::string_view::npos) {
    host = rest.substr(0, last);  // Postfix: HOST:PORT
    port = rest.substr(last + 1);
  } else {
    port = rest;  // PORT alone: the loopback address
  }
  if (host.empty()) host = type == "inet6" ? "::1" : "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto p = ParsePort(port, spec);
  if (!p.ok()) return p.error();
  e.host = std::string(host);
  e.port = *p;
  return e;
}

}  // namespace floodgate::bench
