// Accepts TCP connections and starts an HttpSession for each.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "http_session.h"
#include "pier/common/result.h"

namespace pier::chat {

// "127.0.0.1:8080", "[::1]:8080" or ":8080" (all IPv4 addresses).
Result<boost::asio::ip::tcp::endpoint> ParseListenAddress(const std::string& text);

class Listener final : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; the error names the address.
  static Result<std::shared_ptr<Listener>> Create(boost::asio::io_context& ioc,
                                                  const boost::asio::ip::tcp::endpoint& endpoint,
                                                  std::shared_ptr<const BackendContext> context);

  void Run();
  void Stop() noexcept;
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  Listener(boost::asio::io_context& ioc, std::shared_ptr<const BackendContext> context);
  void DoAccept();
  void OnAccept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<const BackendContext> context_;
};

}  // namespace pier::chat
