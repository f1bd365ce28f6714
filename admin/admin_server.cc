#include "admin/admin_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace floodgate::admin {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxMessage = 64 * 1024;
constexpr auto kIoBudget = std::chrono::seconds(5);

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error(ErrorKind::kInvalid, "admin socket path empty or too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Result<Fd> Connect(const std::string& path) {
  auto addr = Address(path);
  if (!addr.ok()) return addr.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Error(ErrorKind::kInternal, Errno("socket"));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return Error(ErrorKind::kUnavailable, Errno("cannot connect to the admin socket " + path));
  }
  return fd;
}

// Waits for `events` on fd until `deadline`, or until `wake` (if any) is readable.
bool WaitFor(int fd, short events, Clock::time_point deadline, int wake = -1) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {wake, POLLIN, 0}};
    const int n = ::poll(fds, wake >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (wake >= 0 && fds[1].revents) return false;
    return true;
  }
}

// Reads one line ('\n' not included) within the deadline and kMaxMessage.
Result<std::string> ReadLine(int fd, Clock::time_point deadline, int wake = -1) {
  std::string line;
  char buf[4096];
  for (;;) {
    if (!WaitFor(fd, POLLIN, deadline, wake)) {
      return Error(ErrorKind::kTimeout, "admin socket: no complete message in time");
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return Error(ErrorKind::kUnavailable, Errno("admin socket: read"));
    if (n == 0)
      return Error(ErrorKind::kUnavailable, "admin socket: closed before a whole message");
    line.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = line.find('\n'); nl != std::string::npos) {
      line.resize(nl);
      return line;
    }
    if (line.size() > kMaxMessage)
      return Error(ErrorKind::kInvalid, "admin socket: message too long");
  }
}

Status WriteAll(int fd, std::string data, Clock::time_point deadline) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (!WaitFor(fd, POLLOUT, deadline))
      return Error(ErrorKind::kTimeout, "admin socket: write timed out");
    const ssize_t n =
        ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return Error(ErrorKind::kUnavailable, Errno("admin socket: write"));
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

}  // namespace

struct AdminServer::Impl {
  std::string path;
  Fd listener;
  Fd wake_read, wake_write;  // a pipe: written once to stop the thread
  std::thread thread;

  void Serve(const Handler& handler) {
    for (;;) {
      pollfd fds[2] = {{listener.get(), POLLIN, 0}, {wake_read.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.get() < 0) continue;
      const auto deadline = Clock::now() + kIoBudget;
      Json reply;
      Result<std::string> line = ReadLine(conn.get(), deadline, wake_read.get());
      if (!line.ok()) {
        reply = {{"ok", false}, {"error", line.error().message()}};
      } else {
        Json request = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
        Result<Json> result =
            request.is_discarded()
                ? Result<Json>(Error(ErrorKind::kInvalid, "admin socket: not JSON"))
                : Call(handler, request);
        reply = result.ok() ? Json{{"ok", true}, {"result", *result}}
                            : Json{{"ok", false}, {"error", result.error().message()}};
      }
      // Its own budget: the request may have used all of its own before timing out.
      (void)WriteAll(conn.get(), reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n",
                     Clock::now() + kIoBudget);
    }
  }

  static Result<Json> Call(const Handler& handler, const Json& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      return Error(ErrorKind::kInternal, std::string("admin request failed: ") + e.what());
    } catch (...) {
      return Error(ErrorKind::kInternal, "admin request failed");
    }
  }
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<AdminServer>> AdminServer::Bind(const std::string& path) {
  auto addr = Address(path);
  if (!addr.ok()) return addr.error();
  if (const auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return Error(ErrorKind::kUnavailable, Errno("cannot create " + dir));
    }
  }
  if (Connect(path).ok()) {
    return Error(ErrorKind::kUnavailable,
                 "admin socket " + path + " is in use (is another floodgate running?)");
  }
  ::unlink(path.c_str());  // a stale file from a floodgate that did not stop cleanly
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // Non-blocking: a client gone between poll and accept must not leave the thread stuck
  // in accept(2), where the stop pipe cannot reach it.
  impl->listener = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (impl->listener.get() < 0) return Error(ErrorKind::kInternal, Errno("socket"));
  // 0600 from the start: no window in which others could connect.
  const mode_t old = ::umask(0177);
  const int bound =
      ::bind(impl->listener.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  const int bind_errno = errno;
  ::umask(old);
  if (bound != 0) {
    errno = bind_errno;
    return Error(ErrorKind::kUnavailable, Errno("cannot bind the admin socket " + path));
  }
  if (::listen(impl->listener.get(), 8) != 0) {
    ::unlink(path.c_str());
    return Error(ErrorKind::kUnavailable, Errno("cannot listen on " + path));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::unlink(path.c_str());
    return Error(ErrorKind::kInternal, Errno("pipe"));
  }
  impl->wake_read = Fd(pipe_fds[0]);
  impl->wake_write = Fd(pipe_fds[1]);
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

void AdminServer::Start(Handler handler) {
  impl_->thread = std::thread([impl = impl_.get(), h = std::move(handler)] { impl->Serve(h); });
}

AdminServer::~AdminServer() {
  if (impl_->thread.joinable()) {
    const char stop = 'x';
    (void)!::write(impl_->wake_write.get(), &stop, 1);
    impl_->thread.join();
  }
  ::unlink(impl_->path.c_str());
}

Result<Json> CallAdminSocket(const std::string& path, const Json& request) {
  auto fd = Connect(path);
  if (!fd.ok()) return fd.error();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  const std::string line_out = request.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  if (Status s = WriteAll(fd->get(), line_out, deadline); !s.ok()) return s.error();
  auto line = ReadLine(fd->get(), deadline);
  if (!line.ok()) return line.error();
  const Json reply = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
  const Error unexpected(ErrorKind::kInternal, "admin socket: unexpected reply");
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) return unexpected;
  if (!reply["ok"].get<bool>()) {
    if (!reply.contains("error") || !reply["error"].is_string()) return unexpected;
    return Error(ErrorKind::kUnavailable, reply["error"].get<std::string>());
  }
  return reply.contains("result") ? reply["result"] : Json();
}

}  // namespace floodgate::admin
