// TLS towards the API server: trust exactly the cluster's CA (not the system store as well),
// TLS 1.2 or newer, and the client certificate when the kubeconfig has one.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "kube/kubeconfig.h"
#include "pier/common/result.h"

namespace pier::kube {

// Fills `context` from the config. Errors name what was wrong (unparsable CA, key that does not
// match the certificate, ...). Peer verification itself is switched on per connection by the
// HTTP client; this sets what it verifies against.
Result<bool> ConfigureTlsContext(boost::asio::ssl::context& context, const KubeConfig& config);

}  // namespace pier::kube
