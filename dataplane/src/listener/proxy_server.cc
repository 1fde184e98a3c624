#include "listener/proxy_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include "listener/listener.h"
#include "listener/worker.h"
#include "pier/common/address.h"
#include "pier/common/cidr.h"

namespace pier::dataplane {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class ProxyServer::Impl {
 public:
  Impl(const ConfigStore& config, const ProxyOptions& options, CidrSet trusted, tcp::endpoint http_endpoint,
       std::optional<tcp::endpoint> https_endpoint, std::unique_ptr<tls::ServerTls> server_tls, std::size_t threads)
      : state_(config, options, std::move(trusted)), http_endpoint_(http_endpoint), https_endpoint_(https_endpoint) {
    state_.tls = std::move(server_tls);
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>(state_));
  }

  ~Impl() {
    // Destruction without Wait(): stop at once rather than block for a drain.
    Stop();
  }

  Result<bool> Start() {
    if (started_) return Fail("proxy server already started");
    auto http = BindAll(http_endpoint_, /*tls=*/false);
    if (!http) return Fail(http.error());
    http_endpoint_ = *http;
    if (https_endpoint_) {
      auto https = BindAll(*https_endpoint_, /*tls=*/true);
      if (!https) return Fail(https.error());
      https_endpoint_ = *https;
      state_.https_port = state_.options.https_redirect_port != 0 ? state_.options.https_redirect_port : https->port();
    }
    started_ = true;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      Worker& worker = *workers_[i];
      guards_.emplace_back(asio::make_work_guard(worker.ioc()));
      asio::post(worker.ioc(), [&worker] { worker.StartHousekeeping(); });
      threads_.emplace_back([&worker, i] { RunWorker(worker, i); });
    }
    // Listeners are bound per worker in order: listener j runs on worker j % workers.
    for (std::size_t j = 0; j < listeners_.size(); ++j) {
      asio::post(workers_[j % workers_.size()]->ioc(), [listener = listeners_[j]] { listener->Run(); });
    }
    spdlog::info("proxy listening on {}{} with {} threads", parse::FormatEndpoint(http_endpoint_),
                 https_endpoint_ ? " and " + parse::FormatEndpoint(*https_endpoint_) + " (TLS)" : std::string(),
                 workers_.size());
    return true;
  }

  void Drain() noexcept {
    {
      std::lock_guard lock(state_.mutex);
      if (state_.draining.exchange(true)) return;
      drain_deadline_ = Clock::now() + state_.options.drain_timeout;
      state_.connections_gone.notify_all();
    }
    spdlog::info("draining: {} connections open", state_.connections.load());
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      std::vector<std::shared_ptr<Listener>> own;
      for (std::size_t j = i; j < listeners_.size(); j += workers_.size()) own.push_back(listeners_[j]);
      asio::post(workers_[i]->ioc(), [own = std::move(own), worker = workers_[i].get()] {
        for (const auto& listener : own) listener->Stop();
        worker->DrainConnections();
      });
    }
  }

  void Wait() {
    {
      std::unique_lock lock(state_.mutex);
      state_.connections_gone.wait(lock, [&] { return state_.draining.load(); });
      bool gone = state_.connections_gone.wait_until(lock, drain_deadline_, [&] { return state_.connections.load() == 0; });
      if (!gone) {
        spdlog::warn("drain timeout passed with {} connections open; closing them", state_.connections.load());
      }
    }
    Stop();
  }

  std::size_t ActiveConnections() const noexcept { return state_.connections.load(); }
  tcp::endpoint HttpEndpoint() const noexcept { return http_endpoint_; }
  tcp::endpoint HttpsEndpoint() const noexcept { return https_endpoint_.value_or(tcp::endpoint()); }

 private:
  // One listener per worker on `endpoint`, appended to listeners_; the bound address. On
  // failure every listener bound so far (this address or another) is closed.
  Result<tcp::endpoint> BindAll(tcp::endpoint endpoint, bool tls) {
    for (auto& worker : workers_) {
      auto listener = Listener::Bind(*worker, endpoint, tls);
      if (!listener) {
        for (auto& bound : listeners_) bound->Stop();
        listeners_.clear();
        return Fail(listener.error());
      }
      // With port 0 the first bind picks the port; the other threads must share it.
      endpoint = (*listener)->local_endpoint();
      listeners_.push_back(std::move(*listener));
    }
    return endpoint;
  }

  static void RunWorker(Worker& worker, std::size_t index) {
    for (;;) {
      try {
        worker.ioc().run();
        return;
      } catch (const std::exception& e) {
        // A handler threw (allocation failure...): that connection is lost, the thread is not.
        spdlog::error("worker {}: unexpected exception: {}", index, e.what());
      }
    }
  }

  void Stop() noexcept {
    if (stopped_) return;
    stopped_ = true;
    guards_.clear();
    for (auto& worker : workers_) worker->ioc().stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    threads_.clear();
  }

  // Order matters for destruction: listeners and threads go before workers, workers before
  // the state their connections report to.
  ServerState state_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  tcp::endpoint http_endpoint_;
  std::optional<tcp::endpoint> https_endpoint_;
  Clock::time_point drain_deadline_{};
  bool started_ = false;
  bool stopped_ = false;
};

Result<std::unique_ptr<ProxyServer>> ProxyServer::Create(const ProxyOptions& options, const ConfigStore& config) {
  auto endpoint = parse::ListenAddress(options.http_listen);
  if (!endpoint) return Fail("--http-listen: " + endpoint.error());
  std::vector<Cidr> trusted;
  for (const auto& item : options.trusted_proxies) {
    auto cidrs = ParseCidrList(item);
    if (!cidrs) return Fail("--trusted-proxies: " + cidrs.error());
    trusted.insert(trusted.end(), cidrs->begin(), cidrs->end());
  }
  if (options.max_header_bytes == 0) return Fail("--max-header-bytes must be positive");
  if (options.header_timeout.count() <= 0) return Fail("--header-timeout must be positive");
  std::optional<tcp::endpoint> https_endpoint;
  std::unique_ptr<tls::ServerTls> server_tls;
  if (!options.https_listen.empty()) {
    auto parsed = parse::ListenAddress(options.https_listen);
    if (!parsed) return Fail("--https-listen: " + parsed.error());
    https_endpoint = *parsed;
    auto created = tls::ServerTls::Create(config);
    if (!created) return Fail("TLS: " + created.error());
    server_tls = std::move(*created);
  }
  std::size_t threads = options.threads > 0 ? static_cast<std::size_t>(options.threads)
                                            : std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_unique<Impl>(config, options, CidrSet(std::move(trusted)), *endpoint, https_endpoint,
                                     std::move(server_tls), threads);
  return std::unique_ptr<ProxyServer>(new ProxyServer(std::move(impl)));
}

ProxyServer::ProxyServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProxyServer::~ProxyServer() = default;

Result<bool> ProxyServer::Start() { return impl_->Start(); }
void ProxyServer::Drain() noexcept { impl_->Drain(); }
void ProxyServer::Wait() { impl_->Wait(); }
std::size_t ProxyServer::ActiveConnections() const noexcept { return impl_->ActiveConnections(); }
boost::asio::ip::tcp::endpoint ProxyServer::HttpEndpoint() const noexcept { return impl_->HttpEndpoint(); }
boost::asio::ip::tcp::endpoint ProxyServer::HttpsEndpoint() const noexcept { return impl_->HttpsEndpoint(); }

}  // namespace pier::dataplane
