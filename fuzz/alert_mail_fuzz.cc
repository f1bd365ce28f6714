// Fuzzes the alert mail builder with hostile events, logins, addresses and host names:
// whatever goes in, the message must have only the builder's own headers (no injected
// header, no bare CR, no NUL, nothing but printable ASCII and LF) and no line over 998
// bytes (CheckAlertMail), and ShellWord must give one printable word.
//
// Input: fields separated by NUL bytes: event, then key/value pairs of the alert; a field
// starting with "\x01" is a mail_to address, "\x02" the host, "\x03" mail_from, "\x04"
// the config path, "\x05" a suppressed event name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/alert_mail.h"

namespace {

using namespace floodgate::policy;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= in.size()) {
    const std::size_t end = std::min(in.find('\0', start), in.size());
    parts.emplace_back(in.substr(start, end - start));
    start = end + 1;
  }
  AlertMail m;
  m.time = 1796153663;
  m.message_id = "1.2.3.floodgate";
  m.mail_from = "floodgate@example.org";
  std::vector<std::string> pending;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (i == 0) {
      m.alert.event = p;
    } else if (!p.empty() && p[0] >= '\x01' && p[0] <= '\x05') {
      const std::string v = p.substr(1);
      switch (p[0]) {
        case '\x01':
          m.mail_to.push_back(v);
          break;
        case '\x02':
          m.host = v;
          break;
        case '\x03':
          m.mail_from = v;
          break;
        case '\x04':
          m.config_path = v;
          break;
        default:
          m.suppressed.emplace_back(v, static_cast<int>(v.size()));
      }
    } else {
      pending.push_back(p);
      if (pending.size() == 2) {
        m.alert.fields.emplace_back(pending[0], pending[1]);
        pending.clear();
      }
    }
  }
  const std::string message = BuildAlertMail(m);
  Check(CheckAlertMail(message).empty());
  // Independently of CheckAlertMail: no CR, no NUL anywhere.
  Check(message.find('\r') == std::string::npos && message.find('\0') == std::string::npos);

  const std::string word = ShellWord(in);
  for (unsigned char c : word) Check(c >= 0x20 && c < 0x7f);
  return 0;
}
