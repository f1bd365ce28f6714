#include "milter/metrics_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string_view>
#include <thread>

namespace floodgate::milter {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Time a client has to send its request and read the whole answer.
constexpr std::chrono::seconds kDeadline{5};
// A scrape's request is a few hundred bytes; anything larger is not a scraper.
constexpr std::size_t kMaxRequest = 8192;
// Connections served at once; more are closed as soon as they are accepted.
constexpr int kMaxConnections = 16;

std::string Response(std::string_view status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = "") {
  std::string r = "HTTP/1.0 ";
  r += status;
  r += "\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: " + std::to_string(body.size());
  r += "\r\nConnection: close\r\n";
  r += extra_headers;
  r += "\r\n";
  r += body;
  return r;
}

// The answer to a request whose first line is `request_line` ("GET /metrics HTTP/1.1").
std::string Answer(std::string_view request_line, const Metrics& metrics) {
  const auto sp1 = request_line.find(' ');
  const std::string_view method = request_line.substr(0, sp1);
  std::string_view target =
      sp1 == std::string_view::npos ? std::string_view() : request_line.substr(sp1 + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find('?'));
  if (method != "GET") {
    return Response("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET is served\n",
                    "Allow: GET\r\n");
  }
  if (target != "/metrics") {
    return Response("404 Not Found", "text/plain; charset=utf-8", "see /metrics\n");
  }
  return Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.RenderPrometheus());
}

// One HTTP exchange. Lives in its handlers (shared_from_this); all on the io thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const Metrics& metrics, int& open)
      : socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        metrics_(metrics),
        open_(open) {
    ++open_;
  }
  ~Connection() { --open_; }

  void Start() {
    deadline_.expires_after(kDeadline);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Close();  // too slow: whatever it was doing ends now
    });
    asio::async_read_until(
        socket_, asio::dynamic_buffer(request_, kMaxRequest), "\r\n\r\n",
        [self = shared_from_this()](error_code ec, std::size_t) { self->OnRequest(ec); });
  }

 private:
  void OnRequest(error_code ec) {
    if (ec) return Close();
    const std::string_view request(request_);
    std::string_view line = request.substr(0, request.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    response_ = Answer(line, metrics_);
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](error_code, std::size_t) { self->Close(); });
  }

  void Close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    deadline_.cancel();
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  const Metrics& metrics_;
  int& open_;
  std::string request_;
  std::string response_;
};

Result<tcp::endpoint> Resolve(asio::io_context& io, const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error(ErrorKind::kInvalid, "invalid metrics listen \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  error_code ec;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error(ErrorKind::kInvalid,
                 "cannot resolve metrics listen \"" + listen + "\": " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

struct MetricsServer::Impl {
  explicit Impl(const Metrics& m) : metrics(m) {}

  void Accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, say: try again shortly instead of spinning.
        retry.expires_after(std::chrono::milliseconds(100));
        retry.async_wait([this](error_code e) {
          if (!e) Accept();
        });
        return;
      }
      if (open < kMaxConnections) {
        std::make_shared<Connection>(std::move(socket), metrics, open)->Start();
      }  // else: `socket` closes as it goes out of scope
      Accept();
    });
  }

  void Run() {
    // A handler that throws (allocation failure) must not end the endpoint.
    for (;;) {
      try {
        io.run();
        return;
      } catch (...) {
      }
    }
  }

  const Metrics& metrics;
  std::uint16_t port = 0;
  int open = 0;  // connections alive; before `io`, which destroys them
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  std::thread thread;
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            const Metrics& metrics) {
  auto impl = std::make_unique<Impl>(metrics);
  Result<tcp::endpoint> endpoint = Resolve(impl->io, listen);
  if (!endpoint.ok()) return endpoint.error();
  error_code ec;
  impl->acceptor.open(endpoint->protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(ErrorKind::kUnavailable,
                 "cannot listen for metrics on " + listen + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint(ec).port();
  impl->Accept();
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t MetricsServer::port() const { return impl_->port; }

}  // namespace floodgate::milter
