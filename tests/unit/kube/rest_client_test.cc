// RestKubeClient over real HTTPS against a scripted server: request shape, TLS verification,
// streamed watch bodies split at awkward places, error statuses and prompt cancellation.
#include "kube/rest_client.h"

#include <gtest/gtest.h>

#include <future>

#include "scripted_tls_server.h"

namespace pier::kube {
namespace {

using namespace fake;
using namespace std::chrono_literals;

const std::string kJsonHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n";

std::string Fixed(const std::string& status_line, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + status_line + "\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::unique_ptr<RestKubeClient> ClientFor(const ScriptedTlsServer& server, const std::string& ca_pem) {
  KubeConfig config;
  config.server = server.url();
  config.ca_pem = ca_pem;
  config.token = "t0ken";
  config.origin = "test";
  auto client = RestKubeClient::FromConfig(config);
  EXPECT_TRUE(client.ok()) << client.error();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(RestKubeClient, ListSendsTheQueryAndTokenAndParsesThePage) {
  ScriptedTlsServer server;
  server.Add({{Fixed("200 OK",
                     R"({"kind":"ServiceList","metadata":{"resourceVersion":"42","continue":"next-page"},)"
                     R"("items":[{"metadata":{"name":"a","namespace":"n"}}]})")}});
  auto client = ClientFor(server, server.ca_pem());
  ListOptions options;
  options.limit = 500;
  options.continue_token = "abc=";
  options.field_selector = "type=kubernetes.io/tls";
  auto page = client->List("/api/v1/secrets", options);
  ASSERT_TRUE(page.ok()) << page.error().Describe();
  EXPECT_EQ(page->resource_version, "42");
  EXPECT_EQ(page->continue_token, "next-page");
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0]["metadata"]["name"], "a");

  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("GET /api/v1/secrets?limit=500&continue=abc%3D&fieldSelector=type%3Dkubernetes.io%2Ftls "
                              "HTTP/1.1\r\n",
                              0),
            0u)
      << requests[0];
  // cpprestsdk writes no space after the colon; both spellings are valid HTTP.
  EXPECT_NE(requests[0].find("Authorization:Bearer t0ken\r\n"), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find("Accept:application/json\r\n"), std::string::npos) << requests[0];
}

TEST(RestKubeClient, RefusesAServerItsCaDidNotSign) {
  ScriptedTlsServer server;
  ScriptedTlsServer other;  // its certificate is a different CA
  server.Add({{Fixed("200 OK", R"({"metadata":{"resourceVersion":"1"},"items":[]})")}});
  auto client = ClientFor(server, other.ca_pem());
  auto page = client->List("/api/v1/services", {});
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().http_status, 0);
  EXPECT_NE(page.error().message.find("SSL"), std::string::npos) << page.error().Describe();
}

TEST(RestKubeClient, WatchReassemblesEventsSplitAcrossChunksAndReads) {
  const std::string added = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})";
  const std::string big = R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"12"},"data":")" +
                          std::string(300 * 1024, 'x') + "\"}}";
  const std::string bookmark = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"20"}}})";
  const std::string stream = added + "\n" + big + "\n" + bookmark + "\n";
  // Chunks that end mid-event, and a large event spanning many chunks.
  std::vector<std::string> pieces = {kJsonHead + "Transfer-Encoding: chunked\r\n\r\n"};
  const size_t cuts[] = {10, added.size() + 5, 70000, 200000, stream.size() - 3, stream.size()};
  size_t from = 0;
  for (size_t cut : cuts) {
    pieces.push_back(ScriptedTlsServer::Chunk(stream.substr(from, cut - from)));
    from = cut;
  }
  pieces.push_back("0\r\n\r\n");
  ScriptedTlsServer server;
  server.Add({pieces, 20ms});
  auto client = ClientFor(server, server.ca_pem());

  std::vector<std::string> seen;
  WatchOptions options;
  options.resource_version = "10";
  options.timeout = 300s;
  auto end = client->Watch(
      "/api/v1/services", options,
      [&](WatchEvent&& event) {
        seen.push_back(std::string(WatchEventTypeName(event.type)) + "@" + ResourceVersionOf(event.object));
        return true;
      },
      {});
  ASSERT_TRUE(end.ok()) << end.error().Describe();
  EXPECT_EQ(*end, WatchEnd::kClosedByServer);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED@11", "MODIFIED@12", "BOOKMARK@20"}));
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("GET /api/v1/services?watch=1&resourceVersion=10&allowWatchBookmarks=true&"
                              "timeoutSeconds=300 HTTP/1.1\r\n",
                              0),
            0u)
      << requests[0];
}

