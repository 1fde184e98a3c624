#include "status/ingress_status.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

#include "annotations/value_parsers.h"
#include "translate/names.h"

namespace pier::status {
namespace {

void SortUnique(Addresses& addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
}

}  // namespace

Addresses PublishedAddresses(const model::Service& service) {
  Addresses out;
  for (const auto& entry : service.load_balancer) {
    if (!entry.ip.empty() || !entry.hostname.empty()) out.push_back(entry);
  }
  if (out.empty() && !service.cluster_ip.empty() && service.cluster_ip != "None") {
    out.push_back({.ip = service.cluster_ip, .hostname = ""});
  }
  SortUnique(out);
  return out;
}

Result<Addresses> ParseStatusAddresses(std::string_view list) {
  auto entries = annotations::CommaList(list);
  if (!entries) return Fail(entries.error());
  Addresses out;
  for (const std::string& entry : *entries) {
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(entry, ec);
    if (!ec) {
      out.push_back({.ip = ip.to_string(), .hostname = ""});
      continue;
    }
    const std::string name = translate::LowercaseAscii(entry);
    // A last label of digits only is no host name (top-level domains are not numeric): a
    // mistyped IP address such as 192.0.2.300 must not pass as one.
    const std::string_view last_label = std::string_view(name).substr(name.rfind('.') + 1);
    const bool numeric = std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (name.empty() || name.starts_with("*.") || numeric || !translate::IsValidHost(name)) {
      return Fail("\"" + entry + "\" is neither an IP address nor a DNS name");
    }
    out.push_back({.ip = "", .hostname = name});
  }
  SortUnique(out);
  return out;
}

Addresses DesiredStatus(bool served, const Addresses& current, const Addresses& published) {
  if (served) return published;
  Addresses kept;
  for (const auto& entry : current) {
    if (std::find(published.begin(), published.end(), entry) == published.end()) kept.push_back(entry);
  }
  return kept;
}

bool SameAddresses(Addresses a, Addresses b) {
  SortUnique(a);
  SortUnique(b);
  return a == b;
}

}  // namespace pier::status
