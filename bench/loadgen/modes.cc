#include "modes.h"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace pier::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Ws = websocket::stream<beast::tcp_stream>;

namespace {

constexpr std::size_t kMaxMessageBytes = 64 * 1024 * 1024;
constexpr std::size_t kSequenceBytes = sizeof(uint64_t);
// After a failed handshake the worker waits before the next one, so a refusing target is not
// hammered by a busy loop that would only measure how fast errors come back.
constexpr std::chrono::milliseconds kRetryPause{10};

auto Redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

struct ThreadState {
  asio::io_context ioc{1};
  unsigned to_open = 0;
  unsigned next_to_open = 0;
  std::vector<std::unique_ptr<Ws>> streams;
  LoadResult result;
  unsigned active = 0;  // workload coroutines still running
  bool stopping = false;
  std::unique_ptr<asio::steady_timer> watchdog;
};

struct Shared {
  const LoadOptions& options;
  tcp::endpoint endpoint;
  Clock::time_point deadline;
};

asio::awaitable<std::unique_ptr<Ws>> Open(asio::io_context& ioc, const Shared& shared, error_code& ec) {
  const auto& options = shared.options;
  auto ws = std::make_unique<Ws>(ioc);
  auto& layer = beast::get_lowest_layer(*ws);
  layer.expires_after(options.io_timeout);
  co_await layer.async_connect(shared.endpoint, Redirect(ec));
  if (ec) co_return nullptr;
  layer.expires_never();  // from here the websocket stream's own timeouts apply
  layer.socket().set_option(tcp::no_delay(true), ec);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.io_timeout;
  timeouts.idle_timeout = options.mode == Mode::kIdle ? websocket::stream_base::none() : options.io_timeout;
  timeouts.keep_alive_pings = false;
  ws->set_option(timeouts);
  ws->binary(true);
  ws->auto_fragment(false);
  ws->read_message_max(kMaxMessageBytes);
  // Beast masks every frame a client stream sends with a fresh key, as RFC 6455 5.3 requires.
  co_await ws->async_handshake(options.target.host_header, options.target.path, Redirect(ec));
  if (ec) co_return nullptr;
  co_return ws;
}

asio::awaitable<void> Opener(ThreadState& state, const Shared& shared) {
  while (state.next_to_open < state.to_open) {
    ++state.next_to_open;
    error_code ec;
    auto ws = co_await Open(state.ioc, shared, ec);
    if (ws) {
      state.streams.push_back(std::move(ws));
    } else {
      ++state.result.connect_errors;
    }
  }
}

// A payload unique to each connection; every message carries its sequence number up front so
// an echo from the wrong message (reordered, duplicated, stale) fails validation too.
std::string RandomPayload(std::size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string payload(size, '\0');
  for (auto& byte : payload) byte = static_cast<char>(random());
  return payload;
}

void StampSequence(std::string& payload, uint64_t sequence) {
  if (payload.size() >= kSequenceBytes) std::memcpy(payload.data(), &sequence, kSequenceBytes);
}

bool EchoMatches(const beast::flat_buffer& buffer, const std::string& payload, uint64_t sequence) {
  auto data = buffer.data();
  if (data.size() != payload.size()) return false;
  const auto* bytes = static_cast<const char*>(data.data());
  if (payload.size() >= kSequenceBytes) {
    uint64_t got = 0;
    std::memcpy(&got, bytes, kSequenceBytes);
    if (got != sequence) return false;
    return std::memcmp(bytes + kSequenceBytes, payload.data() + kSequenceBytes, payload.size() - kSequenceBytes) == 0;
  }
  return std::memcmp(bytes, payload.data(), payload.size()) == 0;
}

// The last worker of a thread lets its io_context finish: the watchdog goes, and so do the
// streams, whose idle-timeout timers would otherwise keep run() waiting for up to io_timeout.
// Posted, because the worker calling this still holds a reference to its stream.
void WorkerDone(ThreadState& state) {
  if (--state.active != 0) return;
  if (state.watchdog) state.watchdog->cancel();
  asio::post(state.ioc, [&state] { state.streams.clear(); });
}

uint64_t Nanoseconds(Clock::duration duration) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
}

