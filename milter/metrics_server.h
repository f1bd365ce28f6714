// MetricsServer: the optional Prometheus endpoint (`[metrics] listen`). A tiny HTTP/1.0
// server on its own thread and Boost.Asio io_context: `GET /metrics` answers with
// Metrics::RenderPrometheus, any other path 404, any other method 405; the connection is
// closed after each response. A connection has a few seconds to send its request and
// read the answer, and only a few may be open at once, so a slow or hostile client
// cannot hold the endpoint (or mail) up. It never touches the milter's threads.
// Thread-safety: Start and the destructor from one thread; port() from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "floodgate/result.h"
#include "milter/metrics.h"

namespace floodgate::milter {

class MetricsServer {
 public:
  // Listens on `listen` ("127.0.0.1:9187", "[::1]:9187", "localhost:9187"; port 0 picks
  // a free port) and serves `metrics`, which must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                      const Metrics& metrics);
  // Stops serving and joins the thread; open connections are dropped.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodgate::milter
