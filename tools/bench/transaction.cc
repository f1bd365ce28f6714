#include "tools/bench/transaction.h"

#include <libmilter/mfdef.h>

#include "tools/bench/wire.h"

namespace floodgate::bench {

MessageFacts FactsFor(const WorkloadOptions& w, std::uint64_t message) {
  MessageFacts m;
  m.number = message;
  m.queue_id = QueueIdFor(message);
  m.account = AccountFor(w, message);
  m.sender = SenderFor(w, message);
  return m;
}

void AppendConnectStage(std::string& out, std::string_view client_addr, std::uint16_t port,
                        bool inet, bool send_command) {
  const std::string name = "unknown";  // Postfix's name for a client without reverse DNS
  const std::string underscore = name + " [" + std::string(client_addr) + "]";
  const Macro macros[] = {{"j", "mx.example.org"},
                          {"{daemon_name}", "floodgate-bench"},
                          {"{daemon_addr}", "127.0.0.1"},
                          {"v", "Postfix 3.7.11"},
                          {"_", underscore}};
  AppendMacros(out, SMFIC_CONNECT, macros);
  if (send_command) AppendConnect(out, name, inet ? SMFIA_INET : SMFIA_UNIX, port, client_addr);
}

void AppendHeloStage(std::string& out) {
  const std::string_view helo[] = {"client.example.com"};
  AppendStrings(out, SMFIC_HELO, helo);
}

void AppendMailStage(std::string& out, const MessageFacts& m, bool send_command) {
  if (m.account.empty()) {
    const Macro macros[] = {
        {"i", m.queue_id}, {"{mail_addr}", m.sender}, {"{mail_mailer}", "smtp"}};
    AppendMacros(out, SMFIC_MAIL, macros);
  } else {
    const Macro macros[] = {{"i", m.queue_id},
                            {"{auth_type}", "PLAIN"},
                            {"{auth_authen}", m.account},
                            {"{mail_addr}", m.sender},
                            {"{mail_mailer}", "smtp"}};
    AppendMacros(out, SMFIC_MAIL, macros);
  }
  if (!send_command) return;
  const std::string arg = "<" + m.sender + ">";
  const std::string_view args[] = {arg};
  AppendStrings(out, SMFIC_MAIL, args);
}

void AppendRcptStage(std::string& out, const MessageFacts& m, std::string_view rcpt,
                     bool send_command) {
  const Macro macros[] = {{"i", m.queue_id},
                          {"{rcpt_addr}", rcpt},
                          {"{rcpt_host}", "example.net"},
                          {"{rcpt_mailer}", "smtp"}};
  AppendMacros(out, SMFIC_RCPT, macros);
  if (!send_command) return;
  // Built by append, not "<" + string: GCC 12 at -O3 warns -Wrestrict on the latter
  // (GCC bug 105329), which -Werror turns into a failed Release build.
  std::string arg;
  arg += '<';
  arg += rcpt;
  arg += '>';
  const std::string_view args[] = {arg};
  AppendStrings(out, SMFIC_RCPT, args);
}

void AppendDataStage(std::string& out, const MessageFacts& m, bool send_command) {
  const Macro macros[] = {{"i", m.queue_id}};
  AppendMacros(out, SMFIC_DATA, macros);
  if (send_command) AppendEmpty(out, SMFIC_DATA);
}

void AppendHeader(std::string& out, const MessageFacts& m, std::string_view rcpt, int index) {
  std::string name;
  std::string value;
  switch (index) {
    case 0:
      name = "From";
      value += '<';
      value += m.sender;
      value += '>';
      break;
    case 1:
      name = "To";
      value += '<';
      value += rcpt;
      value += '>';
      break;
    case 2:
      name = "Subject";
      value = "floodgate-bench message " + std::to_string(m.number);
      break;
    default:
      name = "Message-ID";
      value = "<" + m.queue_id + "@mx.example.org>";
      break;
  }
  const std::string_view fields[] = {name, value};
  AppendStrings(out, SMFIC_HEADER, fields);
}

std::string BodyOf(std::size_t bytes) {
  const std::string line = std::string(76, 'x') + "\r\n";
  std::string body;
  while (body.size() < bytes) body += line;
  return body;
}

void AppendEndOfMessage(std::string& out, const MessageFacts& m) {
  const Macro macros[] = {{"i", m.queue_id}};
  AppendMacros(out, SMFIC_BODYEOB, macros);
  AppendEmpty(out, SMFIC_BODYEOB);
}

}  // namespace floodgate::bench
