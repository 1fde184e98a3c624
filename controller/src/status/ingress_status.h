// What status.loadBalancer.ingress each Ingress should carry. Pure functions: the writer and
// the unit tests share them.
//
// Served Ingresses get exactly the published addresses. An Ingress that is no longer ours loses
// only the entries equal to the addresses we publish now; entries written by another controller
// stay. (We keep no record of what we wrote before a restart or before the published address
// changed, so an old address written by us for an Ingress that has since left us is not removed.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/objects.h"
#include "pier/common/result.h"

namespace pier::status {

using Addresses = std::vector<model::LoadBalancerIngress>;

// --publish-service's address: its status.loadBalancer.ingress entries if any, else its
// spec.clusterIP (none for a headless Service). Sorted, without duplicates.
Addresses PublishedAddresses(const model::Service& service);

// --publish-status-address: a comma-separated list of IP addresses (into `ip`) and DNS names
// (into `hostname`). Sorted, without duplicates; an empty list or entry is an error.
Result<Addresses> ParseStatusAddresses(std::string_view list);

// The status an Ingress should have, given what it has now.
Addresses DesiredStatus(bool served, const Addresses& current, const Addresses& published);

// Order-insensitive comparison: the API keeps the list as written, we write it sorted.
bool SameAddresses(Addresses a, Addresses b);

}  // namespace pier::status
