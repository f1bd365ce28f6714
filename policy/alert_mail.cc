#include "policy/alert_mail.h"

#include <fmt/format.h>

#include <algorithm>

#include "policy/escape.h"

namespace floodgate::policy {
namespace {

constexpr std::size_t kMaxSubject = 140;    // of the Subject: value
constexpr std::size_t kMaxLine = 998;       // RFC 5322, without the line end
constexpr std::size_t kMaxCommand = 400;    // a longer command is not shown
constexpr std::size_t kMaxRecipients = 50;  // in To: (the config allows fewer)

// Printable ASCII only, at most `max` bytes: what may stand in a header value.
std::string HeaderValue(std::string_view v, std::size_t max) {
  std::string out;
  for (unsigned char c : v) {
    if (out.size() >= max) break;
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

std::string Field(const Alert& a, std::string_view key) {
  for (const auto& [k, v] : a.fields) {
    if (k == key) return v;
  }
  return "";
}

bool Has(const Alert& a, std::string_view key) {
  return std::any_of(a.fields.begin(), a.fields.end(),
                     [&](const auto& f) { return f.first == key; });
}

// "account:alice@example.org" -> "the account alice@example.org" (escaped).
std::string Describe(const std::string& subject) {
  const std::size_t colon = subject.find(':');
  if (colon == std::string::npos) return "the subject " + LogValue(subject);
  const std::string kind = subject.substr(0, colon);
  const std::string value = LogValue(subject.substr(colon + 1));
  if (kind == "account") return "the account " + value;
  if (kind == "ip") return "the client address " + value;
  if (kind == "sender") return "the sender " + value;
  if (kind == "sender_domain") return "the sender domain " + value;
  return "the subject " + LogValue(subject);
}

// What the mail says, before the generic parts.
struct Text {
  std::string subject_line;          // Subject: without "[floodgate] "
  std::vector<std::string> summary;  // the first paragraph
  std::vector<std::string> happened;
  std::vector<std::string> did;
  std::vector<std::string> next;  // commands and what they are for
};

class Writer {
 public:
  explicit Writer(const AlertMail& m) {
    if (!m.config_path.empty() && m.config_path != kDefaultConfigPath) {
      ctl_ = "floodgatectl -c " + ShellWord(m.config_path);
    }
  }

  // "  N. what:\n       floodgatectl ARGS" with the subject shell-quoted.
  void Command(Text& t, const std::string& what, const std::string& subject,
               const std::string& args) {
    const std::string command = ctl_ + " " + args + " " + ShellWord(subject);
    t.next.push_back(fmt::format("  {}. {}:", t.next.size() / 2 + 1, what));
    t.next.push_back(command.size() <= kMaxCommand
                         ? "       " + command
                         : "       (the subject is too long to show here: find it with " + ctl_ +
                               " events)");
  }
  void CommandSuffix(Text& t, const std::string& what, const std::string& subject,
                     const std::string& args, const std::string& suffix) {
    Command(t, what, subject, args);
    if (t.next.back().starts_with("       " + ctl_)) t.next.back() += " " + suffix;
  }

  const std::string& ctl() const { return ctl_; }

 private:
  std::string ctl_ = "floodgatectl";
};

Text LockedText(const Alert& a, const std::string& locked_action, Writer& w) {
  Text t;
  const std::string subject = Field(a, "subject");
  const std::string reason = Field(a, "reason");
  const std::string who = Describe(subject);
  t.subject_line = "LOCKED " + LogValue(subject) + " (" + LogValue(reason) + ")";
  t.summary = {"floodgate LOCKED " + who + ": no mail from it is accepted now."};
  if (reason == "burst") {
    t.happened = {"It went on sending after its limit (" + LogValue(Field(a, "limit")) +
                      ") refused it, until the units",
                  "refused in one window reached lock_after times the limit. That is how",
                  "a stolen password looks: someone is sending spam in its name."};
  } else if (reason == "too_many_networks") {
    t.happened = {"It was used from more client networks than its limit (" +
                      LogValue(Field(a, "limit")) + ") allows",
                  "(max_networks) in a short time. That is how a stolen password looks:",
                  "many machines are sending in its name."};
  } else if (reason == "too_many_domains") {
    t.happened = {"Its mail went to more distinct recipient domains than its limit (" +
                      LogValue(Field(a, "limit")) + ")",
                  "allows (max_recipient_domains) in a short time. A person writes to a",
                  "handful of domains an hour; a spam run writes to hundreds."};
  } else if (Field(a, "by") == "floodgatectl") {
    t.happened = {"An administrator locked it with floodgatectl (reason " + LogValue(reason) +
                  ")."};
  } else {
    t.happened = {"It was locked for the reason " + LogValue(reason) + "."};
  }
  const std::string ttl = Field(a, "ttl");
  if (locked_action == "hold") {
    t.did = {"Every new message from it is accepted and put on Postfix's hold queue:",
             "nothing of it is delivered until you release or delete it."};
  } else {
    t.did = {"Every new message from it is refused with",
             "\"550 5.7.1 ... locked for sending, contact your administrator\"."};
  }
  t.did.push_back(ttl.empty() || ttl == "none" ? "The lock stays until you unlock it."
                                               : "The lock ends by itself after " + LogValue(ttl) +
                                                     " unless you unlock it earlier.");
  t.did.push_back("Mail accepted before the lock may still be in the Postfix queue.");
  w.Command(t, "See its counts and its lock", subject, "show");
  w.CommandSuffix(t, "Delete what it left in the queue (without --delete: only list it)", subject,
                  "queue", "--delete");
  if (locked_action == "hold") {
    w.CommandSuffix(t, "Or, if it was legitimate, release what is held", subject, "queue",
                    "--release");
  }
  w.Command(t,
            subject.starts_with("account:") ? "Change its password, then let it send again"
                                            : "When it is safe, let it send again",
            subject, "unlock");
  return t;
}

Text LimitText(const Alert& a, Writer& w) {
  Text t;
  const std::string subject = Field(a, "subject");
  const std::string action = Field(a, "action");
  t.subject_line = "over limit: " + LogValue(subject) + " hit " + LogValue(Field(a, "limit")) +
                   " " + LogValue(Field(a, "count")) + "/" + LogValue(Field(a, "window"));
  t.summary = {Describe(subject) + " reached its limit (" + LogValue(Field(a, "limit")) +
               "): " + LogValue(Field(a, "count")) + " per " + LogValue(Field(a, "window")) + "."};
  t.happened = {"This is the first refusal in this window; more refusals in the same",
                "window are not reported one by one."};
  if (action == "monitor") {
    t.did = {"Nothing: the limit is in monitor mode, the mail went through."};
  } else if (action == "hold") {
    t.did = {"Mail over the limit is accepted and put on Postfix's hold queue: nothing",
             "of it is delivered until you release or delete it."};
  } else if (action == "reject") {
    t.did = {"Mail over the limit is refused with 550 5.7.1 (the sender gets a bounce)."};
  } else {
    t.did = {"Mail over the limit is refused with 451 4.7.28 (try again later); the",
             "sender's server or mail client retries, nothing is lost."};
  }
  w.Command(t, "See how far over it is", subject, "show");
  if (action == "hold") {
    w.CommandSuffix(t, "If the held mail is legitimate, release it", subject, "queue", "--release");
    w.CommandSuffix(t, "If it is spam, delete it", subject, "queue", "--delete");
  }
  w.Command(t, "If it was hijacked, stop it at once", subject, "lock");
  return t;
}

Text UnlockedText(const Alert& a, Writer& w) {
  Text t;
  const std::string subject = Field(a, "subject");
  t.subject_line = "unlocked " + LogValue(subject);
  t.summary = {Describe(subject) + " was unlocked" +
               (Field(a, "by").empty() ? "" : " by " + LogValue(Field(a, "by"))) + "."};
  t.did = {"Its mail is accepted again, within its limits."};
  w.Command(t, "See its counts", subject, "show");
  return t;
}

Text StoreDownText(const Alert& a, Writer& w) {
  Text t;
  const std::string on_error = Field(a, "on_error");
  t.subject_line = "store DOWN: " + LogValue(Field(a, "store"));
  t.summary = {"floodgate cannot reach its store " + LogValue(Field(a, "store")) + "."};
  t.happened = {"The error was: " + LogValue(Field(a, "error"))};
  if (on_error == "tempfail") {
    t.did = {"All limited mail is refused with 451 4.3.0 (try again later) until the",
             "store answers again."};
  } else if (on_error == "accept") {
    t.did = {"Mail is accepted without limits until the store answers again."};
  } else {
    t.did = {"Each host limits on its own (in memory, same limits) until the store",
             "answers again; a mail says when it is back."};
  }
  t.next = {"  1. Check the store (for Redis: redis-cli ping; systemctl status redis-server).",
            "  2. Check floodgate's view of it:", "       " + w.ctl() + " status"};
  return t;
}

Text StoreUpText(const Alert& a, Writer&) {
  Text t;
  t.subject_line = "store back: " + LogValue(Field(a, "store"));
  t.summary = {"floodgate reaches its store " + LogValue(Field(a, "store")) + " again."};
  t.did = {"It limits with the shared counts again."};
  return t;
}

Text ConfigText(const Alert& a, Writer& w) {
  Text t;
  if (a.event == "config_reloaded") {
    t.subject_line = "config reloaded";
    t.summary = {"floodgate loaded its new configuration " + LogValue(Field(a, "file")) + "."};
    t.did = {"It uses the new limits from now on."};
    if (Has(a, "note")) t.did.push_back("Note: " + LogValue(Field(a, "note")));
  } else {
    t.subject_line = "config REJECTED";
    t.summary = {"floodgate refused a new configuration " + LogValue(Field(a, "file")) + "."};
    t.happened = {"The error was: " +
                  LogValue(Has(a, "error") ? Field(a, "error") : Field(a, "reason"))};
    t.did = {"It keeps running with the configuration it had."};
    t.next = {"  1. Fix the file, check it, then reload:",
              "       floodgate -n -c " + ShellWord(Field(a, "file")),
              "       systemctl reload floodgate"};
  }
  (void)w;
  return t;
}

Text OtherText(const Alert& a, Writer&) {
  Text t;
  t.subject_line = "event " + LogValue(a.event);
  t.summary = {"floodgate reported the event " + LogValue(a.event) + "."};
  return t;
}

// Values a reader needs, one per line; the others are in the event line at the end.
const std::pair<const char*, const char*> kShown[] = {
    {"subject", "subject"}, {"traffic", "traffic class"}, {"limit", "limit"},
    {"window", "window"},   {"count", "limit amount"},    {"refused", "units refused"},
    {"reason", "reason"},   {"client", "client"},         {"ttl", "lock lasts"},
    {"action", "action"},   {"store", "store"},           {"on_error", "store.on_error"},
};

std::string Date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday % 7],
                     tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

// Any byte that is not printable ASCII becomes '?', and lines longer than kMaxLine are
// broken: the body is safe whatever the text above let through.
std::string SafeBody(std::string_view body) {
  std::string out;
  std::size_t column = 0;
  for (unsigned char c : body) {
    if (c == '\n') {
      out += '\n';
      column = 0;
      continue;
    }
    if (column == kMaxLine) {
      out += '\n';
      column = 0;
    }
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    ++column;
  }
  return out;
}

}  // namespace

const char* const kAlertMailHeaders[10] = {"From",
                                           "To",
                                           "Subject",
                                           "Date",
                                           "Message-ID",
                                           "Auto-Submitted",
                                           "X-Floodgate-Event",
                                           "MIME-Version",
                                           "Content-Type",
                                           "Content-Transfer-Encoding"};

std::string CheckAlertMail(std::string_view message) {
  std::size_t start = 0;
  bool in_headers = true, in_to = false;
  int headers = 0;
  while (start < message.size()) {
    const std::size_t end = message.find('\n', start);
    if (end == std::string_view::npos) return "the message does not end with a line end";
    const std::string_view line = message.substr(start, end - start);
    start = end + 1;
    if (line.size() > kMaxLine) return "a line longer than 998 bytes";
    for (unsigned char c : line) {
      if (c < 0x20 || c >= 0x7f) return fmt::format("byte 0x{:02x} in a line", c);
    }
    if (!in_headers) continue;
    if (line.empty()) {
      in_headers = false;
      continue;
    }
    if (line.front() == ' ') {
      if (!in_to) return "a continuation line outside To:";
      continue;
    }
    const std::size_t colon = line.find(": ");
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos ||
        std::find(std::begin(kAlertMailHeaders), std::end(kAlertMailHeaders), name) ==
            std::end(kAlertMailHeaders)) {
      return "an unknown header line: " + std::string(line.substr(0, 80));
    }
    in_to = name == "To";
    ++headers;
  }
  if (in_headers) return "no blank line after the headers";
  if (headers != static_cast<int>(std::size(kAlertMailHeaders))) return "a header missing or twice";
  return "";
}

std::string ShellWord(std::string_view word) {
  bool plain = !word.empty(), printable = true;
  for (unsigned char c : word) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      (c != 0 && std::string_view("@%+,._:/=-").find(static_cast<char>(c)) !=
                                     std::string_view::npos);
    plain = plain && safe;
    printable = printable && c >= 0x20 && c < 0x7f;
  }
  if (plain) return std::string(word);
  std::string out;
  if (printable) {
    out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  out = "$'";
  for (unsigned char c : word) {
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + "'";
}

std::string BuildAlertMail(const AlertMail& m) {
  const Alert& a = m.alert;
  Writer w(m);
  Text t = a.event == "locked"              ? LockedText(a, m.locked_action, w)
           : a.event == "limit_exceeded"    ? LimitText(a, w)
           : a.event == "unlocked"          ? UnlockedText(a, w)
           : a.event == "store_down"        ? StoreDownText(a, w)
           : a.event == "store_up"          ? StoreUpText(a, w)
           : a.event.starts_with("config_") ? ConfigText(a, w)
                                            : OtherText(a, w);
  const std::string host = LogValue(m.host);
  std::string body;
  const auto lines = [&](const std::vector<std::string>& ls) {
    for (const std::string& l : ls) body += l + "\n";
  };
  std::tm tm{};
  gmtime_r(&m.time, &tm);
  body +=
      fmt::format("floodgate on {}, {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC:\n\n", host,
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  lines(t.summary);
  body += "\nWhat happened\n";
  for (const std::string& l : t.happened) body += "  " + l + "\n";
  if (!t.happened.empty()) body += "\n";
  for (const auto& [key, label] : kShown) {
    if (Has(a, key))
      body += fmt::format("  {:<15} {}\n", std::string(label) + ":", LogValue(Field(a, key)));
  }
  body += "\nWhat floodgate did\n";
  for (const std::string& l : t.did) body += "  " + l + "\n";
  if (!t.next.empty()) {
    body += "\nWhat to do next\n";
    lines(t.next);
  }
  int suppressed = 0;
  std::string by_event;
  for (const auto& [event, n] : m.suppressed) {
    if (n <= 0) continue;
    suppressed += n;
    by_event += fmt::format("{}{} {}", by_event.empty() ? "" : ", ", n, LogValue(event));
  }
  if (suppressed > 0) {
    body += fmt::format(
        "\n{} more alert mail(s) were not sent since the previous one, to keep to\n"
        "the mail limits (one per event and subject an hour, 20 an hour in all):\n"
        "{}. All events are in syslog and in: {} events\n",
        suppressed, by_event, w.ctl());
  }
  body += "\nThe event as logged:\n  " + FormatAlert(a) + "\n";
  return BuildPlainMail(m, LogValue(a.event), "[floodgate] " + t.subject_line + " on " + host,
                        body);
}

std::string BuildPlainMail(const MailEnvelope& m, std::string_view kind, std::string_view subject,
                           std::string_view body) {
  std::string to;
  for (std::size_t i = 0; i < m.mail_to.size() && i < kMaxRecipients; ++i) {
    to += (i == 0 ? "" : ",\n ") + HeaderValue(m.mail_to[i], 254);
  }
  if (to.empty()) to = "undisclosed-recipients:;";
  std::string id_host = HeaderValue(m.host, 200);
  std::replace_if(
      id_host.begin(), id_host.end(),
      [](char c) { return c == ' ' || c == '<' || c == '>' || c == '@' || c == '"'; }, '_');

  std::string out;
  out += fmt::format("From: {}\n", HeaderValue(m.mail_from, 254));
  out += fmt::format("To: {}\n", to);
  out += fmt::format("Subject: {}\n", HeaderValue(subject, kMaxSubject));
  out += fmt::format("Date: {}\n", Date(m.time));
  out += fmt::format("Message-ID: <{}@{}>\n", HeaderValue(m.message_id, 100),
                     id_host.empty() ? "localhost" : id_host);
  out += "Auto-Submitted: auto-generated\n";
  out += fmt::format("X-Floodgate-Event: {}\n", HeaderValue(kind, 100));
  out += "MIME-Version: 1.0\n";
  out += "Content-Type: text/plain; charset=us-ascii\n";
  out += "Content-Transfer-Encoding: 7bit\n";
  out += "\n";
  return out + SafeBody(body);
}

}  // namespace floodgate::policy
