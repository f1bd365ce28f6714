#include "policy/redis_url.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string_view>

namespace floodgate::policy {
namespace {

// The url may hold a password: errors name the problem, never the whole string.
Error Bad(const std::string& why) { return Error(ErrorKind::kInvalid, "redis url: " + why); }

// RFC 3986 percent-decoding of a userinfo part or query value ("p%40ss" -> "p@ss"), so
// that passwords may hold '@', ':', '/', '?', '&' or '%'. nullopt on a bad escape.
std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;  // "%" or "%4" at the end
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc() || end != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// user[:password] or password alone (redis://secret@host, as in redis-cli), decoded.
bool ParseUserinfo(std::string_view userinfo, RedisUrl& u) {
  const auto colon = userinfo.find(':');
  std::optional<std::string> user, password;
  if (colon == std::string_view::npos) {
    user = std::string();
    password = Decode(userinfo);
  } else {
    user = Decode(userinfo.substr(0, colon));
    password = Decode(userinfo.substr(colon + 1));
  }
  if (!user || !password) return false;
  u.user = std::move(*user);
  u.password = std::move(*password);
  return true;
}

bool ParseInt(std::string_view s, int min, int max, int& out) {
  if (s.empty()) return false;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

// A DNS name or IPv4 address as the resolver will take it: letters, digits, '-', '_' and
// '.', labels of 1 to 63, at most 253 in all.
bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

// "host:port", "[v6]:port" or "host" (port = default_port). `what` names the part in
// errors ("host", "sentinel"); the host and port are echoed, never the userinfo.
Status ParseHostPort(std::string_view s, int default_port, std::string_view what, HostPort& out) {
  std::string_view host = s;
  std::string_view port;
  bool bracketed = false;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return Bad(fmt::format("{} \"{}\": no ']'", what, s));
    host = s.substr(1, close - 1);
    bracketed = true;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Bad(fmt::format("{} \"{}\": expected ':' after ']'", what, s));
      }
      port = rest.substr(1);
      if (port.empty()) return Bad(fmt::format("{} \"{}\": empty port", what, s));
    }
  } else if (const auto colon = s.rfind(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) return Bad(fmt::format("{} \"{}\": empty port", what, s));
  }
  if (host.empty()) return Bad(fmt::format("{} \"{}\": empty host", what, s));
  if (bracketed) {
    in6_addr addr{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &addr) != 1) {
      return Bad(fmt::format("{} \"{}\": not an IPv6 address in brackets", what, s));
    }
  } else if (!ValidHostName(host)) {
    return Bad(fmt::format("{} \"{}\": bad host name (IPv6 addresses go in brackets)", what, host));
  }
  out.host = std::string(host);
  out.port = default_port;
  if (!port.empty() && !ParseInt(port, 1, 65535, out.port)) {
    return Bad(fmt::format("{} \"{}\": bad port \"{}\" (1 to 65535)", what, s, port));
  }
  return OkStatus();
}

// The db number's upper bound is only a sanity bound: the server's `databases` setting
// decides, and SELECT refuses a number beyond it when floodgate connects.
constexpr int kMaxDb = 1 << 20;

Error BadDb(std::string_view db) { return Bad(fmt::format("bad db \"{}\" (a number from 0)", db)); }

Result<RedisUrl> ParseTcp(std::string_view rest) {
  RedisUrl u;
  u.kind = RedisUrl::Kind::kTcp;
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !ParseInt(db, 0, kMaxDb, u.db)) return BadDb(db);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (!ParseUserinfo(authority.substr(0, at), u)) return Bad("bad %-escape in user or password");
    authority = authority.substr(at + 1);
  }
  HostPort hp;
  if (Status ok = ParseHostPort(authority, 6379, "host", hp); !ok.ok()) return ok.error();
  u.host = hp.host;
  u.port = hp.port;
  return u;
}

// Calls `each(name, value)` for every "name=value" of an "a=1&b=2" query, stopping at the
// first error.
template <class F>
Status ForEachQueryParam(std::string_view query, F each) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) return Bad("bad query parameter");
    if (Status ok = each(param.substr(0, eq), param.substr(eq + 1)); !ok.ok()) return ok;
  }
  return OkStatus();
}

// Percent-decodes the value of query parameter `name` into `out`.
Status DecodeInto(std::string_view name, std::string_view value, std::string& out) {
  std::optional<std::string> decoded = Decode(value);
  if (!decoded) return Bad("bad %-escape in " + std::string(name));
  out = std::move(*decoded);
  return OkStatus();
}

