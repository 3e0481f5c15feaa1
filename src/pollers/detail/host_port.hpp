// "address:port" for logs and messages, IPv6 in brackets ("[::1]:161"). Private to the pollers.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

namespace netpulse::pollers::detail {

inline std::string host_port(const boost::asio::ip::address& a, std::uint16_t port) {
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), port)
                   : fmt::format("{}:{}", a.to_string(), port);
}

}  // namespace netpulse::pollers::detail
