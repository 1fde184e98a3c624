#include "config/config_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "config/config_metrics.h"
#include "pier/common/version.h"
#include "tls/tls_metrics.h"

namespace pier::dataplane {
namespace {

using Clock = std::chrono::steady_clock;

// A stream that stayed up this long "worked": the next reconnect starts from the initial delay.
// Shorter ones (refused, accepted then dropped) keep backing off, so a crash-looping controller
// is not hammered.
constexpr auto kHealthyStreamAge = std::chrono::seconds(5);

// Snapshots are read as bytes (the generated stub would parse them whole): Config::Build takes
// what is unchanged straight from them. The method path is the generated stub's.
const std::string& StreamMethod() {
  static const std::string method = std::string("/") + v1::SnapshotService::service_full_name() + "/Stream";
  return method;
}

void Flatten(const grpc::ByteBuffer& buffer, std::string& out) {
  out.clear();
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

std::string Describe(const grpc::Status& status) {
  if (status.ok()) return "closed by the controller";
  return "gRPC status " + std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

// The earliest CRL nextUpdate of each auth-tls-secret the config's hosts use.
std::map<std::string, int64_t, std::less<>> CrlNextUpdates(const Config& config) {
  std::map<std::string, int64_t, std::less<>> out;
  config.ForEachRoute([&](const RouteConfig& route) {
    if (!route.client_auth) return;
    const auto next_update = route.client_auth->crl_next_update();
    if (!next_update) return;
    auto [it, added] = out.emplace(route.client_auth->secret(), *next_update);
    if (!added) it->second = std::min(it->second, *next_update);
  });
  return out;
}

}  // namespace

Result<std::unique_ptr<ConfigClient>> ConfigClient::Create(ConfigClientOptions options, ConfigStore& store) {
  auto credentials = MakeChannelCredentials(options.tls);
  if (!credentials) return Fail(credentials.error());
  return std::unique_ptr<ConfigClient>(new ConfigClient(std::move(options), std::move(*credentials), store));
}

ConfigClient::ConfigClient(ConfigClientOptions options, std::shared_ptr<grpc::ChannelCredentials> credentials,
                           ConfigStore& store)
    : options_(std::move(options)), credentials_(std::move(credentials)), store_(store) {
  ConfigMetrics::Get();  // the families exist (at zero) before the first snapshot
}

ConfigClient::~ConfigClient() { Stop(); }

void ConfigClient::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void ConfigClient::Stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (active_call_ != nullptr) active_call_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ConfigClient::Run() {
  Backoff backoff(options_.backoff);
  while (true) {
    const StreamOutcome outcome = RunStream();
    if (outcome.healthy) backoff.Reset();
    const auto delay = backoff.Next();
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    spdlog::warn("controller {}: {}; serving the last config, reconnecting in {} ms", options_.controller,
                 outcome.why, delay.count());
    if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
  }
}

ConfigClient::StreamOutcome ConfigClient::RunStream() {
  auto channel = MakeControllerChannel(options_.controller, credentials_, options_.backoff.initial);
  const grpc::internal::RpcMethod method(StreamMethod().c_str(), grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return {false, "stopping"};
    // Registered before the call starts: a TryCancel that comes first still cancels it.
    active_call_ = &context;
  }
  const auto started = Clock::now();
  std::unique_ptr<grpc::ClientReaderWriter<v1::DataplaneMessage, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<v1::DataplaneMessage, grpc::ByteBuffer>::Create(channel.get(), method,
                                                                                               &context));

  v1::DataplaneMessage hello;
  *hello.mutable_hello() = MakeHello();
  bool writable = stream->Write(hello);
  if (writable) {
    spdlog::info("controller {}: stream open, last applied version {}", options_.controller,
                 hello.hello().last_applied_version());
  }
  grpc::ByteBuffer raw;
  std::string bytes;
  std::string scratch;
  std::string unreadable;
  while (writable && stream->Read(&raw)) {
    Flatten(raw, bytes);
    raw.Clear();
    auto snapshot = FindSnapshot(bytes, scratch);
    if (!snapshot) {
      // As when gRPC fails to parse a typed message: the call is over, the next one starts afresh.
      unreadable = snapshot.error();
      break;
    }
    if (!*snapshot) continue;  // a newer controller's message kind we do not know
    v1::DataplaneMessage ack;
    *ack.mutable_ack() = Apply(**snapshot);
    writable = stream->Write(ack);
    // Freeing a large snapshot here, while waiting, keeps that off the time the next one takes.
    std::string().swap(bytes);
    std::string().swap(scratch);
  }
  if (!writable || !unreadable.empty()) {
    // A failed write means the call is over; cancelling makes sure the reads below end.
    context.TryCancel();
    while (stream->Read(&raw)) {
    }
  }
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mutex_);
    active_call_ = nullptr;
  }
  if (!unreadable.empty()) return {false, "stream ended (" + unreadable + " from the controller)"};
  return {Clock::now() - started >= kHealthyStreamAge, "stream ended (" + Describe(status) + ")"};
}

v1::Ack ConfigClient::Apply(std::string_view bytes) {
  ConfigMetrics& metrics = ConfigMetrics::Get();
  v1::Ack ack;
  auto parts = SplitSnapshot(bytes);
  Result<std::shared_ptr<const Config>> config = Fail(parts ? std::string() : parts.error());
  if (parts) {
    ack.set_version(parts->rest.version());
    // The config in use lends the compiled form of whatever this snapshot repeats unchanged.
    const std::shared_ptr<const Config> current = store_.Current();
    config = Config::Build(*parts, options_.build, current.get());
  }
  if (!config) {
    metrics.applies_failure.Increment();
    spdlog::warn("snapshot version {} from {} refused, keeping the last good config: {}", ack.version(),
                 parts ? parts->rest.controller_instance() : std::string("?"), config.error());
    ack.set_accepted(false);
    ack.set_error(config.error());
    return ack;
  }
  const std::shared_ptr<const Config> applied = *config;
  tls::TlsMetrics::Get().PublishExpiry((*config)->certificates());
  tls::TlsMetrics::Get().PublishCrlNextUpdate(CrlNextUpdates(**config));
  store_.Swap(std::move(*config));
  if (options_.applied) options_.applied(*applied);
  metrics.applies_success.Increment();
  metrics.version.Set(static_cast<double>(applied->version()));
  spdlog::info("applied snapshot version {} from {}: {} virtual hosts, {} clusters", applied->version(),
               applied->controller_instance(), applied->host_count(), applied->clusters().size());
  std::size_t newer = 0;
  const RouteConfig* example = nullptr;
  applied->ForEachRoute([&](const RouteConfig& route) {
    if (route.unknown_field.empty()) return;
    ++newer;
    if (example == nullptr) example = &route;
  });
  if (example != nullptr) {
    spdlog::warn("snapshot version {}: {} route(s) carry fields this dataplane does not know and answer 503 until "
                 "it is upgraded to the controller's version, e.g. route {} ({})",
                 applied->version(), newer, example->name, example->unknown_field);
  }
  ack.set_accepted(true);
  return ack;
}

v1::Hello ConfigClient::MakeHello() const {
  v1::Hello hello;
  hello.set_node_id(options_.node_id);
  hello.set_build_version(pier::Version());
  if (auto current = store_.Current()) {
    hello.set_last_applied_version(current->version());
    hello.set_last_applied_instance(current->controller_instance());
  }
  return hello;
}

}  // namespace pier::dataplane
