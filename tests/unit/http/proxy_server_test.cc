// The proxy on loopback, in process: a real ProxyServer with a snapshot built by pier_routing,
// in front of TestBackend, driven by plain sockets and Beast clients.
#include "listener/proxy_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>
#include <limits>
#include <sys/time.h>

#include "test_backend.h"

namespace pier::dataplane {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr char kHost[] = "app.local";

unsigned short ClosedPort() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

v1::Route* AddRoute(v1::VirtualHost& host, const std::string& name, const std::string& path,
                    const std::string& cluster) {
  auto* route = host.add_routes();
  route->set_name("default/" + name + "/0/0");
  route->mutable_ingress()->set_namespace_("default");
  route->mutable_ingress()->set_name(name);
  route->mutable_match()->set_type(v1::PathMatch::PREFIX);
  route->mutable_match()->set_path(path);
  route->set_cluster(cluster);
  route->set_service(name);
  route->mutable_websocket()->set_enabled(true);
  route->set_body_unlimited(true);
  return route;
}

void AddCluster(v1::Snapshot& snapshot, const std::string& service, std::vector<unsigned short> ports) {
  auto* cluster = snapshot.add_clusters();
  cluster->set_name("default/" + service + ":80");
  cluster->set_service_namespace("default");
  cluster->set_service_name(service);
  for (auto port : ports) {
    auto* endpoint = cluster->add_endpoints();
    endpoint->set_address("127.0.0.1");
    endpoint->set_port(port);
  }
}

// Routes: longest first, as the controller orders them.
v1::Snapshot MakeSnapshot(unsigned short backend_port) {
  v1::Snapshot snapshot;
  snapshot.set_version(1);
  snapshot.set_controller_instance("test");
  AddCluster(snapshot, "app", {backend_port});
  AddCluster(snapshot, "dead", {ClosedPort()});
  AddCluster(snapshot, "empty", {});
  auto* host = snapshot.add_virtual_hosts();
  host->set_host(kHost);
  AddRoute(*host, "ws-idle", "/ws-idle", "default/app:80")->mutable_websocket()->set_idle_timeout_ms(300);
  auto* nows = AddRoute(*host, "nows", "/nows", "default/app:80");
  nows->mutable_websocket()->set_enabled(false);
  nows->mutable_websocket()->set_disabled_reason("service nows is not in websocket-services");
  auto* small = AddRoute(*host, "small", "/small", "default/app:80");
  small->set_body_unlimited(false);
  small->set_max_body_bytes(1000);
  auto* gone = AddRoute(*host, "gone", "/gone", "");
  gone->mutable_unavailable()->set_status(503);
  gone->mutable_unavailable()->set_reason("service gone does not exist");
  AddRoute(*host, "dead", "/dead", "default/dead:80");
  AddRoute(*host, "empty", "/empty", "default/empty:80");
  AddRoute(*host, "slow", "/slow", "default/app:80")->mutable_timeouts()->set_read_ms(300);
  AddRoute(*host, "app", "/", "default/app:80");
  return snapshot;
}

bhttp::request<bhttp::string_body> Upgrade(const char* target) {
  bhttp::request<bhttp::string_body> upgrade{bhttp::verb::get, target, 11};
  upgrade.set(bhttp::field::connection, "Upgrade");
  upgrade.set(bhttp::field::upgrade, "websocket");
  upgrade.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(bhttp::field::sec_websocket_version, "13");
  return upgrade;
}

class ProxyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = Config::Build(MakeSnapshot(backend_.port()));
    ASSERT_TRUE(config.ok()) << config.error();
    store_.Swap(*config);
    ProxyOptions options;
    options.http_listen = "127.0.0.1:0";
    options.threads = 2;
    options.header_timeout = std::chrono::milliseconds(500);
    options.max_header_bytes = 4096;
    options.trusted_proxies = {"127.0.0.0/8"};
    options.drain_timeout = std::chrono::milliseconds(3000);
    auto server = ProxyServer::Create(options, store_);
    ASSERT_TRUE(server.ok()) << server.error();
    server_ = std::move(*server);
    auto started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error();
    endpoint_ = server_->HttpEndpoint();
  }

  void TearDown() override {
    if (!server_) return;
    server_->Drain();
    server_->Wait();
  }

  tcp::socket Connect() {
    tcp::socket socket(ioc_);
    socket.connect(endpoint_);
    // Every read in these tests is bounded: a hang fails the test instead of blocking it.
    timeval timeout{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return socket;
  }

  bhttp::response<bhttp::string_body> Send(tcp::socket& socket, bhttp::request<bhttp::string_body> request) {
    if (request.count(bhttp::field::host) == 0) request.set(bhttp::field::host, kHost);
    if (!request.chunked()) request.prepare_payload();
    bhttp::write(socket, request);
    return Read(socket);
  }

  bhttp::response<bhttp::string_body> Read(tcp::socket& socket) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    boost::system::error_code ec;
    bhttp::read(socket, buffer_, parser, ec);
    EXPECT_FALSE(ec) << ec.message();
    return parser.release();
  }

  bhttp::response<bhttp::string_body> Get(const std::string& target) {
    auto socket = Connect();
    return Send(socket, {bhttp::verb::get, target, 11});
  }

  std::string RawExchange(const std::string& bytes) {
    auto socket = Connect();
    asio::write(socket, asio::buffer(bytes));
    std::string out;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(out), ec);  // until the proxy closes
    return out;
  }

  testing::TestBackend backend_;
  ConfigStore store_;
  std::unique_ptr<ProxyServer> server_;
  tcp::endpoint endpoint_;
  asio::io_context ioc_;
  beast::flat_buffer buffer_;
};

