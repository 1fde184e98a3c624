#include "config/config_client.h"

#include <grpcpp/client_context.h>
#include <spdlog/spdlog.h>

#include <chrono>

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

std::string Describe(const grpc::Status& status) {
  if (status.ok()) return "closed by the controller";
  return "gRPC status " + std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
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
  auto stub = v1::SnapshotService::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return {false, "stopping"};
    // Registered before the call starts: a TryCancel that comes first still cancels it.
    active_call_ = &context;
  }
  const auto started = Clock::now();
  auto stream = stub->Stream(&context);

  v1::DataplaneMessage hello;
  *hello.mutable_hello() = MakeHello();
  bool writable = stream->Write(hello);
  if (writable) {
    spdlog::info("controller {}: stream open, last applied version {}", options_.controller,
                 hello.hello().last_applied_version());
  }
  v1::ControllerMessage message;
  while (writable && stream->Read(&message)) {
    if (!message.has_snapshot()) continue;  // a newer controller's message kind we do not know
    v1::DataplaneMessage ack;
    *ack.mutable_ack() = Apply(message.snapshot());
    writable = stream->Write(ack);
    // Parsing into a message first frees what it held; freeing a large snapshot here, while
    // waiting, keeps that off the time the next snapshot takes to apply.
    message.Clear();
  }
  if (!writable) {
    // A failed write means the call is over; cancelling makes sure the reads below end.
    context.TryCancel();
    while (stream->Read(&message)) {
    }
  }
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mutex_);
    active_call_ = nullptr;
  }
  return {Clock::now() - started >= kHealthyStreamAge, "stream ended (" + Describe(status) + ")"};
}

v1::Ack ConfigClient::Apply(const v1::Snapshot& snapshot) {
  ConfigMetrics& metrics = ConfigMetrics::Get();
  v1::Ack ack;
  ack.set_version(snapshot.version());
  // The config in use lends the compiled form of whatever this snapshot repeats unchanged.
  const std::shared_ptr<const Config> current = store_.Current();
  auto config = Config::Build(snapshot, options_.build, current.get());
  if (!config) {
    metrics.applies_failure.Increment();
    spdlog::warn("snapshot version {} from {} refused, keeping the last good config: {}", snapshot.version(),
                 snapshot.controller_instance(), config.error());
    ack.set_accepted(false);
    ack.set_error(config.error());
    return ack;
  }
  tls::TlsMetrics::Get().PublishExpiry((*config)->certificates());
  store_.Swap(std::move(*config));
  metrics.applies_success.Increment();
  metrics.version.Set(static_cast<double>(snapshot.version()));
  spdlog::info("applied snapshot version {} from {}: {} virtual hosts, {} clusters", snapshot.version(),
               snapshot.controller_instance(), snapshot.virtual_hosts_size(), snapshot.clusters_size());
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
