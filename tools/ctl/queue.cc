#include "tools/ctl/queue.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace floodgate::ctl {
namespace {

// Runs argv, writes `input` to its stdin, returns its stdout; non-zero exit is an Error.
Result<std::string> RunProcess(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2];
  if (pipe(in) != 0) return Error(ErrorKind::kInternal, "pipe failed");
  if (pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return Error(ErrorKind::kInternal, "pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) return Error(ErrorKind::kInternal, "fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = write(in[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  close(in[1]);
  std::string output;
  char buf[8192];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    output.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(ErrorKind::kUnavailable,
                 argv[0] + " failed (exit " +
                     std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return output;
}

std::vector<std::string> WithConfig(std::vector<std::string> argv, const std::string& dir) {
  if (!dir.empty()) argv.insert(argv.begin() + 1, {"-c", dir});
  return argv;
}

}  // namespace

std::vector<QueuedMessage> ParsePostqueueJson(const std::string& text) {
  std::vector<QueuedMessage> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("queue_id")) continue;
    QueuedMessage m;
    m.queue_id = j.value("queue_id", "");
    m.queue_name = j.value("queue_name", "");
    m.sender = j.value("sender", "");
    if (j.contains("recipients") && j["recipients"].is_array())
      m.recipients = j["recipients"].size();
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<QueuedMessage>> FindQueued(const std::vector<std::string>& ids,
                                              const std::string& postfix_config) {
  auto listing = RunProcess(WithConfig({"postqueue", "-j"}, postfix_config), "");
  if (!listing.ok()) return listing.error();
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<QueuedMessage> found;
  for (QueuedMessage& m : ParsePostqueueJson(*listing)) {
    if (wanted.count(m.queue_id)) found.push_back(std::move(m));
  }
  return found;
}

Result<std::size_t> Postsuper(char action, const std::vector<std::string>& ids,
                              const std::string& postfix_config) {
  std::string input;
  std::size_t n = 0;
  for (const auto& id : ids) {
    // Queue ids are alphanumeric; anything else never reaches postsuper's stdin.
    if (id.empty() ||
        !std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); }))
      continue;
    input += id + "\n";
    ++n;
  }
  if (n == 0) return std::size_t{0};
  auto r =
      RunProcess(WithConfig({"postsuper", std::string("-") + action, "-"}, postfix_config), input);
  if (!r.ok()) return r.error();
  return n;
}

}  // namespace floodgate::ctl