TEST_F(ProxyServerTest, ForwardsWithForwardingHeadersAndWithoutHopByHop) {
  auto socket = Connect();
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, "/echo?x=1", 11};
  request.set("X-Forwarded-For", "198.51.100.7");
  request.set(bhttp::field::connection, "X-Drop");
  request.set("X-Drop", "secret");
  request.body() = "hello";
  auto response = Send(socket, request);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response["X-Seen-XFF"], "198.51.100.7, 127.0.0.1");
  EXPECT_EQ(response["X-Seen-Real-IP"], "198.51.100.7");  // the peer is a trusted proxy
  EXPECT_EQ(response["X-Seen-Host"], kHost);
  EXPECT_EQ(response["X-Seen-Forwarded-Host"], kHost);
  EXPECT_EQ(response["X-Seen-Proto"], "http");
  EXPECT_EQ(response["X-Seen-Request-Id"].size(), 32u);
  EXPECT_EQ(response["X-Seen-Drop"], "");
  EXPECT_EQ(response["X-Seen-Connection"], "");
  EXPECT_EQ(response.count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(response[bhttp::field::connection], "keep-alive");
}

TEST_F(ProxyServerTest, KeepAliveReusesClientAndUpstreamConnections) {
  auto socket = Connect();
  auto first = Send(socket, {bhttp::verb::get, "/a", 11});
  auto second = Send(socket, {bhttp::verb::get, "/b", 11});
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_EQ(second.result_int(), 200u);
  EXPECT_EQ(first["X-Conn-Id"], second["X-Conn-Id"]);
  EXPECT_EQ(backend_.connections_accepted(), 1);
}

TEST_F(ProxyServerTest, PipelinedRequestsAnswerInOrder) {
  auto socket = Connect();
  std::string two = std::string("GET /one HTTP/1.1\r\nHost: ") + kHost + "\r\n\r\n" + "POST /two HTTP/1.1\r\nHost: " +
                    kHost + "\r\nContent-Length: 3\r\n\r\ntwo";
  asio::write(socket, asio::buffer(two));
  auto first = Read(socket);
  auto second = Read(socket);
  EXPECT_EQ(first.body(), "");
  EXPECT_EQ(second.body(), "two");
}

TEST_F(ProxyServerTest, LargeBodiesStreamBothWays) {
  auto socket = Connect();
  std::string big(8 << 20, 'u');
  for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  bhttp::request<bhttp::string_body> upload{bhttp::verb::put, "/upload", 11};
  upload.body() = big;
  auto echoed = Send(socket, upload);
  EXPECT_EQ(echoed.result_int(), 200u);
  EXPECT_TRUE(echoed.body() == big) << "echoed " << echoed.body().size() << " bytes";

  bhttp::request<bhttp::string_body> chunked{bhttp::verb::post, "/upload", 11};
  chunked.set(bhttp::field::host, kHost);
  chunked.body() = big;
  chunked.chunked(true);
  auto echoed_chunked = Send(socket, chunked);
  EXPECT_EQ(echoed_chunked["X-Seen-TE"], "chunked");
  EXPECT_TRUE(echoed_chunked.body() == big);

  auto download = Send(socket, {bhttp::verb::get, "/big?n=5000000", 11});
  EXPECT_EQ(download.body().size(), 5000000u);
}