asio::awaitable<void> EchoWorker(ThreadState& state, Ws& ws, const Shared& shared, uint64_t seed) {
  auto payload = RandomPayload(shared.options.message_bytes, seed);
  beast::flat_buffer buffer;
  auto& result = state.result;
  for (uint64_t sequence = 0; Clock::now() < shared.deadline; ++sequence) {
    StampSequence(payload, sequence);
    error_code ec;
    auto started = Clock::now();
    co_await ws.async_write(asio::buffer(payload), Redirect(ec));
    if (!ec) co_await ws.async_read(buffer, Redirect(ec));
    if (ec) {
      if (!state.stopping) ++result.dropped;
      break;
    }
    auto finished = Clock::now();
    if (!EchoMatches(buffer, payload, sequence)) ++result.validation_errors;
    buffer.consume(buffer.size());
    if (finished <= shared.deadline) {
      ++result.messages;
      result.payload_bytes += payload.size();
      result.latency_ns.Record(Nanoseconds(finished - started));
    }
  }
  WorkerDone(state);
}

// Keeps `window` messages in flight: each echo that comes back lets the next message go.
asio::awaitable<void> StreamWorker(ThreadState& state, Ws& ws, const Shared& shared, uint64_t seed) {
  auto payload = RandomPayload(shared.options.message_bytes, seed);
  auto base = payload;
  beast::flat_buffer buffer;
  auto& result = state.result;
  uint64_t next_write = 0;
  uint64_t next_read = 0;
  error_code ec;
  auto send = [&]() -> asio::awaitable<void> {
    StampSequence(payload, next_write++);
    co_await ws.async_write(asio::buffer(payload), Redirect(ec));
  };
  for (unsigned i = 0; i < shared.options.window && !ec; ++i) co_await send();
  while (!ec && next_read < next_write) {
    co_await ws.async_read(buffer, Redirect(ec));
    if (ec) break;
    auto now = Clock::now();
    if (!EchoMatches(buffer, base, next_read)) ++result.validation_errors;
    ++next_read;
    if (now <= shared.deadline) {
      ++result.messages;
      result.payload_bytes += buffer.size();
      co_await send();
    }
    buffer.consume(buffer.size());
  }
  if (ec && !state.stopping) ++result.dropped;
  WorkerDone(state);
}

asio::awaitable<void> HandshakeWorker(ThreadState& state, const Shared& shared) {
  auto& result = state.result;
  asio::steady_timer pause(state.ioc);
  while (Clock::now() < shared.deadline && !state.stopping) {
    error_code ec;
    auto started = Clock::now();
    auto ws = co_await Open(state.ioc, shared, ec);
    if (!ws) {
      ++result.connect_errors;
      pause.expires_after(kRetryPause);
      co_await pause.async_wait(Redirect(ec));
      continue;
    }
    co_await ws->async_close(websocket::close_code::normal, Redirect(ec));
    auto finished = Clock::now();
    if (ec) {
      ++result.dropped;
      continue;
    }
    if (finished <= shared.deadline) {
      ++result.messages;
      result.latency_ns.Record(Nanoseconds(finished - started));
    }
  }
  WorkerDone(state);
}

// Holds the connection with a read pending: anything but our own stop ends it as dropped.
asio::awaitable<void> IdleWorker(ThreadState& state, Ws& ws) {
  beast::flat_buffer buffer;
  for (;;) {
    error_code ec;
    co_await ws.async_read(buffer, Redirect(ec));
    if (ec) {
      if (!state.stopping) ++state.result.dropped;
      break;
    }
    buffer.consume(buffer.size());  // an unsolicited message is odd but harmless
  }
  WorkerDone(state);
}

void CloseAll(ThreadState& state) {
  state.stopping = true;
  for (auto& ws : state.streams) {
    error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
  }
}