TEST(RestKubeClient, WatchReportsHttp410AndBadEvents) {
  ScriptedTlsServer server;
  server.Add({{Fixed("410 Gone",
                     R"({"kind":"Status","status":"Failure","message":"too old resource version","reason":"Expired","code":410})")}});
  server.Add({{kJsonHead + "Transfer-Encoding: chunked\r\n\r\n", ScriptedTlsServer::Chunk("{not json}\n"), "0\r\n\r\n"}});
  auto client = ClientFor(server, server.ca_pem());
  auto never = [](WatchEvent&&) { return true; };

  auto gone = client->Watch("/api/v1/services", {}, never, {});
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().IsGone());
  EXPECT_EQ(gone.error().http_status, 410);
  EXPECT_EQ(gone.error().message, "too old resource version");

  auto bad = client->Watch("/api/v1/services", {}, never, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad watch event"), std::string::npos) << bad.error().Describe();
}

TEST(RestKubeClient, ThrottledResponsesCarryRetryAfter) {
  ScriptedTlsServer server;
  server.Add({{Fixed("429 Too Many Requests", R"({"kind":"Status","reason":"TooManyRequests","code":429})",
                     "Retry-After: 7\r\n")}});
  auto client = ClientFor(server, server.ca_pem());
  auto page = client->List("/api/v1/services", {});
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(page.error().IsThrottled());
  EXPECT_EQ(page.error().retry_after, 7s);
}

TEST(RestKubeClient, StopCancelsAnIdleWatchPromptly) {
  ScriptedTlsServer server;
  server.Add({{kJsonHead + "Transfer-Encoding: chunked\r\n\r\n",
               ScriptedTlsServer::Chunk(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                                        "\n")},
              5ms,
              /*hold_open=*/true});
  auto client = ClientFor(server, server.ca_pem());
  std::stop_source stop;
  std::promise<void> first_event;
  auto result = std::async(std::launch::async, [&] {
    return client->Watch(
        "/api/v1/services", {},
        [&](WatchEvent&&) {
          first_event.set_value();
          return true;
        },
        stop.get_token());
  });
  ASSERT_EQ(first_event.get_future().wait_for(5s), std::future_status::ready);
  const auto start = std::chrono::steady_clock::now();
  stop.request_stop();
  ASSERT_EQ(result.wait_for(2s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  auto end = result.get();
  ASSERT_FALSE(end.ok());
  EXPECT_TRUE(end.error().cancelled);
  server.Stop();
}

TEST(RestKubeClient, WritesUseTheRightMethodsAndContentTypes) {
  ScriptedTlsServer server;
  for (int i = 0; i < 3; ++i) server.Add({{Fixed("200 OK", R"({"kind":"Lease"})")}});
  auto client = ClientFor(server, server.ca_pem());
  ASSERT_TRUE(client->Patch("/apis/networking.k8s.io/v1/namespaces/n/ingresses/a/status", PatchType::kMerge,
                            {{"status", {}}})
                  .ok());
  ASSERT_TRUE(client->Patch("/apis/coordination.k8s.io/v1/namespaces/n/leases/l", PatchType::kApply,
                            {{"kind", "Lease"}}, {.field_manager = "pier", .force = true})
                  .ok());
  ASSERT_TRUE(client->UpdateStatus("/apis/networking.k8s.io/v1/namespaces/n/ingresses/a", {{"kind", "Ingress"}}).ok());
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].rfind("PATCH /apis/networking.k8s.io/v1/namespaces/n/ingresses/a/status HTTP/1.1", 0), 0u);
  EXPECT_NE(requests[0].find("application/merge-patch+json"), std::string::npos) << requests[0];
  EXPECT_EQ(requests[1].rfind("PATCH /apis/coordination.k8s.io/v1/namespaces/n/leases/l?fieldManager=pier&force=true", 0),
            0u)
      << requests[1];
  EXPECT_NE(requests[1].find("application/apply-patch+yaml"), std::string::npos) << requests[1];
  EXPECT_EQ(requests[2].rfind("PUT /apis/networking.k8s.io/v1/namespaces/n/ingresses/a/status HTTP/1.1", 0), 0u);
}

TEST(RestKubeClient, FromConfigRejectsBrokenTlsMaterial) {
  KubeConfig config;
  config.server = "https://127.0.0.1:6443";
  config.ca_pem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
  config.origin = "kubeconfig x";
  auto client = RestKubeClient::FromConfig(config);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().rfind("kubeconfig x: TLS", 0), 0u) << client.error();
}

}  // namespace
}  // namespace pier::kube
