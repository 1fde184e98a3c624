// Kubernetes MicroTime ("2006-01-02T15:04:05.000000Z"), used by Lease.spec.renewTime and
// events.k8s.io Event.eventTime.
#pragma once

#include <chrono>
#include <string>

namespace pier::status {

std::string FormatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace pier::status
