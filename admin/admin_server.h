// AdminServer: the daemon's admin socket (store.admin_socket), through which floodgatectl
// reaches a memory store that lives inside the daemon. A Unix stream socket, mode 0600
// (root, or the user floodgate was started as, may use it). One request per connection:
// one line of JSON (admin/request.h), answered with one line,
// {"ok": true, "result": ...} or {"ok": false, "error": "..."}; then the server closes.
// Requests are served one at a time on the server's own thread, each within a few
// seconds and 64 KiB, so a stuck or hostile client cannot hold it or mail up.
// Thread-safety: Bind, Start and the destructor from one thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "floodgate/result.h"

namespace floodgate::admin {

class AdminServer {
 public:
  // Turns a request line's JSON into the reply's "result", or an Error for "error".
  using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& request)>;

  // Binds and listens (so it can happen before privileges are dropped). The directory is
  // created (0750) when missing; a stale socket file is replaced, but a path where a
  // server still answers is refused.
  static Result<std::unique_ptr<AdminServer>> Bind(const std::string& path);
  // Starts serving on a thread of its own (call it after any fork).
  void Start(Handler handler);
  // Stops the thread and removes the socket file.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The client side: sends `request` to the server at `path` and returns its "result", or
// its "error" (or why it could not be reached) as an Error.
Result<nlohmann::json> CallAdminSocket(const std::string& path, const nlohmann::json& request);

}  // namespace floodgate::admin
