#include "pier/common/admin_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include <atomic>
#include <chrono>
#include <string>

#include "pier/common/metrics.h"

namespace pier {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Sends raw bytes and reads until the server closes or `timeout` passes: the admin server must
// also cope with clients that are not well-behaved HTTP libraries.
std::string Exchange(const tcp::endpoint& endpoint, const std::string& request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(endpoint);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(socket, asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(response), ec);
  return response;
}

std::string Get(const tcp::endpoint& endpoint, const std::string& path) {
  return Exchange(endpoint, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class AdminServerTest : public ::testing::Test {
 protected:
  void StartServer(AdminHandlers handlers, AdminLimits limits = {}) {
    auto started = AdminServer::Start("127.0.0.1:0", std::move(handlers), limits);
    ASSERT_TRUE(started) << started.error();
    server_ = std::move(*started);
    endpoint_ = server_->LocalEndpoint();
    ASSERT_NE(endpoint_.port(), 0);
  }

  std::unique_ptr<AdminServer> server_;
  tcp::endpoint endpoint_;
};

TEST_F(AdminServerTest, MetricsUsesPrometheusTextFormat) {
  prometheus::BuildCounter()
      .Name("pier_admin_server_test_total")
      .Help("test")
      .Register(metrics::Registry())
      .Add({})
      .Increment();
  StartServer({});
  auto response = Get(endpoint_, "/metrics?x=1");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(response.find("pier_admin_server_test_total 1"), std::string::npos) << response;
}

TEST_F(AdminServerTest, HealthzAndReadinessCallback) {
  std::atomic<bool> ready{false};
  StartServer({.routes = {}, .ready = [&] { return ready.load(); }});
  EXPECT_EQ(Get(endpoint_, "/healthz").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(Get(endpoint_, "/readyz").rfind("HTTP/1.1 503", 0), 0u);
  ready = true;
  EXPECT_EQ(Get(endpoint_, "/readyz").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(AdminServerTest, CustomRoutesAndUnknownPaths) {
  AdminHandlers handlers;
  handlers.routes["/debug/snapshot"] = [] { return AdminResponse{200, "application/json", "{\"version\":3}"}; };
  handlers.routes["/healthz"] = [] { return AdminResponse{503, "text/plain", "draining"}; };
  handlers.routes["/boom"] = []() -> AdminResponse { throw std::runtime_error("bad"); };
  StartServer(std::move(handlers));
  auto response = Get(endpoint_, "/debug/snapshot");
  EXPECT_NE(response.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(response.find("{\"version\":3}"), std::string::npos);
  EXPECT_EQ(Get(endpoint_, "/healthz").rfind("HTTP/1.1 503", 0), 0u);
  EXPECT_EQ(Get(endpoint_, "/boom").rfind("HTTP/1.1 500", 0), 0u);
  EXPECT_EQ(Get(endpoint_, "/nope").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Get(endpoint_, "/healthz/").rfind("HTTP/1.1 404", 0), 0u);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer({});
  auto response = Exchange(endpoint_,
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.find("HTTP/1.1 200"), 0u);
  EXPECT_NE(response.find("HTTP/1.1 200", 1), std::string::npos) << response;
}

TEST_F(AdminServerTest, HeadHasNoBody) {
  StartServer({});
  auto response = Exchange(endpoint_, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(response.substr(response.size() - 4), "\r\n\r\n") << response;
}

TEST_F(AdminServerTest, OtherMethodsGet405) {
  StartServer({});
  auto response = Exchange(endpoint_, "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 405", 0), 0u) << response;
  EXPECT_NE(response.find("Allow: GET, HEAD"), std::string::npos);
}

TEST_F(AdminServerTest, GarbageGets400AndClose) {
  StartServer({});
  auto response = Exchange(endpoint_, "HELLO THERE\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
}

TEST_F(AdminServerTest, RequestBodyGets400) {
  StartServer({});
  auto response = Exchange(endpoint_, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
}

TEST_F(AdminServerTest, OversizedHeaderGets431) {
  StartServer({}, AdminLimits{.max_header_bytes = 1024});
  auto response = Exchange(endpoint_, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << response;
}

TEST_F(AdminServerTest, SlowHeaderIsCutAtTheDeadline) {
  StartServer({}, AdminLimits{.read_timeout = std::chrono::milliseconds(200)});
  auto start = std::chrono::steady_clock::now();
  auto response = Exchange(endpoint_, "GET /healthz HTTP/1.1\r\nHost:", std::chrono::seconds(5));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response, "");
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(AdminServerTest, ConnectionLimitClosesExtraConnections) {
  StartServer({}, AdminLimits{.read_timeout = std::chrono::seconds(5), .max_connections = 1});
  asio::io_context io;
  tcp::socket idle(io);
  idle.connect(endpoint_);
  // Give the server time to accept the idle connection before the next one arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Get(endpoint_, "/healthz"), "");
  idle.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Get(endpoint_, "/healthz").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(AdminServerTest, StopClosesIdleConnectionsAndIsIdempotent) {
  StartServer({});
  asio::io_context io;
  tcp::socket idle(io);
  idle.connect(endpoint_);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  boost::system::error_code ec;
  char byte;
  idle.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);
  tcp::socket late(io);
  late.connect(endpoint_, ec);
  EXPECT_TRUE(ec);
}

TEST(AdminServerStartTest, BindErrorNamesTheAddress) {
  auto first = AdminServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first) << first.error();
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->LocalEndpoint().port());
  auto second = AdminServer::Start(taken, {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find(taken), std::string::npos) << second.error();
  auto bad = AdminServer::Start("nonsense", {});
  ASSERT_FALSE(bad);
}

}  // namespace
}  // namespace pier
