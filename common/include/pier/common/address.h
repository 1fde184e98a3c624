// Listen addresses as flags spell them: "HOST:PORT", ":PORT" (every IPv4 interface) and
// "[V6]:PORT". Only IP literals (and "localhost") are accepted: a listener must not depend on DNS.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::parse {

// Port 0 is allowed (the kernel picks one; tests use it).
Result<boost::asio::ip::tcp::endpoint> ListenAddress(std::string_view text);

// Whether every connection to this endpoint stays on the machine (127.0.0.0/8, ::1).
bool IsLoopback(const boost::asio::ip::tcp::endpoint& endpoint);

// "1.2.3.4:80" or "[::1]:80".
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace pier::parse