TEST_F(ProxyServerTest, Http10ClientGetsACloseDelimitedBody) {
  std::string raw = RawExchange(std::string("GET /big?n=100000 HTTP/1.0\r\nHost: ") + kHost + "\r\n\r\n");
  auto header_end = raw.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  std::string header = raw.substr(0, header_end);
  EXPECT_EQ(header.find("chunked"), std::string::npos) << header;
  EXPECT_NE(header.find("Connection: close"), std::string::npos) << header;
  EXPECT_EQ(raw.size() - header_end - 4, 100000u);
}

TEST_F(ProxyServerTest, CloseDelimitedUpstreamBodyIsRechunked) {
  auto socket = Connect();
  auto response = Send(socket, {bhttp::verb::get, "/close-delimited", 11});
  EXPECT_EQ(response.body(), "until-the-end");
  EXPECT_TRUE(response.chunked());
  // The client connection survives the upstream's close.
  EXPECT_EQ(Send(socket, {bhttp::verb::get, "/after", 11}).result_int(), 200u);
}

TEST_F(ProxyServerTest, ProxyErrorsCarryAOneLineReason) {
  auto socket = Connect();
  bhttp::request<bhttp::string_body> unknown{bhttp::verb::get, "/x", 11};
  unknown.set(bhttp::field::host, "unknown.local");
  auto not_found = Send(socket, unknown);
  EXPECT_EQ(not_found.result_int(), 404u);
  EXPECT_EQ(not_found.body(), "no route for host unknown.local path /x\n");
  EXPECT_EQ(not_found[bhttp::field::content_type], "text/plain; charset=utf-8");

  auto empty = Send(socket, {bhttp::verb::get, "/empty", 11});  // same connection: kept alive
  EXPECT_EQ(empty.result_int(), 503u);
  EXPECT_EQ(empty.body(), "no endpoints for service default/empty\n");

  auto gone = Send(socket, {bhttp::verb::get, "/gone", 11});
  EXPECT_EQ(gone.result_int(), 503u);
  EXPECT_EQ(gone.body(), "service gone does not exist\n");

  auto refused = Send(socket, {bhttp::verb::get, "/dead", 11});
  EXPECT_EQ(refused.result_int(), 502u);
  EXPECT_EQ(refused.body(), "upstream connection refused\n");

  auto slow = Send(socket, {bhttp::verb::get, "/slow", 11});
  EXPECT_EQ(slow.result_int(), 504u);
  EXPECT_EQ(slow.body(), "upstream read timeout\n");
}

TEST_F(ProxyServerTest, BodyOverTheRouteLimitIs413) {
  auto socket = Connect();
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, "/small", 11};
  request.body() = std::string(5000, 'x');
  auto response = Send(socket, request);
  EXPECT_EQ(response.result_int(), 413u);
  EXPECT_EQ(response[bhttp::field::connection], "close");

  auto chunked_socket = Connect();
  bhttp::request<bhttp::string_body> chunked{bhttp::verb::post, "/small", 11};
  chunked.set(bhttp::field::host, kHost);
  chunked.body() = std::string(5000, 'x');
  chunked.chunked(true);
  EXPECT_EQ(Send(chunked_socket, chunked).result_int(), 413u);
}

