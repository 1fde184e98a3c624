// One acceptor on one worker thread. Every worker binds its own acceptor to the same address
// with SO_REUSEPORT, so the kernel spreads connections across threads and no accept lock or
// cross-thread hand-off exists.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "listener/worker.h"
#include "pier/common/result.h"
#include "tls/io_types.h"

namespace pier::dataplane {

class Listener final : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens now, so an error (address in use, permission) reaches Start().
  static Result<std::shared_ptr<Listener>> Bind(Worker& worker, const boost::asio::ip::tcp::endpoint& endpoint,
                                                bool tls);

  void Run();
  // On the worker's thread: stop accepting; queued connections are refused by the close.
  void Stop() noexcept;
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  Listener(Worker& worker, bool tls);
  void DoAccept();
  void OnAccept(boost::system::error_code ec, Socket socket);

  Worker& worker_;
  Acceptor acceptor_;
  SteadyTimer retry_timer_;
  const bool tls_;
  // The listening socket carries TCP_NODELAY and keepalive, so accepted sockets inherit them;
  // false when setting them there failed and each accepted socket gets them itself.
  bool accepted_inherit_options_ = false;
  bool stopped_ = false;
  bool fd_exhausted_ = false;  // the last accept failed for lack of descriptors (logged once)
  // Filled by the pending accept from accept()'s own answer, which spares a getpeername per
  // connection. One accept is pending at a time, so one endpoint serves them all.
  boost::asio::ip::tcp::endpoint peer_;
};

}  // namespace pier::dataplane
