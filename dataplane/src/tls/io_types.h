// The I/O object types of the data path, bound to the concrete executor of the worker's
// io_context instead of Asio's default, the type-erased any_io_executor.
//
// Every socket and timer of a connection lives on one worker's io_context. With the erased
// executor each asynchronous operation copies, queries and destroys an any_io_executor (a call
// through a function table each, and an atomic work count for the tracked executor it holds),
// and the completion goes through a work-tracking wrapper; with io_context::executor_type Asio
// knows the completion runs on the same io_context and skips all of that.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace pier::dataplane {

using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using SteadyTimer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace pier::dataplane