TEST_F(ProxyServerTest, MalformedRequestsAre400AndClose) {
  EXPECT_EQ(RawExchange("GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  auto duplicate = RawExchange("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(duplicate.rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_NE(duplicate.find("duplicate Host header"), std::string::npos);
  auto both = RawExchange(std::string("POST / HTTP/1.1\r\nHost: ") + kHost +
                          "\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0u) << both;
}

TEST_F(ProxyServerTest, OversizedHeaderIs431) {
  std::string raw = std::string("GET / HTTP/1.1\r\nHost: ") + kHost + "\r\nX-Big: " + std::string(8000, 'b') + "\r\n\r\n";
  EXPECT_EQ(RawExchange(raw).rfind("HTTP/1.1 431", 0), 0u);
}

TEST_F(ProxyServerTest, SlowHeaderIs408) {
  auto started = std::chrono::steady_clock::now();
  auto raw = RawExchange("GET / HTTP/1.1\r\nHost: app");
  EXPECT_EQ(raw.rfind("HTTP/1.1 408", 0), 0u) << raw;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(ProxyServerTest, WebSocketEchoThroughTheTunnel) {
  auto socket = Connect();
  beast::websocket::stream<tcp::socket&> ws(socket);
  ws.handshake(kHost, "/ws/chat");
  ws.text(true);
  ws.write(asio::buffer(std::string("hello")));
  beast::flat_buffer message;
  ws.read(message);
  EXPECT_EQ(beast::buffers_to_string(message.data()), "hello");
  std::string big(1 << 20, 'w');
  ws.binary(true);
  ws.write(asio::buffer(big));
  message.clear();
  ws.read(message);
  EXPECT_EQ(message.size(), big.size());
  ws.close(beast::websocket::close_code::normal);
}

TEST_F(ProxyServerTest, WebSocketDisabledRouteIs403WithReason) {
  auto socket = Connect();
  auto response = Send(socket, Upgrade("/nows"));
  EXPECT_EQ(response.result_int(), 403u);
  EXPECT_EQ(response.body(), "service nows is not in websocket-services\n");
  // A plain request to the same route is still served.
  EXPECT_EQ(Send(socket, {bhttp::verb::get, "/nows", 11}).result_int(), 200u);
}

TEST_F(ProxyServerTest, DeclinedUpgradeIsRelayedAndTheConnectionStaysHttp) {
  auto socket = Connect();
  auto refused = Send(socket, Upgrade("/refuse"));
  EXPECT_EQ(refused.result_int(), 426u);
  EXPECT_EQ(refused.body(), "websocket not here");
  auto next = Send(socket, {bhttp::verb::get, "/after", 11});
  EXPECT_EQ(next.result_int(), 200u);
}

TEST_F(ProxyServerTest, UpgradeWithAWrongAcceptIs502) {
  auto socket = Connect();
  auto response = Send(socket, Upgrade("/bad-accept"));
  EXPECT_EQ(response.result_int(), 502u);
  EXPECT_EQ(response.body(), "upstream sent invalid Sec-WebSocket-Accept\n");
}

TEST_F(ProxyServerTest, IdleTunnelIsClosedAtTheRouteTimeout) {
  auto socket = Connect();
  beast::websocket::stream<tcp::socket&> ws(socket);
  ws.handshake(kHost, "/ws-idle");
  auto started = std::chrono::steady_clock::now();
  beast::flat_buffer message;
  boost::system::error_code ec;
  ws.read(message, ec);  // nothing is sent: the proxy closes the tunnel
  EXPECT_TRUE(ec);
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(3));
}

TEST_F(ProxyServerTest, ConfigSwapDoesNotTouchALiveTunnel) {
  auto socket = Connect();
  beast::websocket::stream<tcp::socket&> ws(socket);
  ws.handshake(kHost, "/ws/live");
  v1::Snapshot empty;
  empty.set_version(2);
  empty.set_controller_instance("test");
  auto config = Config::Build(empty);
  ASSERT_TRUE(config.ok()) << config.error();
  store_.Swap(*config);
  EXPECT_EQ(Get("/new").result_int(), 404u);  // new requests see the new snapshot
  ws.write(asio::buffer(std::string("still here")));
  beast::flat_buffer message;
  ws.read(message);
  EXPECT_EQ(beast::buffers_to_string(message.data()), "still here");
}

TEST_F(ProxyServerTest, DrainClosesIdleConnectionsAndWaitReturns) {
  auto socket = Connect();
  EXPECT_EQ(Send(socket, {bhttp::verb::get, "/a", 11}).result_int(), 200u);
  auto started = std::chrono::steady_clock::now();
  server_->Drain();
  char byte;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  server_->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(server_->ActiveConnections(), 0u);
  server_.reset();
}

}  // namespace
}  // namespace pier::dataplane