Result<RedisUrl> ParseUnix(std::string_view rest) {
  RedisUrl u;
  u.kind = RedisUrl::Kind::kUnix;
  const auto q = rest.find('?');
  u.path = std::string(rest.substr(0, q));
  if (u.path.empty() || u.path.front() != '/') return Bad("unix socket path must be absolute");
  // sockaddr_un holds 107 bytes of path and a NUL.
  if (u.path.size() > 107) return Bad("unix socket path longer than 107 bytes");
  if (q == std::string_view::npos) return u;
  const Status ok = ForEachQueryParam(
      rest.substr(q + 1), [&](std::string_view name, std::string_view value) -> Status {
        if (name == "db") {
          if (!ParseInt(value, 0, kMaxDb, u.db)) return BadDb(value);
        } else if (name == "password" || name == "user") {
          return DecodeInto(name, value, name == "user" ? u.user : u.password);
        } else {
          return Bad("unknown query parameter '" + std::string(name) + "'");
        }
        return OkStatus();
      });
  if (!ok.ok()) return ok.error();
  return u;
}

// "sentinel_password=P&sentinel_user=U": how to AUTH to the sentinels themselves.
Status ParseSentinelQuery(std::string_view query, RedisUrl& u) {
  const Status ok =
      ForEachQueryParam(query, [&](std::string_view name, std::string_view value) -> Status {
        if (name == "sentinel_password") return DecodeInto(name, value, u.sentinel_password);
        if (name == "sentinel_user") return DecodeInto(name, value, u.sentinel_user);
        return Bad("unknown query parameter '" + std::string(name) + "'");
      });
  if (!ok.ok()) return ok;
  if (!u.sentinel_user.empty() && u.sentinel_password.empty()) {
    return Bad("sentinel_user needs sentinel_password");
  }
  return OkStatus();
}

Result<RedisUrl> ParseSentinel(std::string_view rest) {
  RedisUrl u;
  u.kind = RedisUrl::Kind::kSentinel;
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return Bad("sentinel url needs /mastername");
  std::string_view hosts = rest.substr(0, slash);
  std::string_view tail = rest.substr(slash + 1);
  if (const auto q = tail.find('?'); q != std::string_view::npos) {
    if (Status ok = ParseSentinelQuery(tail.substr(q + 1), u); !ok.ok()) return ok.error();
    tail = tail.substr(0, q);
  }
  // Optional trailing /db after the master name.
  if (const auto s2 = tail.find('/'); s2 != std::string_view::npos) {
    if (!ParseInt(tail.substr(s2 + 1), 0, kMaxDb, u.db)) return BadDb(tail.substr(s2 + 1));
    tail = tail.substr(0, s2);
  }
  if (tail.empty()) return Bad("sentinel url needs a master name");
  u.master_name = std::string(tail);
  if (const auto at = hosts.rfind('@'); at != std::string_view::npos) {
    if (!ParseUserinfo(hosts.substr(0, at), u)) return Bad("bad %-escape in user or password");
    hosts = hosts.substr(at + 1);
  }
  if (hosts.empty()) return Bad("sentinel url needs at least one host");
  // Every comma separates two addresses: "h1,,h2" and "h1," are refused, not shortened.
  for (bool more = true; more;) {
    const auto comma = hosts.find(',');
    more = comma != std::string_view::npos;
    HostPort hp;
    const std::string_view one = hosts.substr(0, comma);
    if (one.empty()) return Bad("empty sentinel address in the list (a stray ',')");
    if (Status ok = ParseHostPort(one, 26379, "sentinel", hp); !ok.ok()) return ok.error();
    u.sentinels.push_back(hp);
    hosts = more ? hosts.substr(comma + 1) : std::string_view();
  }
  return u;
}

}  // namespace

std::string RedisUrl::Describe() const {
  switch (kind) {
    case Kind::kTcp:
      return host + ":" + std::to_string(port) + "/" + std::to_string(db);
    case Kind::kUnix:
      return "unix:" + path + "?db=" + std::to_string(db);
    case Kind::kSentinel:
      return "sentinel:" + master_name;
  }
  return "?";
}

Result<RedisUrl> ParseRedisUrl(const std::string& url) {
  std::string_view s = url;
  const auto sep = s.find("://");
  if (sep == std::string_view::npos) return Bad("missing scheme (redis://, unix://)");
  std::string_view scheme = s.substr(0, sep);
  std::string_view rest = s.substr(sep + 3);
  if (scheme == "redis") return ParseTcp(rest);
  if (scheme == "unix") return ParseUnix(rest);
  if (scheme == "redis+sentinel") return ParseSentinel(rest);
  return Bad("unknown scheme '" + std::string(scheme) + "'");
}

}  // namespace floodgate::policy
