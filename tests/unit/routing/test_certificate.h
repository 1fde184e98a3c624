// Self-signed certificates made at test time, so no key material is checked in.
#pragma once

#include <string>
#include <vector>

namespace pier::dataplane::testing {

struct TestCertificate {
  std::string chain_pem;
  std::string key_pem;
};

// A fresh P-256 key and a self-signed certificate for `common_name`. With subject alternative
// names ("IP:127.0.0.1", "DNS:localhost") it is also a CA, so TLS peers can trust it directly.
TestCertificate MakeSelfSigned(const std::string& common_name, const std::vector<std::string>& alt_names = {});

// A CRL (PEM) signed by `issuer` listing these serial numbers, valid from now for `valid_s`.
std::string MakeCrl(const TestCertificate& issuer, const std::vector<long>& revoked_serials, long valid_s = 3600);

}  // namespace pier::dataplane::testing
