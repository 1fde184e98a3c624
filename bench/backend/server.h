// The benchmark backend: answers as little as a backend can, as fast as it can.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace pier::bench {

// Accepts on `endpoint` (SO_REUSEPORT, so one acceptor per thread shares the port) and serves
// every connection on `ioc`. Returns an error message, empty on success.
std::string StartBackend(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace pier::bench
