#include "milter/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace floodgate::milter {

policy::Facts ConnectFacts(const sockaddr* hostaddr) {
  policy::Facts facts;
  if (hostaddr == nullptr) return facts;
  policy::Address a;
  unsigned port = 0;
  if (hostaddr->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, hostaddr, sizeof sin);
    std::memcpy(a.bytes.data(), &sin.sin_addr, 4);
    port = ntohs(sin.sin_port);
  } else if (hostaddr->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, hostaddr, sizeof sin6);
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text);
    // Parse handles IPv4-mapped addresses, so a dual-stack client stays one subject.
    auto parsed = policy::Address::Parse(text);
    if (!parsed) return facts;
    a = *parsed;
    port = ntohs(sin6.sin6_port);
  } else {
    return facts;
  }
  facts.client = a;
  const bool loopback = a.v6 ? (a.bytes == std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                                        0, 0, 0, 0, 0, 0, 1})
                             : a.bytes[0] == 127;
  facts.local_submission = loopback && port == 0;
  return facts;
}

}  // namespace floodgate::milter