void RunThreads(std::vector<std::unique_ptr<ThreadState>>& states) {
  std::vector<std::thread> threads;
  for (auto& state : states) {
    state->ioc.restart();
    threads.emplace_back([&ioc = state->ioc] { ioc.run(); });
  }
  for (auto& thread : threads) thread.join();
}

void WaitForStdinToClose() {
  std::string line;
  while (std::getline(std::cin, line)) {
  }
}

}  // namespace

LoadResult Run(const LoadOptions& options, void (*on_open)(unsigned opened)) {
  Shared shared{options, tcp::endpoint(asio::ip::make_address(options.target.host), options.target.port), {}};
  unsigned threads = std::max(1u, options.threads);
  std::vector<std::unique_ptr<ThreadState>> states;
  for (unsigned i = 0; i < threads; ++i) {
    states.push_back(std::make_unique<ThreadState>());
    states.back()->to_open = options.connections / threads + (i < options.connections % threads ? 1 : 0);
  }

  if (options.mode != Mode::kHandshake) {
    for (auto& state : states) {
      unsigned openers = std::min(options.open_concurrency, state->to_open);
      for (unsigned i = 0; i < openers; ++i) asio::co_spawn(state->ioc, Opener(*state, shared), asio::detached);
    }
    RunThreads(states);
  }
  unsigned opened = 0;
  for (auto& state : states) opened += static_cast<unsigned>(state->streams.size());
  if (on_open && options.mode != Mode::kHandshake) on_open(opened);  // handshake opens as it goes

  auto started = Clock::now();
  shared.deadline = started + options.duration;
  uint64_t seed = 1;
  for (auto& state : states) {
    auto& s = *state;
    switch (options.mode) {
      case Mode::kEcho:
      case Mode::kStream:
        for (auto& ws : s.streams) {
          ++s.active;
          auto worker = options.mode == Mode::kEcho ? EchoWorker(s, *ws, shared, seed++) : StreamWorker(s, *ws, shared, seed++);
          asio::co_spawn(s.ioc, std::move(worker), asio::detached);
        }
        break;
      case Mode::kHandshake:
        for (unsigned i = 0; i < s.to_open; ++i) {
          ++s.active;
          asio::co_spawn(s.ioc, HandshakeWorker(s, shared), asio::detached);
        }
        break;
      case Mode::kIdle:
        for (auto& ws : s.streams) {
          ++s.active;
          asio::co_spawn(s.ioc, IdleWorker(s, *ws), asio::detached);
        }
        break;
    }
    if (options.mode != Mode::kIdle && s.active > 0) {
      // A stalled target must not hang the run: past the deadline plus one I/O timeout,
      // whatever is still open is closed (and counted as dropped by its worker).
      s.watchdog = std::make_unique<asio::steady_timer>(s.ioc, shared.deadline + options.io_timeout);
      s.watchdog->async_wait([&s](error_code ec) {
        if (!ec) {
          for (auto& ws : s.streams) {
            error_code ignored;
            beast::get_lowest_layer(*ws).socket().close(ignored);
          }
        }
      });
    }
  }

  std::thread stopper;
  if (options.mode == Mode::kIdle) {
    stopper = std::thread([&] {
      if (options.hold_until_stdin_closes) {
        WaitForStdinToClose();
      } else {
        std::this_thread::sleep_for(options.duration);
      }
      for (auto& state : states) asio::post(state->ioc, [&s = *state] { CloseAll(s); });
    });
  }
  RunThreads(states);
  if (stopper.joinable()) stopper.join();
  auto finished = Clock::now();

  LoadResult total;
  total.opened = opened;
  total.seconds = std::chrono::duration<double>(options.mode == Mode::kIdle ? finished - started : options.duration).count();
  for (auto& state : states) {
    const auto& r = state->result;
    total.messages += r.messages;
    total.payload_bytes += r.payload_bytes;
    total.connect_errors += r.connect_errors;
    total.validation_errors += r.validation_errors;
    total.dropped += r.dropped;
    total.latency_ns.Merge(r.latency_ns);
  }
  return total;
}

}  // namespace pier::bench
