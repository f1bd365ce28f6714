// Queue: the subject's messages still in the Postfix queue, and postsuper actions on
// them. floodgate records each accepted message's queue id under its account at end of
// message (postqueue -j carries no SASL login); this intersects those ids with what
// `postqueue -j` lists now.
// Thread-safety: runs child processes; one call at a time.
#pragma once

#include <string>
#include <vector>

#include "floodgate/result.h"

namespace floodgate::ctl {

struct QueuedMessage {
  std::string queue_id;
  std::string queue_name;  // active, deferred, hold, incoming, maildrop
  std::string sender;
  std::size_t recipients = 0;
};

// Parses `postqueue -j` output (one JSON object per line); bad lines are skipped.
std::vector<QueuedMessage> ParsePostqueueJson(const std::string& text);

// The messages among `ids` still in the queue of the Postfix instance whose config
// directory is `postfix_config` ("" = the default).
Result<std::vector<QueuedMessage>> FindQueued(const std::vector<std::string>& ids,
                                              const std::string& postfix_config);

// postsuper -h (hold), -H (release) or -d (delete) on `ids`; returns how many it acted on.
Result<std::size_t> Postsuper(char action, const std::vector<std::string>& ids,
                              const std::string& postfix_config);

}  // namespace floodgate::ctl
