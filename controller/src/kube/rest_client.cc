#include "kube/rest_client.h"

#include <spdlog/spdlog.h>
// cpprestsdk otherwise defines a macro named U, which breaks fmt's templates.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>

#include <array>
#include <optional>

#include "kube/bearer_token.h"
#include "kube/resource.h"
#include "kube/tls_context.h"

namespace pier::kube {
namespace {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

// Watch bodies are read in pieces of at most this much; events larger than it are reassembled
// by the LineSplitter.
constexpr size_t kWatchReadBytes = 64 * 1024;

struct Body {
  std::string content_type;
  std::string text;
};

ApiError LocalError(std::string message, const std::stop_token& stop) {
  ApiError error;
  error.message = std::move(message);
  error.cancelled = stop.stop_requested();
  return error;
}

// cpprestsdk reports failures as exceptions from task::get(); everything it may throw is
// turned into an ApiError here so nothing escapes into the informers.
template <class F>
auto Guard(const std::stop_token& stop, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const http::http_exception& error) {
    return LocalError(error.what(), stop);
  } catch (const pplx::task_canceled&) {
    return LocalError("request cancelled", stop);
  } catch (const std::exception& error) {
    return LocalError(error.what(), stop);
  }
}

http_client_config MakeConfig(const std::shared_ptr<const KubeConfig>& kube, std::chrono::seconds timeout) {
  http_client_config config;
  config.set_timeout(timeout);
  // The API server never redirects an API request; following one could hand the token to
  // another host.
  config.set_max_redirects(0);
  config.set_validate_certificates(!kube->insecure_skip_tls_verify);
  config.set_ssl_context_callback([kube](boost::asio::ssl::context& context) {
    // Checked once by FromConfig, so this cannot fail short of memory exhaustion; the log
    // line makes that case visible (the handshake then fails).
    auto configured = ConfigureTlsContext(context, *kube);
    if (!configured) spdlog::error("kube: {}", configured.error());
  });
  return config;
}

ApiResult<nlohmann::json> ParseJsonBody(const Body& body) {
  auto parsed = nlohmann::json::parse(body.text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    ApiError error;
    error.message = "response is not JSON (content type \"" + body.content_type + "\")";
    return error;
  }
  return parsed;
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    // Server-side apply takes YAML; JSON is YAML.
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace

struct RestKubeClient::Impl {
  Impl(std::shared_ptr<const KubeConfig> kube, const RestClientOptions& options)
      : config(kube),
        token(kube->token, kube->token_file),
        user_agent(options.user_agent),
        rest(web::uri(kube->server), MakeConfig(kube, options.request_timeout)),
        watch(web::uri(kube->server), MakeConfig(kube, options.watch_idle_timeout)) {}

  http::http_request MakeRequest(const http::method& method, const std::string& path_and_query,
                                 const std::string& bearer) const {
    http::http_request request(method);
    request.set_request_uri(web::uri(path_and_query));
    request.headers().add(http::header_names::accept, "application/json");
    request.headers().add(http::header_names::user_agent, user_agent);
    if (!bearer.empty()) request.headers().add(http::header_names::authorization, "Bearer " + bearer);
    return request;
  }

  // Sends one request; a 401 with a file-based token is retried once with the token re-read
  // (it may just have been rotated).
  http::http_response Send(http_client& client, const http::method& method, const std::string& path_and_query,
                           const std::optional<std::pair<std::string, std::string>>& body,
                           const pplx::cancellation_token& cancel) {
    for (int attempt = 0;; ++attempt) {
      auto request = MakeRequest(method, path_and_query, token.Current());
      if (body) request.set_body(body->second, body->first);
      http::http_response response = client.request(request, cancel).get();
      // Every 401 marks the token stale (so the next request re-reads it even when this retry
      // fails too, e.g. the file is rotated a moment later); only the first one retries here.
      if (response.status_code() == http::status_codes::Unauthorized && token.Invalidate() && attempt == 0) {
        spdlog::warn("kube: {} {} answered 401; retrying with the token re-read", method, path_and_query);
        continue;
      }
      return response;
    }
  }

  static Body ReadBody(http::http_response& response) {
    Body body;
    body.content_type = response.headers().content_type();
    body.text = response.extract_utf8string(/*ignore_content_type=*/true).get();
    return body;
  }

  static ApiError ErrorOf(http::http_response& response) {
    Body body = ReadBody(response);
    ApiError error = ErrorFromResponse(response.status_code(), body.text);
    auto retry = response.headers().find(http::header_names::retry_after);
    if (retry != response.headers().end()) {
      auto seconds = ParseRetryAfter(retry->second);
      if (seconds.count() > 0) error.retry_after = seconds;
    }
    return error;
  }

  // A request whose answer is one JSON object.
  ApiResult<nlohmann::json> Call(const http::method& method, const std::string& path_and_query,
                                 const std::optional<std::pair<std::string, std::string>>& body,
                                 std::stop_token stop = {}) {
    return Guard(stop, [&]() -> ApiResult<nlohmann::json> {
      pplx::cancellation_token_source cancel;
      std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
      auto response = Send(rest, method, path_and_query, body, cancel.get_token());
      if (response.status_code() < 200 || response.status_code() > 299) return ErrorOf(response);
      return ParseJsonBody(ReadBody(response));
    });
  }

  std::shared_ptr<const KubeConfig> config;
  BearerToken token;
  const std::string user_agent;
  http_client rest;
  http_client watch;
};

RestKubeClient::RestKubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestKubeClient::~RestKubeClient() = default;

Result<std::unique_ptr<RestKubeClient>> RestKubeClient::FromConfig(const KubeConfig& config,
                                                                   RestClientOptions options) {
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
    auto tls = ConfigureTlsContext(probe, config);
    if (!tls) return Fail(config.origin + ": " + tls.error());
    if (config.insecure_skip_tls_verify) {
      spdlog::warn("kube: {} disables verification of the API server's certificate", config.origin);
    }
    auto impl = std::make_unique<Impl>(std::make_shared<const KubeConfig>(config), options);
    return std::unique_ptr<RestKubeClient>(new RestKubeClient(std::move(impl)));
  } catch (const std::exception& error) {
    // web::uri rejects a malformed server URL by throwing (as does OpenSSL setup, out of memory).
    return Fail(config.origin + ": server \"" + config.server + "\": " + error.what());
  }
}

ApiResult<ListPage> RestKubeClient::List(const std::string& collection_path, const ListOptions& options,
                                         std::stop_token stop) {
  const std::string query = QueryString({
      {"limit", options.limit > 0 ? std::to_string(options.limit) : ""},
      {"continue", options.continue_token},
      {"resourceVersion", options.resource_version},
      {"labelSelector", options.label_selector},
      {"fieldSelector", options.field_selector},
  });
  auto list = impl_->Call(http::methods::GET, collection_path + query, std::nullopt, stop);
  if (!list) return list.error();
  if (!list->is_object()) return ClientError("list response is not an object");
  ListPage page;
  auto metadata = list->find("metadata");
  if (metadata != list->end() && metadata->is_object()) {
    page.resource_version = metadata->value("resourceVersion", "");
    page.continue_token = metadata->value("continue", "");
  }
  if (page.resource_version.empty()) return ClientError("list response has no metadata.resourceVersion");
  auto items = list->find("items");
  if (items != list->end() && items->is_array()) {
    page.items.reserve(items->size());
    for (auto& item : *items) page.items.push_back(std::move(item));
  } else if (items != list->end() && !items->is_null()) {
    return ClientError("list response has a non-array \"items\"");
  }
  return page;
}

ApiResult<WatchEnd> RestKubeClient::Watch(const std::string& collection_path, const WatchOptions& options,
                                          const WatchHandler& handler, std::stop_token stop) {
  const std::string query = QueryString({
      {"watch", "1"},
      {"resourceVersion", options.resource_version},
      {"allowWatchBookmarks", options.allow_watch_bookmarks ? "true" : ""},
      {"timeoutSeconds", options.timeout.count() > 0 ? std::to_string(options.timeout.count()) : ""},
      {"labelSelector", options.label_selector},
      {"fieldSelector", options.field_selector},
  });
  return Guard(stop, [&]() -> ApiResult<WatchEnd> {
    // Cancelling closes the connection, which fails the pending body read at once: this is
    // what makes Stop() prompt while the watch is idle.
    pplx::cancellation_token_source cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
    auto response = impl_->Send(impl_->watch, http::methods::GET, collection_path + query, std::nullopt,
                                cancel.get_token());
    if (response.status_code() != http::status_codes::OK) return Impl::ErrorOf(response);

    auto stream = response.body().streambuf();
    std::array<uint8_t, kWatchReadBytes> buffer;
    LineSplitter splitter;
    std::optional<ApiError> bad_event;
    bool handler_stopped = false;
    const auto on_line = [&](std::string_view line) {
      auto event = ParseWatchEvent(line);
      if (!event) {
        bad_event = ClientError("bad watch event: " + event.error());
        return false;
      }
      if (!handler(std::move(*event))) {
        handler_stopped = true;
        return false;
      }
      return true;
    };
    for (;;) {
      // The body buffer completes a read only once `count` bytes are there (or the stream
      // ends), so ask for what is already buffered, or for a single byte to wait for more.
      const size_t available = stream.in_avail();
      const size_t want = available > 0 ? std::min(available, buffer.size()) : 1;
      const size_t got = stream.getn(buffer.data(), want).get();
      if (got == 0) break;  // end of body; a broken connection throws instead
      auto fed = splitter.Feed(std::string_view(reinterpret_cast<const char*>(buffer.data()), got), on_line);
      if (!fed) return ClientError(fed.error());
      if (!*fed) break;
    }
    if (bad_event || handler_stopped) {
      cancel.cancel();  // drop the rest of the stream with the connection
      if (bad_event) return *bad_event;
      return WatchEnd::kStoppedByHandler;
    }
    if (stop.stop_requested()) return LocalError("watch cancelled", stop);
    if (!splitter.Pending().empty()) {
      // Nothing is lost: the resourceVersion only advances with complete events.
      spdlog::warn("kube: watch {} ended inside an event ({} bytes dropped)", collection_path,
                   splitter.Pending().size());
    }
    return WatchEnd::kClosedByServer;
  });
}

ApiResult<nlohmann::json> RestKubeClient::Get(const std::string& object_path) {
  return impl_->Call(http::methods::GET, object_path, std::nullopt);
}

ApiResult<nlohmann::json> RestKubeClient::Create(const std::string& collection_path, const nlohmann::json& object) {
  return impl_->Call(http::methods::POST, collection_path, std::make_pair("application/json", object.dump()));
}

ApiResult<nlohmann::json> RestKubeClient::Update(const std::string& object_path, const nlohmann::json& object) {
  return impl_->Call(http::methods::PUT, object_path, std::make_pair("application/json", object.dump()));
}

ApiResult<nlohmann::json> RestKubeClient::UpdateStatus(const std::string& object_path, const nlohmann::json& object) {
  return impl_->Call(http::methods::PUT, object_path + "/status", std::make_pair("application/json", object.dump()));
}

ApiResult<nlohmann::json> RestKubeClient::Patch(const std::string& object_path, PatchType type,
                                                const nlohmann::json& patch, const PatchOptions& options) {
  std::string query;
  if (type == PatchType::kApply) {
    query = QueryString({{"fieldManager", options.field_manager}, {"force", options.force ? "true" : ""}});
  } else if (!options.field_manager.empty()) {
    query = QueryString({{"fieldManager", options.field_manager}});
  }
  return impl_->Call(http::methods::PATCH, object_path + query,
                     std::make_pair(std::string(PatchContentType(type)), patch.dump()));
}

}  // namespace pier::kube
