// A tiny HTTPS server on 127.0.0.1 for RestKubeClient tests: each accepted connection gets the
// next scripted response, written in the given pieces (with pauses between them, so the client
// really sees events split across reads), then the connection is closed. Requests are recorded.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_certificates.h"

namespace pier::kube::fake {

// A self-signed certificate valid for IP 127.0.0.1; it is its own CA.
inline Certificate MakeLoopbackCertificate() { return MakeSelfSigned("test-apiserver", "IP:127.0.0.1"); }

struct ScriptedResponse {
  std::vector<std::string> pieces;  // written one after another
  std::chrono::milliseconds pause{5};
  bool hold_open = false;  // keep the connection open after the last piece (until Stop)
};

class ScriptedTlsServer {
 public:
  ScriptedTlsServer() : certificate_(MakeLoopbackCertificate()), ssl_(boost::asio::ssl::context::tls_server) {
    ssl_.use_certificate_chain(boost::asio::buffer(certificate_.cert_pem));
    ssl_.use_private_key(boost::asio::buffer(certificate_.key_pem), boost::asio::ssl::context::pem);
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedTlsServer() { Stop(); }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  const std::string& ca_pem() const { return certificate_.cert_pem; }

  void Add(ScriptedResponse response) {
    std::lock_guard lock(mutex_);
    responses_.push_back(std::move(response));
  }

  // Request heads ("GET /path HTTP/1.1\r\nHeader: ..."), in arrival order.
  std::vector<std::string> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    released_.notify_all();
    // Closing the acceptor from another thread would not wake a blocked accept(); a
    // connection does, and Serve then sees stopped_.
    boost::system::error_code ignored;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket wake(io);
    wake.connect(acceptor_.local_endpoint(), ignored);
    if (thread_.joinable()) thread_.join();
  }

  static std::string Chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    return size + data + "\r\n";
  }

 private:
  void Serve() {
    for (;;) {
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(io_, ssl_);
      boost::system::error_code ec;
      acceptor_.accept(stream.next_layer(), ec);
      {
        std::lock_guard lock(mutex_);
        if (ec || stopped_) return;
      }
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) continue;  // e.g. a client that rejected our certificate
      boost::asio::streambuf head;
      boost::asio::read_until(stream, head, "\r\n\r\n", ec);
      if (ec) continue;
      ScriptedResponse response;
      {
        std::lock_guard lock(mutex_);
        requests_.emplace_back(boost::asio::buffers_begin(head.data()), boost::asio::buffers_end(head.data()));
        if (responses_.empty()) {
          response.pieces = {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
        } else {
          response = std::move(responses_.front());
          responses_.pop_front();
        }
      }
      for (const auto& piece : response.pieces) {
        boost::asio::write(stream, boost::asio::buffer(piece), ec);
        if (ec) break;
        std::this_thread::sleep_for(response.pause);
      }
      if (response.hold_open) {
        std::unique_lock lock(mutex_);
        released_.wait(lock, [&] { return stopped_; });
      }
      stream.shutdown(ec);
    }
  }

  Certificate certificate_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable released_;
  bool stopped_ = false;
  std::deque<ScriptedResponse> responses_;
  std::vector<std::string> requests_;
};

}  // namespace pier::kube::fake
