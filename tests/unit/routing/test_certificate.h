// Self-signed certificates made at test time, so no key material is checked in.
#pragma once

#include <string>

namespace pier::dataplane::testing {

struct TestCertificate {
  std::string chain_pem;
  std::string key_pem;
};

// A fresh P-256 key and a self-signed certificate for `common_name`.
TestCertificate MakeSelfSigned(const std::string& common_name);

}  // namespace pier::dataplane::testing
